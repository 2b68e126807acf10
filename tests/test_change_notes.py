"""One-line notes of a suggested change, as a resident reads them (issue #16)."""

import pytest

from revise.change_notes import Change, changes, shown


@pytest.mark.parametrize("old, new, expected", [
    # a single character inserted: named by the words before it, found once in the paragraph
    ("建设孵化器和众创空间", "建设孵化器(和众创空间", Change("insert", "", "(", before="孵化器")),
    # at the very start: named by the words after it
    ("一二三四五六", "零一二三四五六", Change("insert", "", "零", after="一二三四")),
    # a single character deleted that occurs once
    ("南充历史底蕴深厚。", "南充历史底蕴深厚", Change("delete", "。", "")),
    # a deleted character that occurs twice is quoted with the words around it
    ("南充市科技局,市科技局负责", "南充市科技局,科技局负责", Change("replace", "市科技局负责", "科技局负责")),
    # a replaced character that occurs twice: its clause in both texts
    ("加快发展,加快建设", "加快发展,加速建设", Change("replace", "加快建设", "加速建设")),
    # a punctuation mark replaced
    ("推动建设科技企业孵化器、众创空间等平台", "推动建设科技企业孵化器(众创空间等平台", Change("replace", "孵化器、", "孵化器(")),
])
def test_a_small_change_reads_as_one_unambiguous_note(old, new, expected):
    assert changes(old, new) == [expected]


@pytest.mark.parametrize("old, new, removed, added", [
    ("有2200多年的建城史", "有2300多年的建城史", "2200", "2300"),  # never “2” → “3”
    ("目标为1100亿元", "目标为1300亿元", "1100", "1300"),
    ("占比为40.25%", "占比为41.5%", "40.25%", "41.5%"),
    ("\t9\t高新技术\t812\t1100", "\t9\t高新技术\t812\t11000", "1100", "11000"),  # a table row's cell
])
def test_a_number_change_names_the_whole_numbers(old, new, removed, added):
    [change] = changes(old, new)
    assert (change.kind, change.old, change.new) == ("replace", removed, added)


def test_two_separate_changes_are_two_notes():
    notes = changes("一是加快发展,二是扩大开放,三是深化改革。", "一是加速发展,二是扩大开放,三是全面深化改革。")
    assert notes == [Change("replace", "加快", "加速"), Change("insert", "", "全面", before="三是")]


def test_no_change_gives_no_notes():
    assert changes("同样的文字", "同样的文字") == []


def test_long_quotes_are_shortened_and_row_tabs_shown_as_bars():
    assert shown("\t9\t高新") == " | 9 | 高新"
    long = "字" * 100
    assert len(shown(long)) < 50 and "……" in shown(long)


# Issue #12: the notes as the 意见采纳情况表 and the receipts phrase them, in Chinese.
from revise.report import change_made  # noqa: E402

TEXT = "采用多种形式推进科技企业孵化器众创空间建设,目标为100亿元,其中财政资金100亿元用于孵化载体。"


@pytest.mark.parametrize("new, note", [
    # one bracket inserted: the words before it, never “器众创空间” → “器(众创空间”
    (TEXT.replace("孵化器众创", "孵化器(众创"), "在“孵化器”后增加“(”。"),
    # one character deleted: the word around it
    (TEXT.replace("多种形式", "多种式"), "将“多种形式”修改为“多种式”。"),
    # one character replaced
    (TEXT.replace("推进", "推动"), "将“推进”修改为“推动”。"),
    # a number found twice: enough context to tell which
    (TEXT.replace("目标为100", "目标为150"), "将“目标为100”修改为“目标为150”。"),
    (TEXT.replace("资金100", "资金150"), "将“资金100”修改为“资金150”。"),
    # at the start and at the end of the paragraph
    ("全面" + TEXT, "在“采用多种”前增加“全面”。"),
    (TEXT[:-1], "删除“。”。"),
    (TEXT + "(暂定)", "在“载体。”后增加“(暂定)”。"),
    # two separate changes
    (TEXT.replace("推进", "推动").replace("孵化载体", "孵化平台"),
     "将“推进”修改为“推动”;将“载体”修改为“平台”。"),
])
def test_a_change_reads_as_a_person_writes_it(new, note):
    assert change_made("edit", TEXT, new) == note


@pytest.mark.parametrize("old, new, note", [
    ("共有2个", "共有3个", "将“2”修改为“3”。"),  # a number found once is named alone
    ("目标为100亿元", "目标为150亿元", "将“100”修改为“150”。"),
    ("有2200多年的建城史", "有2300多年的建城史", "将“2200”修改为“2300”。"),
    ("占比40.25%", "占比41.5%", "将“40.25%”修改为“41.5%”。"),
])
def test_a_changed_number_is_named_whole(old, new, note):
    assert change_made("edit", old, new) == note
