"""The 意见采纳情况表 shows each suggestion compactly (issue #12): the changed words with a little
of the paragraph either side, never the whole suggested paragraph again — in .docx, .xlsx and .csv."""

import pytest
from test_masking import text_of
from test_report import EDITOR, comment, revise_block

from revise import report, revising, triage
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store

INCUBATORS = "推进科技企业孵化器、众创空间建设"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def para(db, c):
    """The long paragraph about incubators (about 200 characters)."""
    return next(b for b in block_store.of_consultation(db, c["id"]) if INCUBATORS in b["text"])


def row_of(db, c, comment_id, **kw):
    return next(r for r in report.build_report(db, c, **kw).rows if comment_id in r.comment_ids)


def test_a_one_bracket_suggestion_is_shown_as_that_bracket_in_context_in_every_format(db, c, para):
    suggestion = para["text"].replace("孵化器、众创空间建设", "孵化器(众创空间)建设", 1)
    made = comment(db, c, para, "括号更准确。", kind="edit", suggestion=suggestion)
    row = row_of(db, c, made["id"])
    body, proposed = row.comment.split("\n")
    assert body == "括号更准确。"
    assert proposed == "建议修改:…技企业孵化器【“、”改为“(”】众创空间【增加“)”】建设,…"
    assert len(proposed) < 60 < len(para["text"])
    r = report.build_report(db, c)
    for name, data in (("r.docx", report.report_docx(r)), ("r.xlsx", report.report_xlsx(r)), ("r.csv", report.report_csv(r))):
        text = text_of(name, data)
        assert proposed in text, name
        assert suggestion not in text, name  # the whole paragraph is not repeated


def test_a_number_occurring_twice_is_marked_where_it_changed():
    old = "备案入库的科技型中小企业达到1200户、年均增加100户,技术合同认定登记额比2021年增长100%。"
    new = old.replace("增加100户", "增加150户")
    assert report.suggested_changes(old, new) == "…年均增加【“100”改为“150”】户,…"
    assert report.change_made("edit", old, new) == "将“增加100户”修改为“增加150户”。"
    assert report.change_made("edit", "共2个", "共3个") == "将“2”修改为“3”。"


def test_changes_at_the_start_and_the_end_and_far_apart_are_separate_excerpts():
    old = "加快建设科技强市,推动高质量发展,提升创新能力,完善体制机制,优化创新生态,实现跨越发展。"
    new = "全面加快建设科技强市,推动高质量发展,提升创新能力,完善体制机制,优化创新生态,实现跨越发展"
    assert report.suggested_changes(old, new) == "【增加“全面”】加快建设科技… …实现跨越发展【删除“。”】"
    assert report.change_made("edit", old, new) == "在“加快建设”前增加“全面”;删除“。”。"


def test_a_rewritten_paragraph_is_shown_whole_when_excerpts_would_be_no_shorter(db, c):
    short = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "paragraph" and 8 < len(b["text"]) < 40)
    made = comment(db, c, short, "重写。", kind="edit", suggestion="完全不同的一句话。")
    assert row_of(db, c, made["id"]).comment == "重写。\n建议修改为:完全不同的一句话。"


def test_a_suggestion_is_compared_with_the_text_it_was_written_on(db, c, para):
    """Written after a revision: the excerpt shows the commenter's change, not the editor's earlier one."""
    revise_block(db, c, para, para["text"].replace("多种形式", "多种方式", 1))
    fresh = block_store.get(db, c["id"], para["id"])
    made = comment(db, c, fresh, "", kind="edit", suggestion=fresh["text"].replace("阶梯型", "梯次型", 1))
    proposed = row_of(db, c, made["id"]).comment
    assert "【“阶梯”改为“梯次”】" in proposed and "方式" not in proposed and "形式" not in proposed


def test_the_reason_column_says_what_was_done_as_a_person_would(db, c, para):
    suggestion = para["text"].replace("孵化器、众创空间建设", "孵化器、众创空间等建设", 1)
    made = comment(db, c, para, "补充“等”。", kind="edit", suggestion=suggestion)
    revising.accept_suggestion(db, c, made["id"], base_number=0, author=EDITOR)
    row = row_of(db, c, made["id"])
    assert row.reason == "将“众创空间建设”修改为“众创空间等建设”。"  # 众创空间 occurs three times
    assert "【增加“等”】" in row.comment


def test_a_phone_number_in_a_suggestion_stays_masked(db, c, para):
    suggestion = para["text"].replace("众创空间建设", "众创空间建设(咨询13912345678)", 1)
    made = comment(db, c, para, "", kind="edit", suggestion=suggestion)
    text = row_of(db, c, made["id"]).comment
    assert "13912345678" not in text and "139****5678" in text
    triage.decide(db, c, [made["id"]], "rejected", "不宜写入方案。", "张编辑")
