"""The visitor session id is the server's own; signing in or out gives a new one, and a new CSRF token (issue #10)."""

import secrets

import pytest
from argon2 import PasswordHasher
from conftest import parse_html
from starlette.testclient import TestClient

from revise import accounts
from revise.web.middleware import VisitorSession

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def visitor(client, db):
    accounts.create_account(db, "zhang", "张编辑", "editor", PASSWORD, "test")
    return TestClient(client.app, follow_redirects=False)


def sid_set_by(response) -> str | None:
    """The sid cookie an answer sets, if any."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("sid="):
            return header.split(";")[0][len("sid="):]
    return None


def csrf_of(visitor, path):
    return parse_html(visitor.get(path).text).xpath("string(//form//input[@name='csrf']/@value)")


def sign_in(visitor):
    csrf = csrf_of(visitor, "/editor/sign-in")
    return visitor.post("/editor/sign-in", data={"csrf": csrf, "next": "/editor", "username": "zhang",
                                                 "password": PASSWORD})


def sign_out(visitor, csrf):
    return visitor.post("/editor/sign-out", data={"csrf": csrf})


def test_a_first_visit_gets_a_session_id_that_is_then_kept(visitor):
    first = visitor.get("/editor/sign-in")
    sid = sid_set_by(first)
    assert sid and visitor.app.state.signer and VisitorSession.issued(visitor.app.state.signer.secret, sid)
    header = [h for h in first.headers.get_list("set-cookie") if h.startswith("sid=")][0]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert sid_set_by(visitor.get("/editor/sign-in")) is None and visitor.cookies.get("sid") == sid


@pytest.mark.parametrize("forged", [
    "attacker-chosen-session-id-0123456789",  # the old format: any 20 to 64 URL-safe characters
    secrets.token_urlsafe(24) + "." + "0" * 32,  # the new format with a made-up signature
    "ｆｕｌｌｗｉｄｔｈ" * 4 + "." + "a" * 32,
])
def test_a_session_id_the_server_did_not_issue_is_replaced_and_its_csrf_token_refused(visitor, forged):
    cookie = {"Cookie": ("sid=" + forged).encode()}
    page = visitor.get("/editor/sign-in", headers=cookie)
    issued = sid_set_by(page)
    assert issued and issued != forged
    forged_csrf = visitor.app.state.signer.csrf_token(forged)
    assert parse_html(page.text).xpath("string(//input[@name='csrf']/@value)") != forged_csrf
    response = TestClient(visitor.app).post("/editor/sign-in", headers=cookie, follow_redirects=False,
                                            data={"csrf": forged_csrf, "username": "zhang", "password": PASSWORD})
    assert response.status_code == 403 and "ed" not in response.cookies
    assert sid_set_by(response) not in (None, forged)


def test_a_session_id_signed_with_another_instances_key_is_replaced(visitor):
    foreign = VisitorSession.issue(b"another instance's secret key.....")
    assert sid_set_by(visitor.get("/", headers={"Cookie": f"sid={foreign}"})) not in (None, foreign)


def test_signing_in_and_out_rotates_the_session_id_and_the_csrf_token(visitor):
    before = csrf_of(visitor, "/editor/sign-in")
    sid_before = visitor.cookies.get("sid")
    response = sign_in(visitor)
    assert response.status_code == 303
    sid_after = sid_set_by(response)
    assert sid_after and sid_after != sid_before and visitor.cookies.get("sid") == sid_after
    after = csrf_of(visitor, "/editor")
    assert after and after != before
    # The token from before signing in no longer works: nothing is done, the editor stays signed in.
    assert sign_out(visitor, before).status_code == 403
    assert visitor.get("/editor").status_code == 200
    response = sign_out(visitor, after)
    assert response.status_code == 303
    sid_out = sid_set_by(response)
    assert sid_out and sid_out not in (sid_before, sid_after)
    dropped = [h for h in response.headers.get_list("set-cookie") if h.startswith("ed=")]
    assert dropped and ("Max-Age=0" in dropped[0] or 'ed=""' in dropped[0])
    assert visitor.get("/editor").status_code == 303  # signed out
    # The signed-in page's token is dead too, and the sign-in page has a fresh one.
    assert sign_out(visitor, after).status_code == 403
    assert csrf_of(visitor, "/editor/sign-in") not in ("", before, after)


def test_a_session_id_planted_before_sign_in_is_worth_nothing_after(client, visitor):
    attacker = TestClient(client.app, follow_redirects=False)
    planted = sid_set_by(attacker.get("/"))
    planted_csrf = csrf_of(attacker, "/editor/sign-in")
    visitor.cookies.set("sid", planted, domain="testserver.local")  # e.g. through a cookie set from a sibling subdomain
    assert sign_in(visitor).status_code == 303
    assert visitor.cookies.get("sid") != planted
    # A form on the attacker's site carrying the token of the planted id is refused now.
    assert sign_out(visitor, planted_csrf).status_code == 403
    assert visitor.get("/editor").status_code == 200


def test_each_sign_in_gets_a_new_editor_session_and_ends_the_one_the_browser_held(visitor, db):
    sign_in(visitor)
    first = visitor.cookies.get("ed")
    csrf = csrf_of(visitor, "/editor")
    response = visitor.post("/editor/sign-in", data={"csrf": csrf, "next": "/editor", "username": "zhang",
                                                     "password": PASSWORD})
    assert response.status_code == 303
    second = visitor.cookies.get("ed")
    assert second and second != first
    replay = TestClient(visitor.app, follow_redirects=False)
    replay.cookies.set("ed", first)
    assert replay.get("/editor").status_code == 303  # the earlier session was signed out
    assert visitor.get("/editor").status_code == 200
    live = list(db.query("select count(*) as n from editor_sessions where signed_out_at is null"))
    assert live == [{"n": 1}]


def test_after_rotation_the_same_answer_carries_only_the_new_ids_csrf_token():
    """Whatever the request renders or checks after rotate() is for the new id: the old id's
    CSRF token is refused at once, and the cookie the answer sets is the id returned."""
    from types import SimpleNamespace

    from revise.security import Signer
    from revise.templating import _csrf_token

    signer = Signer(b"a test secret of thirty-two bytes")
    old = VisitorSession.issue(signer.secret)
    scope = {"app": SimpleNamespace(state=SimpleNamespace(signer=signer)),
             "state": {"session_id": old, "new_session_id": None}}
    new = VisitorSession.rotate(scope)
    assert VisitorSession.issued(signer.secret, new) and new != old
    assert scope["state"] == {"session_id": None, "new_session_id": new}
    assert not signer.check_csrf(scope["state"]["session_id"], signer.csrf_token(old))
    request = SimpleNamespace(scope=scope, app=scope["app"])
    assert _csrf_token(request) == signer.csrf_token(new) != signer.csrf_token(old)


@pytest.mark.parametrize("value", ["é" * 32 + "." + "a" * 32, "a" * 32 + "." + "é" * 32, "a" * 32 + ".é",
                                   "é" * 31 + "." + "a" * 32])
def test_a_session_id_with_foreign_characters_is_not_ours_and_no_error(value):
    assert VisitorSession.issued(b"a test secret of thirty-two bytes", value) is False
