"""The sign-in throttle: an attacker's failures slow the attacker down, never lock the owner out (issue #10)."""

from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher
from conftest import parse_html
from starlette.testclient import TestClient

from revise import accounts
from revise.web import auth

PASSWORD = "correct horse battery"
ATTACKER = ("203.0.113.66", 40000)  # client A
ELSEWHERE = ("198.51.100.7", 40001)  # client B


class Clock:
    """The throttle's now, moved by the test instead of waiting for real time."""

    def __init__(self):
        self.now = datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2 with small costs: these tests check hundreds of passwords, the throttle is what they test."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(accounts, "utc_now", clock)
    return clock


@pytest.fixture
def app(client, db):
    accounts.create_account(db, "zhang", "张编辑", "editor", PASSWORD, "test")
    return client.app


def browser(app, address, **kw) -> TestClient:
    return TestClient(app, client=address, follow_redirects=False, **kw)


def try_sign_in(visitor: TestClient, password: str, username: str = "zhang"):
    """Fill in the sign-in form as a person (or a script) would; the answer, not followed."""
    page = parse_html(visitor.get("/editor/sign-in").text)
    csrf = page.xpath("string(//form[contains(@class,'sign-in')]//input[@name='csrf']/@value)")
    return visitor.post("/editor/sign-in", data={"csrf": csrf, "next": "/editor", "username": username,
                                                 "password": password})


def alert(response) -> str:
    return parse_html(response.text).xpath("string(//form//p[@role='alert'])")


def attempts(db) -> list[dict]:
    return list(db.query("select username, client, ok, throttled, device from signin_attempts order by id"))


def test_an_attackers_fifty_failures_keep_neither_the_owner_elsewhere_nor_the_owners_browser_out(app, db, clock):
    owner_at_a = browser(app, ATTACKER)  # the owner's own browser, once, on the same office address
    assert try_sign_in(owner_at_a, PASSWORD).status_code == 303
    device = owner_at_a.cookies.get("device")
    assert device and device.endswith(".zhang")
    owner_at_a.cookies.delete("ed")  # the session ends; the device cookie stays

    attacker = browser(app, ATTACKER)
    failures, waits = 0, []
    while failures < 50:
        response = try_sign_in(attacker, "guess %d" % failures)
        if response.status_code == 429:  # too soon: wait exactly as long as told, then guess again
            waits.append(int(response.headers["retry-after"]))
            clock.advance(waits[-1])
            continue
        assert response.status_code == 401
        failures += 1
    # Three free failures, then the wait doubles with every failure up to 15 minutes.
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] + [900] * 37
    refused = try_sign_in(attacker, PASSWORD)  # even the right password, from A, waits
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 900
    assert alert(refused) == "登录失败次数过多,请15分钟后再试。"
    assert "ed" not in attacker.cookies

    owner_at_b = browser(app, ELSEWHERE)
    assert try_sign_in(owner_at_b, PASSWORD).status_code == 303 and "ed" in owner_at_b.cookies
    assert try_sign_in(owner_at_a, PASSWORD).status_code == 303 and "ed" in owner_at_a.cookies
    assert owner_at_a.get("/editor").status_code == 200

    rows = attempts(db)
    assert len(rows) == 1 + 50 + len(waits) + 1 + 2  # every attempt is recorded, refused ones too
    assert sum(r["ok"] == 0 and not r["throttled"] for r in rows) == 50
    assert sum(r["throttled"] for r in rows) == len(waits) + 1
    assert [(r["client"], r["ok"], bool(r["device"])) for r in rows[-2:]] == [(ELSEWHERE[0], 1, False),
                                                                            (ATTACKER[0], 1, True)]


def test_an_english_visitor_reads_the_wait_in_english(app, clock):
    attacker = browser(app, ATTACKER)
    attacker.get("/?lang=en")
    for _ in range(3):
        assert try_sign_in(attacker, "wrong password").status_code == 401
    refused = try_sign_in(attacker, "wrong password")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert alert(refused) == "Too many failed sign-ins. Try again in 1 second."


@pytest.mark.parametrize("forged", ["", "x.y.zhang", "device.0123456789abcdef0123456789abcdef.zhang"])
def test_a_made_up_device_cookie_counts_as_the_address(app, clock, forged):
    attacker = browser(app, ATTACKER)
    for _ in range(3):
        try_sign_in(attacker, "wrong password")
    if forged:
        attacker.cookies.set("device", forged, path="/editor/sign-in")
    assert try_sign_in(attacker, PASSWORD).status_code == 429


def test_a_device_cookie_of_another_user_name_does_not_help(app, db, clock):
    accounts.create_account(db, "lisi", "李编辑", "editor", PASSWORD, "test")
    lisi = browser(app, ATTACKER)
    assert try_sign_in(lisi, PASSWORD, "lisi").status_code == 303  # this browser's cookie names lisi
    lisi.cookies.delete("ed")
    attacker = browser(app, ATTACKER)
    for _ in range(3):
        try_sign_in(attacker, "wrong password")
    assert try_sign_in(lisi, PASSWORD, "zhang").status_code == 429
    assert try_sign_in(lisi, PASSWORD, "lisi").status_code == 303


def test_the_device_cookie_is_long_lived_httponly_lax_and_only_for_the_sign_in_page(app, clock):
    response = try_sign_in(browser(app, ELSEWHERE), PASSWORD)
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("device=")]
    parts = {p.strip().split("=")[0].lower(): p.strip() for p in cookie.split(";")}
    assert parts["max-age"] == "Max-Age=31536000" and parts["path"] == "Path=/editor/sign-in"
    assert "httponly" in parts and parts["samesite"].lower() == "samesite=lax" and "secure" not in parts
    secure = try_sign_in(browser(app, ("198.51.100.8", 1), base_url="https://testserver"), PASSWORD)
    assert any(c.startswith("device=") and "Secure" in c for c in secure.headers.get_list("set-cookie"))


def test_failures_on_the_owners_own_browser_slow_only_that_browser(db, clock):
    accounts.create_account(db, "zhang", "张编辑", "editor", PASSWORD, "test")
    now = clock()
    for _ in range(3):
        with pytest.raises(accounts.SignInRefused) as refused:
            accounts.sign_in(db, "zhang", "wrong password", ATTACKER[0], now=now, device="dev-1")
        assert refused.value.status == 401
    with pytest.raises(accounts.SignInRefused) as refused:
        accounts.sign_in(db, "zhang", PASSWORD, ATTACKER[0], now=now, device="dev-1")
    assert refused.value.retry_after == 1
    accounts.sign_in(db, "zhang", PASSWORD, ATTACKER[0], now=now)  # the address itself is not slowed
    accounts.sign_in(db, "zhang", PASSWORD, ATTACKER[0], now=now + timedelta(seconds=1), device="dev-1")


def test_an_address_is_slowed_across_every_name_it_tries(db, clock):
    accounts.create_account(db, "zhang", "张编辑", "editor", PASSWORD, "test")
    now = clock()
    for i in range(20):  # spraying names: each name's own count stays at 1
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(db, f"name{i}", "password123", ATTACKER[0], now=now)
    waits = []
    for i in range(3):
        with pytest.raises(accounts.SignInRefused) as refused:
            accounts.sign_in(db, "zhang", PASSWORD, ATTACKER[0], now=now)
        waits.append(refused.value.retry_after)
        now += timedelta(seconds=refused.value.retry_after)
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(db, f"other{i}", "password123", ATTACKER[0], now=now)
    assert waits == [1, 2, 4]


def test_an_ipv6_client_counts_as_its_64_network(db, clock):
    now = clock()
    for i in range(3):  # rotating through one subscriber's /64 does not reset the count
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(db, "zhang", "wrong password", f"2001:db8:1:2::{i + 1}", now=now)
    with pytest.raises(accounts.SignInRefused) as refused:
        accounts.sign_in(db, "zhang", "wrong password", "2001:db8:1:2:ffff::9", now=now)
    assert refused.value.status == 429
    assert accounts.client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert accounts.client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert accounts.client_key("testclient") == "testclient"


def test_a_day_without_failures_forgets_them(db, clock):
    accounts.create_account(db, "zhang", "张编辑", "editor", PASSWORD, "test")
    now = clock()
    for k in range(12):  # 12 failures, each as soon as allowed
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(db, "zhang", "wrong password", ATTACKER[0], now=now)
        now += accounts.throttle_wait("account+client", k + 1)
    with pytest.raises(accounts.SignInRefused) as refused:
        accounts.sign_in(db, "zhang", "wrong password", ATTACKER[0], now=now)
    assert refused.value.status == 401  # the 13th was allowed when its wait (512 s) had passed
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(db, "zhang", PASSWORD, ATTACKER[0], now=now + timedelta(minutes=14))
    accounts.sign_in(db, "zhang", PASSWORD, ATTACKER[0], now=now + timedelta(minutes=15))
    assert db.execute("select count(*) from signin_throttle where key like 'account+client:%'").fetchone()[0] == 0
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(db, "lisi", "wrong password", "192.0.2.9", now=now + timedelta(days=2))
    assert [r["key"] for r in db.query("select key from signin_throttle")] == [
        "account+client:lisi\x1f192.0.2.9", "client:192.0.2.9"]  # idle buckets are dropped


def test_parallel_guesses_cannot_all_slip_under_the_limit(db, clock):
    """Each try counts the moment it starts, so a burst in parallel gets no more than one in a row."""
    import threading

    from revise.store import connect

    accounts.create_account(db, "zhang", "张编辑", "editor", PASSWORD, "test")
    now, statuses = clock(), []
    path = db.execute("pragma database_list").fetchone()[2]

    def guess():
        own = connect(path)
        try:
            accounts.sign_in(own, "zhang", "wrong password", ATTACKER[0], now=now)
        except accounts.SignInRefused as refused:
            statuses.append(refused.status)
        finally:
            own.close()

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [401] * 3 + [429] * 5


def test_the_policy_numbers_match_the_docstring():
    assert [accounts.throttle_wait("account+client", n).total_seconds() for n in (0, 2, 3, 4, 5, 12, 13, 60)] == [
        0, 0, 1, 2, 4, 512, 900, 900]
    assert accounts.throttle_wait("client", 19).total_seconds() == 0
    assert accounts.throttle_wait("client", 20).total_seconds() == 1
    assert auth.DEVICE_MAX_AGE == 365 * 24 * 3600
