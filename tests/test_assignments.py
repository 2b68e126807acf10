"""Issue #13, sharing the work: administrators give sections and single comments to editors; each
editor has "my queue"; reassigning is audited; the overview shows progress per editor and section."""

import json

import pytest
from conftest import parse_html
from starlette.testclient import TestClient
from test_editor import _comment, csrf_of, sign_in

from revise import accounts, triage
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import writing
from revise.store.schema import EDITOR_COUNT_DIMS, PROGRESS_COUNT_DIMS

SLUG = "nanchong-2022"
QUEUE = f"/editor/c/{SLUG}/comments"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, SLUG)


@pytest.fixture
def draft(db, c):
    """Two top-level sections of the Nanchong draft, a sub-section of the first and a paragraph in each."""
    blocks = block_store.of_consultation(db, c["id"])
    top = [b for b in blocks if b["kind"] == "heading" and b["level"] == 1]
    first, second = top[0], top[1]
    sub = next(b for b in blocks if b["kind"] == "heading" and first["id"] in b["outline"])
    in_sub = next(b for b in blocks if b["kind"] == "paragraph" and sub["id"] in b["outline"])
    in_second = next(b for b in blocks if b["kind"] == "paragraph" and second["id"] in b["outline"])
    return {"first": first, "second": second, "sub": sub, "in_sub": in_sub, "in_second": in_second}


def _ids(client, query):
    page = parse_html(client.get(QUEUE + query).text)
    return {int(v) for v in page.xpath("//input[@name='ids']/@value") if v.isdigit()}


def _editor_client(client, db, username, name):
    """A second browser signed in as an editor (its own cookies) on the same app."""
    other = TestClient(client.app)
    sign_in(other, db, username, "editor", name)
    return other


def _save_sections(client, choices: dict):
    csrf = csrf_of(client, f"/editor/c/{SLUG}/assignments")
    return client.post(f"/editor/c/{SLUG}/assignments", data={"csrf": csrf, **{f"s{k}": v for k, v in choices.items()}},
                       follow_redirects=False)


def test_a_section_assigned_to_an_editor_is_their_queue_and_a_single_comment_overrides_it(client, db, c, draft):
    sign_in(client, db, "boss", "admin", "王主任")
    li = _editor_client(client, db, "lisi", "李编辑")
    li_id = db.execute("select id from accounts where username = 'lisi'").fetchone()[0]
    zhao = accounts.create_account(db, "zhao", "赵编辑", "editor", "correct horse battery", "test")
    before = _comment(db, c, draft["in_sub"], "子节里的意见")
    elsewhere = _comment(db, c, draft["in_second"], "另一节的意见")

    response = _save_sections(client, {draft["first"]["id"]: str(li_id)})
    assert response.status_code == 303 and "moved=1" in response.headers["location"]
    after = _comment(db, c, draft["in_sub"], "分配之后才到的意见")  # new comments follow their section
    assert _ids(li, "?mine=1") == {before["id"], after["id"]}
    # "my queue" is a link naming the account, so the filter survives into bulk actions and triage
    redirect = li.get(QUEUE + "?mine=1&disposition=pending", follow_redirects=False)
    assert redirect.status_code == 303 and f"assignee={li_id}" in redirect.headers["location"]
    assert _ids(client, "?assignee=none") == {elsewhere["id"]}

    # One comment given to 赵 on its own page leaves 李's queue, and stays with 赵 when the section moves.
    csrf = csrf_of(client, f"{QUEUE}/{before['id']}")
    assert client.post(f"{QUEUE}/{before['id']}/assign", data={"csrf": csrf, "account": str(zhao)},
                       follow_redirects=False).status_code == 303
    assert _ids(li, "?mine=1") == {after["id"]}
    page = parse_html(li.get(f"{QUEUE}/{before['id']}").text)
    assert "赵编辑" in page.xpath("string(//p[@class='assignee'])")
    assert not page.xpath("//form[contains(@action, '/assign')]")  # an editor sees, an administrator assigns
    _save_sections(client, {draft["first"]["id"]: str(zhao)})
    assert _ids(li, "?mine=1") == set()
    _save_sections(client, {draft["first"]["id"]: str(li_id)})
    assert _ids(li, "?mine=1") == {after["id"]}
    assert db.execute("select assigned_to from comments where id = ?", [before["id"]]).fetchone()[0] == zhao

    # A sub-section's own editor wins over its parent's; taking it away falls back to the parent.
    _save_sections(client, {draft["sub"]["id"]: str(zhao)})
    assert _ids(li, "?mine=1") == set()
    _save_sections(client, {draft["sub"]["id"]: ""})
    assert _ids(li, "?mine=1") == {after["id"]}

    # Back to the section: the comment follows it again.
    csrf = csrf_of(client, f"{QUEUE}/{before['id']}")
    client.post(f"{QUEUE}/{before['id']}/assign", data={"csrf": csrf, "account": ""})
    assert _ids(li, "?mine=1") == {before["id"], after["id"]}


def test_reassigning_is_audited_with_names_before_and_after(client, db, c, draft):
    sign_in(client, db, "boss", "admin", "王主任")
    li = accounts.create_account(db, "lisi", "李编辑", "editor", "correct horse battery", "test")
    zhao = accounts.create_account(db, "zhao", "赵编辑", "editor", "correct horse battery", "test")
    comment = _comment(db, c, draft["in_second"], "意见")
    _save_sections(client, {draft["second"]["id"]: str(li)})
    _save_sections(client, {draft["second"]["id"]: str(zhao)})
    _save_sections(client, {draft["second"]["id"]: str(zhao)})  # unchanged: nothing recorded
    events = list(db.query("select * from audit where action = 'section.assign' order by id"))
    assert [e["subject"] for e in events] == [f"block:{draft['second']['id']}"] * 2
    assert json.loads(events[1]["before"])["assignee"] == "李编辑"
    assert json.loads(events[1]["after"]) == {"assignee": "赵编辑", "account_id": zhao, "comments": 1}
    assert events[1]["actor"] == "王主任"
    csrf = csrf_of(client, f"{QUEUE}/{comment['id']}")
    client.post(f"{QUEUE}/{comment['id']}/assign", data={"csrf": csrf, "account": str(li)})
    event = db.execute("select before, after from audit where action = 'comment.assign'").fetchone()
    assert json.loads(event[0])["assignee"] == "赵编辑" and json.loads(event[1]) == {
        "assignee": "李编辑", "account_id": li, "own": True}


def test_assigning_is_for_administrators_with_a_valid_form(client, db, c, draft):
    sign_in(client, db, "lisi", "editor", "李编辑")
    assert client.get(f"/editor/c/{SLUG}/assignments").status_code == 403
    csrf = csrf_of(client, QUEUE)
    refused = client.post(f"/editor/c/{SLUG}/assignments", data={"csrf": csrf, f"s{draft['first']['id']}": "1"})
    assert refused.status_code == 403
    assert db.execute("select count(*) from section_assignments").fetchone()[0] == 0

    boss = TestClient(client.app)
    sign_in(boss, db, "boss", "admin", "王主任")
    no_csrf = boss.post(f"/editor/c/{SLUG}/assignments", data={f"s{draft['first']['id']}": "1"})
    assert no_csrf.status_code == 403
    bad = _save_sections(boss, {draft["first"]["id"]: "99999"})
    assert bad.status_code == 422 and "请从列表中选择编辑" in bad.text
    assert db.execute("select count(*) from section_assignments").fetchone()[0] == 0
    comment = _comment(db, c, None, "整体意见")
    csrf = csrf_of(boss, f"{QUEUE}/{comment['id']}")
    bad = boss.post(f"{QUEUE}/{comment['id']}/assign", data={"csrf": csrf, "account": "abc"})
    assert bad.status_code == 422 and "请从列表中选择编辑" in bad.text


def test_the_overview_shows_progress_per_editor_and_per_section(client, db, c, draft):
    sign_in(client, db, "boss", "admin", "王主任")
    li = accounts.create_account(db, "lisi", "李编辑", "editor", "correct horse battery", "test")
    made = [_comment(db, c, draft["in_sub"], f"意见{i}") for i in range(3)]
    _comment(db, c, draft["in_second"], "另一节")
    _save_sections(client, {draft["first"]["id"]: str(li)})
    triage.decide(db, c, [made[0]["id"]], "adopted", "", "李编辑")
    page = parse_html(client.get(f"/editor/c/{SLUG}").text)
    rows = {r.xpath("string(th)"): [r.xpath("string(td[1])"), r.xpath("string(td[2])")]
            for r in page.xpath("//table[contains(@class, 'progress-editors')]//tr[td]")}
    assert rows["李编辑"] == ["1", "3"]
    assert rows["无人负责(未分配)"] == ["0", "1"]
    sections = {r.xpath("string(th)"): [r.xpath("string(td[1])"), r.xpath("string(td[2])")]
                for r in page.xpath("//table[contains(@class, 'chart-data-sections')]//tr[td]")}
    assert sections[draft["first"]["text"]] == ["1", "3"] and sections[draft["second"]["text"]] == ["0", "1"]
    assignments = parse_html(client.get(f"/editor/c/{SLUG}/assignments").text)
    row = assignments.xpath(f"//tr[.//select[@name='s{draft['sub']['id']}']]")[0]
    assert row.xpath("string(td[1])").strip() == "1 / 3"
    assert "李编辑" in row.xpath("string(.//option[1])")  # inherited from the section above


def test_the_kept_counts_match_a_count_of_the_comments(client, db, c, draft, monkeypatch):
    """Whatever path changes comments (arrive, decide, move, reassign, delete), the counts the
    overview reads equal a count over the comments themselves."""
    monkeypatch.setattr("revise.store.assignments.CHUNK", 2)  # a section handed over in several transactions
    li = accounts.create_account(db, "lisi", "李编辑", "editor", "correct horse battery", "test")
    from revise import assignments

    made = [_comment(db, c, draft["in_sub"], f"意见{i}") for i in range(4)] + [_comment(db, c, None, "整体")]
    assignments.assign_section(db, c, draft["first"]["id"], li, "王主任")
    triage.decide(db, c, [made[0]["id"], made[4]["id"]], "adopted", "", "李编辑")
    with writing(db):
        db.execute("update comments set block_id = ? where id = ?", [draft["in_second"]["id"], made[1]["id"]])
        db.execute("update comments set created_at = '2026-03-01T16:30:00Z' where id = ?", [made[2]["id"]])
        db.execute("update comments set received_on = '2026-02-27' where id = ?", [made[3]["id"]])
    assignments.assign_comment(db, c, made[2]["id"], li, "王主任")
    assignments.assign_section(db, c, draft["second"]["id"], li, "王主任")
    with writing(db):
        for table in ("comment_bands", "comment_signatures", "grouping_queue"):
            db.execute(f"delete from {table} where comment_id = ?", [made[4]["id"]])
        db.execute("delete from comments where id = ?", [made[4]["id"]])
    kept = {(d, k): n for d, k, n in db.execute("select dim, key, n from editor_counts where n != 0")}
    scanned = {}
    for dim, (key, when, _) in PROGRESS_COUNT_DIMS.items():
        for k, n in db.execute(f"select {key.format(row='comments')}, count(*) from comments "
                               f"where {when.format(row='comments')} group by 1"):
            scanned[(dim, str(k))] = n
    for dim, expr in EDITOR_COUNT_DIMS.items():
        for k, n in db.execute(f"select {expr}, count(*) from comments group by 1"):
            scanned[(dim, str(k))] = n
    assert kept == scanned
    assert ("day", "2026-03-02") in kept  # 16:30 UTC is the next day in Beijing
    assert db.execute("select assigned_to from comments where id = ?", [made[1]["id"]]).fetchone()[0] == li
