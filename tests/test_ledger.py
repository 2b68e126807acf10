"""Every channel in one ledger (letters, the 12345 hotline, meetings, e-mail), attachments checked
by their content, and reach beyond the screen (a QR code, a printable A4 notice)."""

import hashlib
import re
from datetime import date

import pytest
import segno
from conftest import ROOT, parse_html
from lxml import etree
from test_editor import sign_in

import server
from revise import departments, report
from revise.settings import Settings
from revise.store import attachments as attachment_store
from revise.store import blocks as block_store
from revise.store import connect
from revise.store import consultations as consultation_store

LIMIT = 200 * 1024  # a small attachment limit keeps the too-large cases fast
NEW = "/editor/c/nanchong-2022/ledger/new"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 2000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 500


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", max_attachment_bytes=LIMIT, base_url="http://testserver")


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def paras(db, c):
    """Two paragraphs of the Nanchong draft, the later one first (the store orders them)."""
    blocks = block_store.of_consultation(db, c["id"])
    first = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    later = next(b for b in blocks if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    return first, later


def today() -> str:
    """Beijing's date: inside the default window, which opens when the app starts."""
    from revise.timeutil import SHANGHAI, utc_now

    return utc_now().astimezone(SHANGHAI).date().isoformat()


def enter(client, files=None, **fields):
    """Fill the entry form as an editor would (hidden fields from the page) and send it."""
    page = parse_html(client.get(NEW).text)
    hidden = {i.get("name"): i.get("value") for i in page.xpath("//form[contains(@class,'ledger-form')]//input[@type='hidden']")}
    data = {**hidden, "channel": "letter", "received_on": today(), "kind": "remark",
            "body": "来信建议加快嘉陵江沿岸绿道建设。", **fields}
    return client.post(NEW, data=data, files=files or {}, follow_redirects=False)


def field_error(response, field_id):
    """The error shown next to a field (the paragraph its aria-describedby names)."""
    page = parse_html(response.text)
    (control,) = page.xpath(f"//*[@id='{field_id}']")
    assert control.get("aria-invalid") == "true"
    return page.xpath(f"string(//p[@id='{control.get('aria-describedby')}'])")


def count(db, table):
    return db.execute(f"select count(*) from {table}").fetchone()[0]


def test_a_letter_with_a_pdf_scan_about_two_paragraphs_is_in_the_queue_and_the_report_with_its_channel(client, db, c, paras):
    sign_in(client, db)
    first, later = paras
    response = enter(client, files={"attachment": ("来信扫描.pdf", PDF, "application/octet-stream")},
                     name="张三", blocks=[str(later["id"]), str(first["id"])])
    assert response.status_code == 303
    comment_id = int(response.headers["location"].rsplit("/", 1)[1])
    row = db.table("comments").get(comment_id)
    assert (row["channel"], row["received_on"], row["entered_by"]) == ("letter", today(), "张编辑")
    assert (row["source"], row["name"], row["status"]) == ("public", "张三", "pending")
    assert row["block_id"] == first["id"]  # the first in the draft's order is the comment's own block
    assert [b["id"] for b in attachment_store.further_blocks(db, comment_id)] == [later["id"]]
    (stored,) = attachment_store.of_comment(db, comment_id)
    assert stored["sha256"] == hashlib.sha256(PDF).hexdigest() and stored["media_type"] == "application/pdf"
    assert stored["filename"] == "来信扫描.pdf" and stored["size"] == len(PDF)

    queue = parse_html(client.get("/editor/c/nanchong-2022/comments").text)
    (item,) = [li for li in queue.xpath("//li[contains(@class,'queue-item')]") if f"#{comment_id}" in li.text_content()]
    assert item.xpath("string(.//span[@class='channel'])") == "信函"
    letters = parse_html(client.get("/editor/c/nanchong-2022/comments?channel=letter").text)
    assert len(letters.xpath("//li[contains(@class,'queue-item')]")) == 1
    web = client.get("/editor/c/nanchong-2022/comments?channel=web").text
    assert "嘉陵江沿岸绿道" not in web

    detail = parse_html(client.get(f"/editor/c/nanchong-2022/comments/{comment_id}").text)
    assert detail.xpath("string(//dd[@class='channel'])").startswith("信函")
    assert detail.xpath("//a[@class='further-block']")
    link = detail.xpath("string(//a[@class='attachment']/@href)")
    download = client.get(link)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"

    senders = [r.sender for r in report.build_report(db, c).rows if comment_id in r.comment_ids]
    assert senders == ["公众(信函)"]
    assert "公众(信函)" in client.get("/editor/c/nanchong-2022/export/report.csv").content.decode("utf-8-sig")


def test_a_department_on_the_roster_chosen_as_sender_makes_a_department_comment(client, db, c):
    sign_in(client, db)
    dept_id, _ = departments.add(db, c, "市发展改革委", "test")
    response = enter(client, channel="meeting", department=str(dept_id))
    assert response.status_code == 303
    row = db.table("comments").get(int(response.headers["location"].rsplit("/", 1)[1]))
    assert (row["source"], row["department_id"], row["name"], row["block_id"]) == ("department", dept_id, "市发展改革委", None)
    assert [r.sender for r in report.build_report(db, c).rows] == ["市发展改革委(座谈会)"]


def test_a_date_outside_the_window_needs_a_reason_given_next_to_the_field(client, db):
    sign_in(client, db)
    refused = enter(client, received_on="2020-01-02")
    assert refused.status_code == 422
    assert "不在征求意见期内" in field_error(refused, "late_reason")
    assert count(db, "comments") == 0
    taken = enter(client, received_on="2020-01-02", late_reason="邮戳日期在征求意见期内,邮递延误。")
    assert taken.status_code == 303
    row = db.table("comments").get(int(taken.headers["location"].rsplit("/", 1)[1]))
    assert (row["received_on"], row["late_reason"]) == ("2020-01-02", "邮戳日期在征求意见期内,邮递延误。")
    future = enter(client, received_on=date(2999, 1, 1).isoformat(), late_reason="x")
    assert future.status_code == 422 and field_error(future, "received_on")


@pytest.mark.parametrize("name, data, says", [
    ("scan.pdf", PNG, "PNG"),           # a PNG named .pdf
    ("photo.png", b"MZ\x90\x00" + b"\x00" * 300, "PDF、PNG"),  # random bytes (a program) named .png
    ("setup.exe", PNG, "setup.exe"),    # a PNG named .exe
    ("letter", PDF, "PDF"),             # no extension at all
])
def test_an_attachment_whose_name_does_not_match_its_content_is_refused_with_a_clear_message(client, db, name, data, says):
    sign_in(client, db)
    response = enter(client, files={"attachment": (name, data, "application/pdf")})
    assert response.status_code == 422
    assert says in field_error(response, "attachment")
    assert count(db, "comments") == 0 and count(db, "attachments") == 0


def test_an_attachment_over_the_limit_is_refused(client, db):
    sign_in(client, db)
    response = enter(client, files={"attachment": ("big.pdf", PDF + b"0" * LIMIT, "application/pdf")})
    assert response.status_code == 422 and "0.2 MB" in field_error(response, "attachment")
    # Far over it, the body is refused before it is read.
    huge = enter(client, files={"attachment": ("huge.pdf", PDF + b"0" * (LIMIT + 200 * 1024), "application/pdf")})
    assert huge.status_code == 413
    assert count(db, "comments") == 0


def test_the_errors_of_other_fields_ask_for_the_file_again(client, db):
    sign_in(client, db)
    response = enter(client, files={"attachment": ("scan.pdf", PDF, "application/pdf")}, body="")
    assert response.status_code == 422 and field_error(response, "body")
    assert parse_html(response.text).xpath("//p[@class='hint']")


def test_attachments_download_for_editors_only(client, db):
    sign_in(client, db)
    response = enter(client, files={"attachment": ("scan.png", PNG, "image/png")})
    (stored,) = attachment_store.of_comment(db, int(response.headers["location"].rsplit("/", 1)[1]))
    path = f"/editor/c/nanchong-2022/attachments/{stored['id']}"
    assert client.get(path).headers["content-type"] == "image/png"
    client.cookies.clear()
    anonymous = client.get(path, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/editor/sign-in?next=")
    assert client.post(NEW, data={}, follow_redirects=False).status_code == 401


def public_form(client, block):
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text)
    (form,) = page.xpath("//form[contains(@class,'comment-form')]")
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    return form, hidden


def test_with_public_attachments_off_the_form_has_no_file_input_and_a_posted_file_is_ignored(client, db, paras):
    block = paras[0]
    form, hidden = public_form(client, block)
    assert form.get("enctype") is None and not form.xpath(".//input[@type='file']")
    data = {**hidden, "kind": "remark", "body": "建议补充。", "action": "submit"}
    response = client.post(form.get("action"), data=data, files={"attachment": ("scan.png", PNG, "image/png")},
                           follow_redirects=False)
    assert response.status_code == 303
    assert count(db, "comments") == 1 and count(db, "attachments") == 0


def test_with_public_attachments_on_a_scan_is_stored_with_the_comment(client, db, c, paras):
    assert server.main(["--data", str(client.app.state.settings.data_dir), "moderate", "nanchong-2022",
                        "--attachments", "on", "--by", "test"]) == 0
    block = paras[0]
    form, hidden = public_form(client, block)
    assert form.get("enctype") == "multipart/form-data" and form.xpath(".//input[@type='file'][@name='attachment']")
    data = {**hidden, "kind": "remark", "body": "附上现场照片。", "action": "submit"}
    lying = client.post(form.get("action"), data=data, files={"attachment": ("photo.jpg", PNG, "image/jpeg")})
    assert lying.status_code == 422 and "PNG" in parse_html(lying.text).xpath("string(//p[@class='error'])")
    assert count(db, "comments") == 0
    response = client.post(form.get("action"), data=data, files={"attachment": ("photo.png", PNG, "image/jpeg")},
                           follow_redirects=False)
    assert response.status_code == 303
    (comment,) = db.query("select id, channel from comments")
    (stored,) = attachment_store.of_comment(db, comment["id"])
    assert stored["sha256"] == hashlib.sha256(PNG).hexdigest() and comment["channel"] == "web"
    # A plain form still has the small limit: only multipart bodies may carry a file.
    big = client.post(form.get("action"), data={**data, "body": "长" * 70_000}, follow_redirects=False)
    assert big.status_code == 413


def qr_matrix(svg: bytes, border: int = 4) -> list[list[int]]:
    """Read the dark modules back from segno's SVG path (M x y, then h for runs and m for moves)."""
    root = etree.fromstring(svg)
    (path,) = [p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("stroke")]  # not the white background
    size = int(root.get("width")) // 4 - 2 * border
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                grid[int(y) - border][int(x) + i - border] = 1
            x += float(a)
    return grid


def test_the_qr_code_is_an_svg_of_the_page_address(client):
    response = client.get("/c/nanchong-2022/qr.svg")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    expected = segno.make("http://testserver/c/nanchong-2022", error="m", micro=False)
    assert qr_matrix(response.content) == [list(map(int, row)) for row in expected.matrix]
    assert client.get("/c/no-such-thing/qr.svg").status_code == 404


def test_the_window_box_shows_the_code_with_its_caption_and_the_printable_notice(client, db, c):
    page = parse_html(client.get("/c/nanchong-2022").text)
    (figure,) = page.xpath("//section[contains(@class,'window')]//figure[@class='qr-box']")
    assert figure.xpath("string(img/@src)").endswith("/c/nanchong-2022/qr.svg")
    assert "扫一扫在手机打开当前页" in figure.xpath("string(figcaption)")
    notice = parse_html(client.get(figure.xpath("string(.//a/@href)")).text)
    assert notice.xpath("string(//h1)") == c["title"]
    assert notice.xpath("string(//p[@class='page-link'])") == "http://testserver/c/nanchong-2022"
    assert notice.xpath("string(//img[@class='qr']/@src)").endswith("/c/nanchong-2022/qr.svg")
    window = notice.xpath("string(//p[@class='window-line'])")
    assert "北京时间" in window and window.count("年") == 2
    css = (ROOT / "static" / "site.css").read_text()
    assert re.search(r"@page\s*{[^}]*size:\s*A4", css)
    assert re.search(r"@media print\s*{[^@]*header\.site", css)


def test_staff_entries_are_kept_from_the_public_page_until_published(client, db, c):
    sign_in(client, db)
    enter(client, name="李四", body="来电建议增加公交线路。")
    client.cookies.clear()
    assert "来电建议增加公交线路" not in client.get("/c/nanchong-2022/remarks").text


def test_a_database_reopened_keeps_the_attachment_bytes(client, db, settings):
    sign_in(client, db)
    enter(client, files={"attachment": ("scan.pdf", PDF, "application/pdf")})
    other = connect(settings.db_path)
    (row,) = other.query("select data, sha256 from attachments")
    assert hashlib.sha256(row["data"]).hexdigest() == row["sha256"]
    other.close()


def test_a_change_without_a_paragraph_asks_for_the_paragraph(client, db):
    sign_in(client, db)
    response = enter(client, kind="edit", suggestion="新的表述。")
    assert response.status_code == 422
    page = parse_html(response.text)
    assert "段落" in page.xpath("string(//p[@id='kind-error'])")
    assert page.xpath("string(//input[@name='kind'][@checked]/@value)") == "edit"
