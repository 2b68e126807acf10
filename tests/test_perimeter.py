"""The perimeter: client addresses behind proxies, host names, cookies and caches, request bodies,
file permissions and start-up (issue #10)."""

import os
import re
import select
import socket
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from conftest import ROOT, LiveServer, free_port, parse_html
from starlette.testclient import TestClient
from test_comments import block_with, comment
from test_editor import csrf_of, sign_in

from revise import departments
from revise.app import create_app
from revise.store import consultations as consultation_store
from revise.web.clients import parse_networks, real_client
from revise.web.reach import qr_svg

PROXY = "10.0.0.2"
CHINESE = {"LANG": "zh_CN.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}  # the command line's language
BASE = "https://consult.example.gov.cn"


def started(settings, **changes) -> TestClient:
    """A test client on an app with some settings changed (use it in a with block)."""
    return TestClient(create_app(settings.with_(**changes)))


@pytest.fixture
def behind_proxy(settings, client):
    """Two browsers reaching the app through the trusted proxy at 10.0.0.2, with a limit of 2 a minute."""
    app = create_app(settings.with_(trusted_proxies=(PROXY, "192.168.0.0/16"), comments_per_minute=2))
    with TestClient(app, client=(PROXY, 40000)) as one, TestClient(app, client=(PROXY, 40001)) as two:
        yield one, two


# --- client addresses -------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    ("203.0.113.7", "203.0.113.7"),
    ("198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the leftmost hop is whatever the client wrote
    ("203.0.113.7, 192.168.1.1", "203.0.113.7"),  # our own inner proxy is skipped
    ("evil, 203.0.113.7", "203.0.113.7"),
    ("203.0.113.7, not-an-address", PROXY),  # a chain not as described: never the sent string
    ("[2001:db8::1]:4711", "2001:db8::1"),
    ("", PROXY),
])
def test_the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy(header, expected):
    assert real_client(header, PROXY, parse_networks([PROXY, "192.168.0.0/16"])) == expected


def test_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_rate_limit(settings, client, db):
    with started(settings, comments_per_minute=2) as limited:
        statuses = [_post(limited, db, f"第{i}条", f"203.0.113.{i}") for i in range(3)]
    assert statuses == [303, 303, 429]


def _post(client, db, body, forwarded_for):
    block = block_with(db, "南充历史底蕴深厚")
    client.headers["X-Forwarded-For"] = forwarded_for
    return comment(client, block, body=body).status_code


def test_behind_a_trusted_proxy_each_real_client_has_its_own_limit(behind_proxy, db):
    one, two = behind_proxy
    assert [_post(one, db, f"甲{i}", "203.0.113.7") for i in range(3)] == [303, 303, 429]
    # another resident behind the same proxy is not held back by the first
    assert _post(two, db, "乙", "203.0.113.8") == 303


def test_behind_a_trusted_proxy_a_rotating_header_does_not_dodge_the_limit(behind_proxy, db):
    one, _ = behind_proxy
    # the proxy appends the address it saw; what the client sent before it is not believed
    statuses = [_post(one, db, f"丙{i}", f"198.51.100.{i}, 203.0.113.9") for i in range(3)]
    assert statuses == [303, 303, 429]


def test_forwarded_proto_https_from_the_trusted_proxy_makes_the_session_cookie_secure(behind_proxy, settings):
    one, _ = behind_proxy
    one.headers["X-Forwarded-Proto"] = "https"
    assert "Secure" in one.get("/editor/sign-in").headers["set-cookie"]  # a form: the session cookie
    with started(settings) as stranger:  # the same header from an untrusted peer changes nothing
        response = stranger.get("/editor/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in response.headers["set-cookie"]


def test_a_departments_submissions_are_limited_per_link_not_per_office_address(settings, client, db):
    c = consultation_store.by_slug(db, "nanchong-2022")
    link = "/d/" + departments.add(db, c, "市发展改革委", "test")[1]
    with started(settings, comments_per_minute=2) as limited:
        block = block_with(db, "南充历史底蕴深厚")

        def from_department(i):
            page = parse_html(limited.get(f"{link}/b/{block['id']}").text)
            (form,) = page.xpath("//form[contains(@class,'comment-form')]")
            hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
            data = {**hidden, "kind": "remark", "body": f"部门意见{i}", "action": "submit",
                    "officer_name": "王晓红", "officer_phone": "0817-2801234"}  # a department names its officer (#12)
            return limited.post(form.get("action"), data=data, follow_redirects=False).status_code

        department = [from_department(i) for i in range(3)]
        # a resident at the same office address is not held back by the department's quota
        resident = comment(limited, block, body="居民意见").status_code
    assert department == [303, 303, 429] and resident == 303


# --- host names, absolute addresses, caches --------------------------------------------------------

def test_a_request_for_another_host_name_is_refused_with_400(client):
    response = client.get("/c/nanchong-2022", headers={"Host": "evil.example.com"})
    assert response.status_code == 400 and "官方链接" in response.text
    assert "set-cookie" not in response.headers
    assert client.get("/c/nanchong-2022", headers={"Host": "testserver:443"}).status_code == 200
    assert client.get("/c/nanchong-2022", headers={"Host": "testserver@evil.example.com"}).status_code == 400


def test_localhost_is_served_by_default_and_only_the_configured_names_otherwise(settings, client):
    with started(settings) as default:
        assert default.get("/c/nanchong-2022", headers={"Host": "localhost:8000"}).status_code == 200
        assert default.get("/c/nanchong-2022", headers={"Host": "[::1]:8000"}).status_code == 200
    with started(settings, base_url=BASE, allowed_hosts=("*.example.org",)) as named:
        assert named.get("/", headers={"Host": "consult.example.gov.cn"}).status_code == 200
        assert named.get("/", headers={"Host": "www.example.org"}).status_code == 200
        assert named.get("/", headers={"Host": "localhost"}).status_code == 400


def test_qr_code_notice_and_department_link_use_the_base_url_whatever_the_host_header(settings, client, db):
    with started(settings, base_url=BASE + "/", allowed_hosts=("alias.example.gov.cn",)) as site:
        site.headers["Host"] = "alias.example.gov.cn"
        expected = f"{BASE}/c/nanchong-2022"
        assert site.get("/c/nanchong-2022/qr.svg").content == qr_svg(expected)
        notice = parse_html(site.get("/c/nanchong-2022/notice").text)
        assert notice.xpath("string(//p[@class='page-link'])") == expected
        sign_in(site, db, "boss", "admin", "管理员")
        csrf = csrf_of(site, "/editor/c/nanchong-2022")
        page = parse_html(site.post("/editor/c/nanchong-2022/departments", data={"csrf": csrf, "name": "市财政局"}).text)
    assert page.xpath("string(//code[@class='link'])").startswith(f"{BASE}/d/")


def test_hsts_is_sent_only_when_the_base_url_is_https(settings, client):
    assert "strict-transport-security" not in client.get("/").headers
    with started(settings, base_url=BASE, allowed_hosts=("testserver",)) as secure:
        assert secure.get("/").headers["strict-transport-security"].startswith("max-age=")


def test_an_answer_that_sets_a_cookie_is_never_publicly_cacheable(client):
    client.get("/editor/sign-in")  # the visitor has its session cookie
    first = client.get("/c/nanchong-2022/qr.svg?lang=en")  # choosing a language sets a cookie
    assert "set-cookie" in first.headers
    assert "public" not in first.headers["cache-control"] and "private" in first.headers["cache-control"]
    again = client.get("/c/nanchong-2022/qr.svg")  # nothing to set: the code may be cached by anyone
    assert "set-cookie" not in again.headers and again.headers["cache-control"] == "public, max-age=3600"
    for path in ["/", "/c/nanchong-2022", "/c/nanchong-2022/qr.svg", "/c/nanchong-2022/notice",
                 "/editor/sign-in", "/c/nanchong-2022?lang=en"]:
        response = TestClient(client.app).get(path)  # a new visitor each time
        if "set-cookie" in response.headers:
            assert "public" not in response.headers.get("cache-control", ""), path


# --- request bodies ---------------------------------------------------------------------------------

def _call(app, scope: dict, chunks: int) -> tuple[int, int]:
    """Run one request straight through the ASGI app; (status, body chunks the app asked for)."""
    asked = 0
    status = None

    async def receive():
        nonlocal asked
        asked += 1
        if asked > chunks:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    # In a thread of its own: the browser tests' Playwright may hold an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result(timeout=60)
    return status, asked


def _upload_scope(cookie: str = "") -> dict:
    headers = [(b"host", b"testserver"), (b"content-type", b"multipart/form-data; boundary=x"),
               (b"content-length", str(15 * 1024 * 1024).encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/editor/new", "raw_path": b"/editor/new", "root_path": "", "query_string": b"",
            "headers": headers, "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}


def test_the_draft_upload_refuses_anyone_but_an_administrator_before_reading_the_body(client, db):
    status, asked = _call(client.app, _upload_scope(), chunks=240)
    assert status in (303, 401) and asked == 0
    sign_in(client, db)  # an editor, not an administrator
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    status, asked = _call(client.app, _upload_scope(cookie), chunks=240)
    assert status == 403 and asked == 0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """revise under uvicorn as `server.py serve` starts it, a body timeout of 1 s, its log kept."""
    server = LoggedServer(tmp_path_factory.mktemp("perimeter") / "data", REVISE_BODY_TIMEOUT="1",
                          REVISE_COMMENTS_PER_MINUTE="2", **CHINESE)
    yield server
    server.stop()
    server.log_file.close()


class LoggedServer(LiveServer):
    def start(self) -> None:
        self.log = self.data_dir.parent / "server.log"
        self.log_file = open(self.log, "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "serve", "--port", str(self.port), *self.args],
            env=self.env, cwd=ROOT, stdout=self.log_file, stderr=self.log_file,
        )
        self.wait_until_up()


def _head(path: str, length: int, content_type: str = "application/x-www-form-urlencoded") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\nAccept-Language: zh-CN\r\n\r\n").encode()


def _answer(sock: socket.socket) -> bytes:
    """The server's answer: its head and as much body as Content-Length says (30 s at most per read)."""
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length and (chunk := sock.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


def test_under_uvicorn_a_forwarded_for_header_from_loopback_is_not_believed(server):
    """uvicorn's own default would believe it from 127.0.0.1; revise starts it with that off."""
    import httpx2 as httpx

    statuses = []
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = parse_html(browser.get("/c/nanchong-2022/remarks").text)
        (form,) = page.xpath("//form[contains(@class,'comment-form')]")
        hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
        for i in range(3):
            data = {**hidden, "kind": "remark", "body": f"意见{i}", "action": "submit"}
            if i:  # a fresh one-time form token for each comment
                data["form_token"] = parse_html(browser.get("/c/nanchong-2022/remarks").text).xpath(
                    "string(//form[contains(@class,'comment-form')]//input[@name='form_token']/@value)")
            statuses.append(browser.post(form.get("action"), data=data,
                                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code)
    assert statuses == [303, 303, 429]


def test_a_body_that_trickles_in_is_cut_off_with_408(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_head("/c/nanchong-2022/remarks", 2000))
        for _ in range(600):  # one byte every 0.1 s; the server gives up after about 1 s
            if select.select([sock], [], [], 0.1)[0]:
                break
            sock.sendall(b"a")
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert "太慢" in answer.decode("utf-8")


def _get(path: str = "/", filler: int = 0, *, headers: int = 1) -> bytes:
    """A GET whose head carries `filler` bytes more, spread over `headers` header lines."""
    lines = "".join(f"X-Filler-{i}: {'a' * (filler // headers)}\r\n" for i in range(headers)) if filler else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode()


def _closed(sock: socket.socket) -> bool:
    """True when the server has closed the connection (bounded wait)."""
    sock.settimeout(30)
    try:
        while chunk := sock.recv(65536):
            del chunk
        return True
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("request_head", [
    _get(filler=17 * 1024),  # one header line over the bound
    _get(filler=20 * 1024, headers=400),  # many small ones
    _get("/c/nanchong-2022?q=" + "a" * 17 * 1024),  # the request target
], ids=["one-header", "many-headers", "target"])
def test_a_request_head_over_16_kb_is_refused_with_431_and_the_connection_closed(server, request_head):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request_head)
        answer = _answer(sock)
        assert answer.startswith(b"HTTP/1.1 431 ")
        assert "请求头过大" in answer.decode("utf-8")
        assert _closed(sock)


def test_a_header_line_that_never_ends_is_cut_off_without_waiting_for_its_end(server):
    """httptools keeps an unfinished header line whole: the bound counts bytes as they arrive."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: " + b"a" * 64 * 1024)
        # ... and nothing more: the line is never finished, the answer comes all the same.
        assert _answer(sock).startswith(b"HTTP/1.1 431 ")


def test_the_bound_is_on_each_head_not_on_bodies_or_on_pipelined_requests(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        # A head just under the bound with a 60 KB body, all in one write: judged by the head alone.
        body = b"body=" + b"a" * 60_000
        head = _head("/c/nanchong-2022/remarks", len(body)).replace(
            b"\r\n\r\n", b"\r\nX-Filler: " + b"a" * 15_000 + b"\r\n\r\n")
        sock.sendall(head + body)
        assert _answer(sock).split(b" ")[1] == b"403"  # no form token: refused by the app, not the parser
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        # Three pipelined requests of 10 KB heads each (30 KB in one write): each is within the bound.
        sock.sendall(_get(filler=10_000) * 3)
        sock.settimeout(30)
        data = b""
        while len(re.findall(rb"HTTP/1.1 (\d{3}) ", data)) < 3 and (chunk := sock.recv(65536)):
            data += chunk
    assert re.findall(rb"HTTP/1.1 (\d{3}) ", data) == [b"200"] * 3


def test_the_upload_is_refused_to_an_anonymous_visitor_before_20_mb_are_sent(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_head("/editor/new", 15 * 1024 * 1024, "multipart/form-data; boundary=x"))
        answer = _answer(sock)  # nothing of the body was sent: the answer comes anyway
    assert answer.split(b" ")[1] in (b"303", b"401")


def test_a_client_that_goes_away_mid_body_is_one_line_in_the_log_not_a_traceback(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_head("/c/nanchong-2022/remarks", 2000) + b"body=abc")
    deadline = time.monotonic() + 30
    while b"went away" not in server.log.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = server.log.read_bytes().decode()
    assert [line for line in log.splitlines() if "went away" in line][0].count("POST /c/nanchong-2022/remarks") == 1
    assert "Traceback" not in log


# --- files and start-up ---------------------------------------------------------------------------

def test_the_data_folder_database_wal_shm_and_secret_are_the_owners_only(settings, client, db):
    assert comment(client, block_with(db, "南充历史底蕴深厚")).status_code == 303  # a write
    mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)  # noqa: E731
    data = settings.data_dir
    assert mode(data) == 0o700
    files = ["revise.db", "revise.db-wal", "revise.db-shm", "secret.key"]
    assert {name: mode(data / name) for name in files} == {name: 0o600 for name in files}


def test_a_busy_port_is_one_clear_message_and_exit_status_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, str(ROOT / "server.py"), "serve", "--port", str(port)],
                              env=dict(os.environ, REVISE_DATA=str(tmp_path / "data"), **CHINESE), cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert str(port) in done.stderr and "端口" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_the_start_up_line_names_the_address_the_data_folder_and_the_consultations(tmp_path):
    port = free_port()
    server = LoggedServer(tmp_path / "data", port=port, **CHINESE)
    server.stop()
    server.log_file.close()
    (line,) = [line for line in server.log.read_text().splitlines() if f"http://127.0.0.1:{port}/" in line]
    assert str((tmp_path / "data").resolve()) in line and "共 1 个" in line
