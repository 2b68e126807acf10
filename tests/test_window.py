"""The comment window: open from opens_at (inclusive) to closes_at (exclusive), for the public and
departments alike, enforced on the server whatever the page showed."""

from datetime import datetime, timedelta, timezone

import pytest
from conftest import parse_html
from test_comments import _set_window, block_with, comment, nanchong, open_form

from revise import commenting, departments
from revise.i18n import gettext
from revise.timeutil import utc_now
from revise.window import CLOSED, DEFAULT_LENGTH, NOT_YET_OPEN, OPEN, Window, default_window

OPENS = datetime(2024, 3, 1, 1, 0, tzinfo=timezone.utc)
CLOSES = datetime(2024, 3, 31, 16, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize("now, state", [
    (OPENS - SECOND, NOT_YET_OPEN), (OPENS, OPEN), (OPENS + SECOND, OPEN),
    (CLOSES - SECOND, OPEN), (CLOSES, CLOSED), (CLOSES + SECOND, CLOSED),
])
def test_the_window_opens_on_its_first_second_and_is_closed_on_its_last(now, state):
    assert Window(OPENS, CLOSES).state(now) == state


def test_without_a_time_the_window_is_judged_now():
    now = utc_now()
    assert Window(now - timedelta(days=1), now + timedelta(days=1)).state() == OPEN
    assert Window(now + timedelta(days=1), now + timedelta(days=2)).state() == NOT_YET_OPEN
    assert Window(now - timedelta(days=2), now - timedelta(days=1)).state() == CLOSED


def test_the_default_window_opens_now_for_seven_days():
    assert DEFAULT_LENGTH == timedelta(days=7)
    assert default_window(OPENS) == Window(OPENS, OPENS + timedelta(days=7))
    before = utc_now()
    window = default_window()
    assert before <= window.opens_at <= utc_now() and window.closes_at - window.opens_at == timedelta(days=7)


def test_a_window_is_read_from_the_consultation_row():
    row = {"opens_at": "2024-03-01T01:00:00Z", "closes_at": "2024-03-31T16:00:00Z"}
    assert Window.of(row) == Window(OPENS, CLOSES)


def test_a_comment_posted_before_the_window_opens_is_refused_and_nothing_is_stored(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    action, hidden, _ = open_form(client, f"/c/nanchong-2022/b/{block['id']}")  # the page as it was
    now = utc_now()
    _set_window(db, now + timedelta(hours=1), now + timedelta(days=8))
    response = client.post(action, data={**hidden, "kind": "remark", "body": "提前的意见", "action": "submit"},
                           follow_redirects=False)
    assert response.status_code == 403
    said = parse_html(response.text).text_content()
    assert gettext("Commenting has not opened yet: no comment was recorded.", "zh_CN") in said
    assert db.table("comments").count == 0
    _set_window(db, now - timedelta(hours=1), now + timedelta(days=8))  # the same form once it opens
    assert comment(client, block, body="按时的意见").status_code == 303
    assert [r["body"] for r in db.table("comments").rows] == ["按时的意见"]


def test_a_comment_on_the_whole_draft_after_the_window_closes_is_refused(client, db):
    page = parse_html(client.get("/c/nanchong-2022/remarks").text)
    (form,) = page.xpath("//form[contains(@class,'comment-form')]")
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    now = utc_now()
    _set_window(db, now - timedelta(days=8), now - SECOND)
    response = client.post(form.get("action"), data={**hidden, "kind": "remark", "body": "迟到", "action": "submit"},
                           follow_redirects=False)
    assert response.status_code == 403
    assert gettext("Commenting has ended: no comment was recorded.", "zh_CN") in parse_html(response.text).text_content()
    assert db.table("comments").count == 0


def _department_form(client, token):
    """The department page's 无修改意见 form: its action and hidden fields."""
    page = parse_html(client.get(f"/d/{token}").text)
    (form,) = [f for f in page.xpath("//form") if f.get("action", "").endswith("/no-comment")]
    return form.get("action"), {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}


@pytest.mark.parametrize("when", ["before it opens", "after it closes"])
def test_a_departments_no_comment_outside_the_window_is_refused_and_not_recorded(client, db, when):
    c = nanchong(db)
    department_id, token = departments.add(db, c, "市交通运输局", "test")
    action, hidden = _department_form(client, token)
    now = utc_now()
    if when == "before it opens":
        _set_window(db, now + timedelta(hours=1), now + timedelta(days=8))
    else:
        _set_window(db, now - timedelta(days=8), now - SECOND)
    audit_before = db.table("audit").count
    response = client.post(action, data=hidden, follow_redirects=False)
    assert response.status_code == 403
    assert db.table("departments").get(department_id)["no_comment_at"] is None
    assert db.table("audit").count == audit_before


def test_a_departments_no_comment_inside_the_window_is_recorded_once_with_an_audit_event(client, db):
    c = nanchong(db)
    department_id, token = departments.add(db, c, "市交通运输局", "test")
    action, hidden = _department_form(client, token)
    audit_before = db.table("audit").count
    response = client.post(action, data=hidden, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("?filed=1")
    assert db.table("departments").get(department_id)["no_comment_at"]
    assert db.table("audit").count == audit_before + 1
    (event,) = db.table("audit").rows_where("action = ?", ["department.no_comment"])
    assert (event["actor"], event["consultation_id"]) == (f"department:{department_id}", c["id"]) and event["at"]


def test_the_domain_refuses_a_no_comment_outside_the_window_whatever_the_page(db):
    c = dict(nanchong(db), opens_at="2024-03-01T01:00:00Z", closes_at="2024-03-31T16:00:00Z")
    department_id, _ = departments.add(db, c, "市财政局", "test")
    department = db.table("departments").get(department_id)
    for now, message in ((OPENS - SECOND, "Commenting has not opened yet: no comment was recorded."),
                         (CLOSES, "Commenting has ended: no comment was recorded.")):
        with pytest.raises(commenting.Refused) as refused:
            commenting.file_no_comment(db, c, department, now=now)
        assert (refused.value.status, refused.value.message, str(refused.value)) == (403, message, message)
    assert db.table("departments").get(department_id)["no_comment_at"] is None
    commenting.file_no_comment(db, c, department, now=OPENS)
    assert db.table("departments").get(department_id)["no_comment_at"]
