"""One-line notes of a suggested change, as a resident reads them (issue #16)."""

import pytest

from revise.change_notes import Change, changes, shown


@pytest.mark.parametrize("old, new, expected", [
    # a single character inserted: named by the words before it, found once in the paragraph
    ("建设孵化器和众创空间", "建设孵化器(和众创空间", Change("insert", "", "(", before="孵化器")),
    # at the very start: named by the words after it
    ("一二三四", "零一二三四", Change("insert", "", "零", after="一二三")),
    # a single character deleted that occurs once
    ("南充历史底蕴深厚。", "南充历史底蕴深厚", Change("delete", "。", "")),
    # a deleted character that occurs twice is quoted with the words around it
    ("南充市科技局,市科技局负责", "南充市科技局,科技局负责", Change("replace", "市科技局负", "科技局负")),
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
    assert notes == [Change("replace", "一是加快", "一是加速"), Change("insert", "", "全面", before="三是")]


def test_no_change_gives_no_notes():
    assert changes("同样的文字", "同样的文字") == []


def test_long_quotes_are_shortened_and_row_tabs_shown_as_bars():
    assert shown("\t9\t高新") == " | 9 | 高新"
    long = "字" * 100
    assert len(shown(long)) < 50 and "……" in shown(long)
