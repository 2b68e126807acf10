"""The mailbox becomes comments (issue #14): .eml and .mbox, Chinese charsets, attachments."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from revise import mail_import
from revise.settings import Settings
from revise.store import attachments as attachment_store
from revise.store import blocks as block_store
from revise.store import open_database
from revise import drafts
from revise.timeutil import utc_now
from revise.window import Window
from tests.conftest import DRAFT, parse_html

BEIJING = timezone(timedelta(hours=8))
HISTORY = "南充历史底蕴深厚"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def consultation(tmp_path):
    """The draft imported into a fresh SQLite file, its window open around now."""
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings.db_path)
    now = utc_now()
    cid = drafts.import_draft(db, DRAFT.read_bytes(), filename="draft.docx", slug="nc",
                              window=Window(now - timedelta(days=30), now + timedelta(days=30)),
                              settings=settings)
    c = next(db.query("select * from consultations where id = ?", [cid]))
    yield db, c
    db.close()


def message(body: str = "建议增加研发投入。", *, subject: str = "关于征求意见稿的意见",
            charset: str = "utf-8", cte: str = "base64", html: str | None = None,
            sender: str = "张三 <zhangsan@example.cn>", mid: str | None = "<1@example.cn>",
            date: datetime | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject  # the library writes RFC 2047 encoded words for non-ASCII
    msg["From"] = sender
    msg["To"] = "yjzj@nanchong.gov.cn"
    msg["Date"] = format_datetime(date or datetime.now(BEIJING) - timedelta(days=1))
    if mid:
        msg["Message-ID"] = mid
    if html is None:
        msg.set_content(body, charset=charset, cte=cte)
    else:
        msg.set_content(html, subtype="html", charset=charset, cte=cte)
    return msg


def run(db, c, data: bytes, name: str = "mail.eml"):
    blocks = block_store.of_consultation(db, c["id"])
    return mail_import.import_mail(db, c, data, name, "王编辑", blocks=blocks,
                                   attachment_limit=5 * 1024 * 1024)


def stored(db, outcome) -> dict:
    return next(db.query("select * from comments where id = ?", [outcome.comment["id"]]))


def raw_mail(charset: str, body: str, subject: str, cte: str = "base64") -> bytes:
    """A message written by a mail program that labels its text charset (GBK text as gb2312)."""
    import base64
    import quopri

    encoded = body.encode(charset)
    payload = base64.encodebytes(encoded) if cte == "base64" else quopri.encodestring(encoded)
    label = "gb2312" if charset == "gbk" else charset
    subject_word = f"=?{label}?B?{base64.b64encode(subject.encode(charset)).decode()}?="
    name_word = f"=?{label}?B?{base64.b64encode('李四'.encode(charset)).decode()}?="
    return (f"From: {name_word} <lisi@example.cn>\r\nTo: yjzj@nanchong.gov.cn\r\n"
            f"Subject: {subject_word}\r\nDate: Tue, 10 Oct 2022 09:30:00 +0800\r\n"
            f"Message-ID: <{charset}-{cte}@example.cn>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset={label}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
            ).encode() + payload


# --- each message a comment ---

def test_an_eml_becomes_an_unplaced_pending_email_comment_with_sender_date_and_text(consultation):
    db, c = consultation
    sent = datetime.now(BEIJING).replace(hour=23, minute=30) - timedelta(days=2)
    data = message("建议将研发投入强度目标提高到3%。", date=sent.astimezone(timezone.utc)).as_bytes()
    [outcome] = run(db, c, data)
    assert outcome.status == "created"
    row = stored(db, outcome)
    assert (row["channel"], row["kind"], row["status"], row["block_id"]) == ("email", "remark", "pending", None)
    assert (row["name"], row["contact"]) == ("张三", "zhangsan@example.cn")
    assert row["received_on"] == sent.date().isoformat()  # the Beijing day, not the UTC one
    assert row["body"] == "关于征求意见稿的意见\n\n建议将研发投入强度目标提高到3%。"
    assert row["message_id"] == "<1@example.cn>" and row["entered_by"] == "王编辑"


@pytest.mark.parametrize("charset", ["gbk", "gb18030", "big5"])
@pytest.mark.parametrize("cte", ["base64", "quoted-printable"])
def test_chinese_mail_and_encoded_headers_decode(consultation, charset, cte):
    db, c = consultation
    body = "建議將研發投入強度提高。" if charset == "big5" else "建议将研发投入强度提高，镕（GBK 才有的字）。"
    if charset == "gb18030":
        body += "𠀀"  # four-byte GB18030
    subject = "關於徵求意見稿" if charset == "big5" else "关于征求意见稿"
    [outcome] = run(db, c, raw_mail(charset, body, subject, cte))
    row = stored(db, outcome)
    assert row["body"] == f"{subject}\n\n{body}" and row["name"] == "李四"
    assert row["received_on"] == "2022-10-10"


def test_gb2312_labelled_text_with_gbk_characters_is_not_garbled(consultation):
    db, c = consultation
    data = raw_mail("gbk", "请核实“镕”字与“珺”字。", "意见")  # both outside GB2312, labelled gb2312
    assert b"charset=gb2312" in data
    row = stored(db, run(db, c, data)[0])
    assert "镕" in row["body"] and "珺" in row["body"] and "\ufffd" not in row["body"]


def test_html_only_mail_becomes_its_text_without_script_or_style(consultation):
    db, c = consultation
    html = ("<html><head><title>t</title><style>p{color:red}</style></head><body>"
            "<p>第一段<b>意见</b>。</p><script>alert('x')</script><div>第二段&lt;br&gt;</div>"
            "<p>第三行<br>第四行</p></body></html>")
    row = stored(db, run(db, c, message(html=html).as_bytes())[0])
    assert row["body"] == "关于征求意见稿的意见\n\n第一段意见。\n第二段<br>\n第三行\n第四行"
    assert "alert" not in row["body"] and "color" not in row["body"]


def test_a_message_imported_again_is_skipped(consultation):
    db, c = consultation
    data = message().as_bytes()
    assert [o.status for o in run(db, c, data)] == ["created"]
    assert [o.status for o in run(db, c, data)] == ["skipped"]
    other = message("另一封", mid="<2@example.cn>").as_bytes()
    assert [o.status for o in run(db, c, other)] == ["created"]
    assert db.execute("select count(*) from comments where channel = 'email'").fetchone()[0] == 2


def test_an_mbox_of_several_messages_imports_each_once(consultation, tmp_path):
    db, c = consultation
    box = mailbox.mbox(tmp_path / "in.mbox")
    for n in range(3):
        box.add(message(f"第{n}封意见。", mid=f"<m{n}@example.cn>"))
    box.add(message("第0封意见。", mid="<m0@example.cn>"))  # the same message twice in the box
    box.add(message("", subject="", mid="<empty@example.cn>"))
    box.flush()
    data = (tmp_path / "in.mbox").read_bytes()
    outcomes = run(db, c, data, "in.mbox")
    assert [o.status for o in outcomes] == ["created", "created", "created", "skipped", "refused"]
    assert [o.status for o in run(db, c, data, "in.mbox")] == ["skipped"] * 4 + ["refused"]


def test_a_pdf_is_attached_and_an_exe_and_a_docx_are_listed_as_not_taken(consultation):
    db, c = consultation
    msg = message()
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="意见扫描件.pdf")
    msg.add_attachment(b"MZ\x90\x00" + b"\x00" * 60, maintype="application", subtype="octet-stream",
                       filename="setup.exe")
    msg.add_attachment(b"%PDF-1.4 but named", maintype="image", subtype="png", filename="photo.png")
    [outcome] = run(db, c, msg.as_bytes())
    assert outcome.status == "created"
    files = {f.filename: f for f in outcome.files}
    assert files["意见扫描件.pdf"].taken
    assert not files["setup.exe"].taken and "PDF, PNG or JPEG" in files["setup.exe"].reason
    assert not files["photo.png"].taken  # named as a picture, but a PDF: refused by the rules
    kept = attachment_store.of_comment(db, outcome.comment["id"])
    assert [(a["filename"], a["media_type"]) for a in kept] == [("意见扫描件.pdf", "application/pdf")]


def test_the_likeliest_block_is_suggested_from_the_quoted_text(consultation):
    db, c = consultation
    block = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith(HISTORY))
    quote = block["text"][10:40]
    [outcome] = run(db, c, message(f"> {quote}\n\n这句话建议删去。").as_bytes())
    assert outcome.suggested_block["id"] == block["id"]
    [none] = run(db, c, message("总体同意。", mid="<3@example.cn>").as_bytes())
    assert none.suggested_block is None


def test_a_file_that_is_not_mail_is_refused(consultation):
    db, c = consultation
    with pytest.raises(mail_import.MailRefused):
        run(db, c, b"   ")
    with pytest.raises(mail_import.MailRefused):
        run(db, c, b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)


# --- the web page and the command line ---

def test_editors_upload_a_mailbox_see_the_result_and_place_a_message_on_its_block(client, db):
    from tests.test_editor import csrf_of, sign_in

    sign_in(client, db)
    c = next(db.query("select * from consultations"))
    assert client.get(f"/editor/c/{c['slug']}/mail", follow_redirects=False).status_code == 200
    block = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith(HISTORY))
    msg = message(f"原文“{block['text'][5:30]}”一句建议修改。", mid="<web@example.cn>")
    msg.add_attachment(b"MZ" + b"\x00" * 40, maintype="application", subtype="octet-stream",
                       filename="virus.exe")
    csrf = csrf_of(client, f"/editor/c/{c['slug']}/mail")
    page = client.post(f"/editor/c/{c['slug']}/mail", data={"csrf": csrf},
                       files={"mailbox": ("inbox.eml", msg.as_bytes(), "message/rfc822")})
    assert page.status_code == 200
    html = parse_html(page.text)
    assert html.xpath("count(//tr[@class='mail-created'])") == 1
    assert "virus.exe" in html.xpath("string(//tr[@class='mail-created'])")
    comment = next(db.query("select * from comments where message_id = '<web@example.cn>'"))
    form = html.xpath(f"//form[@class='mail-place'][input[@name='comment'][@value='{comment['id']}']]")[0]
    assert form.xpath("string(.//option[@selected]/@value)") == str(block["id"])  # the suggestion
    again = client.post(f"/editor/c/{c['slug']}/mail", data={"csrf": csrf},
                        files={"mailbox": ("inbox.eml", msg.as_bytes(), "message/rfc822")})
    assert parse_html(again.text).xpath("count(//tr[@class='mail-skipped'])") == 1
    placed = client.post(f"/editor/c/{c['slug']}/mail/place", follow_redirects=False,
                         data={"csrf": csrf, "comment": str(comment["id"]), "block": str(block["id"])})
    assert placed.status_code == 303
    row = next(db.query("select block_id, block_rev from comments where id = ?", [comment["id"]]))
    assert (row["block_id"], row["block_rev"]) == (block["id"], block["rev"])
    bad = client.post(f"/editor/c/{c['slug']}/mail", data={"csrf": csrf},
                      files={"mailbox": ("x.eml", b"\x89PNG\r\n\x1a\n\x00", "image/png")})
    assert bad.status_code == 422 and "邮件" in parse_html(bad.text).xpath("string(//p[@role='alert'])")


def test_the_mail_page_is_for_editors_only(client, db):
    c = next(db.query("select * from consultations"))
    response = client.get(f"/editor/c/{c['slug']}/mail", follow_redirects=False)
    assert response.status_code in (303, 401, 403)
    assert client.post(f"/editor/c/{c['slug']}/mail", files={"mailbox": ("a.eml", b"x", "text/plain")},
                       follow_redirects=False).status_code in (303, 401, 403)


def test_the_command_line_imports_a_mailbox_and_skips_it_the_second_time(tmp_path, capsys):
    from revise.cli import main

    data = tmp_path / "data"
    assert main(["import", str(DRAFT), "--slug", "nc", "--data", str(data)]) == 0
    box = mailbox.mbox(tmp_path / "in.mbox")
    box.add(raw_mail("gbk", "建议增加人才引进。", "人才"))
    box.add(message("同意。", mid="<cli2@example.cn>"))
    box.flush()
    capsys.readouterr()
    assert main(["mail", "import", "nc", str(tmp_path / "in.mbox"), "--data", str(data)]) == 0
    first = capsys.readouterr().out
    assert first.count("李四") == 1 and first.splitlines()[-1] == "已创建 2 条，跳过 0 条，未接收 0 条。"
    assert main(["mail", "import", "nc", str(tmp_path / "in.mbox"), "--data", str(data)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "已创建 0 条，跳过 2 条，未接收 0 条。"
    assert main(["mail", "import", "nope", str(tmp_path / "in.mbox"), "--data", str(data)]) == 2


def test_an_attached_returned_draft_becomes_comments_and_another_word_file_is_refused(consultation):
    from pathlib import Path

    db, c = consultation
    returned = (Path(__file__).parent / "fixtures" / "returned" / "lo-tracked.docx").read_bytes()
    other = __import__("io").BytesIO()
    from docx import Document

    doc = Document()
    doc.add_paragraph("无关的文件内容。")
    doc.save(other)
    msg = message("附件为我单位修改稿。", mid="<docx@example.cn>")
    msg.add_attachment(returned, maintype="application", subtype="vnd.openxmlformats-officedocument"
                       ".wordprocessingml.document", filename="修改稿.docx")
    msg.add_attachment(other.getvalue(), maintype="application", subtype="octet-stream",
                       filename="其他.docx")
    blocks = block_store.of_consultation(db, c["id"])
    [outcome] = mail_import.import_mail(db, c, msg.as_bytes(), "m.eml", "王编辑", blocks=blocks,
                                        attachment_limit=5 * 1024 * 1024,
                                        returned=mail_import.returned_drafts(db, c, "王编辑"))
    files = {f.filename: f for f in outcome.files}
    assert files["修改稿.docx"].taken and files["修改稿.docx"].params["n"] == 9
    assert not files["其他.docx"].taken
    rows = list(db.query("select channel, kind from comments where form_token like 'docx:%'"))
    assert len(rows) == 9 and {r["channel"] for r in rows} == {"email"}
