"""What each change of the text records, what the editor is told when it cannot be made, and
how inserted rows fit their table (issue #17: the rules of revise/revising.py, mutation-checked)."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from test_revising import ALICE, BOB, HISTORY, block_with, draft, fresh, suggest  # noqa: F401 (draft: fixture)

from revise import revising
from revise.diffing import Hunk, Rebase
from revise.i18n import gettext
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import revisions as revision_store
from revise.timeutil import to_text, utc_now

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=timezone.utc)


def said(error):
    """The message as the editor reads it: in Chinese, with its numbers filled in."""
    return gettext(error.message, "zh_CN", **error.params)


def events(db, c, subject):
    """The audit events about one thing: (actor, action, before, after, at)."""
    return [(e["actor"], e["action"], json.loads(e["before"]), json.loads(e["after"]), e["at"])
            for e in audit_store.of_subject(db, c["id"], subject)]


def stored(db, revision):
    return revision_store.get(db, revision["block_id"], revision["number"])


def test_an_edit_records_author_reason_and_time_and_the_audit_keeps_a_summary_of_before_and_after(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    new = block["text"].replace("2200多年", "2300多年")
    revision = revising.edit_block(db, c, block["id"], new, base_number=0, author=ALICE, reason="核实建城史", now=NOW)
    row = stored(db, revision)
    assert (row["author_id"], row["author_name"], row["reason"], row["created_at"]) == (1, "王编辑", "核实建城史", to_text(NOW))
    ((actor, action, before, after, at),) = events(db, c, f"block:{block['id']}")
    assert (actor, action, at) == ("王编辑", "revision.edit", to_text(NOW))
    assert len(block["text"]) > 81  # the summary keeps the first 80 characters
    assert before == {"rev": 0, "text": block["text"][:80], "deleted": False}
    assert after == {"rev": 1, "text": new[:80], "deleted": False, "reason": "核实建城史", "comments": []}


def test_every_kind_of_change_records_the_reason_time_and_base_revision_it_was_given(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    row = block_with(db, c, "创新要素")
    texts = [cell["text"] for cell in row["cells"]]
    texts[4] = "55"
    edit = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    insertion = suggest(db, c, block, "insert", "南充还是红色文化资源富集地。")
    deletion = suggest(db, c, block, "delete")

    def at(minutes):
        return NOW + timedelta(minutes=minutes)

    made = [
        revising.edit_row(db, c, row["id"], texts, base_number=0, author=ALICE, reason="更新数据", now=at(1)),
        revising.accept_suggestion(db, c, edit["id"], base_number=0, author=ALICE, reason="采纳修改", now=at(2)),
        revising.accept_suggestion(db, c, insertion["id"], base_number=1, author=ALICE, reason="采纳增加", now=at(3)),
        revising.accept_suggestion(db, c, deletion["id"], base_number=1, author=ALICE, reason="采纳删除", now=at(4)),
        revising.revert(db, c, block["id"], 1, base_number=2, author=BOB, reason="误删", now=at(5)),
        revising.insert_after(db, c, row["id"], "\t1a\t新指标\t1\t2", author=BOB, reason="补充指标", now=at(6)),
        revising.delete_block(db, c, block["id"], base_number=3, author=BOB, reason="重复", now=at(7)),
    ]
    assert [(r["reason"], r["created_at"], r["base_number"], r["author_name"]) for r in (stored(db, m) for m in made)] == [
        ("更新数据", to_text(at(1)), 0, "王编辑"), ("采纳修改", to_text(at(2)), 0, "王编辑"),
        ("采纳增加", to_text(at(3)), 0, "王编辑"), ("采纳删除", to_text(at(4)), 1, "王编辑"),
        ("误删", to_text(at(5)), 2, "李编辑"), ("补充指标", to_text(at(6)), 0, "李编辑"), ("重复", to_text(at(7)), 3, "李编辑")]
    decided = comment_store.get(db, c["id"], edit["id"])
    assert (decided["disposition_reason"], decided["decided_at"]) == ("采纳修改", to_text(at(2)))


def test_a_change_saved_without_a_reason_records_none_whatever_its_kind(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    row = block_with(db, c, "创新要素")
    texts = [cell["text"] for cell in row["cells"]]
    texts[4] = "55"
    comment = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    made = [
        revising.accept_suggestion(db, c, comment["id"], base_number=0, author=ALICE),
        revising.edit_block(db, c, block["id"], block["text"], base_number=1, author=ALICE),
        revising.edit_row(db, c, row["id"], texts, base_number=0, author=ALICE),
        revising.insert_after(db, c, block["id"], "新增。", author=ALICE),
        revising.delete_block(db, c, block["id"], base_number=2, author=ALICE),
        revising.revert(db, c, block["id"], 0, base_number=3, author=ALICE),
    ]
    assert [stored(db, r)["reason"] for r in made] == [None] * 6
    assert comment_store.get(db, c["id"], comment["id"])["disposition_reason"] is None


def test_what_the_editor_is_told_when_a_change_cannot_be_made(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    row = block_with(db, c, "创新要素")
    cells = [cell["text"] for cell in row["cells"]]

    def refused(change, *args, **kwargs):
        with pytest.raises(revising.RevisionError) as error:
            change(db, c, *args, **kwargs)
        return said(error.value)

    assert refused(revising.edit_block, 999_999, "新文本", base_number=0, author=ALICE) == "该段落不属于本草案。"
    assert refused(revising.edit_block, block["id"], block["text"], base_number=0, author=ALICE) == "没有改动:文字与当前版本相同。"
    assert refused(revising.edit_block, row["id"], "\t".join(cells[:4]), base_number=0, author=ALICE) == (
        "本表每行有 5 个单元格:请逐一填写。")
    assert refused(revising.edit_row, row["id"], cells[:4], base_number=0, author=ALICE) == "本表每行有 5 个单元格:请逐一填写。"
    assert refused(revising.edit_row, block["id"], ["a"], base_number=0, author=ALICE) == "该段落不是表格行。"
    assert refused(revising.edit_row, row["id"], [""] * 5, base_number=0, author=ALICE) == "该行内容为空:如需去掉该行,请使用“删除”。"
    assert refused(revising.insert_after, block["id"], "  ", author=ALICE) == "新增段落的内容为空。"
    assert refused(revising.insert_after, row["id"], "\t".join("abcdef"), author=ALICE) == "新增行的单元格多于本表的列数(5)。"
    assert refused(revising.edit_block, block["id"], "新文本", base_number=0, author=ALICE, comment_ids=[999_999]) == (
        "该意见不属于本次征求意见。")
    for look in (lambda: revising.history(db, 999_999), lambda: revising.compare(db, 999_999, 0, 1)):
        with pytest.raises(revising.RevisionError) as error:
            look()
        assert said(error.value) == "该段落不属于本草案。"
    with pytest.raises(revising.RevisionError) as error:
        revising.compare(db, block["id"], 0, 7)
    assert said(error.value) == "该段落没有第 7 版。"
    # the server log says it in English, numbers filled in
    with pytest.raises(revising.RevisionError) as error:
        revising.edit_row(db, c, row["id"], cells[:4], base_number=0, author=ALICE)
    assert str(error.value) == "A row of this table has 5 cells: give a text for each."
    assert db.table("revisions").count == 0 and db.table("audit").count == 0
    # a deleted block or row can only be reverted
    revising.delete_block(db, c, block["id"], base_number=0, author=ALICE)
    revising.delete_block(db, c, row["id"], base_number=0, author=ALICE)
    deleted = "该段落已删除:如需修改,请先恢复到删除前的版本。"
    assert refused(revising.edit_block, block["id"], "新文本", base_number=1, author=ALICE) == deleted
    assert refused(revising.edit_row, row["id"], cells, base_number=1, author=ALICE) == deleted
    assert refused(revising.delete_block, block["id"], base_number=1, author=ALICE) == deleted
    assert refused(revising.revert, block["id"], 1, base_number=1, author=ALICE) == "没有改动:文字与当前版本相同。"
    assert db.table("revisions").count == 2


def test_accepting_is_refused_with_a_message_for_what_cannot_be_adopted(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)

    def refused(comment_id, **kwargs):
        with pytest.raises(revising.RevisionError) as error:
            revising.accept_suggestion(db, c, comment_id, base_number=0, author=ALICE, **kwargs)
        return said(error.value)

    only = "只有针对某一段落的修改、增加或删除建议才能采纳。"
    assert refused(999_999) == only
    assert refused(suggest(db, c, block, "remark")["id"]) == only
    general = suggest(db, c, block, "edit", "整体修改。")
    db.execute("update comments set block_id = null where id = ?", [general["id"]])  # on the whole draft
    assert refused(general["id"]) == only
    assert refused(suggest(db, c, block, "insert", "")["id"]) == "该意见没有可采纳的建议文字。"
    beyond = suggest(db, c, block, "edit", block["text"] + "补充。", block_rev=5)
    assert refused(beyond["id"]) == "该段落没有第 5 版。"
    done = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    revising.accept_suggestion(db, c, done["id"], base_number=0, author=ALICE)
    assert refused(done["id"]) == "该意见已处理:如需采纳,请先改回“待处理”。"
    # a block an editor has deleted: neither its edit nor its deletion can be adopted
    edit = suggest(db, c, block, "edit", block["text"] + "再补充。", block_rev=1)
    deletion = suggest(db, c, block, "delete", block_rev=1)
    revising.delete_block(db, c, block["id"], base_number=1, author=BOB)
    for comment in (edit, deletion):
        with pytest.raises(revising.RevisionError) as error:
            revising.accept_suggestion(db, c, comment["id"], base_number=2, author=ALICE)
        assert said(error.value) == "该段落已删除:如需修改,请先恢复到删除前的版本。"
        assert comment_store.get(db, c["id"], comment["id"])["disposition"] == "pending"
    assert fresh(db, c, block)["rev"] == 2


def test_adopting_records_the_decision_in_the_audit(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    comment = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    revision = revising.accept_suggestion(db, c, comment["id"], base_number=0, author=ALICE, now=NOW)
    ((actor, action, before, after, at),) = events(db, c, f"comment:{comment['id']}")
    assert (actor, action, at) == ("王编辑", "comment.disposition", to_text(NOW))
    assert before["disposition"] == "pending"
    assert after == {"disposition": "adopted", "disposition_reason": None, "disposition_revision_id": revision["id"]}


def test_a_suggestion_written_on_a_later_revision_is_adopted_as_written_and_rebased_onto_a_newer_one(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    first = block["text"] + "补充。"
    revising.edit_block(db, c, block["id"], first, base_number=0, author=BOB)
    on_first = suggest(db, c, block, "edit", first.replace("2200多年", "2300多年"), block_rev=1)
    assert on_first["block_rev"] == 1
    revising.accept_suggestion(db, c, on_first["id"], base_number=1, author=ALICE)
    assert fresh(db, c, block)["text"] == first.replace("2200多年", "2300多年")
    # written on revision 2, adopted after a colleague's revision 3 changed another sentence
    second = fresh(db, c, block)
    later = suggest(db, c, second, "edit", second["text"].replace("可直达上海", "可直达上海港"), block_rev=2)
    colleague = second["text"].replace("川北行署驻地", "川北人民行政公署驻地")
    revising.edit_block(db, c, block["id"], colleague, base_number=2, author=BOB)
    revising.accept_suggestion(db, c, later["id"], base_number=3, author=ALICE)
    assert fresh(db, c, block)["text"] == colleague.replace("可直达上海", "可直达上海港")


def test_a_suggestion_that_no_longer_fits_names_its_comment(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    comment = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    revising.edit_block(db, c, block["id"], block["text"].replace("有2200多年的建城史", "建城已逾两千年"),
                        base_number=0, author=BOB)
    with pytest.raises(revising.RebaseFailed) as failed:
        revising.accept_suggestion(db, c, comment["id"], base_number=1, author=ALICE)
    assert failed.value.comment_id == comment["id"]
    assert str(failed.value) == f"comment {comment['id']}: 1 part(s) could not be applied"


def test_an_insertion_adopted_in_the_editors_words_is_partly_adopted_and_a_deletion_stays_adopted(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    insertion = suggest(db, c, block, "insert", "南充还是红色文化资源富集地。")
    revision = revising.accept_suggestion(db, c, insertion["id"], base_number=0, author=ALICE,
                                          adjusted_text="南充红色文化资源丰富。", reason="文字调整")
    assert fresh(db, c, {"id": revision["block_id"]})["text"] == "南充红色文化资源丰富。"
    assert comment_store.get(db, c["id"], insertion["id"])["disposition"] == "partly"
    # a deletion has no wording: a text sent along with it does not make it "partly adopted"
    deletion = suggest(db, c, block, "delete")
    revising.accept_suggestion(db, c, deletion["id"], base_number=0, author=ALICE, adjusted_text="无关文字")
    assert comment_store.get(db, c["id"], deletion["id"])["disposition"] == "adopted"
    assert fresh(db, c, block)["deleted"] == 1


def test_stale_saves_conflict_on_a_later_base_revision_and_a_stale_deletion_proposes_to_keep_their_text(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    first = block["text"] + "补充。"
    revising.edit_block(db, c, block["id"], first, base_number=0, author=ALICE)
    theirs = first.replace("2200多年", "2300多年")
    revising.edit_block(db, c, block["id"], theirs, base_number=1, author=ALICE)
    mine = first.replace("川北行署驻地", "川北人民行政公署驻地")
    with pytest.raises(revising.Conflict) as conflict:
        revising.edit_block(db, c, block["id"], mine, base_number=1, author=BOB)
    found = conflict.value
    assert (found.block_id, found.base_number, found.current_number) == (block["id"], 1, 2)
    assert (found.base_text, found.mine, found.theirs) == (first, mine, theirs)
    assert str(found) == f"block {block['id']}: saved on revision 1, current is 2"
    with pytest.raises(revising.Conflict) as conflict:
        revising.delete_block(db, c, block["id"], base_number=1, author=BOB)
    found = conflict.value
    assert (found.block_id, found.base_text, found.mine, found.theirs) == (block["id"], first, "", theirs)
    assert found.proposed == Rebase(theirs, [False], [Hunk(first, "")])  # the deletion is the part left to decide
    assert fresh(db, c, block)["text"] == theirs and fresh(db, c, block)["rev"] == 2


def test_a_stale_revert_conflicts_with_what_it_would_bring_back_and_what_the_colleague_saved(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    revising.delete_block(db, c, block["id"], base_number=0, author=ALICE)
    with pytest.raises(revising.Conflict) as conflict:  # B, still on revision 0, restores the original
        revising.revert(db, c, block["id"], 0, base_number=0, author=BOB)
    assert (conflict.value.mine, conflict.value.theirs) == (block["text"], "")  # theirs: deleted
    revising.revert(db, c, block["id"], 0, base_number=1, author=ALICE)
    edited = block["text"] + "补充。"
    revising.edit_block(db, c, block["id"], edited, base_number=2, author=ALICE)
    revising.edit_block(db, c, block["id"], edited + "再补充。", base_number=3, author=ALICE)
    with pytest.raises(revising.Conflict) as conflict:  # back to the deletion, from revision 3
        revising.revert(db, c, block["id"], 1, base_number=3, author=BOB)
    assert (conflict.value.base_text, conflict.value.mine) == (edited, "")
    with pytest.raises(revising.Conflict) as conflict:  # back to the original, from revision 3
        revising.revert(db, c, block["id"], 0, base_number=3, author=BOB)
    assert (conflict.value.base_text, conflict.value.mine) == (edited, block["text"])
    revising.delete_block(db, c, block["id"], base_number=4, author=ALICE)
    with pytest.raises(revising.Conflict) as conflict:  # both want it deleted now: nothing left to decide
        revising.revert(db, c, block["id"], 1, base_number=3, author=BOB)
    assert (conflict.value.mine, conflict.value.theirs) == ("", "")
    assert conflict.value.proposed.clean and conflict.value.proposed.text == ""
    assert fresh(db, c, block)["rev"] == 5


def test_reverting_to_an_earlier_deletion_deletes_again_and_the_audit_says_revert_to_which(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    revising.delete_block(db, c, block["id"], base_number=0, author=ALICE)
    revising.revert(db, c, block["id"], 0, base_number=1, author=ALICE)
    revision = revising.revert(db, c, block["id"], 1, base_number=2, author=BOB, now=NOW)
    assert revision["action"] == "delete" and fresh(db, c, block)["deleted"] == 1
    actor, action, before, after, at = events(db, c, f"block:{block['id']}")[-1]
    assert (actor, action, at) == ("李编辑", "revision.revert", to_text(NOW))
    assert before == {"rev": 2, "text": block["text"][:80], "deleted": False}
    assert after == {"rev": 3, "text": block["text"][:80], "deleted": True, "reason": None, "comments": [],
                     "to_number": 1}


def test_a_deleted_table_row_keeps_its_cells_and_a_revert_brings_the_row_back_whole(draft):
    db, c = draft
    row = block_with(db, c, "创新要素")
    texts = [cell["text"] for cell in row["cells"]]
    texts[4] = "55"
    edited = revising.edit_row(db, c, row["id"], texts, base_number=0, author=ALICE)
    assert [cell["text"] for cell in stored(db, edited)["cells"]] == texts
    deletion = revising.delete_block(db, c, row["id"], base_number=1, author=ALICE)
    assert stored(db, deletion)["cells"] == fresh(db, c, row)["cells"]
    assert [cell["text"] for cell in fresh(db, c, row)["cells"]] == texts
    back = revising.revert(db, c, row["id"], 0, base_number=2, author=ALICE)
    assert fresh(db, c, row)["cells"] == row["cells"] == stored(db, back)["cells"]
    assert fresh(db, c, row)["deleted"] == 0
    before, after = events(db, c, f"block:{row['id']}")[-1][2:4]
    assert (before["deleted"], after["deleted"]) == (True, False)
    with pytest.raises(revising.RevisionError) as error:  # the row is as it was at 0 already
        revising.revert(db, c, row["id"], 0, base_number=3, author=ALICE)
    assert said(error.value) == "没有改动:文字与当前版本相同。"


def test_a_row_typed_as_tab_separated_text_keeps_its_empty_first_cell_and_a_cell_may_hold_a_tab(draft):
    db, c = draft
    row = block_with(db, c, "\t2\t每万名就业人员")  # its first cell is inside a vertical merge: empty
    texts = [cell["text"] for cell in row["cells"]]
    revising.edit_block(db, c, row["id"], "\t".join(texts[:4] + ["20"]), base_number=0, author=ALICE)
    assert [cell["text"] for cell in fresh(db, c, row)["cells"]] == texts[:4] + ["20"]
    first = block_with(db, c, "创新要素")  # its first cell holds a line break
    texts = [cell["text"] for cell in first["cells"]]
    revising.edit_block(db, c, first["id"], "\t".join(texts[:4] + ["54"]), base_number=0, author=ALICE)
    assert [cell["text"] for cell in fresh(db, c, first)["cells"]] == texts[:4] + ["54"]
    texts[2] = "科技创新\t水平指数(%)"  # issue #14: the cells travel as a list
    revising.edit_row(db, c, first["id"], texts, base_number=1, author=ALICE)
    assert [cell["text"] for cell in fresh(db, c, first)["cells"]] == texts


def test_a_paragraph_inserted_under_a_heading_is_plain_text_in_that_section(draft):
    db, c = draft
    heading = block_with(db, c, "(一)历史积淀深厚")
    new = fresh(db, c, {"id": revising.insert_after(db, c, heading["id"], "新增段落。", author=ALICE)["block_id"]})
    assert (new["kind"], new["style"], new["label"], new["title"]) == ("paragraph", "Normal", "", "")
    assert new["outline"] == heading["outline"] + [heading["id"]]
    title = next(b for b in block_store.of_consultation(db, c["id"]) if b["style"] == "Title")
    after_title = revising.insert_after(db, c, title["id"], "副标题。", author=ALICE)
    assert fresh(db, c, {"id": after_title["block_id"]})["style"] == "Title"  # looks like the one above


def test_a_row_inserted_inside_two_merges_continues_both_and_missing_cells_are_empty(draft):
    db, c = draft
    above = block_with(db, c, "\t\t省级工程实验室")  # first two columns both continue a merge
    revision = revising.insert_after(db, c, above["id"], "\t\t新增实验室(个)\t1", author=ALICE, now=NOW)
    new = fresh(db, c, {"id": revision["block_id"]})
    assert [cell["text"] for cell in new["cells"]] == ["", "", "新增实验室(个)", "1", ""]
    assert [(cell["span"], cell["vmerge"]) for cell in new["cells"]] == [(1, "continue")] * 2 + [(1, None)] * 3
    assert new["text"] == stored(db, revision)["text"] == "\t\t新增实验室(个)\t1\t"
    assert (new["kind"], new["style"], new["table_no"]) == ("table_row", above["style"], above["table_no"])
    ((actor, action, before, after, at),) = events(db, c, f"block:{new['id']}")
    assert (actor, action, at) == ("王编辑", "revision.insert", to_text(NOW))
    assert before == {"rev": 0, "text": "", "deleted": False}
    assert after == {"rev": 1, "text": new["text"], "deleted": False, "reason": None, "comments": [],
                     "after": above["id"]}


def test_a_row_added_under_the_last_row_keeps_its_spans_and_ends_the_merge(draft):
    db, c = draft
    rows = [b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "table_row"]
    last = rows[-1]
    assert [(x["span"], x["vmerge"]) for x in last["cells"]] == [(1, "continue"), (1, None), (1, None), (2, None)]
    new = fresh(db, c, {"id": revising.insert_after(db, c, last["id"], "\t27\t新增指标\t定性评价", author=ALICE)["block_id"]})
    assert [(x["text"], x["span"], x["vmerge"]) for x in new["cells"]] == [
        ("", 1, None), ("27", 1, None), ("新增指标", 1, None), ("定性评价", 2, None)]


def test_a_row_under_a_cell_spanning_two_columns_continues_the_merge_of_the_grid_column_below(draft):
    db, c = draft
    above, below = (block_with(db, c, "创新政策体系"), block_with(db, c, "\t23\t"))
    # As Word stores it: above, a cell spans grid columns 0-1 and a merge starts in column 2;
    # below, five single cells, the third continuing that merge.
    cells_above = [{"text": "创新政策", "span": 2, "vmerge": None}, {"text": "定性", "span": 1, "vmerge": "restart"},
                   {"text": "甲", "span": 1, "vmerge": None}, {"text": "乙", "span": 1, "vmerge": None}]
    cells_below = [{"text": t, "span": 1, "vmerge": m} for t, m in
                   (("", None), ("23", None), ("", "continue"), ("丙", None), ("丁", None))]
    for block, cells in ((above, cells_above), (below, cells_below)):
        revision_store.set_current(db, block["id"], "\t".join(x["text"] for x in cells), cells, 0, False)
    new = fresh(db, c, {"id": revising.insert_after(db, c, above["id"], "新\t\t戊\t己", author=ALICE)["block_id"]})
    assert [(x["span"], x["vmerge"]) for x in new["cells"]] == [(2, None), (1, "continue"), (1, None), (1, None)]


def test_an_inserted_blocks_history_starts_from_nothing_and_compare_shows_each_step(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    new_id = revising.insert_after(db, c, block["id"], "新增段落。", author=ALICE)["block_id"]
    steps = revising.history(db, new_id)
    assert [(s["number"], str(s["diff"])) for s in steps] == [(1, "<ins>新增段落。</ins>")]
    assert revising.text_at_revision(db, fresh(db, c, {"id": new_id}), 0) == ""
    assert str(revising.compare(db, new_id, 0, 1)) == "<ins>新增段落。</ins>"
    first = block["text"].replace("2200", "2300")
    revising.edit_block(db, c, block["id"], first, base_number=0, author=ALICE)
    revising.edit_block(db, c, block["id"], first + "补充。", base_number=1, author=ALICE)
    revising.delete_block(db, c, block["id"], base_number=2, author=ALICE)
    steps = revising.history(db, block["id"])
    assert str(steps[0]["diff"]) == block["text"]  # revision 0: the text as imported, no marks
    assert str(revising.compare(db, block["id"], 1, 2)) == first + "<ins>补充。</ins>"
    assert str(revising.compare(db, block["id"], 2, 3)) == f"<del>{first}补充。</del>"
    assert revising.text_at_revision(db, fresh(db, c, block), 1) == first


def test_the_redline_lists_a_deleted_block_with_its_old_text_and_leaves_out_a_block_not_yet_inserted(draft):
    db, c = draft
    t0 = utc_now()
    original = block_store.of_consultation(db, c["id"])
    block = block_with(db, c, HISTORY)
    gone = block_with(db, c, "南充教育资源丰富")
    revising.delete_block(db, c, gone["id"], base_number=0, author=ALICE, now=t0 + timedelta(hours=1))
    new_id = revising.insert_after(db, c, block["id"], "新增段落。", author=ALICE, now=t0 + timedelta(hours=1))["block_id"]
    rows = {r["block"]["id"]: r for r in revising.redline(db, c)}
    assert (rows[gone["id"]]["old"], rows[gone["id"]]["new"]) == (gone["text"], "")
    assert rows[gone["id"]]["changed"] and str(rows[gone["id"]]["diff"]) == f"<del>{gone['text']}</del>"
    assert (rows[new_id]["old"], rows[new_id]["new"], str(rows[new_id]["diff"])) == ("", "新增段落。", "<ins>新增段落。</ins>")
    assert str(rows[block["id"]]["diff"]) == block["text"] and not rows[block["id"]]["changed"]
    before = revising.redline(db, c, until=to_text(t0))  # the draft as it was: every block, none new
    assert [r["block"]["id"] for r in before] == [b["id"] for b in original]
    assert not any(r["changed"] for r in before)


def test_a_quote_written_on_an_older_revision_follows_the_next_edit(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    quote = "2200多年的建城史"
    first = block["text"] + "补充。"
    revising.edit_block(db, c, block["id"], first, base_number=0, author=ALICE)
    second = "据考证," + first
    revising.edit_block(db, c, block["id"], second, base_number=1, author=ALICE)
    # a resident read revision 1 and quoted its words; the comment arrives after revision 2
    row = {"consultation_id": c["id"], "block_id": block["id"], "kind": "remark", "source": "public", "name": "",
           "contact": "", "body": "建城史有误。", "suggestion": "", "quote": quote, "quote_start": first.index(quote),
           "status": "published", "created_at": to_text(utc_now()), "block_rev": 1, "form_token": "t-quote"}
    comment = comment_store.insert_once(db, row)[0]
    third = second.replace("川北行署驻地", "川北人民行政公署驻地")
    revising.edit_block(db, c, block["id"], third, base_number=2, author=BOB)
    moved = comment_store.get(db, c["id"], comment["id"])
    assert (moved["anchor_state"], moved["anchor_rev"], moved["anchor_start"]) == ("ok", 3, third.index(quote))


def test_a_row_added_to_a_table_that_ends_the_draft_ends_its_merge_there(tmp_path):
    from test_docx_cases import docx_with, heading, para

    from revise import drafts
    from revise.settings import Settings
    from revise.store import open_database
    from revise.window import Window

    def cell(text, merge=""):
        return f'<w:tc><w:tcPr><w:tcW w:w="3000" w:type="dxa"/>{merge}</w:tcPr>{para(text)}</w:tc>'

    restart, continued = '<w:vMerge w:val="restart"/>', "<w:vMerge/>"
    table = ('<w:tbl><w:tblGrid><w:gridCol w:w="3000"/><w:gridCol w:w="3000"/></w:tblGrid>'
             f'<w:tr>{cell("创新要素", restart)}{cell("40.25")}</w:tr>'
             f'<w:tr>{cell("", continued)}{cell("14")}</w:tr></w:tbl>')
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings.db_path)
    now = utc_now()
    cid = drafts.import_draft(db, docx_with(heading("主要目标") + table), filename="t.docx", slug="t",
                              window=Window(now, now + timedelta(days=30)), settings=settings)
    c = next(db.query("select * from consultations where id = ?", [cid]))
    first, last = [b for b in block_store.of_consultation(db, cid) if b["kind"] == "table_row"]
    assert [x["vmerge"] for x in last["cells"]] == ["continue", None]
    inside = revising.insert_after(db, c, first["id"], "\t20", author=ALICE)
    assert [x["vmerge"] for x in fresh(db, c, {"id": inside["block_id"]})["cells"]] == ["continue", None]
    under = revising.insert_after(db, c, last["id"], "新要素\t30", author=ALICE)
    assert [(x["text"], x["vmerge"]) for x in fresh(db, c, {"id": under["block_id"]})["cells"]] == [
        ("新要素", None), ("30", None)]
    db.close()
