"""The office downloads the revised plan (clean and tracked) and the report; the public sees the outcome."""

import io
import threading

import docx
import pytest
from conftest import parse_html
from docx.oxml.ns import qn
from test_editor import _comment, sign_in
from test_masking import text_of

import server
from revise import commenting, exporting, revising, triage
from revise.docx_import import import_docx
from revise.store import blocks as block_store
from revise.store import connect
from revise.store import consultations as consultation_store

EDITOR = {"id": 1, "display_name": "张编辑"}


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def revised(db, c):
    """A realistic set of revisions: a number in the targets table, a reworded sentence, an insert, a delete."""
    blocks = block_store.of_consultation(db, c["id"])
    row9 = next(b for b in blocks if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    gone = next(b for b in blocks if b["text"].startswith("坚持生态优先"))
    heading = next(b for b in blocks if b["text"] == "(二)具体目标")
    comment = _comment(db, c, para, "建城史应为2300多年", kind="edit", suggestion=para["text"].replace("2200多年", "2300多年"))
    revising.accept_suggestion(db, c, comment["id"], base_number=0, author=EDITOR)
    cells = [cell["text"] for cell in row9["cells"]]
    cells[-1] = "1200"
    revising.edit_row(db, c, row9["id"], cells, base_number=0, author=EDITOR)
    revising.insert_after(db, c, heading["id"], "力争到2024年建成省级创新型城市。", author=EDITOR)
    revising.delete_block(db, c, gone["id"], base_number=0, author=EDITOR, reason="与第一条重复")
    remark = _comment(db, c, None, "整体目标偏高", name="王五")
    commenting.moderate(db, c, [remark["id"]], True, "editor")  # published: the outcome may quote it
    triage.decide(db, c, [remark["id"]], "rejected", "目标经过测算", "张编辑")
    return {"para": para, "row9": row9, "gone": gone}


def expected_texts(db, c):
    return [b["text"] for b in block_store.of_consultation(db, c["id"])]


def test_editors_download_the_clean_plan_which_reimports_to_the_current_texts(client, db, c, revised):
    sign_in(client, db)
    response = client.get("/editor/c/nanchong-2022/export/plan.docx")
    assert response.status_code == 200
    assert "nanchong-2022-plan.docx" in response.headers["content-disposition"]
    assert [b.text for b in import_docx(response.content).blocks] == expected_texts(db, c)


def test_the_tracked_plan_marks_each_change_with_the_editor_and_opens_in_python_docx(client, db, c, revised):
    sign_in(client, db)
    data = client.get("/editor/c/nanchong-2022/export/plan-tracked.docx").content
    body = docx.Document(io.BytesIO(data)).element.body
    marks = body.xpath(".//w:ins | .//w:del")
    assert {m.tag for m in marks} == {qn("w:ins"), qn("w:del")}
    assert {m.get(qn("w:author")) for m in marks} == {"张编辑"}
    history = next(p for p in body.iter(qn("w:p")) if "南充历史底蕴深厚" in "".join(p.xpath(".//w:t/text()")))
    assert "".join(history.xpath(".//w:del//w:delText/text()")) == "2"  # 2200多年 → 2300多年
    assert "".join(history.xpath(".//w:ins//w:t/text()")) == "3"
    assert [b.text for b in import_docx(data).blocks] == expected_texts(db, c)  # accepted = clean


@pytest.mark.parametrize("name", ["report.docx", "report.xlsx", "report.csv"])
def test_the_report_downloads_in_three_formats_without_contact_data(client, db, c, revised, name):
    sign_in(client, db)
    response = client.get(f"/editor/c/nanchong-2022/export/{name}")
    assert response.status_code == 200
    text = text_of(name, response.content)  # read out of the file, not searched in compressed bytes
    assert "13800000000" not in text  # every comment's contact
    assert "序号" in text and "整体目标偏高" in text and "目标经过测算" in text


def test_exports_need_an_editor_and_unknown_names_are_404(client, db, revised):
    assert client.get("/editor/c/nanchong-2022/export/plan.docx", follow_redirects=False).status_code == 303
    sign_in(client, db)
    assert client.get("/editor/c/nanchong-2022/export/secrets.db").status_code == 404


def test_the_outcome_page_appears_only_once_published(client, db, c, revised):
    assert client.get("/c/nanchong-2022/outcome").status_code == 404
    assert client.get("/c/nanchong-2022/outcome/report.xlsx").status_code == 404
    triage.publish_outcome(db, c, "管理员")
    page = parse_html(client.get("/c/nanchong-2022/outcome").text)
    assert "共收到意见" in page.xpath("string(//section[@class='summary'])")
    rows = page.xpath("//table[@class='report']//tr[td]")
    assert any("目标经过测算" in r.text_content() for r in rows)
    marked = page.xpath("//div[contains(@class,'redline')]//p[contains(@class,'changed')]")
    assert any(m.xpath("string(.//ins)") == "3" for m in marked)
    plan = client.get("/c/nanchong-2022/outcome/plan.docx")
    assert plan.status_code == 200 and [b.text for b in import_docx(plan.content).blocks] == expected_texts(db, c)
    assert client.get("/c/nanchong-2022/outcome/plan-tracked.docx").status_code == 404  # editors only
    # the public page links to it
    assert parse_html(client.get("/c/nanchong-2022").text).xpath("//p[@class='outcome-link']/a")


def test_the_command_line_writes_the_three_files(settings, client, db, c, revised, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    code = server.main(["--data", str(settings.data_dir), "export", "nanchong-2022", "--clean", str(out / "a.docx"),
                        "--tracked", str(out / "b.docx"), "--report", str(out / "c.xlsx")])
    assert code == 0
    assert [b.text for b in import_docx((out / "a.docx").read_bytes()).blocks] == expected_texts(db, c)
    assert (out / "b.docx").stat().st_size > 0 and (out / "c.xlsx").stat().st_size > 0
    assert server.main(["--data", str(settings.data_dir), "export", "nanchong-2022", "--report", str(out / "c.pdf")]) == 2


def test_an_export_is_one_consistent_snapshot_while_editors_keep_working(settings, client, db, c):
    """Edits committed during an export never tear it: the file matches one moment's texts."""
    para = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))
    stop = threading.Event()

    def editor():
        own = connect(settings.db_path)
        n = 0
        while not stop.is_set():
            current = block_store.get(own, c["id"], para["id"])
            revising.edit_block(own, c, para["id"], para["text"] + f"(第{n}次修改)", base_number=current["rev"], author=EDITOR)
            n += 1

    worker = threading.Thread(target=editor)
    worker.start()
    try:
        for _ in range(5):
            snap = exporting.snapshot(connect(settings.db_path), c)
            block = next(b for b in snap.blocks if b["id"] == para["id"])
            revision = db.execute("select text from revisions where block_id = ? and number = ?", [para["id"], block["rev"]]).fetchone()
            assert revision is None or revision[0] == block["text"]
            data = exporting.render(snap, "plan.docx")
            assert block["text"] in [b.text for b in import_docx(data).blocks]
    finally:
        stop.set()
        worker.join()
