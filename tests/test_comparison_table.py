"""The 修改对照表 (issue #12): the changed clauses only, 原文 | 修改后 with the changes marked, each
with its reason and the comments that led to it; as a page model and as a landscape A4 .docx in
the report's GB/T 9704 style."""

import io

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from test_editor import _comment

from revise import commenting, comparison_table, outcome, report, revising
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store

EDITOR = {"id": 1, "display_name": "张编辑"}
GENERATED = "2024-05-01T08:00:00Z"


def mm(*lengths):
    return tuple(round(length.mm) for length in lengths)


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def changed(db, c):
    """An adopted suggestion (a number), a table cell, an insertion, a deletion with its reason, and
    a paragraph edited then reverted (unchanged in the end)."""
    blocks = block_store.of_consultation(db, c["id"])
    para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    row9 = next(b for b in blocks if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    gone = next(b for b in blocks if b["text"].startswith("坚持生态优先"))
    heading = next(b for b in blocks if b["text"] == "(二)具体目标")
    back = next(b for b in blocks if b["kind"] == "paragraph" and b["id"] not in (para["id"], gone["id"])
                and len(b["text"]) > 30)
    suggestion = _comment(db, c, para, "建城史应为2300多年。", kind="edit",
                          suggestion=para["text"].replace("2200多年", "2300多年"))
    commenting.moderate(db, c, [suggestion["id"]], True, "编辑")
    revising.accept_suggestion(db, c, suggestion["id"], base_number=0, author=EDITOR, reason="经核实,建城史为2300多年")
    cells = [cell["text"] for cell in row9["cells"]]
    cells[-1] = "1200"
    revising.edit_row(db, c, row9["id"], cells, base_number=0, author=EDITOR, reason="按最新统计数据调整")
    revising.insert_after(db, c, heading["id"], "力争到2024年建成省级创新型城市。", author=EDITOR)
    revising.delete_block(db, c, gone["id"], base_number=0, author=EDITOR, reason="与第一条重复")
    revising.edit_block(db, c, back["id"], back["text"] + "(暂改)", base_number=0, author=EDITOR)
    revising.revert(db, c, back["id"], 0, base_number=1, author=EDITOR)
    numbers = outcome.report_numbers(report.build_report(db, c, public_only=True))
    return {"para": para, "row9": row9, "gone": gone, "back": back, "suggestion": suggestion,
            "rows": outcome.comparison(db, c, numbers=numbers), "numbers": numbers}


def test_only_the_changed_clauses_are_rows_in_the_drafts_order(db, c, changed):
    rows = changed["rows"]
    assert len(rows) == 4
    ids = [r.block_id for r in rows]
    assert changed["back"]["id"] not in ids  # edited, then reverted: not a change
    positions = {b["id"]: b["position"] for b in block_store.of_consultation(db, c["id"], include_deleted=True)}
    assert [positions[i] for i in ids] == sorted(positions[i] for i in ids)
    assert [r.number for r in rows] == [1, 2, 3, 4]
    inserted = next(r for r in rows if "力争到2024年" in r.new)
    deleted = next(r for r in rows if r.block_id == changed["gone"]["id"])
    assert inserted.old == "" and deleted.new == ""


def test_each_side_marks_only_its_own_changes(changed):
    row = next(r for r in changed["rows"] if r.block_id == changed["para"]["id"])
    assert "<del>2</del>" in row.old_html and "<ins>" not in row.old_html
    assert "<ins>3</ins>" in row.new_html and "<del>" not in row.new_html
    table = next(r for r in changed["rows"] if r.block_id == changed["row9"]["id"])
    assert " | " in table.old and "1200" in table.new  # a table row reads as its cells


def test_each_row_gives_its_reasons_and_the_comments_that_led_to_it(changed):
    row = next(r for r in changed["rows"] if r.block_id == changed["para"]["id"])
    assert row.reasons == ["经核实,建城史为2300多年"]
    assert row.comment_ids == [changed["suggestion"]["id"]]
    assert row.comment_numbers == [changed["numbers"][changed["suggestion"]["id"]]]
    deleted = next(r for r in changed["rows"] if r.block_id == changed["gone"]["id"])
    assert deleted.reasons == ["与第一条重复"] and deleted.comment_numbers == []
    assert comparison_table.reason_line(deleted) == "理由:与第一条重复"
    inserted = next(r for r in changed["rows"] if "力争到2024年" in r.new)
    assert comparison_table.reason_line(inserted) == "修改理由:文字修改。"


def docx_of(c, rows, original=None):
    return comparison_table.comparison_docx(c, rows, GENERATED, "zh_CN", original)


def test_the_docx_is_a_landscape_a4_two_column_table_in_the_reports_style(db, c, changed):
    original = consultation_store.original_document(db, c["id"])["data"]
    data = docx_of(c, changed["rows"], original)
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert mm(section.page_width, section.page_height) == (297, 210)
    assert doc.paragraphs[0].text == f"“{c['title']}”修改对照表"
    (table,) = doc.tables
    assert len(table.columns) == 2 and len(table.rows) == 1 + 2 * len(changed["rows"])
    assert [cell.text for cell in table.rows[0].cells] == ["原文", "修改后"]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on each page

    def east_asia(run):
        return run._r.rPr.rFonts.get(qn("w:eastAsia"))

    assert east_asia(doc.paragraphs[0].runs[0]) == "方正小标宋简体"
    assert {east_asia(r) for cell in table.rows[0].cells for p in cell.paragraphs for r in p.runs} == {"黑体"}
    body_fonts = {east_asia(r) for row in table.rows[1:] for cell in row.cells for p in cell.paragraphs for r in p.runs}
    assert body_fonts <= {"仿宋_GB2312", "黑体"} and "仿宋_GB2312" in body_fonts
    assert docx_of(c, changed["rows"], original) == data  # the same table makes the same file


def test_the_docx_strikes_deleted_words_underlines_added_ones_and_gives_the_reason_across_both_columns(db, c, changed):
    doc = Document(io.BytesIO(docx_of(c, changed["rows"])))
    (table,) = doc.tables
    index = next(i for i, r in enumerate(changed["rows"]) if r.block_id == changed["para"]["id"])
    pair, why = table.rows[1 + 2 * index], table.rows[2 + 2 * index]
    old_tc, new_tc = pair._tr.tc_lst
    struck = "".join(r.xpath("string(.//w:t)") for r in old_tc.iter(qn("w:r")) if r.find(f"{qn('w:rPr')}/{qn('w:strike')}") is not None)
    added = "".join(r.xpath("string(.//w:t)") for r in new_tc.iter(qn("w:r")) if r.find(f"{qn('w:rPr')}/{qn('w:u')}") is not None)
    assert struck == "2" and added == "3"
    (reason_tc,) = why._tr.tc_lst  # one cell spanning both columns
    assert reason_tc.tcPr.find(qn("w:gridSpan")).get(qn("w:val")) == "2"
    text = "".join(reason_tc.xpath(".//w:t/text()"))
    number = changed["numbers"][changed["suggestion"]["id"]]
    assert "经核实,建城史为2300多年" in text and f"意见采纳情况表第{number}条" in text
    cells = [cell.text for row in table.rows[1:] for cell in row.cells]
    assert any(cell.endswith("(新增)") for cell in cells) and "(删除)" in cells


def test_an_unchanged_draft_gives_a_table_that_says_so(db, c):
    assert outcome.comparison(db, c) == []
    doc = Document(io.BytesIO(docx_of(c, [])))
    assert not doc.tables and "未对征求意见稿作修改" in doc.paragraphs[1].text
