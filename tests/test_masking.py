"""Personal numbers and addresses written into a comment never reach the public: each masking
rule on its own, in the public thread, on the receipt, on the outcome page and in every public
download, read as text out of the .docx, .xlsx and .csv (never searched in compressed bytes)."""

import csv
import io

import pytest
from conftest import parse_html
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from openpyxl import load_workbook
from test_comments import block_with, comment
from test_editor import sign_in

from revise.masking import mask
from revise.web.public import PUBLIC_FILES

# (rule, as written, as published)
RULES = [
    ("mobile phone", "13912345678", "139****5678"),
    ("landline with area code", "0817-2345678", "0817-****5678"),
    ("landline, three-digit code and a space", "028 86123456", "028 ****3456"),
    ("e-mail address", "zhang.san@example.com", "z***@example.com"),
    ("resident ID card, 18 digits", "511302198001011234", "511302***********4"),
    ("resident ID card ending in X", "51130219800101123X", "511302***********X"),
    ("old ID card, 15 digits", "511302800101123", "511302********3"),
]


def docx_text(data: bytes) -> str:
    """Every paragraph's text, body and table cells (python-docx), one per line."""
    document = Document(io.BytesIO(data))
    return "\n".join(Paragraph(p, document).text for p in document.element.body.iter(qn("w:p")))


def xlsx_text(data: bytes) -> str:
    """Every cell of every sheet (openpyxl), one per line."""
    book = load_workbook(io.BytesIO(data))
    return "\n".join(str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
                     if cell.value is not None)


def csv_text(data: bytes) -> str:
    return "\n".join("\t".join(row) for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def text_of(name: str, data: bytes) -> str:
    """The text a reader of the downloaded file sees."""
    return {"docx": docx_text, "xlsx": xlsx_text, "csv": csv_text}[name.rsplit(".", 1)[1]](data)


@pytest.mark.parametrize("rule, written, shown", RULES, ids=[r[0] for r in RULES])
def test_each_rule_masks_its_kind_of_number_keeping_the_ends(rule, written, shown):
    assert mask(f"请联系{written}核实。") == f"请联系{shown}核实。"
    assert mask(f"{written}") == shown  # at the very start and end of the text too


@pytest.mark.parametrize("text", [
    "目标为1200亿元,2022—2024年。",    # amounts and years
    "12812345678",                      # 11 digits but no mobile prefix (1[3-9])
    "139123456789",                     # a mobile number's digits inside a longer number
    "A511302198001011234B",             # an ID number's digits inside a code of letters
    "编号817-2345678",                   # no leading 0: not an area code
    "user@localhost",                   # no domain ending
])
def test_text_that_is_not_a_personal_number_is_left_alone(text):
    assert mask(text) == text


def test_an_empty_or_missing_text_stays_empty():
    """An empty name must stay empty, so that the page says "anonymous" instead."""
    assert mask("") == "" and mask(None) == ""


def test_two_numbers_in_one_comment_are_both_masked():
    assert mask("手机13912345678,座机0817-2345678。") == "手机139****5678,座机0817-****5678。"


def test_a_mobile_number_is_masked_once_not_taken_for_a_landline():
    assert mask("13012345678") == "130****5678"


@pytest.fixture
def published(client, db):
    """One public comment per rule on a paragraph, a decision on each, and the outcome published."""
    from test_comments import nanchong

    from revise import commenting, triage

    block = block_with(db, "南充历史底蕴深厚")
    c = nanchong(db)
    for rule, written, _ in RULES:
        body = f"关于{rule}:请联系{written}核实。"
        assert comment(client, block, body=body).status_code == 303
    ids = [row["id"] for row in db.table("comments").rows]
    assert len(ids) == len(RULES)
    commenting.moderate(db, c, ids, True, "管理员")  # shown on the public thread
    triage.decide(db, c, ids, "rejected", "超出本方案范围", "张编辑")
    triage.publish_outcome(db, nanchong(db), "管理员")
    return block


def test_the_public_thread_shows_each_rule_masked(client, db, published):
    text = parse_html(client.get(f"/c/nanchong-2022/b/{published['id']}").text).text_content()
    for rule, written, shown in RULES:
        assert written not in text, rule
        assert f"请联系{shown}核实" in text, rule


def test_the_outcome_page_and_receipts_show_each_rule_masked(client, db, published):
    text = parse_html(client.get("/c/nanchong-2022/outcome").text).text_content()
    for rule, written, shown in RULES:
        assert written not in text and shown in text, rule
    for row in db.table("comments").rows:
        receipt = parse_html(client.get(f"/r/{row['receipt']}").text).text_content()
        rule, written, shown = next(r for r in RULES if r[0] in row["body"])
        assert written not in receipt and shown in receipt, rule


@pytest.mark.parametrize("name", [n for n in PUBLIC_FILES if n.startswith("report.")])
def test_every_public_report_download_shows_each_rule_masked(client, db, published, name):
    response = client.get(f"/c/nanchong-2022/outcome/{name}")
    assert response.status_code == 200
    text = text_of(name, response.content)
    for rule, written, shown in RULES:
        assert written not in text, (name, rule)
        assert f"请联系{shown}核实" in text, (name, rule)


@pytest.mark.parametrize("name", PUBLIC_FILES)
def test_no_public_download_carries_a_personal_number(client, db, published, name):
    text = text_of(name, client.get(f"/c/nanchong-2022/outcome/{name}").content)
    assert text.strip()
    for rule, written, _ in RULES:
        assert written not in text, (name, rule)


def test_the_editors_see_the_numbers_unmasked_in_their_own_view(client, db, published):
    """Masking is for the public: an editor judging the comment reads what was written."""
    sign_in(client, db)
    row = next(iter(db.table("comments").rows))
    page = parse_html(client.get(f"/editor/c/nanchong-2022/comments/{row['id']}").text).text_content()
    written = next(r[1] for r in RULES if r[0] in row["body"])
    assert written in page


def test_a_number_typed_into_the_name_field_is_masked_in_the_thread_too(client, db):
    from test_comments import nanchong

    from revise import commenting

    block = block_with(db, "南充历史底蕴深厚")
    assert comment(client, block, name="王五13912345678").status_code == 303
    commenting.moderate(db, nanchong(db), [r["id"] for r in db.table("comments").rows], True, "管理员")
    text = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text).text_content()
    assert "13912345678" not in text and "王五139****5678" in text
