"""nginx in front of revise, with the configuration docs/deploy.md tells operators to install.

docs/nginx.conf.example itself is run (only its port, upstream and cache folder replaced) by
the machine's nginx in the foreground with its own prefix, in front of `server.py serve`. The
visitors connect from other loopback addresses (127.0.0.5, 127.0.0.6) than the proxy's
(127.0.0.1), so "the real client" is a different address from the proxy's, as on a server.

CI installs Debian's nginx: there a missing /usr/sbin/nginx fails the test instead of skipping it.
"""

from __future__ import annotations

import getpass
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from conftest import ROOT, free_port, parse_html

NGINX = Path("/usr/sbin/nginx")
EXAMPLE = ROOT / "docs" / "nginx.conf.example"
HOST = "consult.example.gov.cn"
PAGE = "/c/nanchong-2022"

if not NGINX.exists():
    if os.environ.get("CI"):
        pytest.fail("CI must install nginx (apt-get install nginx): /usr/sbin/nginx is absent", pytrace=False)
    pytest.skip("/usr/sbin/nginx is absent: install Debian's nginx to run the proxy tests", allow_module_level=True)


def site_config(nginx_port: int, revise_port: int, cache: Path) -> str:
    """The example as installed, on test ports and folders."""
    text = EXAMPLE.read_text()
    for old, new in (("listen 80;", f"listen 127.0.0.1:{nginx_port};"), ("listen [::]:80;", ""),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{revise_port};"),
                     ("/var/cache/nginx/revise", str(cache))):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


MAIN = """
user {user};
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    types {{ text/html html; text/css css; application/javascript js; image/svg+xml svg; }}
    default_type application/octet-stream;
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/site.conf;
}}
"""


class Revise:
    def __init__(self, data: Path, log: Path, port: int, **env: str):
        self.port, self.log_path = port, log
        self.log = open(log, "ab")
        base = {k: v for k, v in os.environ.items() if not k.startswith("REVISE_")}
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "serve", "--port", str(port)],
            env=dict(base, REVISE_DATA=str(data), REVISE_BASE_URL=f"https://{HOST}",
                     REVISE_COMMENTS_PER_MINUTE="2", **env),
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(f"http://127.0.0.1:{port}/", self.process, log)

    def text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)
        self.log.close()


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            httpx.get(url, headers={"Host": HOST}, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer: {log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx")
    for name in ("tmp", "cache"):
        (folder / name).mkdir()
    nginx_port, revise_port = free_port(), free_port()
    (folder / "site.conf").write_text(site_config(nginx_port, revise_port, folder / "cache"))
    (folder / "nginx.conf").write_text(MAIN.format(dir=folder, user=getpass.getuser()))
    revise = Revise(folder / "data", folder / "revise.log", revise_port, REVISE_TRUSTED_PROXIES="127.0.0.1")
    nginx = subprocess.Popen([str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=open(folder / "nginx.stderr", "wb"))
    state = {"folder": folder, "revise": revise, "nginx_port": nginx_port, "revise_port": revise_port}
    try:
        wait_for(f"http://127.0.0.1:{nginx_port}/", nginx, folder / "nginx.stderr")
        yield state
    finally:
        nginx.terminate()
        nginx.wait(20)
        state["revise"].stop()


def visitor(stack, address: str) -> httpx.Client:
    """A browser at `address` reaching the site through nginx."""
    return httpx.Client(base_url=f"http://127.0.0.1:{stack['nginx_port']}", headers={"Host": HOST}, timeout=60,
                        transport=httpx.HTTPTransport(local_address=address))


def logged_client(stack, marker: str) -> str:
    """The client revise's access log names for the request whose path holds `marker`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = re.findall(r"\] (\S+) \"GET /\?probe=" + marker + '"', stack["revise"].text())
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no access-log line for {marker}: {stack['revise'].text()[-2000:]}")


def send_comment(browser: httpx.Client, body: str, forwarded_for: str) -> int:
    page = parse_html(browser.get(f"{PAGE}/remarks").text)
    (form,) = page.xpath("//form[contains(@class,'comment-form')]")
    data = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    data.update(kind="remark", body=body, action="submit")
    return browser.post(form.get("action"), data=data, headers={"X-Forwarded-For": forwarded_for}).status_code


def test_the_real_client_reaches_revise_through_the_trusted_proxy(stack):
    with visitor(stack, "127.0.0.5") as browser:
        assert browser.get("/?probe=trusted", headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 200
    # nginx appended 127.0.0.5 to what the visitor wrote; revise takes the rightmost untrusted hop.
    assert logged_client(stack, "trusted") == "127.0.0.5"


def test_comment_limits_count_per_real_client_whatever_it_claims(stack):
    with visitor(stack, "127.0.0.5") as one, visitor(stack, "127.0.0.6") as other:
        statuses = [send_comment(one, f"经代理的第{i}条意见", f"203.0.113.{i}") for i in range(3)]
        assert statuses == [303, 303, 429]
        assert send_comment(other, "另一位居民的意见", "203.0.113.1") == 303


def test_hsts_is_sent_when_the_base_url_is_https(stack):
    with visitor(stack, "127.0.0.5") as browser:
        response = browser.get("/")
    assert "max-age=" in response.headers["strict-transport-security"]


def test_bodies_beyond_revises_limits_stop_at_nginx(stack):
    with visitor(stack, "127.0.0.5") as browser:
        refused = browser.post("/r", content=b"x" * (65 * 1024))
        assert refused.status_code == 413 and "<center>nginx" in refused.text
        # a comment path may carry an attachment: nginx lets 200 KB through, revise judges it
        passed = browser.post(f"{PAGE}/remarks", data={"body": "附件"},
                              files={"attachment": ("letter.pdf", b"%PDF-1.4 " + b"x" * (200 * 1024), "application/pdf")})
        assert passed.status_code < 500 and "<center>nginx" not in passed.text


def direct_etag(stack) -> str:
    """The page's ETag straight from revise (as nginx asks for it)."""
    response = httpx.get(f"http://127.0.0.1:{stack['revise_port']}{PAGE}", timeout=30,
                         headers={"Host": HOST, "Accept-Encoding": "gzip"})
    assert response.status_code == 200, (response.status_code, response.text)
    return response.headers["etag"]


def served_until(browser: httpx.Client, wanted: str, limit: float = 30) -> list[str]:
    """GET the page through nginx until its ETag is `wanted` (bounded); the cache statuses seen."""
    seen = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        response = browser.get(PAGE)
        assert response.status_code == 200
        seen.append(response.headers.get("x-cache-status", ""))
        if response.headers["etag"] == wanted:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"nginx kept serving another page than revise's {wanted}: {seen}")


def change(stack, sql: str, params: list) -> None:
    db = sqlite3.connect(stack["folder"] / "data" / "revise.db", timeout=30)
    with db:
        db.execute(sql, params)
    db.close()


def test_the_public_page_comes_from_nginxs_cache_and_is_fresh_after_a_change(stack):
    with visitor(stack, "127.0.0.7") as browser:
        assert send_comment(browser, "经代理的一条意见,待审核后公开", "127.0.0.7") == 303
        def answered_by_revise() -> int:
            return stack["revise"].text().count(f'"GET {PAGE}" ')

        asked = answered_by_revise()
        first = browser.get(PAGE)
        assert first.status_code == 200 and "set-cookie" not in first.headers
        assert first.headers["cache-control"] == "public, no-cache" and first.headers["etag"]
        if first.headers["x-cache-status"] != "HIT":  # revise answered it: wait for its log line
            deadline = time.monotonic() + 10
            while answered_by_revise() == asked and time.monotonic() < deadline:
                time.sleep(0.05)
            asked += 1
        statuses = [browser.get(PAGE).headers["x-cache-status"] for _ in range(30)]
        assert "HIT" in statuses, statuses  # served by nginx without asking revise
        time.sleep(0.5)  # revise's log lines of any views it answered are written by now
        answered = answered_by_revise() - asked
        assert answered == 30 - statuses.count("HIT"), (answered, statuses)

        # A published comment: the page changes, and nginx serves the new one.
        before = first.headers["etag"]
        change(stack, "update comments set status = 'published' where body like '经代理的%'", [])
        now = direct_etag(stack)
        assert now != before
        served_until(browser, now)

        # A window change (the consultation closed): the same.
        change(stack, "update consultations set closes_at = '2020-01-01T00:00:00Z' where slug = 'nanchong-2022'", [])
        closed = direct_etag(stack)
        assert closed != now
        served_until(browser, closed)
        assert browser.get(PAGE).headers["etag"] == closed


def test_staff_and_receipt_answers_are_never_shared(stack):
    with visitor(stack, "127.0.0.5") as browser:
        browser.get(PAGE)
        assert browser.get(PAGE, headers={"Cookie": "ed=whatever"}).headers["x-cache-status"] == "BYPASS"
        assert browser.get(PAGE + "?receipt=K7QH2MZ4XR").headers["x-cache-status"] == "BYPASS"
        assert browser.get("/static/site.css").headers["x-cache-status"] in ("MISS", "HIT", "EXPIRED")


def test_without_the_trusted_proxy_setting_revise_ignores_forwarded_for(stack):
    stack["revise"].stop()
    folder = stack["folder"]
    stack["revise"] = Revise(folder / "data", folder / "revise.log", stack["revise_port"])
    with visitor(stack, "127.0.0.5") as browser:
        assert browser.get("/?probe=untrusted", headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 200
    assert logged_client(stack, "untrusted") == "127.0.0.1"  # nginx's own address: the header was ignored
