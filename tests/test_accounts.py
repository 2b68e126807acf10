"""Editors and administrators: accounts from the command line, signing in and out, who may do what."""

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import parse_html
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import server
from revise import accounts
from revise.store import connect, open_database
from revise.timeutil import utc_now
from revise.web import auth

PASSWORD = "correct horse battery"


def _admin_only(request):
    return PlainTextResponse(auth.require(request, "admin")["username"])


def _editor_post(request):
    return PlainTextResponse(auth.require(request)["username"])


@pytest.fixture
def client(settings):
    """The app with the sign-in pages, the access handlers and two probe routes (admin-only, editor POST)."""
    from revise.app import create_app

    app = create_app(settings)
    if "sign_in" not in {getattr(r, "name", None) for r in app.routes}:
        app.router.routes.extend(auth.routes)
    app.router.routes.extend([Route("/editor/_admin-only", _admin_only),
                              Route("/editor/_edit", _editor_post, methods=["POST"])])
    auth.install(app)
    with TestClient(app) as test_client:
        yield test_client


def make(db, username="zhang", role="editor", name="张编辑"):
    return accounts.create_account(db, username, name, role, PASSWORD, "test")


def sign_in(client, username="zhang", password=PASSWORD, next_path=None):
    """Fill in the sign-in page as an editor would; return the answer (not followed)."""
    page = parse_html(client.get("/editor/sign-in" + (f"?next={next_path}" if next_path else "")).text)
    (form,) = page.xpath("//form[contains(@class,'sign-in')]")
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    return client.post(form.get("action"), data={**hidden, "username": username, "password": password},
                       follow_redirects=False)


def csrf_of(client, path):
    return parse_html(client.get(path).text).xpath("string(//input[@name='csrf']/@value)")


def audit_actions(db):
    return [(r["actor"], r["action"], r["subject"]) for r in db.table("audit").rows_where("action like 'account.%'")]


def test_an_account_keeps_an_argon2id_hash_and_never_the_password(db):
    make(db)
    (row,) = db.table("accounts").rows
    assert row["password_hash"].startswith("$argon2id$") and row["role"] == "editor"
    assert PASSWORD not in str(row)
    assert audit_actions(db) == [("test", "account.create", "account:zhang")]
    assert "argon2" not in str(list(db.table("audit").rows))


@pytest.mark.parametrize(("username", "name", "role", "password", "message"), [
    ("Zhang", "张编辑", "editor", PASSWORD, "user name"),
    ("zh", "张编辑", "editor", PASSWORD, "user name"),
    ("zhang wei", "张编辑", "editor", PASSWORD, "user name"),
    ("zhang", "", "editor", PASSWORD, "display name"),
    ("zhang", "名" * 51, "editor", PASSWORD, "display name"),
    ("zhang", "张编辑", "owner", PASSWORD, "role"),
    ("zhang", "张编辑", "editor", "short", "at least"),
])
def test_account_fields_are_checked(db, username, name, role, password, message):
    with pytest.raises(accounts.AccountError) as refused:
        accounts.create_account(db, username, name, role, password, "test")
    assert message in str(refused.value)
    assert db.table("accounts").count == 0


def test_a_user_name_is_taken_once(db):
    make(db)
    with pytest.raises(accounts.AccountError, match="taken"):
        make(db, name="另一个张")


def test_the_command_line_generates_a_password_prints_it_once_and_it_signs_in(tmp_path, capsys):
    data = tmp_path / "d"
    open_database(tmp_path / "d" / "revise.db").close()  # the command line never creates one (issue #15)
    code = server.main(["--data", str(data), "accounts", "add", "wang", "--name", "王管理", "--role", "admin", "--generate"])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert "wang" in out[0] and "管理员" in out[0]
    password = out[-1]
    assert re.fullmatch(r"([2-9a-zA-Z]{4}-){3}[2-9a-zA-Z]{4}", password) and not set(password) & set("01OlI")
    db = connect(data / "revise.db")
    account, token = accounts.sign_in(db, "wang", password, "cli-test")
    assert account["role"] == "admin" and accounts.session_account(db, token)["username"] == "wang"
    assert password not in str(list(db.table("accounts").rows))


def test_the_command_line_reads_a_piped_password_lists_renews_and_disables(tmp_path, capsys, monkeypatch):
    data = str(tmp_path / "d")
    open_database(tmp_path / "d" / "revise.db").close()  # the command line never creates one (issue #15)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert server.main(["--data", data, "accounts", "add", "zhang", "--name", "张编辑"]) == 0
    assert server.main(["--data", data, "accounts", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()[-1].split("\t")
    assert listed[:3] == ["zhang", "张编辑", "编辑"] and listed[-1] == "正常"
    db = connect(tmp_path / "d" / "revise.db")
    _, token = accounts.sign_in(db, "zhang", PASSWORD, "x")
    monkeypatch.setattr("sys.stdin", io.StringIO("a new long password\n"))
    assert server.main(["--data", data, "accounts", "password", "zhang"]) == 0
    assert accounts.session_account(db, token) is None  # a new password signs the old sessions out
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(db, "zhang", PASSWORD, "x")
    accounts.sign_in(db, "zhang", "a new long password", "x")
    assert server.main(["--data", data, "accounts", "disable", "zhang"]) == 0
    with pytest.raises(accounts.SignInRefused) as refused:
        accounts.sign_in(db, "zhang", "a new long password", "x")
    assert refused.value.status == 401
    actions = [a for _, a, _ in audit_actions(db)]
    assert actions.count("account.create") == 1 and "account.password" in actions and "account.disable" in actions


def test_the_command_line_refuses_two_different_passwords_typed_at_the_prompt(tmp_path, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    typed = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("revise.accounts_cli.getpass.getpass", lambda prompt="": next(typed))
    open_database(tmp_path / "d" / "revise.db").close()  # the command line never creates one (issue #15)
    assert server.main(["--data", str(tmp_path / "d"), "accounts", "add", "zhang", "--name", "张编辑"]) == 2
    assert "不一致" in capsys.readouterr().err
    assert connect(tmp_path / "d" / "revise.db").table("accounts").count == 0


def test_the_command_line_explains_a_refusal_in_chinese(tmp_path, capsys, monkeypatch):
    open_database(tmp_path / "d" / "revise.db").close()  # the command line never creates one (issue #15)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert server.main(["--data", str(tmp_path / "d"), "accounts", "add", "zhang", "--name", "张编辑"]) == 2
    err = capsys.readouterr().err
    assert "密码" in err and "10" in err and "Traceback" not in err


def test_signing_in_sets_a_strict_httponly_cookie_and_opens_the_editor(client, db):
    make(db)
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/editor"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("ed=") and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Max-Age=43200" in cookie and "Path=/" in cookie
    page = parse_html(client.get("/editor").text)
    assert "张编辑" in page.xpath("string(//nav[@class='editor-nav'])")
    assert page.xpath("//a[@href='/editor/c/nanchong-2022']")
    assert page.xpath("//form[contains(@action, '/editor/sign-out')]//input[@name='csrf']")
    assert ("zhang", "account.sign_in", "account:zhang") in audit_actions(db)
    (session,) = db.table("editor_sessions").rows
    token = cookie.split("=", 1)[1].split(";")[0].split(".")[0]
    assert token not in str(session) and len(session["token_hash"]) == 64


def test_signing_out_makes_the_cookie_useless_even_if_replayed(client, db):
    make(db)
    sign_in(client)
    stolen = client.cookies.get("ed")
    response = client.post("/editor/sign-out", data={"csrf": csrf_of(client, "/editor")}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/editor/sign-in?signed_out=1"
    assert 'ed=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    notice = parse_html(client.get(response.headers["location"]).text).xpath("string(//p[@role='status'])")
    assert "已退出登录" in notice
    replay = TestClient(client.app)
    replay.cookies.set("ed", stolen)
    assert replay.get("/editor", follow_redirects=False).status_code == 303
    assert ("zhang", "account.sign_out", "account:zhang") in audit_actions(db)


def test_a_wrong_password_or_name_gets_401_and_one_message_in_the_form(client, db):
    make(db)
    for username, password in [("zhang", "wrong password"), ("nobody", PASSWORD)]:
        response = sign_in(client, username, password)
        assert response.status_code == 401
        page = parse_html(response.text)
        form = page.xpath("//form[contains(@class,'sign-in')]")[0]
        assert form.xpath("string(.//p[@class='error'])") == "用户名或密码错误。"
        assert form.xpath("string(.//input[@name='username']/@value)") == username
        assert not form.xpath("string(.//input[@name='password']/@value)")
    assert "ed" not in client.cookies
    failed = [(actor, subject) for actor, action, subject in audit_actions(db) if action == "account.sign_in_failed"]
    assert failed == [("client:testclient", "account:zhang"), ("client:testclient", "account:nobody")]


def test_empty_fields_get_their_message_next_to_them(client, db):
    response = sign_in(client, "", "")
    assert response.status_code == 422
    page = parse_html(response.text)
    assert "用户名" in page.xpath("string(//p[@id='username-error'])")
    assert "密码" in page.xpath("string(//p[@id='password-error'])")
    assert page.xpath("//input[@name='username']/@aria-invalid") == ["true"]


def _refused(db, username, password, client, now, **kw):
    with pytest.raises(accounts.SignInRefused) as refused:
        accounts.sign_in(db, username, password, client, now=now, **kw)
    return refused.value


def test_failures_slow_one_address_down_and_never_lock_the_account(db):
    make(db)
    start = utc_now()
    for _ in range(3):  # three free failures for (zhang, 10.0.0.1), then a wait of 1 s
        assert _refused(db, "zhang", "wrong password", "10.0.0.1", start).status == 401
    refused = _refused(db, "zhang", PASSWORD, "10.0.0.1", start)  # too soon: even the right password waits
    assert refused.status == 429 and refused.retry_after == 1 and refused.message == accounts.THROTTLED
    account, _ = accounts.sign_in(db, "zhang", PASSWORD, "10.0.0.2", now=start)  # the owner elsewhere is not locked
    assert account["username"] == "zhang"
    make(db, "lisi", name="李编辑")  # nor other accounts from the same address
    accounts.sign_in(db, "lisi", PASSWORD, "10.0.0.1", now=start)
    account, _ = accounts.sign_in(db, "zhang", PASSWORD, "10.0.0.1", now=start + timedelta(seconds=1))
    assert account["username"] == "zhang"


def test_a_throttled_try_is_answered_429_with_retry_after_on_the_page(client, db):
    make(db)
    now = utc_now()
    for k in range(10):  # ten failures from the test client's address, 16 minutes apart (never refused)
        at = now - timedelta(minutes=16 * (9 - k))
        assert _refused(db, "zhang", "wrong password", "testclient", at).status == 401
    response = sign_in(client)
    assert response.status_code == 429
    assert 60 < int(response.headers["retry-after"]) <= 2 ** 7  # the 10th failure: 2⁷ s
    assert "分钟后再试" in parse_html(response.text).xpath("string(//form//p[@role='alert'])")
    assert "ed" not in client.cookies and "device" not in client.cookies


def test_a_successful_sign_in_clears_the_account_count_but_not_the_client_count(db):
    make(db)
    now = utc_now()
    for _ in range(5):  # 3 failures then the right password, five times: never refused
        for _ in range(3):
            assert _refused(db, "zhang", "wrong password", "10.0.0.1", now).status == 401
        now += timedelta(seconds=1)
        accounts.sign_in(db, "zhang", PASSWORD, "10.0.0.1", now=now)
    for i in range(5):  # the address's 16th to 20th failures, on other names
        assert _refused(db, f"guess{i}", "wrong password", "10.0.0.1", now).status == 401
    assert _refused(db, "zhang", PASSWORD, "10.0.0.1", now).status == 429
    account, token = accounts.sign_in(db, "zhang", PASSWORD, "10.0.0.1", now=now + timedelta(seconds=1))
    assert account["username"] == "zhang" and accounts.session_account(db, token)["username"] == "zhang"


def test_twenty_failures_from_one_client_slow_every_account_from_it(db):
    make(db)
    now = utc_now()
    for i in range(20):
        assert _refused(db, f"guess{i}", "wrong password", "10.0.0.66", now).status == 401
    refused = _refused(db, "zhang", PASSWORD, "10.0.0.66", now)
    assert refused.status == 429 and refused.retry_after == 1
    accounts.sign_in(db, "zhang", PASSWORD, "10.0.0.7", now=now)  # another client may
    accounts.sign_in(db, "zhang", PASSWORD, "10.0.0.66", now=now + timedelta(seconds=1))  # and this one, later
    rows = list(db.query("select ok, throttled from signin_attempts"))
    assert len(rows) == 23 and sum(r["throttled"] for r in rows) == 1  # the refused try is recorded too


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example/editor", "/\\evil.example",
                                    "/c/nanchong-2022", "/editorial", "/editor\\@evil.example", ""])
def test_after_signing_in_only_a_local_editor_path_is_followed(client, db, target):
    make(db)
    page = parse_html(client.get("/editor/sign-in", params={"next": target}).text)
    assert page.xpath("string(//input[@name='next']/@value)") == "/editor"
    csrf = page.xpath("string(//input[@name='csrf']/@value)")
    response = client.post("/editor/sign-in", data={"csrf": csrf, "username": "zhang", "password": PASSWORD,
                                                    "next": target}, follow_redirects=False)
    assert response.headers["location"] == "/editor"


def test_an_anonymous_visitor_is_sent_to_sign_in_and_brought_back(client, db):
    response = client.get("/editor", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/editor/sign-in?next=%2Feditor"
    response = client.get("/editor/_admin-only?x=1", follow_redirects=False)
    location = response.headers["location"]
    assert urlsplit(location).path == "/editor/sign-in"
    assert parse_qs(urlsplit(location).query)["next"] == ["/editor/_admin-only?x=1"]
    make(db, "admin", "admin", "管理员")
    response = sign_in(client, "admin", next_path="%2Feditor%2F_admin-only%3Fx%3D1")
    assert response.headers["location"] == "/editor/_admin-only?x=1"
    assert client.get(response.headers["location"]).text == "admin"


def test_with_htmx_an_anonymous_request_asks_for_a_full_page_redirect(client):
    response = client.get("/editor", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401 and response.headers["hx-redirect"].startswith("/editor/sign-in?next=")


def test_an_anonymous_post_is_refused_401_and_sign_out_without_csrf_403(client, db):
    response = client.post("/editor/_edit", data={})
    assert response.status_code == 401 and "登录" in parse_html(response.text).xpath("string(//main)")
    assert client.post("/editor/sign-out", data={}).status_code == 403
    make(db)
    sign_in(client)
    assert client.post("/editor/sign-out", data={"csrf": "0" * 32}).status_code == 403
    assert client.get("/editor", follow_redirects=False).status_code == 200  # still signed in


def test_an_editor_is_refused_an_administrators_page_with_403(client, db):
    make(db)
    sign_in(client)
    response = client.get("/editor/_admin-only")
    assert response.status_code == 403 and "管理员" in parse_html(response.text).xpath("string(//main)")
    make(db, "admin", "admin", "管理员")
    admin = TestClient(client.app)
    sign_in(admin, "admin")
    assert admin.get("/editor/_admin-only").text == "admin"  # an administrator is an editor and more


def test_a_session_older_than_twelve_hours_is_anonymous(client, db):
    make(db)
    past = utc_now() - timedelta(hours=12, seconds=1)
    _, old = accounts.sign_in(db, "zhang", PASSWORD, "x", now=past)
    _, fresh = accounts.sign_in(db, "zhang", PASSWORD, "x", now=past + timedelta(hours=1))
    assert accounts.session_account(db, old) is None and accounts.session_account(db, fresh) is not None
    secret = client.app.state.signer.secret
    client.cookies.set("ed", auth.cookie_value(secret, old))
    assert client.get("/editor", follow_redirects=False).status_code == 303
    client.cookies.set("ed", auth.cookie_value(secret, fresh))
    assert client.get("/editor", follow_redirects=False).status_code == 200


def test_a_cookie_with_a_wrong_signature_is_ignored(client, db):
    make(db)
    _, token = accounts.sign_in(db, "zhang", PASSWORD, "x")
    client.cookies.set("ed", f"{token}.{'0' * 32}")
    assert client.get("/editor", follow_redirects=False).status_code == 303
