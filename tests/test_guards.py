"""Forged posts change nothing, and an editor cannot do an administrator's work (issue #17).

The routes come from the app's router, with their path parameters filled from real data (a real
consultation, block, comment, attachment, department link), so a new route is covered without
editing this file; a new kind of path parameter fails here until it is given a real value.
"""

import itertools
import re

import pytest
from conftest import DRAFT, parse_html
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from test_editor import _comment, sign_in

from revise import accounts, departments, exporting
from revise.i18n import gettext
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store

SLUG = "nanchong-2022"
# Every administrator-only route today. The test also finds them in the code (each calls
# require(request, "admin")), so a new one is covered; this floor catches one that loses its check.
KNOWN_ADMIN_ONLY = {"editor_outcome", "editor_audit", "editor_new", "editor_create", "editor_window",
                    "editor_department"}
SIGN_IN_OUT = {"sign_in", "sign_out"}  # staff paths that cannot require a signed-in account
WORKSPACE_ACTIONS = ["edit", "row", "insert", "delete", "revert", "accept"]
FOREIGN = "https://evil.example"
NOT_ADMIN = "Only an administrator may do this; your account is an editor's."


def all_routes(routes, prefix=""):
    """(full path, route) for every Route, through Mounts."""
    for route in routes:
        if isinstance(route, Mount):
            yield from all_routes(route.routes or [], prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def is_staff(path: str) -> bool:
    return path == "/editor" or path.startswith("/editor/")


@pytest.fixture
def real(db):
    """Real rows for every kind of path parameter the routes take."""
    from revise.attachments import check
    from revise.store import attachments as attachment_store
    from revise.store import writing

    c = consultation_store.by_slug(db, SLUG)
    block = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))
    comment = _comment(db, c, block, "建城史应为2300多年。", kind="edit",
                       suggestion=block["text"].replace("2200多年", "2300多年"))
    with writing(db):
        attachment_id = attachment_store.add(db, comment["id"], check("scan.pdf", b"%PDF-1.4\n", 1024).row(),
                                             "2024-01-01T00:00:00Z")
    _, token = departments.add(db, c, "市发展改革委", "test")
    from revise import reply_templates
    template_id = reply_templates.create(db, c, {"disposition": "rejected", "body": "与规划定位不符。"}, "test")
    return {"c": c, "block": block, "comment": comment, "token": token, "values": {
        "slug": [c["slug"]], "block_id": [str(block["id"])], "comment_id": [str(comment["id"])],
        "attachment_id": [str(attachment_id if isinstance(attachment_id, int) else
                              db.execute("select max(id) from attachments").fetchone()[0])],
        "action": WORKSPACE_ACTIONS, "name": sorted(exporting.KINDS), "token": [token],
        "code": [comment["receipt"]], "template_id": [str(template_id)],
    }}


def concrete(app, real, method: str, staff_only: bool = True):
    """(name, path) for each route answering `method`, once per real value of each path parameter."""
    found = []
    for template, route in all_routes(app.routes):
        if method not in (route.methods or ()) or (staff_only and not is_staff(template)):
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", template)
        missing = [n for n in names if n not in real["values"]]
        assert not missing, f"tests/test_guards.py: give the path parameter(s) {missing} of {template} a real value"
        for combo in itertools.product(*(real["values"][n] for n in names)):
            path = template
            for name, value in zip(names, combo):
                path = re.sub(r"\{" + name + r"(?::\w+)?\}", value, path)
            found.append((route.name, path))
    return found


def counts(db) -> dict:
    """Rows in every table: a refused request must leave them all as they were."""
    return {t: db.execute(f"select count(*) from [{t}]").fetchone()[0] for t in db.table_names()
            if not t.startswith(("sqlite_", "comments_fts_"))}


def csrf_of(client) -> str:
    """This client's CSRF token, read from a page as a browser would."""
    page = parse_html(client.get("/editor/sign-in").text)
    return page.xpath("string(//input[@name='csrf']/@value)")


def a_full_form(client, real) -> dict:
    """Fields that make every staff form do something if its guards let it through (at most 20: the
    upload form's limit), sent with a real draft as the form's file (see FILES)."""
    comment = real["comment"]
    return {"disposition": "rejected", "reason": "经研究不予采纳", "ids": str(comment["id"]), "action": "publish",
            "name": "市财政局", "opens": "2024-01-01 09:00", "closes": "2030-01-01 09:00",
            "text": "篡改后的文字", "base_number": "0", "comment_id": str(comment["id"]),
            "kind": "remark", "body": "伪造的意见", "channel": "letter", "received_on": "2024-01-02",
            "slug": "forged", "form_token": client.app.state.signer.form_token()}


def files():
    """The draft as the upload of every post (42 KB: under every route's body limit)."""
    return {"file": ("draft.docx", DRAFT.read_bytes())}


def post(client, path, form, headers=None):
    """A post with the full form; where a route refuses that many fields (400), the same post with
    only its tokens and the file, so that the token check is what answers."""
    response = client.post(path, data=form, files=files(), headers=headers or {}, follow_redirects=False)
    if response.status_code == 400:
        small = {k: v for k, v in form.items() if k in ("csrf", "form_token")}
        response = client.post(path, data=small, files=files(), headers=headers or {}, follow_redirects=False)
    return response


def refused(response) -> bool:
    """Refused: 403, 401, or sent to the sign-in page."""
    return response.status_code in (401, 403) or (
        response.status_code == 303 and response.headers["location"].startswith("/editor/sign-in"))


def attacks(client, real):
    """The ways a forged post arrives: no token, a token of another session, a foreign Origin."""
    own = csrf_of(client)
    other = client.app.state.signer.csrf_token("another-visitors-session-id")
    form = a_full_form(client, real)
    assert own and own != other
    return [("no token", form, {}), ("another session's token", {**form, "csrf": other}, {}),
            ("a foreign Origin", {**form, "csrf": own}, {"Origin": FOREIGN})]


def test_the_walk_covers_the_staff_posts_that_change_the_record(client, db, real):
    names = {name for name, _ in concrete(client.app, real, "POST")}
    assert {"editor_queue_action", "editor_comment_decide", "editor_outcome", "editor_create", "editor_window",
            "editor_department", "editor_block_change", "editor_ledger_create", "sign_out"} <= names


def test_every_post_with_a_missing_foreign_or_cross_site_token_is_refused_and_changes_nothing(client, db, real):
    sign_in(client, db, "boss", "admin", "管理员")  # the role lets everything through: only CSRF stands
    posts = concrete(client.app, real, "POST", staff_only=False)
    assert any(is_staff(path) for _, path in posts) and any(path.startswith("/d/") for _, path in posts)
    for how, form, headers in attacks(client, real):
        for name, path in posts:
            before = counts(db)
            response = post(client, path, form, headers)
            assert refused(response), (how, name, path, response.status_code)
            assert counts(db) == before, (how, name, path)
    assert client.get("/editor", follow_redirects=False).status_code == 200  # still signed in


def test_the_same_posts_with_the_sessions_own_token_and_origin_are_not_refused(client, db, real):
    """The refusals above come from the token and the Origin, not from something else on the path."""
    sign_in(client, db, "boss", "admin", "管理员")
    form = {**a_full_form(client, real), "csrf": csrf_of(client)}
    posts = sorted(concrete(client.app, real, "POST", staff_only=False), key=lambda p: p[0] == "sign_out")
    for name, path in posts:
        form["form_token"] = client.app.state.signer.form_token()
        response = post(client, path, form, {"Origin": "http://testserver"})
        assert response.status_code not in (401, 403), (name, path, response.status_code)


def roles_asked(client, db, real, monkeypatch) -> dict:
    """{(route name, method): roles require() asked for}, found by calling each staff route as an administrator."""
    asked: list[str] = []
    has_role = accounts.has_role
    monkeypatch.setattr(accounts, "has_role", lambda account, role: asked.append(role) or has_role(account, role))
    sign_in(client, db, "boss", "admin", "管理员")
    found = {}
    for method in ("GET", "POST"):
        for name, path in concrete(client.app, real, method):
            if name == "sign_out":
                continue
            asked.clear()
            client.request(method, path, files=files() if method == "POST" else None,
                           follow_redirects=False)  # a POST without a token: no change
            found.setdefault((name, method), set()).update(asked)
    return found


def test_every_staff_route_checks_the_role_and_the_known_administrator_routes_ask_for_one(client, db, real,
                                                                                       monkeypatch):
    found = roles_asked(client, db, real, monkeypatch)
    unchecked = {key for key, roles in found.items() if not roles and key[0] not in SIGN_IN_OUT}
    assert not unchecked
    admin_only = {name for (name, _), roles in found.items() if "admin" in roles}
    assert KNOWN_ADMIN_ONLY <= admin_only, KNOWN_ADMIN_ONLY - admin_only


def test_an_editor_is_refused_every_administrator_route_and_nothing_changes(client, db, real, monkeypatch):
    found = roles_asked(client, db, real, monkeypatch)
    admin_only = sorted({key for key, roles in found.items() if "admin" in roles} |
                        {(name, m) for name, m in found if name in KNOWN_ADMIN_ONLY})
    assert {"editor_department", "editor_create", "editor_window"} <= {name for name, _ in admin_only}
    editor = TestClient(client.app)  # a second browser, signed in as an editor
    sign_in(editor, db)
    form = {**a_full_form(editor, real), "csrf": csrf_of(editor)}  # a valid token: only the role may refuse
    message = gettext(NOT_ADMIN, "zh_CN")
    paths = {m: dict(concrete(client.app, real, m)) for m in ("GET", "POST")}
    for name, method in admin_only:
        for route_name, path in concrete(client.app, real, method):
            if route_name != name:
                continue
            before = counts(db)
            if method == "POST":
                form["form_token"] = client.app.state.signer.form_token()
                response = post(editor, path, form)
            else:
                response = editor.get(path, follow_redirects=False)
            assert response.status_code == 403, (name, method, response.status_code)
            assert message in parse_html(response.text).text_content(), (name, method)
            assert counts(db) == before, (name, method)
    assert paths["GET"]  # the editor is signed in and reaches the other pages
    assert editor.get(f"/editor/c/{SLUG}", follow_redirects=False).status_code == 200


def test_an_administrator_adds_a_department_and_changes_the_window_where_an_editor_could_not(client, db, real):
    """The forms the editor was refused work for an administrator (so the refusal is the role's)."""
    sign_in(client, db, "boss", "admin", "管理员")
    token = csrf_of(client)
    response = client.post(f"/editor/c/{SLUG}/departments", data={"csrf": token, "name": "市财政局"},
                           follow_redirects=False)
    assert response.status_code == 200
    assert "市财政局" in [d["name"] for d in db.table("departments").rows]
    response = client.post(f"/editor/c/{SLUG}/window", data={"csrf": token, "opens": "2024-01-01 09:00",
                                                             "closes": "2031-01-01 09:00"}, follow_redirects=False)
    assert response.status_code == 303
    assert consultation_store.by_slug(db, SLUG)["closes_at"].startswith("2031-01-01")


# --- the pieces the guards are made of (revise/security.py) ---

def test_a_csrf_token_is_bound_to_one_session_and_one_secret():
    from revise.security import Signer

    signer = Signer(b"k" * 32)
    token = signer.csrf_token("session-a")
    assert re.fullmatch(r"[0-9a-f]{32}", token) and token == signer.csrf_token("session-a")
    assert signer.check_csrf("session-a", token)
    assert not signer.check_csrf("session-b", token)
    assert not Signer(b"j" * 32).check_csrf("session-a", token)
    assert not signer.check_csrf("session-a", token[:-1] + ("0" if token[-1] != "0" else "1"))
    assert not signer.check_csrf(None, token) and not signer.check_csrf("", token)
    assert not signer.check_csrf("session-a", None) and not signer.check_csrf("session-a", "")
    assert not signer.check_csrf("session-a", "令牌\udcff" * 8)  # hostile input is refused, not a crash
    assert signer.csrf_token("a\x1fb") != signer.csrf_token("a")


def test_a_form_token_is_signed_fresh_each_time_and_refused_when_altered():
    from revise.security import Signer

    signer = Signer(b"k" * 32)
    token = signer.form_token()
    nonce, mac = token.split(".")
    assert len(mac) == 16 and len(nonce) >= 16 and token != signer.form_token()
    assert signer.check_form_token(token)
    assert not Signer(b"j" * 32).check_form_token(token)
    assert not signer.check_form_token(f"{nonce}x.{mac}")
    assert not signer.check_form_token(f"{nonce}.{mac[:-1]}")
    for bad in (None, "", nonce, f"{token}.x", f"{nonce}{mac}", f".{mac}", "意见.意见"):
        assert not signer.check_form_token(bad), bad
    assert signer.csrf_token(nonce)[:16] != mac  # the two kinds of token are signed apart


def test_receipt_codes_are_ten_unambiguous_characters_typed_back_in_any_case():
    from revise.security import RECEIPT_ALPHABET, new_receipt, normalise_receipt, show_receipt

    codes = {new_receipt() for _ in range(50)}
    assert len(codes) == 50 and all(len(c) == 10 and set(c) <= set(RECEIPT_ALPHABET) for c in codes)
    assert not set("01OI") & set(RECEIPT_ALPHABET)
    assert show_receipt("K7QH2MZ4XR") == "K7QH2-MZ4XR"
    assert normalise_receipt("k7qh2-mz4xr") == normalise_receipt(" K7QH2 MZ4XR ") == "K7QH2MZ4XR"
    for bad in ("K7QH2-MZ4X", "K7QH2-MZ4XRR", "K7QH2-MZ4X0", "K7QH2-MZ4XI", "K7QH2_MZ4XR", ""):
        assert normalise_receipt(bad) is None, bad


def test_link_tokens_are_long_random_and_only_their_sha256_is_kept():
    import hashlib

    from revise.security import new_link_token, token_hash

    token = new_link_token()
    assert len(token) >= 43 and token != new_link_token()
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token_hash("\udcff")  # a hostile path segment hashes, never crashes


def test_the_signing_key_is_made_once_private_and_kept_across_restarts(tmp_path):
    from revise.security import load_or_create_secret

    folder = tmp_path / "new" / "data"
    key = load_or_create_secret(folder)
    assert len(key) == 32 and (folder / "secret.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(folder) == key
    assert load_or_create_secret(tmp_path / "other") != key


def test_the_rate_limit_counts_each_client_apart_over_a_sliding_period():
    from revise.security import RateLimiter

    limiter = RateLimiter(2, period=60)
    assert limiter.allow("a", now=0) and limiter.allow("a", now=1)
    assert not limiter.allow("a", now=2)
    assert limiter.allow("b", now=2)  # another client is not held up
    assert not limiter.allow("a", now=59.9)
    assert limiter.allow("a", now=60)  # the first event has left the period (it ends at 60 exactly)
    assert not limiter.allow("a", now=60.5)
    assert limiter.allow("a", now=61)


def test_a_refused_event_is_not_counted():
    from revise.security import RateLimiter

    limiter = RateLimiter(1, period=60)
    assert limiter.allow("a", now=0)
    assert not limiter.allow("a", now=30)
    assert limiter.allow("a", now=60)  # had the refused try at 30 counted, this would wait until 90


def test_the_rate_limit_uses_the_clock_when_not_given_a_time():
    from revise.security import RateLimiter

    limiter = RateLimiter(1, period=3600)
    assert limiter.allow("a") and not limiter.allow("a")
    assert RateLimiter(3).period == 60.0


def test_the_event_loops_check_counts_each_client_apart_too():
    import asyncio
    import threading

    from revise.security import RateLimiter

    limiter = RateLimiter(1, period=3600)

    def check(key: str) -> bool:
        # In a thread of its own: Playwright's sync API may have left an event loop running here.
        answer = []
        runner = threading.Thread(target=lambda: answer.append(asyncio.run(limiter.check(key))))
        runner.start()
        runner.join()
        return answer[0]

    assert check("a") and not check("a")
    assert check("b")  # one busy client never holds up another
