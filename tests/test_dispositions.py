"""Every decision on a comment is recorded with its reason, who and when, and the earlier one kept
(issue #17: the rules of revise/triage.py, each stated so that breaking it fails a test)."""

import json

import pytest
from test_editor import _comment

from revise import triage
from revise.store import consultations as consultation_store


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def two(db, c):
    return [_comment(db, c, None, "意见一")["id"], _comment(db, c, None, "意见二")["id"]]


def row(db, comment_id):
    return db.table("comments").get(comment_id)


@pytest.mark.parametrize("disposition", ["partly", "rejected"])
def test_partly_adopted_and_not_adopted_need_a_reason(db, c, two, disposition):
    for blank in ("", "  \n ", None):
        with pytest.raises(triage.TriageError) as error:
            triage.decide(db, c, two, disposition, blank, "张编辑")
        assert error.value.field == "reason"
        assert error.value.message == ("Give the reason: it is required for “partly adopted” and “not adopted”.")
    assert {row(db, i)["disposition"] for i in two} == {"pending"}
    assert triage.decide(db, c, two, disposition, " 超出本方案范围 ", "张编辑") == 2
    assert [(row(db, i)["disposition"], row(db, i)["disposition_reason"]) for i in two] == [
        (disposition, "超出本方案范围")] * 2


@pytest.mark.parametrize("disposition", ["adopted", "reflected"])
def test_adopted_and_already_reflected_need_no_reason_and_keep_none(db, c, two, disposition):
    assert triage.decide(db, c, two[:1], disposition, "", "张编辑") == 1
    decided = row(db, two[0])
    assert (decided["disposition"], decided["disposition_reason"]) == (disposition, None)
    assert decided["decided_by"] == "张编辑" and decided["decided_at"]
    assert row(db, two[1])["disposition"] == "pending"  # only the chosen comment


def test_an_unknown_disposition_is_refused_on_its_field(db, c, two):
    for bad in ("", "accepted", "ADOPTED", None):
        with pytest.raises(triage.TriageError) as error:
            triage.decide(db, c, two, bad, "理由", "张编辑")
        assert (error.value.field, error.value.message) == ("disposition", "Choose how the comment was handled.")
        assert str(error.value) == "Choose how the comment was handled."  # what a log line shows


def test_a_reason_of_two_thousand_characters_is_kept_and_one_more_is_refused(db, c, two):
    triage.decide(db, c, two[:1], "rejected", "理" * triage.REASON_MAX, "张编辑")
    assert row(db, two[0])["disposition_reason"] == "理" * 2000
    with pytest.raises(triage.TriageError) as error:
        triage.decide(db, c, two[1:], "rejected", "理" * 2001, "张编辑")
    assert (error.value.field, error.value.message) == ("reason", "The reason is too long (at most 2,000 characters).")
    assert row(db, two[1])["disposition"] == "pending"


def test_a_decision_needs_at_least_one_comment(db, c, two):
    with pytest.raises(triage.TriageError) as error:
        triage.decide(db, c, [], "adopted", "", "张编辑")
    assert (error.value.field, error.value.message) == ("ids", "Select at least one comment.")
    assert db.table("audit").count == 0


def test_each_change_keeps_the_earlier_decision_in_the_audit_log(db, c, two):
    triage.decide(db, c, two[:1], "rejected", "目标经过测算", "张编辑")
    triage.decide(db, c, two[:1], "partly", "部分采纳:调整为1200亿元", "李编辑", revision_id=7)
    events = [e for e in db.table("audit").rows_where("action = ?", ["comment.disposition"], order_by="id")]
    assert [(e["actor"], e["subject"]) for e in events] == [("张编辑", f"comment:{two[0]}"),
                                                            ("李编辑", f"comment:{two[0]}")]
    assert all(e["at"] and e["consultation_id"] == c["id"] for e in events)  # dated, in this consultation's log
    assert json.loads(events[1]["before"])["disposition"] == "rejected"
    assert json.loads(events[1]["before"])["disposition_reason"] == "目标经过测算"
    assert json.loads(events[1]["after"]) == {"disposition": "partly", "disposition_reason": "部分采纳:调整为1200亿元"}
    decided = row(db, two[0])
    assert (decided["decided_by"], decided["disposition_revision_id"]) == ("李编辑", 7)


def test_setting_a_comment_back_to_pending_clears_who_decided(db, c, two):
    triage.decide(db, c, two[:1], "adopted", "", "张编辑")
    triage.decide(db, c, two[:1], "pending", "", "张编辑")
    back = row(db, two[0])
    assert (back["disposition"], back["decided_by"], back["decided_at"]) == ("pending", None, None)


def test_comments_of_another_consultation_are_not_changed(db, c, two):
    other = dict(c, id=c["id"] + 1000)
    assert triage.decide(db, other, two, "adopted", "", "张编辑") == 0
    assert {row(db, i)["disposition"] for i in two} == {"pending"}


def test_publishing_the_outcome_is_recorded_and_can_be_withdrawn(db, c):
    triage.publish_outcome(db, c, "管理员")
    published = consultation_store.by_slug(db, "nanchong-2022")
    assert published["outcome_published_at"]
    triage.publish_outcome(db, published, "管理员", publish=False)
    assert consultation_store.by_slug(db, "nanchong-2022")["outcome_published_at"] is None
    events = list(db.table("audit").rows_where("action = ?", ["consultation.outcome"], order_by="id"))
    assert [e["actor"] for e in events] == ["管理员", "管理员"]
    assert all(e["consultation_id"] == c["id"] and e["at"] for e in events)  # in this consultation's log, dated
    assert json.loads(events[0]["after"]) == published["outcome_published_at"] and events[0]["before"] is None
    assert json.loads(events[1]["before"]) == published["outcome_published_at"] and events[1]["after"] is None


def test_every_disposition_has_a_name_and_only_two_need_a_reason():
    assert set(triage.DISPOSITIONS) == {"adopted", "partly", "rejected", "reflected", "pending"}
    assert set(triage.REASON_REQUIRED) == {"partly", "rejected"} and triage.PENDING == "pending"
