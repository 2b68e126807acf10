"""A comment a moderator hid, or that nobody reviewed, never appears with its text anywhere public:
not on the outcome page, not in the public report downloads (issue #10). It is counted."""

import csv
import io

import openpyxl
import pytest
from conftest import parse_html
from docx import Document
from test_editor import _comment

from revise import commenting, triage
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store

SHOWN = "公开的意见:建议增加孵化器数量。"
HIDDEN = "被隐藏的意见:内含人身攻击的言论。"
UNREVIEWED = "未经审核的意见:尚未有人看过。"
DEPARTMENT = "部门内部意见:请勿公开此条。"


@pytest.fixture
def outcome(client, db):
    c = consultation_store.by_slug(db, "nanchong-2022")
    block = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "paragraph")
    from revise import departments

    dept_id, _ = departments.add(db, c, "市财政局", "test")
    dept = db.table("departments").get(dept_id)
    shown = _comment(db, c, block, SHOWN)
    hidden = _comment(db, c, block, HIDDEN)
    _comment(db, c, block, UNREVIEWED)
    _comment(db, c, block, DEPARTMENT, department=dept)
    commenting.moderate(db, c, [shown["id"]], True, "editor")
    commenting.moderate(db, c, [hidden["id"]], False, "editor")
    triage.publish_outcome(db, c, "管理员")
    return c


def _docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)


def _csv_text(data: bytes) -> str:
    return "\n".join(",".join(row) for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_outcome_page_shows_published_comments_only_and_counts_the_rest(client, outcome):
    page = client.get("/c/nanchong-2022/outcome")
    assert page.status_code == 200
    text = parse_html(page.text).text_content()
    assert SHOWN in text
    for withheld in (HIDDEN, UNREVIEWED, DEPARTMENT):
        assert withheld not in text
    assert "其中3条未公开" in text.replace(" ", "")


@pytest.mark.parametrize("name, read", [("report.docx", _docx_text), ("report.xlsx", _xlsx_text),
                                        ("report.csv", _csv_text)])
def test_no_public_download_carries_a_withheld_comment(client, outcome, name, read):
    response = client.get(f"/c/nanchong-2022/outcome/{name}")
    assert response.status_code == 200
    text = read(response.content)
    assert SHOWN in text
    for withheld in (HIDDEN, UNREVIEWED, DEPARTMENT):
        assert withheld not in text, name


def test_the_office_report_still_has_every_comment(client, db, outcome):
    from revise import report

    made = report.build_report(db, outcome)
    texts = " ".join(row.comment for row in made.rows)
    for every in (SHOWN, HIDDEN, UNREVIEWED, DEPARTMENT):
        assert every in texts
    assert made.withheld == 0
