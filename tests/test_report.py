"""The 意见采纳情况表 says how every comment on the Nanchong draft was handled, as .docx, .xlsx and .csv."""

import csv
import io

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Mm
from openpyxl import load_workbook
from test_masking import text_of

from revise import commenting, departments, report, revising, triage
from revise.i18n import gettext
from revise.security import Signer
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.triage import DISPOSITIONS

PHONE, EMAIL = "13912345678", "zhang.private@example.com"
EDITOR = {"id": 1, "display_name": "张编辑"}
HEADER = ["序号", "章节/段落", "意见内容", "提出单位/个人", "采纳情况", "理由或修改情况"]


def mm(*lengths) -> tuple[int, ...]:
    """Lengths in whole millimetres (Word stores twips, so Mm(297) comes back a hair off)."""
    return tuple(round(length.mm) for length in lengths)


def label(key: str) -> str:
    """The disposition as the catalog names it (采纳, 部分采纳, …)."""
    return gettext(DISPOSITIONS[key], "zh_CN")


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


def comment(db, c, block, body, *, kind="remark", suggestion="", department=None, name="", contact=PHONE):
    values = {"kind": kind, "body": body, "suggestion": suggestion, "quote": "", "quote_start": None,
              "name": name, "contact": contact}
    made, _ = commenting.submit(db, c, block, values, form_token=Signer(b"t").form_token(), department=department)
    return made


def department(db, c, name):
    department_id, _ = departments.add(db, c, name, "test")
    return db.table("departments").get(department_id)


def revise_block(db, c, block, new_text):
    """An editor saves a new text for the block; the revision's id."""
    return revising.edit_block(db, c, block["id"], new_text, base_number=block["rev"], author=EDITOR)["id"]


@pytest.fixture
def seeded(db, c):
    """Comments from the public and a department on a heading, a paragraph, a table row and the whole draft."""
    blocks = block_store.of_consultation(db, c["id"])
    para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    row9 = next(b for b in blocks if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    heading = next(b for b in blocks if b["text"] == "1.提升产业功能平台能级")
    dept = department(db, c, "市发展改革委")
    made = {
        "history": comment(db, c, para, "建城史应为2300多年。", kind="edit",
                           suggestion=para["text"].replace("2200多年", "2300多年"), name="王五", contact=EMAIL),
        "airport": comment(db, c, para, "建议补充机场航线发展目标。"),
        "row9": comment(db, c, row9, "高新技术产业营业收入目标偏低。"),
        "dept": comment(db, c, para, "部门意见:交通数据需核实。", department=dept),
        "whole": comment(db, c, None, "整体上目标偏高,建议分年度细化。"),
        "platform": comment(db, c, heading, "建议删除本节。", kind="delete", name="李四"),
    }
    return {"para": para, "row9_block": row9, "heading": heading, **made}


def decide_all(db, c, s):
    triage.decide(db, c, [s["airport"]["id"]], "rejected", "超出本方案范围", "张编辑")
    triage.decide(db, c, [s["row9"]["id"]], "partly", "目标调整为1200亿元。", "张编辑")
    triage.decide(db, c, [s["dept"]["id"]], "reflected", "", "张编辑")
    revision = revise_block(db, c, s["para"], s["history"]["suggestion"])
    triage.decide(db, c, [s["history"]["id"]], "adopted", "", "张编辑", revision_id=revision)


def test_the_summary_counts_comments_by_source_and_disposition_and_names_what_is_pending(db, c, seeded):
    decide_all(db, c, seeded)
    # Withheld from the public page is still received: the report is about handling, not publishing.
    commenting.moderate(db, c, [seeded["whole"]["id"]], publish=False, actor="张编辑")
    r = report.build_report(db, c)
    assert (r.total, r.public, r.departments) == (6, 5, 1)
    assert r.counts == {"adopted": 1, "partly": 1, "rejected": 1, "reflected": 1, "pending": 2}
    assert r.summary() == ["共收到意见6条(公众5条、部门1条),采纳1条,部分采纳1条,不予采纳1条,已有体现1条,待处理2条。"]
    assert r.title == "《南充市创建省级创新型城市建设方案(2022—2024年)(征求意见稿)》意见采纳情况表"
    pending = [row for row in r.rows if row.disposition_key == "pending"]
    assert [row.disposition for row in pending] == [label("pending")] * 2  # listed, never dropped


def test_without_pending_comments_the_summary_does_not_mention_them(db, c, seeded):
    decide_all(db, c, seeded)
    triage.decide(db, c, [seeded["whole"]["id"], seeded["platform"]["id"]], "rejected", "与规划定位不符", "张编辑")
    assert report.build_report(db, c).summary() == [
        "共收到意见6条(公众5条、部门1条),采纳1条,部分采纳1条,不予采纳3条,已有体现1条。"]


def test_rows_follow_the_draft_with_the_whole_draft_first_and_outline_paths(db, c, seeded):
    s = seeded
    rows = report.build_report(db, c).rows
    assert [row.number for row in rows] == [1, 2, 3, 4, 5, 6]
    assert [row.comment_ids for row in rows] == [[s[k]["id"]] for k in
                                                 ("whole", "history", "airport", "dept", "row9", "platform")]
    assert rows[0].where == "草案整体"
    assert rows[1].where == "一、发展基础 › (一)历史积淀深厚…\n“南充历史底蕴深厚,有2200多年的建城史…”"
    assert rows[4].where == "三、主要目标 › (二)具体目标\n9 | 高新技术产业营业务收入(亿元) | 812 | 1100"
    assert rows[5].where == "四、重点任务 › (一)加强创新平台载体建设… › 1.提升产业功能平台能级"


def test_the_comment_column_gives_the_proposed_wording_or_the_deletion(db, c, seeded):
    rows = {row.comment_ids[0]: row for row in report.build_report(db, c).rows}
    history = rows[seeded["history"]["id"]].comment.split("\n")
    assert history[0] == "建城史应为2300多年。"
    assert history[1] == "建议修改:…有【“2200”改为“2300”】多年的建城史…"  # the change, not the paragraph again
    assert rows[seeded["platform"]["id"]].comment == "建议删除本节。\n建议删除本段。"


def test_the_sender_is_the_department_or_the_public_named_only_when_the_consultation_allows(db, c, seeded):
    def senders():
        fresh = consultation_store.by_slug(db, "nanchong-2022")
        return {row.comment_ids[0]: row.sender for row in report.build_report(db, fresh).rows}

    s = seeded
    got = senders()
    assert got[s["dept"]["id"]] == "市发展改革委"
    assert got[s["history"]["id"]] == got[s["airport"]["id"]] == "公众"
    db.execute("update consultations set report_public_names = 1 where id = ?", [c["id"]])
    got = senders()
    assert got[s["history"]["id"]] == "公众(王五)" and got[s["platform"]["id"]] == "公众(李四)"
    assert got[s["airport"]["id"]] == "公众"  # gave no name
    assert got[s["dept"]["id"]] == "市发展改革委"


def test_an_adopted_edit_says_what_was_changed_and_a_partly_adopted_one_keeps_its_reason(db, c, seeded):
    decide_all(db, c, seeded)
    row9 = seeded["row9_block"]
    revision = revise_block(db, c, row9, row9["text"].replace("1100", "1200"))
    triage.decide(db, c, [seeded["row9"]["id"]], "partly", "目标调整为1200亿元。", "张编辑", revision_id=revision)
    rows = {row.comment_ids[0]: row for row in report.build_report(db, c).rows}
    assert rows[seeded["history"]["id"]].reason == "将“2200”修改为“2300”。"
    assert rows[seeded["history"]["id"]].disposition == label("adopted")
    assert rows[seeded["row9"]["id"]].reason == "目标调整为1200亿元。\n将“1100”修改为“1200”。"
    assert rows[seeded["airport"]["id"]].reason == "超出本方案范围"


def test_an_adopted_deletion_or_insertion_says_so(db, c, seeded):
    revising.accept_suggestion(db, c, seeded["platform"]["id"], base_number=0, author=EDITOR)
    insertion = comment(db, c, seeded["para"], "建议补充文化资源内容。", kind="insert", suggestion="南充是国家历史文化名城。")
    revising.accept_suggestion(db, c, insertion["id"], base_number=0, author=EDITOR)
    rows = {row.comment_ids[0]: row for row in report.build_report(db, c).rows}
    assert rows[seeded["platform"]["id"]].reason == "删除该段。"
    assert rows[seeded["platform"]["id"]].where == "四、重点任务 › (一)加强创新平台载体建设… › 1.提升产业功能平台能级"
    assert rows[insertion["id"]].reason == "新增段落“南充是国家历史文化名城。”。"
    assert rows[insertion["id"]].comment == "建议补充文化资源内容。\n建议新增:南充是国家历史文化名城。"


def test_the_change_made_is_said_in_words_for_edits_deletions_and_insertions():
    old = "南充历史底蕴深厚,有2200多年的建城史。"
    assert report.change_made("edit", old, old.replace("的建城史", "建城史")) == "将“多年的建”修改为“多年建”。"
    assert report.change_made("edit", old, old[:-1] + ",是国家历史文化名城。") == "在“建城史”后增加“,是国家历史文化名城”。"
    assert report.change_made("edit", old, "有2200多年的建城史。") == "删除“南充历史底蕴深厚,”。"
    assert report.change_made("delete", old, old) == "删除该段。"
    assert report.change_made("insert", "", "新增的段落。") == "新增段落“新增的段落。”。"
    assert report.change_made("edit", old, old) == ""
    assert report.change_made("edit", old, old.replace("2200", "2300"), "en") == "Changed “2200” to “2300”."


def test_departments_that_replied_no_changes_are_listed_under_the_summary(db, c, seeded):
    for name in ("市教育局", "市财政局"):
        commenting.file_no_comment(db, c, department(db, c, name))
    department(db, c, "市交通运输局")  # has not replied
    lines = report.build_report(db, c).summary()
    assert lines[1] == "以下单位反馈无修改意见:市教育局、市财政局。"


def test_contact_details_never_appear_in_any_export(db, c, seeded):
    db.execute("update consultations set report_public_names = 1 where id = ?", [c["id"]])
    r = report.build_report(db, consultation_store.by_slug(db, "nanchong-2022"))
    docx_bytes, xlsx_bytes, csv_bytes = report.report_docx(r), report.report_xlsx(r), report.report_csv(r)
    for name, data in (("report.docx", docx_bytes), ("report.xlsx", xlsx_bytes), ("report.csv", csv_bytes)):
        text = text_of(name, data)  # the text a reader sees, read out of the file
        assert PHONE not in text and EMAIL not in text, name
        assert "公众(王五)" in text and "建城史应为2300多年" in text, name  # the name was allowed, the contact never is


def test_phone_numbers_written_into_a_comment_are_masked_as_on_public_pages(db, c):
    comment(db, c, None, "请联系我13800001111核实。")
    row = report.build_report(db, c).rows[0]
    assert "13800001111" not in row.comment and "138****1111" in row.comment


def test_the_xlsx_has_a_merged_title_a_frozen_bold_header_and_no_formulas(db, c, seeded):
    comment(db, c, None, "=HYPERLINK(\"http://example.com\")")
    r = report.build_report(db, c)
    ws = load_workbook(io.BytesIO(report.report_xlsx(r))).active
    assert ws.title == "意见采纳情况表"
    assert ws["A1"].value == r.title and "A1:F1" in {str(m) for m in ws.merged_cells.ranges}
    assert ws["A2"].value == r.summary()[0]
    head = next(row[0].row for row in ws.iter_rows() if row[0].value == "序号")
    assert [cell.value for cell in ws[head]] == HEADER
    assert all(cell.font.b for cell in ws[head])
    assert ws.freeze_panes == f"A{head + 1}"
    body = list(ws.iter_rows(min_row=head + 1, values_only=True))
    assert len(body) == r.total == 7 and [row[0] for row in body] == list(range(1, 8))
    assert not any(cell.data_type == "f" for row in ws.iter_rows() for cell in row)
    assert any(row[2] == "=HYPERLINK(\"http://example.com\")" for row in body)  # shown as text
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width


def test_the_csv_is_utf8_with_a_bom_a_header_and_one_row_per_comment(db, c, seeded):
    comment(db, c, None, "=1+1")
    r = report.build_report(db, c)
    data = report.report_csv(r)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert len(rows) == 1 + r.total
    assert rows[2][:5] == ["2", "草案整体", "'=1+1", "公众", label("pending")]  # never run as a formula
    assert rows[3][1] == r.rows[2].where  # newlines survive inside quoted fields


def test_the_docx_is_a_landscape_a4_table_with_a_repeating_header_in_the_drafts_fonts(db, c, seeded):
    decide_all(db, c, seeded)
    r = report.build_report(db, c)
    data = report.report_docx(r)
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert mm(section.page_width, section.page_height) == (297, 210)
    # The draft's margins (37/35/28/26 mm) turned with the page: its binding edge is now the top.
    assert mm(section.top_margin, section.bottom_margin, section.left_margin, section.right_margin) == (28, 26, 35, 37)
    assert doc.paragraphs[0].text == r.title and doc.paragraphs[1].text == r.summary()[0]
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert len(table.columns) == 6 and len(table.rows) == r.total + 1
    assert [cell.text for cell in table.rows[0].cells] == HEADER
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert table.rows[1].cells[1].text == "草案整体"

    def east_asia(run):
        return run._r.rPr.rFonts.get(qn("w:eastAsia"))

    assert east_asia(doc.paragraphs[0].runs[0]) == "方正小标宋简体"
    assert east_asia(doc.paragraphs[1].runs[0]) == "仿宋_GB2312"
    assert {east_asia(run) for cell in table.rows[0].cells for p in cell.paragraphs for run in p.runs} == {"黑体"}
    assert {east_asia(run) for row in table.rows[1:] for cell in row.cells for p in cell.paragraphs
            for run in p.runs} == {"仿宋_GB2312"}
    assert report.report_docx(r) == data  # the same report makes the same file


def test_the_docx_takes_the_page_of_the_original_draft_when_given(db, c, seeded):
    original = Document()
    s = original.sections[0]
    s.page_width, s.page_height = Mm(216), Mm(279)  # US Letter, portrait
    s.top_margin, s.bottom_margin, s.left_margin, s.right_margin = Mm(25), Mm(20), Mm(30), Mm(15)
    buffer = io.BytesIO()
    original.save(buffer)
    doc = Document(io.BytesIO(report.report_docx(report.build_report(db, c), buffer.getvalue())))
    got = doc.sections[0]
    assert mm(got.page_width, got.page_height) == (279, 216)
    assert mm(got.top_margin, got.bottom_margin, got.left_margin, got.right_margin) == (30, 15, 20, 25)


def test_the_report_can_be_made_in_english(db, c, seeded):
    r = report.build_report(db, c, locale="en")
    assert r.columns() == ["No.", "Section / paragraph", "Comment text", "Submitted by", "Decision",
                           "Reason or change made"]
    assert r.summary()[0].startswith("Comments received: 6 (public 5, departments 1)")
    assert r.rows[0].where == "The draft as a whole" and r.rows[0].sender == "The public"
    assert next(csv.reader(io.StringIO(report.report_csv(r).decode("utf-8-sig")))) == r.columns()
