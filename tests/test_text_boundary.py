"""One text boundary (issue #10): whatever people type or upload is stored clean, old junk is cleaned
by the upgrade, exports keep working, and the public sees names masked like comment bodies."""

import io
import unicodedata
import zipfile
from datetime import date

import docx
import pytest
from conftest import parse_html
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from lxml import etree
from openpyxl import load_workbook
from test_comments import comment as post_comment

import server
from revise import accounts, attachments, departments, drafts, exporting, ledger, revising, triage
from revise.docx_import import W, import_docx
from revise.settings import DEFAULT_DRAFT
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.store import open_database
from revise.textclean import clean_name, clean_text, is_xml_legal, xml_legal
from revise.window import default_window

EDITOR = {"id": 1, "display_name": "张编辑"}
NONCHARACTERS = [chr(c) for c in range(0xFDD0, 0xFDF0)] + \
    [chr(plane << 16 | low) for plane in range(17) for low in (0xFFFE, 0xFFFF)]
DISGUISES = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\u061c\ufeff"


def forbidden(ch: str) -> bool:
    """What no stored text may hold: controls but tab and newline, surrogates, noncharacters."""
    return (unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n") or ch in NONCHARACTERS or ch == "\ufeff"


def reference_clean(raw: str) -> str:
    """The rule written out one character at a time: what clean_text must do, however it does it."""
    out = raw.replace("\r\n", "\n")
    out = "".join("\n" if ch in "\r\v\f\x85\u2028\u2029" else "" if forbidden(ch) else ch for ch in out)
    return unicodedata.normalize("NFC", out).strip()


# --- the cleaning function ---------------------------------------------------------------

@pytest.mark.parametrize("raw, stored", [
    ("第一行\v第二行", "第一行\n第二行"),  # Word's soft line break on the clipboard
    ("上页\f下页", "上页\n下页"),
    ("a\r\nb\rc\x85d\u2028e\u2029f", "a\nb\nc\nd\ne\nf"),
    ("建\x00议\x01增\x1b加\x7f\x9f", "建议增加"),
    ("意见\ufffe\uffff\ufdd0\U0001fffe\U0010ffff完", "意见完"),
    ("半个\ud800代理\udfff对", "半个代理对"),
    ("e\u0301", "\u00e9"),  # NFC
    ("\ufeff开头", "开头"),
    ("列一\t列二", "列一\t列二"),
])
def test_text_is_stored_without_what_xml_forbids(raw, stored):
    assert clean_text(raw) == stored


def test_names_lose_the_invisible_characters_that_disguise_them():
    assert clean_name("\u202eexe.jpg") == "exe.jpg"
    assert clean_name("张\u200b三\u2066 \n\t 李\u200d四\u00ad") == "张三 李四"
    # In a comment body the same characters are left alone: they may be meant (Arabic, emoji).
    assert clean_text("\u200d\u202e") == "\u200d\u202e"


@examples(max_examples=60, deadline=None)
@given(st.text())  # every category: surrogates, noncharacters, controls, private use
def test_any_text_comes_out_clean_xml_legal_nfc_and_stable(raw):
    text, name = clean_text(raw), clean_name(raw)
    for out in (text, name, clean_text(raw, multiline=False, strip=False)):
        assert is_xml_legal(out) and not any(forbidden(ch) for ch in out)
        assert unicodedata.is_normalized("NFC", out)
        out.encode("utf-8")  # storable: no lone surrogates
    assert clean_text(text) == text and clean_name(name) == name
    assert text == reference_clean(raw)
    assert not set(name) & set(DISGUISES + "\n\t")
    assert is_xml_legal(xml_legal(raw))


# --- every field that reaches storage -------------------------------------------------------

@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


def block_with(db, c, prefix):
    return next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith(prefix))


def receipt_of(response):
    return response.headers["location"].split("receipt=")[1].split("#")[0]


def test_an_anonymous_comment_with_u_fffe_leaves_every_export_working(client, db, c, settings, tmp_path):
    block = block_with(db, c, "南充历史底蕴深厚")
    response = post_comment(client, block, body="建议\ufffe补充\v机场航线。", name="匿名\ufffe者")
    assert response.status_code == 303
    stored = comment_store.by_receipt(db, receipt_of(response))
    assert stored["body"] == "建议补充\n机场航线。" and stored["name"] == "匿名者"
    db.execute("update comments set status = 'published'")
    snap = exporting.snapshot(db, c)
    report_docx = docx.Document(io.BytesIO(exporting.render(snap, "report.docx")))
    assert any("建议补充" in cell.text for table in report_docx.tables for row in table.rows for cell in row.cells)
    sheet = load_workbook(io.BytesIO(exporting.render(snap, "report.xlsx"))).active
    assert any("建议补充" in str(cell.value) for row in sheet.iter_rows() for cell in row)
    out = tmp_path / "out"
    out.mkdir()
    assert server.main(["--data", str(settings.data_dir), "export", "nanchong-2022", "--clean", str(out / "a.docx"),
                        "--tracked", str(out / "b.docx"), "--report", str(out / "c.xlsx")]) == 0
    assert load_workbook(out / "c.xlsx").active.max_row > 1


def test_an_editors_edit_with_control_characters_exports_and_the_vertical_tab_is_a_line_break(db, c):
    para = block_with(db, c, "南充历史底蕴深厚")
    typed = "南充\v历史\f底蕴\x01深厚\x00。" + para["text"][len("南充历史底蕴深厚"):]
    revision = revising.edit_block(db, c, para["id"], typed, base_number=0, author=EDITOR, reason="理由\x0b第二行\x00")
    assert revision["text"].startswith("南充\n历史\n底蕴深厚。") and revision["reason"] == "理由\n第二行"
    snap = exporting.snapshot(db, c)
    for name in ("plan.docx", "plan-tracked.docx"):
        data = exporting.render(snap, name)
        assert docx.Document(io.BytesIO(data)).paragraphs  # python-docx opens it
        # Each line break is Word's soft line break (w:br) in the paragraph, as typed "\n" is.
        (p,) = [p for p in etree.fromstring(_main_xml(data)).iter(W + "p") if "历史" in "".join(p.itertext())
                and "底蕴" in "".join(p.itertext())]
        assert len(p.findall(f".//{W}br")) == 2
        if name == "plan-tracked.docx":
            assert all(br.getparent().getparent().tag == W + "ins" for br in p.iter(W + "br"))
    assert revision["text"] in [b.text for b in import_docx(exporting.render(snap, "plan.docx")).blocks]


def _main_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("word/document.xml")


def test_inserted_paragraphs_row_cells_and_reasons_are_cleaned(db, c):
    para = block_with(db, c, "南充历史底蕴深厚")
    inserted = revising.insert_after(db, c, para["id"], "新增\v一段\ufffe", author=EDITOR, reason="\x00补充")
    assert inserted["text"] == "新增\n一段" and inserted["reason"] == "补充"
    row = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    cells = [cell["text"] for cell in row["cells"]]
    cells[-1] = "12\x0000\ufdd0"
    revision = revising.edit_row(db, c, row["id"], cells, base_number=0, author=EDITOR)
    assert revision["cells"][-1]["text"] == "1200"


def test_disposition_reasons_department_names_and_display_names_are_cleaned(db, c):
    made = _comment(db, c)
    triage.decide(db, c, [made["id"]], "rejected", "  目标\x00经过\v测算\ufffe ", "张编辑")
    assert comment_store.get(db, c["id"], made["id"])["disposition_reason"] == "目标经过\n测算"
    department_id, _ = departments.add(db, c, "市\u202e发展\u200b改革委\x00", "test")
    assert db.table("departments").get(department_id)["name"] == "市发展改革委"
    account_id = accounts.create_account(db, "wang", "王\u2067五\ufffe", "editor", "correct horse battery", "test")
    assert db.table("accounts").get(account_id)["display_name"] == "王五"


def _comment(db, c, **values):
    from revise import commenting
    from revise.security import Signer

    values = {"kind": "remark", "body": "整体目标偏高。", "suggestion": "", "quote": "", "quote_start": None,
              "name": "", "contact": "", **values}
    made, _ = commenting.submit(db, c, None, values, form_token=Signer(b"t").form_token())
    return made


def test_a_ledger_entry_is_cleaned_like_a_web_comment(db, c):
    form = {"channel": "letter", "kind": "remark", "body": "来信\ufffe意见\v第二段", "name": "刘\u202e六",
            "received_on": "2024-03-01", "late_reason": "邮寄\x00延误", "blocks": []}
    window = dict(c, opens_at="2024-02-01T00:00:00Z", closes_at="2024-04-01T00:00:00Z")
    values, errors = ledger.validate(form, window, [], [], today=date(2024, 3, 2))
    assert not errors, errors
    assert values["body"] == "来信意见\n第二段" and values["name"] == "刘六"


def test_uploaded_file_names_cannot_disguise_their_extension():
    pdf = b"%PDF-1.4\n%%EOF\n"
    with pytest.raises(attachments.AttachmentRefused):
        attachments.check("report\u202efdp.exe", pdf, 1000)  # shown as "reportexe.pdf" but named .exe
    assert attachments.check("来信\u200b扫描\x00件\ufffe.pdf", pdf, 1000).filename == "来信扫描件.pdf"


def test_a_consultations_title_issuer_notice_contact_and_file_name_are_cleaned(db, settings):
    cid = drafts.import_draft(db, DEFAULT_DRAFT.read_bytes(), filename="C:\\fakepath\\草案\u202e.docx", slug="clean-test",
                              window=default_window(), settings=settings, title="标题\ufffe\n第二行",
                              issuer="南充市\u200b科技局", notice="公告\v正文\x00", contact="电话\ufdd0")
    row = consultation_store.by_id(db, cid)
    assert (row["title"], row["issuer"], row["notice"], row["contact"]) == ("标题 第二行", "南充市科技局", "公告\n正文", "电话")
    assert consultation_store.original_document(db, cid)["filename"] == "草案.docx"
    assert all(is_xml_legal(b["text"]) for b in block_store.of_consultation(db, cid))


def test_the_importer_yields_only_text_xml_can_hold_for_every_corpus_file(shared_dir):
    from revise.docx_import import ImportRefused

    read = 0
    for path in sorted((shared_dir / "corpus" / "docx").glob("*.docx")):
        try:
            document = import_docx(path.read_bytes())
        except ImportRefused:
            continue  # refused with a reason (ISO Strict…): nothing stored
        read += 1
        texts = [document.title] + [t for b in document.blocks for t in (b.text, b.label, b.title, *(c.text for c in b.cells))]
        assert all(is_xml_legal(t) for t in texts), path.name
    assert read >= 10


# --- the upgrade cleans what today's version stored ----------------------------------------

def test_the_upgrade_cleans_stored_text_keeps_search_and_quotes_and_exports_again(settings, tmp_path):
    path = tmp_path / "old.db"
    db = open_database(path)
    drafts.ensure_default(db, settings)
    c = consultation_store.by_slug(db, "nanchong-2022")
    para = block_with(db, c, "南充历史底蕴深厚")
    # What the version before the text boundary let through, written as it wrote it.
    made = _comment(db, c, body="机场\ufffe航线\x0b需补充", name="赵\u202e七", quote="")
    edited = "南\x01充\x0b" + para["text"][2:]
    db.execute("update blocks set text = ?, rev = 1 where id = ?", [edited, para["id"]])
    db.table("revisions").insert({"consultation_id": c["id"], "block_id": para["id"], "number": 1, "action": "edit",
                                  "text": edited, "cells": "[]", "patch": "", "base_number": 0, "reason": "理由\x00",
                                  "author_id": 1, "author_name": "张\ufffe编辑", "created_at": "2024-01-01T00:00:00Z"})
    quote = "历史底蕴深厚"
    start = edited.index(quote)
    db.execute("update comments set quote = ?, block_id = ?, block_rev = 1, quote_start = ?, anchor_start = ?, "
               "anchor_rev = 1, anchor_state = 'ok', disposition = 'rejected', disposition_reason = ?, "
               "status = 'published' where id = ?", [quote, para["id"], start, start, "不采纳\x00理由", made["id"]])
    db.execute("update consultations set title = title || ?, issuer = ? where id = ?", ["\ufffe", "科技局\x01", c["id"]])
    assert "\ufffe" in db.table("comments").get(made["id"])["body"]  # what made every export fail
    db.execute("delete from _sqlite_migrations where name = 'm006_clean_stored_text'")
    db.close()

    db = open_database(path)  # the upgrade: pending migrations run at start-up
    stored = db.table("comments").get(made["id"])
    assert stored["body"] == "机场航线\n需补充" and stored["name"] == "赵七" and stored["disposition_reason"] == "不采纳理由"
    text = db.table("blocks").get(para["id"])["text"]
    assert text == "南充\n" + para["text"][2:] and db.execute("select text from revisions").fetchone()[0] == text
    assert text[stored["quote_start"]:].startswith(quote) and text[stored["anchor_start"]:].startswith(quote)
    assert db.execute("select reason, author_name from revisions").fetchone() == ("理由", "张编辑")
    c = consultation_store.by_id(db, c["id"])
    assert "\ufffe" not in c["title"] and c["issuer"] == "科技局"
    # the full-text index follows the cleaned text
    db.execute("insert into comments_fts(comments_fts) values('integrity-check')")
    assert [r["rowid"] for r in db.query("select rowid from comments_fts where comments_fts match ?", ['"机场航线"'])] \
        == [made["id"]]
    snap = exporting.snapshot(db, c)
    for name in exporting.KINDS:
        assert exporting.render(snap, name)
    assert text in [b.text for b in import_docx(exporting.render(snap, "plan.docx")).blocks]
    db.close()


# --- names on public pages ----------------------------------------------------------------

def test_the_public_sees_a_commenters_phone_and_email_in_the_name_masked(client, db, c):
    block = block_with(db, c, "南充历史底蕴深厚")
    response = post_comment(client, block, body="建议补充。", name="张三13912345678 zhang.san@example.com")
    db.execute("update comments set status = 'published' where receipt = ?", [receipt_of(response)])
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text)
    (who,) = page.xpath("//article[contains(@class,'comment')]//span[@class='who']")
    assert who.text_content() == "张三139****5678 z***@example.com"
    assert "13912345678" not in client.get(f"/c/nanchong-2022/b/{block['id']}").text


def test_an_anonymous_commenter_is_still_shown_as_anonymous(client, db, c):
    block = block_with(db, c, "南充历史底蕴深厚")
    response = post_comment(client, block, body="建议补充。", name="")
    db.execute("update comments set status = 'published' where receipt = ?", [receipt_of(response)])
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}?lang=en").text)
    assert page.xpath("string(//article[contains(@class,'comment')]//span[@class='who'])") == "Anonymous"


def test_named_public_commenters_in_the_report_and_outcome_page_have_their_numbers_masked(client, db, c):
    made = _comment(db, c, name="李四 110101199003071234")
    db.execute("update comments set status = 'published' where id = ?", [made["id"]])
    db.execute("update consultations set report_public_names = 1, outcome_published_at = '2024-01-01T00:00:00Z'")
    page = client.get("/c/nanchong-2022/outcome")
    assert page.status_code == 200
    senders = parse_html(page.text).xpath("//table[@class='report']//tr/td[4]/text()")
    assert any("李四 110101***********4" in s for s in senders) and "199003071234" not in page.text
    data = client.get("/c/nanchong-2022/outcome/report.csv").content.decode("utf-8-sig")
    assert "李四 110101" in data and "199003071234" not in data
