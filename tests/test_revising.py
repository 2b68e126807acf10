"""Editors revise the draft: every change a revision, nothing overwritten silently."""

from datetime import timedelta

import pytest

from revise import diffing, drafts, revising
from revise.settings import Settings
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import open_database
from revise.store import revisions as revision_store
from revise.timeutil import to_text, utc_now

ALICE = {"id": 1, "display_name": "王编辑"}
BOB = {"id": 2, "display_name": "李编辑"}


@pytest.fixture
def draft(tmp_path):
    """The Nanchong draft imported into a fresh SQLite file: (db, consultation)."""
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings.db_path)
    cid = drafts.ensure_default(db, settings)
    consultation = next(db.query("select * from consultations where id = ?", [cid]))
    yield db, consultation
    db.close()


def block_with(db, c, prefix):
    return next(b for b in block_store.of_consultation(db, c["id"], include_deleted=True) if b["text"].startswith(prefix))


def fresh(db, c, block):
    return block_store.get(db, c["id"], block["id"])


def suggest(db, c, block, kind, suggestion="", block_rev=None):
    """A resident's comment on a block, written on its current (or a given) revision."""
    row = {"consultation_id": c["id"], "block_id": block["id"], "kind": kind, "source": "public",
           "name": "", "contact": "", "body": "建议修改。", "suggestion": suggestion, "quote": None,
           "quote_start": None, "status": "published", "created_at": to_text(utc_now()),
           "block_rev": block["rev"] if block_rev is None else block_rev,
           "form_token": f"t-{block['id']}-{kind}-{len(suggestion)}-{block_rev}"}
    return comment_store.insert_once(db, row)[0]


HISTORY = "南充历史底蕴深厚"


def test_an_edit_makes_revision_1_whose_patch_turns_the_old_text_into_the_new(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    new = block["text"].replace("2200多年", "2300多年")
    revision = revising.edit_block(db, c, block["id"], new, base_number=0, author=ALICE, reason="核实建城史")
    assert revision["number"] == 1 and revision["action"] == "edit" and revision["base_number"] == 0
    assert diffing.text_at(block["text"], [revision["patch"]]) == new
    stored = fresh(db, c, block)
    assert stored["text"] == new and stored["rev"] == 1 and stored["original_text"] == block["text"]
    (row,) = revision_store.of_block(db, block["id"])
    assert row["author_name"] == "王编辑" and row["reason"] == "核实建城史" and row["text"] == new


def test_revisions_are_never_updated_a_second_edit_adds_revision_2(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    first = block["text"].replace("2200多年", "2300多年")
    revising.edit_block(db, c, block["id"], first, base_number=0, author=ALICE)
    revision_1 = revision_store.get(db, block["id"], 1)
    second = first.replace("底蕴深厚", "文化底蕴深厚")
    revising.edit_block(db, c, block["id"], second, base_number=1, author=BOB)
    assert revision_store.get(db, block["id"], 1) == revision_1
    assert [r["number"] for r in revision_store.of_block(db, block["id"])] == [1, 2]
    assert diffing.text_at(block["text"], [r["patch"] for r in revision_store.of_block(db, block["id"])]) == second


def test_a_stale_save_conflicts_shows_both_versions_and_proposes_a_clean_merge_of_different_sentences(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    base = block["text"]
    theirs = base.replace("2200多年", "2300多年")  # A changes the first sentence
    mine = base.replace("川北行署驻地", "川北人民行政公署驻地")  # B, from the same revision 0, a later one
    revising.edit_block(db, c, block["id"], theirs, base_number=0, author=ALICE)
    with pytest.raises(revising.Conflict) as conflict:
        revising.edit_block(db, c, block["id"], mine, base_number=0, author=BOB)
    found = conflict.value
    assert (found.base_number, found.current_number) == (0, 1)
    assert (found.base_text, found.mine, found.theirs) == (base, mine, theirs)
    assert found.proposed.clean and "2300多年" in found.proposed.text and "川北人民行政公署驻地" in found.proposed.text
    assert fresh(db, c, block)["text"] == theirs and len(revision_store.of_block(db, block["id"])) == 1
    # B saves the proposed merge on the revision now current
    revising.edit_block(db, c, block["id"], found.proposed.text, base_number=1, author=BOB)
    assert fresh(db, c, block)["rev"] == 2


def test_when_both_editors_change_the_same_words_the_merge_is_not_clean_and_keeps_theirs(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    base = block["text"]
    theirs, mine = base.replace("2200多年", "2300多年"), base.replace("2200多年", "2250多年")
    revising.edit_block(db, c, block["id"], theirs, base_number=0, author=ALICE)
    with pytest.raises(revising.Conflict) as conflict:
        revising.edit_block(db, c, block["id"], mine, base_number=0, author=BOB)
    proposed = conflict.value.proposed
    assert not proposed.clean and proposed.text == theirs
    assert any("2200" in hunk.old and "2250" in hunk.new for hunk in proposed.failed)
    assert fresh(db, c, block)["text"] == theirs


def test_accepting_a_suggestion_written_on_the_current_text_adopts_it(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    comment = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    revision = revising.accept_suggestion(db, c, comment["id"], base_number=0, author=ALICE, reason="采纳")
    assert fresh(db, c, block)["text"] == comment["suggestion"]
    decided = comment_store.get(db, c["id"], comment["id"])
    assert decided["disposition"] == "adopted" and decided["disposition_revision_id"] == revision["id"]
    assert decided["decided_by"] == "王编辑" and decided["decided_at"] == revision["created_at"]
    assert revision_store.of_block(db, block["id"])[0]["comment_ids"] == [comment["id"]]
    with pytest.raises(revising.RevisionError):  # a decided comment is not applied twice
        revising.accept_suggestion(db, c, comment["id"], base_number=1, author=ALICE)


def test_a_suggestion_on_revision_0_is_rebased_onto_a_colleagues_change_to_another_sentence(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    comment = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    colleague = block["text"].replace("川北行署驻地", "川北人民行政公署驻地")
    revising.edit_block(db, c, block["id"], colleague, base_number=0, author=BOB)
    revising.accept_suggestion(db, c, comment["id"], base_number=1, author=ALICE)
    text = fresh(db, c, block)["text"]
    assert text == colleague.replace("2200多年", "2300多年")
    assert comment_store.get(db, c["id"], comment["id"])["disposition"] == "adopted"


def test_a_suggestion_whose_context_was_rewritten_is_refused_with_the_hunk_that_no_longer_fits(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    comment = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    rewritten = block["text"].replace("有2200多年的建城史", "建城已逾两千年")
    revising.edit_block(db, c, block["id"], rewritten, base_number=0, author=BOB)
    with pytest.raises(revising.RebaseFailed) as failed:
        revising.accept_suggestion(db, c, comment["id"], base_number=1, author=ALICE)
    (hunk,) = failed.value.rebase.failed
    assert "2200" in hunk.old and "2300" in hunk.new and "2300" in str(hunk)
    assert fresh(db, c, block)["text"] == rewritten and fresh(db, c, block)["rev"] == 1
    assert comment_store.get(db, c["id"], comment["id"])["disposition"] == "pending"
    # the editor rewords it instead: partly adopted, on the current revision
    adjusted = rewritten.replace("两千年", "两千三百年")
    revising.accept_suggestion(db, c, comment["id"], base_number=1, author=ALICE, adjusted_text=adjusted,
                               reason="按现行表述调整")
    decided = comment_store.get(db, c["id"], comment["id"])
    assert fresh(db, c, block)["text"] == adjusted and decided["disposition"] == "partly"
    assert decided["disposition_reason"] == "按现行表述调整"


def test_deleting_keeps_the_block_row_and_its_comments_with_the_last_text(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    comment = suggest(db, c, block, "remark")
    revision = revising.delete_block(db, c, block["id"], base_number=0, author=ALICE, reason="重复")
    assert revision["action"] == "delete" and revision["text"] == block["text"]
    stored = fresh(db, c, block)
    assert stored["deleted"] == 1 and stored["text"] == block["text"] and stored["rev"] == 1
    assert block["id"] not in [b["id"] for b in block_store.of_consultation(db, c["id"])]
    assert [x["id"] for x in comment_store.on_block(db, c["id"], block["id"])] == [comment["id"]]
    with pytest.raises(revising.RevisionError) as error:
        revising.edit_block(db, c, block["id"], "新文本", base_number=1, author=ALICE)
    assert "deleted" in error.value.message


def test_accepting_a_deletion_or_an_insertion(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    insertion = suggest(db, c, block, "insert", "南充还是红色文化资源富集地。")
    deletion = suggest(db, c, block, "delete")
    added = revising.accept_suggestion(db, c, insertion["id"], base_number=0, author=ALICE)
    revising.accept_suggestion(db, c, deletion["id"], base_number=0, author=ALICE)
    ids = [b["id"] for b in block_store.of_consultation(db, c["id"])]
    assert block["id"] not in ids and added["block_id"] in ids
    assert fresh(db, c, {"id": added["block_id"]})["text"] == "南充还是红色文化资源富集地。"
    assert {comment_store.get(db, c["id"], x["id"])["disposition"] for x in (insertion, deletion)} == {"adopted"}


def test_an_inserted_block_goes_between_its_neighbours_and_twelve_insertions_renumber_keeping_ids(draft):
    db, c = draft
    before = block_store.of_consultation(db, c["id"])
    i = next(n for n, b in enumerate(before) if b["text"].startswith(HISTORY))
    here, below = before[i], before[i + 1]
    revision = revising.insert_after(db, c, here["id"], "新增段落。", author=ALICE)
    inserted = fresh(db, c, {"id": revision["block_id"]})
    assert here["position"] < inserted["position"] < below["position"]
    assert inserted["original_text"] is None and inserted["locator"] is None and inserted["rev"] == 1
    assert inserted["kind"] == "paragraph" and inserted["style"] == here["style"] and inserted["outline"] == here["outline"]
    assert revision["number"] == 1 and revision["action"] == "insert"
    assert diffing.text_at("", [revision["patch"]]) == "新增段落。"
    new_ids = [revision["block_id"]]
    for n in range(11):
        new_ids.append(revising.insert_after(db, c, here["id"], f"新增段落{n}。", author=ALICE)["block_id"])
    after = block_store.of_consultation(db, c["id"])
    expected = [b["id"] for b in before[: i + 1]] + new_ids[::-1] + [b["id"] for b in before[i + 1:]]
    assert [b["id"] for b in after] == expected
    old_positions = {b["id"]: b["position"] for b in before}
    assert any(b["position"] != old_positions[b["id"]] for b in after if b["id"] in old_positions)  # renumbered
    assert {b["id"]: b["text"] for b in after if b["id"] in old_positions} == {b["id"]: b["text"] for b in before}


def test_reverting_to_0_restores_the_original_as_a_new_revision(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    revising.edit_block(db, c, block["id"], block["text"] + "补充。", base_number=0, author=ALICE)
    revising.delete_block(db, c, block["id"], base_number=1, author=ALICE)
    revision = revising.revert(db, c, block["id"], 0, base_number=2, author=BOB, reason="恢复原文")
    stored = fresh(db, c, block)
    assert revision["number"] == 3 and revision["action"] == "revert"
    assert stored["text"] == block["text"] and stored["deleted"] == 0 and stored["rev"] == 3
    with pytest.raises(revising.RevisionError):
        revising.revert(db, c, block["id"], 0, base_number=3, author=BOB)  # nothing would change


def test_reverting_an_inserted_block_to_0_removes_it_again(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    new_id = revising.insert_after(db, c, block["id"], "临时段落。", author=ALICE)["block_id"]
    revision = revising.revert(db, c, new_id, 0, base_number=1, author=ALICE)
    assert revision["action"] == "delete" and fresh(db, c, {"id": new_id})["deleted"] == 1


def test_edit_row_changes_one_cell_and_keeps_spans_and_merges(draft):
    db, c = draft
    row = block_with(db, c, "创新要素")
    texts = [cell["text"] for cell in row["cells"]]
    texts[4] = "55"
    revising.edit_row(db, c, row["id"], texts, base_number=0, author=ALICE)
    stored = fresh(db, c, row)
    assert [cell["text"] for cell in stored["cells"]] == texts and stored["text"] == "\t".join(texts)
    assert [(x["span"], x["vmerge"]) for x in stored["cells"]] == [(x["span"], x["vmerge"]) for x in row["cells"]]
    assert stored["original_cells"] == row["cells"]
    with pytest.raises(revising.RevisionError) as error:
        revising.edit_row(db, c, row["id"], texts[:4], base_number=1, author=ALICE)
    assert error.value.params == {"n": 5}
    spanning = block_with(db, c, "\t23\t")
    texts = [cell["text"] for cell in spanning["cells"]]
    revising.edit_row(db, c, spanning["id"], texts[:3] + ["定量评价"], base_number=0, author=ALICE)
    assert fresh(db, c, spanning)["cells"][3] == {**spanning["cells"][3], "text": "定量评价"}


def test_a_row_inserted_inside_a_vertical_merge_continues_it(draft):
    db, c = draft
    row = block_with(db, c, "创新要素")
    revision = revising.insert_after(db, c, row["id"], "\t1a\t新指标(%)\t1\t2", author=ALICE)
    new = fresh(db, c, {"id": revision["block_id"]})
    assert new["kind"] == "table_row" and new["table_no"] == row["table_no"] and len(new["cells"]) == 5
    assert new["cells"][0]["vmerge"] == "continue" and new["cells"][1]["vmerge"] is None
    with pytest.raises(revising.RevisionError):
        revising.insert_after(db, c, row["id"], "\t".join("abcdef"), author=ALICE)


def test_invalid_changes_are_refused_with_a_message(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    for text in ("", "   "):
        with pytest.raises(revising.RevisionError) as error:
            revising.edit_block(db, c, block["id"], text, base_number=0, author=ALICE)
        assert error.value.message.startswith("The new text is empty")
    with pytest.raises(revising.RevisionError):
        revising.edit_block(db, c, block["id"], block["text"], base_number=0, author=ALICE)
    with pytest.raises(revising.RevisionError):
        revising.edit_block(db, c, 999_999, "x", base_number=0, author=ALICE)
    assert db.table("revisions").count == 0 and db.table("audit").count == 0


def test_a_stale_deletion_conflicts_and_keeps_the_colleagues_text(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    theirs = block["text"] + "补充。"
    revising.edit_block(db, c, block["id"], theirs, base_number=0, author=ALICE)
    with pytest.raises(revising.Conflict) as conflict:
        revising.delete_block(db, c, block["id"], base_number=0, author=BOB)
    assert conflict.value.proposed.text == theirs and not conflict.value.proposed.clean
    assert fresh(db, c, block)["deleted"] == 0


def test_the_audit_log_has_each_action(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    comment = suggest(db, c, block, "edit", block["text"].replace("2200多年", "2300多年"))
    revising.accept_suggestion(db, c, comment["id"], base_number=0, author=ALICE)
    revising.edit_block(db, c, block["id"], block["text"], base_number=1, author=BOB)
    revising.insert_after(db, c, block["id"], "新增。", author=ALICE)
    revising.delete_block(db, c, block["id"], base_number=2, author=ALICE)
    revising.revert(db, c, block["id"], 1, base_number=3, author=BOB)
    actions = [(e["actor"], e["action"]) for e in audit_store.of_subject(db, c["id"], f"block:{block['id']}")]
    assert actions == [("王编辑", "revision.edit"), ("李编辑", "revision.edit"), ("王编辑", "revision.delete"),
                       ("李编辑", "revision.revert")]
    (decision,) = audit_store.of_subject(db, c["id"], f"comment:{comment['id']}")
    assert '"pending"' in decision["before"] and '"adopted"' in decision["after"]
    assert any(e["action"] == "revision.insert" for e in audit_store.of_consultation(db, c["id"]))


def test_history_and_compare_show_each_change_with_del_and_ins(draft):
    db, c = draft
    block = block_with(db, c, HISTORY)
    revising.edit_block(db, c, block["id"], block["text"].replace("2200", "2300"), base_number=0, author=ALICE)
    revising.delete_block(db, c, block["id"], base_number=1, author=ALICE)
    steps = revising.history(db, block["id"])
    assert [s["number"] for s in steps] == [0, 1, 2]
    assert "<del>2</del><ins>3</ins>" in steps[1]["diff"]
    assert steps[2]["diff"].startswith("<del>") and "<ins>" not in steps[2]["diff"]
    assert "<del>2</del><ins>3</ins>" in revising.compare(db, block["id"], 0, 1)
    with pytest.raises(revising.RevisionError):
        revising.compare(db, block["id"], 0, 7)


def test_the_redline_lists_changed_blocks_and_marks_unchanged_ones(draft):
    db, c = draft
    t0 = utc_now()
    block = block_with(db, c, HISTORY)
    goal = block_with(db, c, "创新投入快速增长")
    revising.edit_block(db, c, block["id"], block["text"].replace("2200", "2300"), base_number=0, author=ALICE,
                        now=t0 + timedelta(hours=1))
    revising.edit_block(db, c, goal["id"], goal["text"].replace("1.8%", "2%"), base_number=0, author=ALICE,
                        now=t0 + timedelta(hours=3))
    new_id = revising.insert_after(db, c, goal["id"], "新增目标。", author=ALICE, now=t0 + timedelta(hours=3))["block_id"]
    rows = revising.redline(db, c)
    assert [r["block"]["id"] for r in rows if r["changed"]] == [block["id"], goal["id"], new_id]
    assert len(rows) == len(block_store.of_consultation(db, c["id"]))
    assert "<ins>新增目标。</ins>" in rows[[r["block"]["id"] for r in rows].index(new_id)]["diff"]
    # between two instants: only what changed in that span
    middle = revising.redline(db, c, since=to_text(t0 + timedelta(hours=2)))
    assert [r["block"]["id"] for r in middle if r["changed"]] == [goal["id"], new_id]
    early = revising.redline(db, c, until=to_text(t0 + timedelta(hours=2)))
    assert [r["block"]["id"] for r in early if r["changed"]] == [block["id"]]
    assert new_id not in [r["block"]["id"] for r in early]  # not inserted yet then
    assert revision_store.block_at(db, new_id, to_text(t0)) is None
    assert revision_store.block_at(db, block["id"], to_text(t0))["text"] == block["text"]
    assert revision_store.block_at(db, block["id"], to_text(t0 + timedelta(hours=1)))["number"] == 1
    between = revision_store.of_consultation_between(db, c["id"], to_text(t0 + timedelta(hours=2)), None)
    assert [(r["block_id"], r["action"]) for r in between] == [(goal["id"], "edit"), (new_id, "insert")]


def test_a_one_digit_change_in_a_chinese_sentence_is_a_one_character_diff():
    assert diffing.diff("2021年增长35.5%", "2021年增长36.5%") == [
        (diffing.EQUAL, "2021年增长3"), (diffing.DELETE, "5"), (diffing.INSERT, "6"), (diffing.EQUAL, ".5%")]
    sentence = "全市地区生产总值2021年增长35.5%,达到2601.98亿元。"
    changed = [op for op in diffing.diff(sentence, sentence.replace("35.5", "36.5")) if op[0] != diffing.EQUAL]
    assert changed == [(diffing.DELETE, "5"), (diffing.INSERT, "6")]


def test_rebase_places_a_hunk_only_where_its_near_context_is_intact_and_unambiguous():
    base = "加快科技成果转化,完善激励机制。"
    suggestion = base.replace("完善", "健全")
    twice = base + base
    assert diffing.rebase(base, suggestion, twice) == diffing.Rebase(
        twice, [False], [diffing.Hunk("果转化,完善激励机制", "果转化,健全激励机制")])
    touching = base.replace("转化,", "转化、")  # a colleague changed a character right next to it
    assert not diffing.rebase(base, suggestion, touching).clean
    far = "前言。" * 300 + base  # far from where the suggestion had it, but exact
    assert diffing.rebase(base, suggestion, far).text == far.replace("完善", "健全")
    # the same phrase twice: the context reaches into the other sentence to tell them apart
    base = "甲成果转化,完善机制。乙成果转化,完善机制。"
    suggestion = base[:11] + base[11:].replace("完善", "健全")
    outer_changed = base.replace("甲成果转化,完善机制。", "甲项目落地见效。")
    assert diffing.rebase(base, suggestion, outer_changed).text == "甲项目落地见效。乙成果转化,健全机制。"
    still_twice = base.replace("乙", "丙")  # the part that told them apart is gone: refused
    assert diffing.rebase(base, suggestion, still_twice).text == still_twice
    assert diffing.merge(base, suggestion, suggestion).clean


def test_two_editors_saving_at_the_same_moment_one_wins_and_the_other_gets_a_conflict(draft):
    import threading

    from revise.store import connect

    db, c = draft
    block = block_with(db, c, HISTORY)
    path = db.execute("pragma database_list").fetchone()[2]
    outcomes: list[str] = []

    def editor(author, text):
        own = connect(path)  # each editor's request on its own connection, as in the server
        try:
            revising.edit_block(own, c, block["id"], text, base_number=0, author=author)
            outcomes.append("saved")
        except revising.Conflict:
            outcomes.append("conflict")
        finally:
            own.close()

    threads = [threading.Thread(target=editor, args=(a, block["text"] + t)) for a, t in ((ALICE, "甲。"), (BOB, "乙。"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    assert [r["number"] for r in revision_store.of_block(db, block["id"])] == [1]
