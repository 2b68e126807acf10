"""What an editor sees of revise/web/auth.py: the wait the sign-in throttle words, signing out, the refusal
pages, where the sign-in page sends them next, and the editor home (issue #17: mutation-checked guards)."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher
from conftest import parse_html
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from revise import accounts
from revise.store import consultations as consultation_store
from revise.timeutil import utc_now
from revise.web import auth

PASSWORD = "correct horse battery"
SIGN_IN = "/editor/sign-in"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2 with small costs: what is tested here is the web layer, not the hash."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _admin_only(request):
    return PlainTextResponse(auth.require(request, "admin")["username"])


def _editor_only(request):
    return PlainTextResponse(auth.require(request)["username"])


@pytest.fixture
def app(settings):
    """The whole app, plus two probe pages: one for administrators, one for any editor (GET and POST)."""
    from revise.app import create_app

    app = create_app(settings)
    app.router.routes.extend([Route("/editor/_admin-only", _admin_only, methods=["GET", "POST"]),
                              Route("/editor/_edit", _editor_only, methods=["GET", "HEAD", "POST"])])
    return app


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def db(client, settings):
    from revise.store import connect

    database = connect(settings.db_path)
    accounts.create_account(database, "zhang", "张编辑", "editor", PASSWORD, "test")
    yield database
    database.close()


def page(response):
    return parse_html(response.text)


def csrf_of(visitor, path):
    return page(visitor.get(path)).xpath("string(//form//input[@name='csrf']/@value)")


def sign_in(visitor, username="zhang", password=PASSWORD, next_path="/editor"):
    """Fill in the sign-in form as an editor would; the answer, not followed."""
    csrf = csrf_of(visitor, SIGN_IN)
    return visitor.post(SIGN_IN, data={"csrf": csrf, "next": next_path, "username": username, "password": password})


def set_cookies(response, name):
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(name + "=")]


def attributes(header):
    """A Set-Cookie header's attributes, names lower-cased: {"path": "/", "httponly": "", ...}."""
    parts = [p.strip() for p in header.split(";")[1:]]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts}


def alert(response) -> str:
    return page(response).xpath("string(//form//p[@role='alert'])")


# The throttle's wait, as the sign-in page words it -------------------------------------------------------------

ZH_WAITS = [(1, "1秒钟"), (2, "2秒钟"), (55, "55秒钟"), (59, "59秒钟"), (60, "1分钟"), (61, "2分钟"), (64, "2分钟"),
            (90, "2分钟"), (119, "2分钟"), (120, "2分钟"), (121, "3分钟"), (512, "9分钟"), (900, "15分钟"),
            (1024, "18分钟"), (3600, "1小时"), (7200, "2小时")]
EN_WAITS = [(1, "1 second"), (2, "2 seconds"), (59, "59 seconds"), (60, "1 minute"), (61, "2 minutes"),
            (121, "3 minutes"), (900, "15 minutes"), (1024, "18 minutes"), (3600, "1 hour"), (7200, "2 hours")]


@pytest.fixture
def throttled(monkeypatch):
    """Every sign-in is refused by the throttle with the wait the test sets (in seconds)."""
    wait = {"seconds": 1}

    def refuse(*args, **kwargs):
        raise accounts.SignInRefused(429, accounts.THROTTLED, retry_after=wait["seconds"])

    monkeypatch.setattr(accounts, "sign_in", refuse)
    return wait


@pytest.mark.parametrize("seconds, words", ZH_WAITS)
def test_the_wait_is_worded_in_chinese_in_seconds_under_a_minute_else_in_whole_minutes_rounded_up(
        client, db, throttled, seconds, words):
    throttled["seconds"] = seconds
    response = sign_in(client)
    assert response.status_code == 429 and response.headers["retry-after"] == str(seconds)
    assert alert(response) == f"登录失败次数过多,请{words}后再试。"
    assert "ed" not in client.cookies and page(response).xpath("string(//input[@name='username']/@value)") == "zhang"


@pytest.mark.parametrize("seconds, words", EN_WAITS)
def test_the_wait_is_worded_in_english_with_plurals(client, db, throttled, seconds, words):
    client.get("/?lang=en")
    throttled["seconds"] = seconds
    response = sign_in(client)
    assert response.status_code == 429 and response.headers["retry-after"] == str(seconds)
    assert alert(response) == f"Too many failed sign-ins. Try again in {words}."


def test_a_wait_worded_without_a_chosen_language_is_in_chinese_the_sites_default():
    bare = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    assert auth._wait_text(bare, 90) == "2分钟" and auth._wait_text(bare, 30) == "30秒钟"


# Signing out ---------------------------------------------------------------------------------------------------

def test_signing_out_ends_the_session_row_drops_the_cookie_and_keeps_the_device(client, db):
    assert sign_in(client).status_code == 303
    device = client.cookies.get("device")
    sid = client.cookies.get("sid")
    csrf = csrf_of(client, "/editor")
    response = client.post("/editor/sign-out", data={"csrf": csrf})
    assert response.status_code == 303 and response.headers["location"] == SIGN_IN + "?signed_out=1"
    (session,) = db.table("editor_sessions").rows
    assert session["signed_out_at"]
    # The browser forgets the session cookie (the deletion has the cookie's own path, /) ...
    assert client.cookies.get("ed") is None
    # ... gets a new visitor session id, and keeps its device cookie for the next sign-in.
    assert client.cookies.get("sid") not in (None, sid)
    assert client.cookies.get("device") == device
    assert client.get("/editor").status_code == 303
    notice = page(client.get(response.headers["location"])).xpath("string(//p[@role='status'])")
    assert notice == "您已退出登录。"
    # The page's token from before signing out does nothing any more.
    assert client.post("/editor/sign-out", data={"csrf": csrf}).status_code == 403


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_cookie_that_replaces_the_session_cookie_keeps_its_protections(app, settings, scheme):
    with TestClient(app, base_url=f"{scheme}://testserver", follow_redirects=False) as visitor:
        from revise.store import connect

        database = connect(settings.db_path)
        accounts.create_account(database, "zhang", "张编辑", "editor", PASSWORD, "test")
        signed_in = sign_in(visitor)
        (given,) = set_cookies(signed_in, "ed")
        response = visitor.post("/editor/sign-out", data={"csrf": csrf_of(visitor, "/editor")})
        database.close()
    (dropped,) = set_cookies(response, "ed")
    kept, cleared = attributes(given), attributes(dropped)
    assert cleared["max-age"] == "0" and cleared["path"] == "/" and "httponly" in cleared
    assert cleared["samesite"].lower() == "strict"
    assert ("secure" in cleared) == ("secure" in kept) == (scheme == "https")


def test_signing_out_without_a_session_still_lands_on_the_sign_in_page(client, db):
    response = client.post("/editor/sign-out", data={"csrf": csrf_of(client, SIGN_IN)})
    assert response.status_code == 303 and response.headers["location"] == SIGN_IN + "?signed_out=1"
    assert list(db.table("editor_sessions").rows) == []


# Refusals ------------------------------------------------------------------------------------------------------

def test_an_anonymous_page_request_goes_to_sign_in_keeping_the_address(client, db):
    for method in ("GET", "HEAD"):
        response = client.request(method, "/editor/_edit?x=1&y=2")
        assert response.status_code == 303
        location = urlsplit(response.headers["location"])
        assert location.path == SIGN_IN and parse_qs(location.query) == {"next": ["/editor/_edit?x=1&y=2"]}


def test_an_anonymous_htmx_request_gets_a_notice_and_a_full_page_redirect_to_sign_in(client, db):
    response = client.get("/editor/_edit", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == SIGN_IN + "?next=%2Feditor%2F_edit"
    assert page(response).xpath("string(//*[@role='alert'])").strip() == "请以编辑身份登录后查看此页。"


def test_an_anonymous_post_is_refused_with_401_and_says_to_sign_in(client, db):
    response = client.post("/editor/_edit", data={})
    assert response.status_code == 401 and "location" not in response.headers
    assert "请以编辑身份登录后再进行此操作。" in page(response).xpath("string(//main)")


def test_an_editor_on_an_administrators_page_gets_403_naming_the_role_needed(client, db):
    sign_in(client)
    for method in ("GET", "POST"):
        response = client.request(method, "/editor/_admin-only")
        assert response.status_code == 403
        assert "只有管理员可以进行此操作;您的账号是编辑账号。" in page(response).xpath("string(//main)")
    assert client.get("/editor/_edit").text == "zhang"


def test_the_refusals_carry_their_http_status_for_any_handler():
    assert auth.SignInRequired("/editor").status_code == 401 and auth.SignInRequired(None).next is None
    refused = auth.NotAllowed("why")
    assert refused.status_code == 403 and refused.message == "why"


# Where sign-in sends the editor next ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/editor/a\\b", "/editor/a b", "/editor/a\tb", "/editor/\u3000", "/editor/a\x7f",
                                    "/editor?" + "x" * 1993])
def test_a_next_that_is_not_a_plain_local_editor_path_is_replaced_by_the_editor_home(client, db, target):
    assert page(client.get(SIGN_IN, params={"next": target})).xpath("string(//input[@name='next']/@value)") == "/editor"
    assert sign_in(client, next_path=target).headers["location"] == "/editor"


def test_a_next_of_up_to_two_thousand_characters_is_followed(client, db):
    target = "/editor?" + "x" * 1992
    assert len(target) == 2000
    assert sign_in(client, next_path=target).headers["location"] == target


def test_a_next_sent_as_a_file_is_ignored(client, db):
    csrf = csrf_of(client, SIGN_IN)
    response = client.post(SIGN_IN, data={"csrf": csrf, "username": "zhang", "password": PASSWORD},
                           files={"next": ("next.txt", b"/editor/c/x", "text/plain")})
    assert response.status_code == 303 and response.headers["location"] == "/editor"


def test_a_refused_sign_in_keeps_where_to_go_next_in_the_form(client, db, monkeypatch):
    target = "/editor/_edit?x=1"
    wrong = sign_in(client, password="wrong password", next_path=target)
    empty = sign_in(client, password="", next_path=target)
    assert (wrong.status_code, empty.status_code) == (401, 422)
    now = utc_now()
    monkeypatch.setattr(accounts, "utc_now", lambda: now)  # the throttle's clock stands still
    for n in range(3):
        sign_in(client, password=f"guess {n}")
    throttled = sign_in(client, next_path=target)
    assert throttled.status_code == 429
    for response in (wrong, empty, throttled):
        form = page(response).xpath("//form[contains(@class,'sign-in')]")[0]
        assert form.xpath("string(.//input[@name='next']/@value)") == target
        assert form.get("action") == SIGN_IN


def test_a_form_without_the_name_and_password_fields_asks_for_both(client, db):
    response = client.post(SIGN_IN, data={"csrf": csrf_of(client, SIGN_IN)})
    assert response.status_code == 422
    assert page(response).xpath("string(//p[@id='username-error'])") == "请填写用户名。"
    assert page(response).xpath("string(//p[@id='password-error'])") == "请填写密码。"


def test_a_signed_in_editor_opening_the_sign_in_page_goes_straight_on(client, db):
    sign_in(client)
    response = client.get(SIGN_IN, params={"next": "/editor/_edit"})
    assert response.status_code == 303 and response.headers["location"] == "/editor/_edit"
    assert client.get(SIGN_IN, params={"next": "https://evil.example"}).headers["location"] == "/editor"


def test_a_user_name_is_read_without_surrounding_spaces_and_cut_at_64_characters(client, db):
    assert sign_in(client, username="  zhang  ").status_code == 303
    client.cookies.clear()
    response = sign_in(client, username="x" * 100)
    assert response.status_code == 401
    assert page(response).xpath("string(//input[@name='username']/@value)") == "x" * 64


# Cookies the server did not make --------------------------------------------------------------------------------

@pytest.mark.parametrize("cookie", ["ed=abc.\u00e9", "ed=\u00e9.0123", "ed=.0123", "device=\u00e9.x.zhang",
                                    "device=abc.\u00e9.zhang"])
def test_a_cookie_with_foreign_characters_or_no_token_is_ignored_not_a_server_error(client, db, cookie):
    headers = {"Cookie": cookie.encode()}
    response = client.get("/editor", headers=headers)
    assert response.status_code == 303 and urlsplit(response.headers["location"]).path == SIGN_IN
    csrf = csrf_of(client, SIGN_IN)
    headers = {"Cookie": f"sid={client.cookies['sid']}; {cookie}".encode()}  # the page's session, and the cookie
    signed_in = client.post(SIGN_IN, headers=headers, data={"csrf": csrf, "next": "/editor", "username": "zhang",
                                                            "password": PASSWORD})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/editor"


def test_the_device_cookie_helps_whatever_case_the_name_is_typed_in(app, db, monkeypatch):
    now = utc_now()
    monkeypatch.setattr(accounts, "utc_now", lambda: now)  # the throttle's clock stands still
    owner = TestClient(app, client=("203.0.113.66", 40000), follow_redirects=False)
    assert sign_in(owner).status_code == 303
    owner.cookies.delete("ed")
    attacker = TestClient(app, client=("203.0.113.66", 40001), follow_redirects=False)
    for n in range(3):
        assert sign_in(attacker, password=f"guess {n}").status_code == 401
    assert sign_in(attacker).status_code == 429  # the address waits now ...
    assert sign_in(owner, username="ZHANG").status_code == 303  # ... the owner's browser does not


def test_each_browser_gets_its_own_random_device_id(app, db):
    ids = []
    for port in (1, 2):
        browser = TestClient(app, client=("198.51.100.7", port), follow_redirects=False)
        assert sign_in(browser).status_code == 303
        device, mac, name = browser.cookies.get("device").split(".")
        assert name == "zhang" and len(mac) == 32 and len(device) >= 24
        ids.append(device)
    assert ids[0] != ids[1]


def test_the_device_cookie_works_for_a_user_name_with_a_dot(app, db, monkeypatch):
    now = utc_now()
    monkeypatch.setattr(accounts, "utc_now", lambda: now)  # the throttle's clock stands still
    accounts.create_account(db, "zhang.san", "张三", "editor", PASSWORD, "test")
    owner = TestClient(app, client=("203.0.113.66", 40000), follow_redirects=False)
    assert sign_in(owner, username="zhang.san").status_code == 303
    assert owner.cookies.get("device").endswith(".zhang.san")
    owner.cookies.delete("ed")
    attacker = TestClient(app, client=("203.0.113.66", 40001), follow_redirects=False)
    for n in range(3):
        assert sign_in(attacker, username="zhang.san", password=f"guess {n}").status_code == 401
    assert sign_in(attacker, username="zhang.san").status_code == 429
    assert sign_in(owner, username="zhang.san").status_code == 303


@pytest.mark.parametrize("change", ["name", "id"])
def test_a_device_cookie_with_its_name_or_id_changed_is_worth_nothing(app, db, monkeypatch, change):
    now = utc_now()
    monkeypatch.setattr(accounts, "utc_now", lambda: now)  # the throttle's clock stands still
    accounts.create_account(db, "lisi", "李编辑", "editor", PASSWORD, "test")
    other = TestClient(app, client=("198.51.100.7", 1), follow_redirects=False)
    assert sign_in(other, username="lisi").status_code == 303
    device, mac, name = other.cookies.get("device").split(".")
    target = "zhang" if change == "name" else "lisi"
    forged = f"{device}.{mac}.zhang" if change == "name" else f"{device[::-1]}x.{mac}.lisi"
    attacker = TestClient(app, client=("203.0.113.66", 40001), follow_redirects=False)
    for n in range(3):
        assert sign_in(attacker, username=target, password=f"guess {n}").status_code == 401
    attacker.cookies.set("device", forged, path=SIGN_IN)
    assert sign_in(attacker, username=target).status_code == 429  # counted as the address: it waits


def test_a_session_cookie_with_another_sessions_signature_is_refused(app, db):
    first, second = (TestClient(app, follow_redirects=False) for _ in range(2))
    sign_in(first), sign_in(second)
    token, own_mac = second.cookies.get("ed").split(".")
    other_mac = first.cookies.get("ed").split(".")[1]

    def status_with(cookie):
        return TestClient(app, cookies={"ed": cookie}).get("/editor", follow_redirects=False).status_code

    assert status_with(f"{token}.{own_mac}") == 200 and status_with(f"{token}.{other_mac}") == 303


def test_session_and_device_cookies_keep_their_format_so_an_upgrade_signs_no_one_out(app, db, monkeypatch):
    """The formats are pinned: cookies handed out before an upgrade must still work after it."""
    import hashlib
    import hmac

    now = utc_now()
    monkeypatch.setattr(accounts, "utc_now", lambda: now)  # the throttle's clock stands still

    secret = app.state.signer.secret
    _, token = accounts.sign_in(db, "zhang", PASSWORD, "198.51.100.7")
    mac = hmac.new(secret, b"editor-session\x1f" + token.encode(), hashlib.sha256).hexdigest()[:32]
    editor = TestClient(app, cookies={"ed": f"{token}.{mac}"}, follow_redirects=False)
    assert editor.get("/editor").status_code == 200
    device = "earlier-device-id"
    mac = hmac.new(secret, f"device\x1f{device}\x1fzhang".encode(), hashlib.sha256).hexdigest()[:32]
    owner = TestClient(app, client=("203.0.113.66", 40000), follow_redirects=False)
    owner.cookies.set("device", f"{device}.{mac}.zhang", path=SIGN_IN)
    attacker = TestClient(app, client=("203.0.113.66", 40001), follow_redirects=False)
    for n in range(3):
        sign_in(attacker, password=f"guess {n}")
    assert sign_in(attacker).status_code == 429
    assert sign_in(owner).status_code == 303  # its own bucket, not the address's


# The editor home -----------------------------------------------------------------------------------------------

def test_the_editor_home_shows_each_consultations_window_and_the_accounts_role(client, db):
    (c,) = consultation_store.all_(db)
    sign_in(client)
    now = utc_now()
    for opens, closes, state in [(-1, 1, "open"), (1, 2, "soon"), (-2, -1, "closed")]:
        consultation_store.set_window(db, c["id"], (now + timedelta(days=opens)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                      (now + timedelta(days=closes)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        home = page(client.get("/editor"))
        (item,) = home.xpath("//ul[@class='consultations']/li")
        assert item.xpath("string(.//a/@href)") == "/editor/c/nanchong-2022"
        assert item.xpath("string(.//span[contains(@class,'state')]/@class)") == f"state {state}"
    assert "当前账号:zhang,编辑。" in home.xpath("string(//main)")


def test_without_the_consultation_pages_the_home_still_links_each_consultation(app, settings):
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "name", None) != "editor_dashboard"]
    with TestClient(app, follow_redirects=False) as visitor:
        from revise.store import connect

        database = connect(settings.db_path)
        accounts.create_account(database, "zhang", "张编辑", "editor", PASSWORD, "test")
        database.close()
        sign_in(visitor)
        home = page(visitor.get("/editor"))
    assert home.xpath("string(//ul[@class='consultations']/li/a/@href)") == "/editor/c/nanchong-2022"


# The sign-in page itself, and what a sign-in sets ---------------------------------------------------------------

def test_the_sign_in_page_answers_200_and_says_signed_out_only_after_signing_out(client, db):
    plain = client.get(SIGN_IN)
    assert plain.status_code == 200 and "您已退出登录" not in plain.text and "status-ok" not in plain.text
    after = client.get(SIGN_IN, params={"signed_out": "1"})
    assert after.status_code == 200
    assert page(after).xpath("string(//p[@role='status'])").strip() == "您已退出登录。"


def test_a_sign_in_missing_its_password_keeps_the_name_typed(client, db):
    response = sign_in(client, username="zhang", password="")
    assert response.status_code == 422
    assert page(response).xpath("string(//input[@name='username']/@value)") == "zhang"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_sign_in_sets_a_strict_http_only_session_cookie_for_the_whole_site_and_a_lax_device_cookie(app, db, scheme):
    with TestClient(app, base_url=f"{scheme}://testserver", follow_redirects=False) as visitor:
        response = sign_in(visitor)
    assert response.status_code == 303
    session, = set_cookies(response, "ed")
    assert {k: v for k, v in attributes(session).items() if k != "expires"} == {
        "path": "/", "httponly": "", "samesite": "strict", "max-age": str(auth.MAX_AGE),
        **({"secure": ""} if scheme == "https" else {})}
    device, = set_cookies(response, "device")
    assert {k: v for k, v in attributes(device).items() if k != "expires"} == {
        "path": SIGN_IN, "httponly": "", "samesite": "lax", "max-age": str(auth.DEVICE_MAX_AGE),
        **({"secure": ""} if scheme == "https" else {})}


def test_the_signed_in_account_is_looked_up_once_per_request(app, db, monkeypatch):
    calls = []
    real = accounts.session_account

    def counting(database, token):
        calls.append(token)
        return real(database, token)

    monkeypatch.setattr(accounts, "session_account", counting)

    def twice(request):
        first, second = auth.current_account(request), auth.current_account(request)
        return PlainTextResponse(f"{first['username']} {second is first}")

    app.router.routes.append(Route("/editor/_twice", twice))
    with TestClient(app, follow_redirects=False) as visitor:
        sign_in(visitor)
        calls.clear()
        assert visitor.get("/editor/_twice").text == "zhang True"
    assert len(calls) == 1


def test_a_refused_sign_in_never_says_signed_out(client, db):
    for response in (sign_in(client, password="wrong password"), sign_in(client, password="")):
        assert response.status_code in (401, 422)
        assert "您已退出登录" not in response.text
