"""RequestPath (issue #11): the seven request guards folded into one layer answer exactly as the
seven separate layers did (kept as the oracle in tests/reference_layers.py) — same status, same
headers, same cookies, same access-log line."""

from __future__ import annotations

import logging
import random

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from revise.security import Signer
from revise.timeutil import from_text
from revise.web.access_log import AccessLog
from revise.web.clients import ForwardedClient
from reference_layers import AllowedHosts, LocaleMiddleware, SecurityHeaders, VisitorSessionLayer, cookie
from revise.web.middleware import BodyLimit, RequestPath, VisitorSession, _cookie_jar

HOSTS = ("testserver", "consult.example.gov.cn")
TRUSTED = ("10.0.0.0/8",)


async def page(request: Request):
    state = request.scope["state"]
    if request.query_params.get("rotate"):
        VisitorSession.rotate(request.scope)
    text = f"{state['locale']} {request.client.host} {request.url.scheme} {bool(state['session_id'])}"
    return Response(text, headers={"vary": "HX-Request", "cache-control": "public, max-age=60"})


async def form(request: Request):
    data = await request.form()
    return PlainTextResponse(f"{len(data)} fields")


def make(layers: str) -> Starlette:
    limits = dict(limit=1000, uploads={"/upload": 5000}, multipart=(("/multi", 3000),), timeout=5)
    if layers == "one":
        middleware = [Middleware(RequestPath, trusted=TRUSTED, hsts=True, allowed_hosts=HOSTS, **limits)]
    else:  # the stack as it was before issue #11, outermost first
        middleware = [Middleware(ForwardedClient, trusted=TRUSTED), Middleware(AccessLog),
                      Middleware(SecurityHeaders, hsts=True), Middleware(LocaleMiddleware),
                      Middleware(AllowedHosts, allowed_hosts=HOSTS), Middleware(VisitorSessionLayer),
                      Middleware(BodyLimit, **limits)]
    app = Starlette(routes=[Route("/", page), Route("/form", form, methods=["POST"]),
                            Route("/multi", form, methods=["POST"])], middleware=middleware)
    app.state.signer = Signer(b"a test secret of thirty-two bytes")
    return app


def comparable(response) -> tuple:
    """Status, body and headers, with freshly issued session ids (random) blanked."""
    headers = []
    for name, value in response.headers.multi_items():
        if name == "set-cookie" and value.startswith("sid="):
            value = "sid=[new]" + value[value.index(";"):]
        headers.append((name, value))
    body = response.text
    return response.status_code, body, headers


def issued_sid() -> str:
    return VisitorSession.issue(b"a test secret of thirty-two bytes")


SID = issued_sid()
REQUESTS = [
    ("GET", "/", {}, None),
    ("GET", "/?lang=en", {}, None),
    ("GET", "/?%6Cang=en", {}, None),  # parse_qs decodes the name: still ?lang=
    ("GET", "/?lang=en", {"cookie": "lang=en"}, None),
    ("GET", "/", {"accept-language": "en-US,en;q=0.9"}, None),
    ("GET", "/", {"cookie": f"sid={SID}"}, None),
    ("GET", "/?rotate=1", {"cookie": f"sid={SID}; lang=en"}, None),
    ("GET", "/", {"cookie": "sid=forged.value; lang=en"}, None),
    ("GET", "/", {"cookie": 'lang="en"; sid=x'}, None),
    ("GET", "/", {"cookie": "lang=en; path=/"}, None),
    ("GET", "/", {"cookie": f"sid={SID}; /=)"}, None),  # SimpleCookie refuses it: counts as no cookie at all
    ("GET", "/", {"host": "evil.example.com"}, None),
    ("GET", "/?lang=en", {"host": "evil.example.com"}, None),
    ("GET", "/", {"host": "consult.example.gov.cn:8443"}, None),
    ("GET", "/", {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}, None),
    ("GET", "/missing", {}, None),
    ("POST", "/form", {"content-type": "application/x-www-form-urlencoded"}, b"a=1&b=2"),
    ("POST", "/form", {"content-type": "application/x-www-form-urlencoded"}, b"a=" + b"x" * 2000),
    ("POST", "/multi", {"content-type": "application/x-www-form-urlencoded"}, b"a=" + b"x" * 2000),
]


@pytest.mark.parametrize("method,path,headers,body", REQUESTS)
@pytest.mark.parametrize("peer", ["127.0.0.1", "10.1.2.3"])
def test_one_layer_answers_as_the_seven_did(method, path, headers, body, peer, caplog):
    answers, lines = [], []
    for layers in ("seven", "one"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="revise.access"):
            with TestClient(make(layers), client=(peer, 5000)) as client:
                answers.append(comparable(client.request(method, path, headers=headers, content=body)))
        lines.append([r.getMessage().rsplit(" ", 1)[0] for r in caplog.records if r.name == "revise.access"])
    assert answers[0] == answers[1]
    assert lines[0] == lines[1] and len(lines[1]) == 1  # the same line, less its duration


def test_a_page_that_sets_a_cookie_is_not_publicly_cacheable():
    with TestClient(make("one")) as client:
        fresh = client.get("/", headers={"cookie": ""})
        again = client.get("/", headers={"cookie": f"sid={SID}"})
    assert "sid=" in fresh.headers["set-cookie"] and fresh.headers["cache-control"] == "private, max-age=60"
    assert "set-cookie" not in again.headers and again.headers["cache-control"] == "public, max-age=60"
    assert again.headers["strict-transport-security"] and again.headers["x-frame-options"] == "DENY"


def test_the_cookie_header_is_read_as_simplecookie_reads_it():
    samples = [b"sid=abc.def; lang=en", b"lang=en; path=/", b"path=/; lang=en", b'lang="en"', b"lang=en;;sid=1",
               b"$Version=1; lang=en", b"lang=\xe4", b"lang=en; sid=a b", b"a=b=c; lang=en", b"lang=en,sid=3", b""]
    rng = random.Random(11)
    alphabet = b"ab=;, \"$.-_lsidang\\\t"
    samples += [bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(3000)]
    for previous, sample in zip(samples, samples[1:]):
        for headers in ([sample], [previous, sample]):
            jar = _cookie_jar(headers)
            for name in ("lang", "sid", "a"):
                expected = cookie({"headers": [(b"cookie", h) for h in headers]}, name)
                assert (jar.get(name) if jar is not None else None) == expected, (headers, name)


def test_stored_instants_are_parsed_alike_and_bad_ones_still_refused():
    assert from_text("2026-12-02T03:00:00Z") == from_text("2026-12-02T03:00:00Z")
    assert from_text("2026-12-02T03:00:00Z").tzinfo is not None
    for _ in range(2):
        with pytest.raises(ValueError):
            from_text("2026-12-02 03:00")


@pytest.mark.parametrize("sent, kept", [
    ("", "private"),
    ("public, max-age=60", "private, max-age=60"),
    ("PUBLIC, Max-Age=60", "private, Max-Age=60"),
    ("public, s-maxage=600, max-age=60", "private, max-age=60"),
    ("max-age=60, S-MaxAge=600", "private, max-age=60"),
    ("private, max-age=0", "private, max-age=0"),  # already private: not said twice
    ("Private, max-age=0", "Private, max-age=0"),
    ("no-store", "no-store"),  # stored nowhere is stricter than private
    ("No-Store, must-revalidate", "No-Store, must-revalidate"),
    ("no-cache , , must-revalidate", "private, no-cache, must-revalidate"),
])
def test_an_answer_that_sets_a_cookie_is_made_private_whatever_the_spelling(sent, kept):
    from revise.web.middleware import private_cache_control

    assert private_cache_control(sent) == kept


@pytest.mark.parametrize("host, served", [
    ("testserver", True),
    ("TestServer", True),  # host names ignore case
    ("testserver:8000", True),
    ("consult.example.gov.cn", True),
    ("[::1]:8000", True),
    ("a.example.org", True),  # *.example.org
    ("a.b.example.org", True),
    ("example.org", False),  # the wildcard is for names under it, not the name itself
    ("badexample.org", False),
    ("evil.example.com", False),
    ("", False),
    ("testserver:port", False),  # a port that is not a number
    ("testserver:99999", False),  # out of range
    ("evil.example.com@testserver", False),  # user information
    ("testserver/path", False),
    ("testserver?x=1", False),
    ("testserver#x", False),
    (":8000", False),
])
def test_the_host_names_served_are_matched_exactly_or_under_a_wildcard(host, served):
    from revise.web.middleware import HostNames

    assert HostNames(("testserver", "consult.example.gov.cn", "::1", "*.example.org")).allows(host) is served


@pytest.mark.parametrize("host", ["anything.example", "10.0.0.1:8000"])
def test_a_star_serves_any_well_formed_host_but_never_a_malformed_one(host):
    from revise.web.middleware import HostNames

    assert HostNames(("*",)).allows(host) is True
    assert HostNames(("*",)).allows(f"user@{host}") is False
    assert HostNames(("*",)).allows("x:port") is False


def test_each_hosts_verdict_is_worked_out_once_and_the_memo_stays_bounded():
    layer = make("one").build_middleware_stack()
    while not isinstance(layer, RequestPath):
        layer = layer.app
    asked = []
    allows = layer.hosts.allows
    layer.hosts.allows = lambda host: asked.append(host) or allows(host)
    assert [layer._allows("testserver"), layer._allows("testserver"), layer._allows("evil.example")] == [
        True, True, False]
    assert asked == ["testserver", "evil.example"]
    held = []
    for n in range(RequestPath.CACHE + 10):
        layer._allows(f"h{n}.example")
        held.append(len(layer._host_ok))
    assert max(held) == RequestPath.CACHE  # never more, however many names clients send


def test_setting_a_header_keeps_one_of_that_name_where_the_first_was():
    from revise.web.middleware import _set_header

    headers = [(b"vary", b"a"), (b"x", b"1"), (b"vary", b"b"), (b"vary", b"c"), (b"y", b"2")]
    _set_header(headers, b"vary", b"a, b, c, Cookie")
    assert headers == [(b"vary", b"a, b, c, Cookie"), (b"x", b"1"), (b"y", b"2")]
    _set_header(headers, b"cache-control", b"private")
    assert headers[-1] == (b"cache-control", b"private") and len(headers) == 4


def test_host_names_are_configured_in_any_case():
    from revise.web.middleware import HostNames

    names = HostNames(("Consult.Example.GOV.cn", "*.Example.ORG"))
    assert names.allows("consult.example.gov.cn") and names.allows("www.example.org")
    assert not names.allows("other.gov.cn") and not names.allows("example.org")


def test_each_language_choice_is_worked_out_once_and_the_memo_stays_bounded(monkeypatch):
    import revise.web.middleware as middleware

    layer = make("one").build_middleware_stack()
    while not isinstance(layer, RequestPath):
        layer = layer.app
    asked = []
    choose = middleware.choose_locale
    monkeypatch.setattr(middleware, "choose_locale", lambda *a: asked.append(a) or choose(*a))
    assert layer._locale("en", None, "") == layer._locale("en", None, "") == "en"
    assert layer._locale(None, None, "zh-CN") == "zh_CN"
    assert asked == [("en", None, ""), (None, None, "zh-CN")]
    held = []
    for n in range(RequestPath.CACHE + 10):
        layer._locale(None, None, f"x-{n}")
        held.append(len(layer._locales))
    assert max(held) == RequestPath.CACHE


def test_a_wildcard_serves_names_under_it_not_any_name():
    from revise.web.middleware import HostNames

    names = HostNames(("*.example.org",))
    assert names.allows("www.example.org") and not names.allows("*") and not names.allows("www.example.com")


def test_the_shortcut_answers_what_it_takes_and_leaves_the_rest_to_the_app():
    async def shortcut(scope, receive, send):
        if scope["path"] != "/fast":
            return False
        await PlainTextResponse("from the shortcut")(scope, receive, send)
        return True

    app = make("one")
    app.user_middleware[0].kwargs["shortcut"] = shortcut
    with TestClient(app) as client:
        fast, other = client.get("/fast"), client.get("/")
    assert (fast.status_code, fast.text) == (200, "from the shortcut")
    assert fast.headers["x-frame-options"] == "DENY" and "set-cookie" not in fast.headers  # guarded, no session
    assert other.status_code == 200 and other.text.startswith("zh_CN")


def _access_lines(caplog, app, *requests):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="revise.access"):
        with TestClient(app, raise_server_exceptions=False) as client:
            for method, path in requests:
                client.request(method, path)
    return [r.getMessage() for r in caplog.records if r.name == "revise.access"]


def test_a_request_that_fails_is_logged_as_500_with_its_own_duration(caplog):
    async def broken(request):
        raise RuntimeError("a bug")

    import time

    app = make("one")
    app.router.routes.append(Route("/broken", broken))
    before = time.perf_counter()
    line, = _access_lines(caplog, app, ("GET", "/broken"))
    span_ms = (time.perf_counter() - before) * 1000
    head, duration = line.rsplit(" ", 1)
    assert head == 'testclient "GET /broken" 500'  # 500, not the "-" of a request never answered
    # the time this request took, within the span the test saw it in (not the clock's reading)
    assert duration.endswith("ms") and 0 <= float(duration[:-2]) <= span_ms + 0.1


def test_a_slow_body_through_the_one_layer_gets_the_configured_timeout():
    """make() gives RequestPath a 5 s body timeout: a second piece 6 s after the first is too late."""
    import asyncio
    import threading

    layer = make("one").build_middleware_stack()
    while not isinstance(layer, RequestPath):
        layer = layer.app
    now = [0.0]
    layer.body.clock = lambda: now[0]
    sent = []
    pieces = [{"type": "http.request", "body": b"a=1", "more_body": True},
              {"type": "http.request", "body": b"&b=2", "more_body": False}]

    async def receive():
        await asyncio.sleep(0)
        message = pieces.pop(0)
        now[0] = 6.0
        return message

    async def send(message):
        sent.append(message)

    async def app(scope, receive_, send_):
        while (await receive_()).get("more_body"):
            pass
        await PlainTextResponse("ok")(scope, receive_, send_)

    layer.body.app = app
    scope = {"type": "http", "method": "POST", "path": "/form", "query_string": b"", "scheme": "http",
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "app": make("one"),
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded")]}
    result = {}

    worker = threading.Thread(target=lambda: result.setdefault("ok", asyncio.run(layer(scope, receive, send))))
    worker.start()
    worker.join(30)
    assert sent[0]["status"] == 408


def test_the_host_header_is_found_wherever_it_comes_among_the_headers():
    """HTTP does not put Host first; a client that sends it after others is served alike."""
    import asyncio
    import threading

    app = make("one")
    sent, result = [], {}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    for headers in ([(b"user-agent", b"x"), (b"accept", b"*/*"), (b"host", b"testserver")],
                    [(b"user-agent", b"x"), (b"host", b"evil.example.com"), (b"host", b"testserver")]):
        scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
                 "scheme": "http", "http_version": "1.1", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
                 "root_path": "", "headers": headers}
        worker = threading.Thread(target=lambda: result.setdefault(len(sent), asyncio.run(app(scope, receive, send))))
        worker.start()
        worker.join(30)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200, 400]  # the first Host counts


def test_an_answer_whose_headers_are_a_tuple_still_gets_every_guard_header():
    """ASGI allows any iterable of header pairs (revise's own prepared pages send tuples)."""
    class Prepared:  # an ASGI app of its own, not a request handler
        async def __call__(self, scope, receive, send):
            await send({"type": "http.response.start", "status": 200,
                        "headers": ((b"content-type", b"text/plain"), (b"cache-control", b"public, max-age=60"))})
            await send({"type": "http.response.body", "body": b"ok"})

    app = make("one")
    app.router.routes.append(Route("/prepared", Prepared()))
    with TestClient(app) as client:
        response = client.get("/prepared", headers={"cookie": ""})
    assert response.text == "ok" and response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "private, max-age=60"  # a new session cookie came with it


def test_an_answer_with_its_own_language_keeps_it_and_gets_no_second_one():
    async def english(request):
        return PlainTextResponse("hello", headers={"content-language": "en"})

    app = make("one")
    app.router.routes.append(Route("/english", english))
    with TestClient(app) as client:
        response = client.get("/english")
    assert response.headers.get_list("content-language") == ["en"]
    assert client.get("/").headers.get_list("content-language") == ["zh-CN"]


@pytest.mark.parametrize("allowed", [HOSTS, ("*",)])
def test_a_request_without_a_host_header_is_refused_whatever_names_are_served(allowed):
    import asyncio
    import threading

    app = Starlette(routes=[Route("/", page)], middleware=[Middleware(
        RequestPath, trusted=(), hsts=False, allowed_hosts=allowed, limit=1000, uploads={}, multipart=(), timeout=5)])
    app.state.signer = Signer(b"a test secret of thirty-two bytes")
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"", "scheme": "http",
             "http_version": "1.0", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "root_path": "",
             "headers": [(b"user-agent", b"old/1.0")]}
    worker = threading.Thread(target=lambda: asyncio.run(app(scope, receive, send)))
    worker.start()
    worker.join(30)
    assert sent[0]["status"] == 400


def test_every_cookie_header_is_read_as_http2_clients_split_them():
    assert _cookie_jar([b"lang=en", b"sid=abc.def"]) == {"lang": "en", "sid": "abc.def"}
    assert _cookie_jar([b"lang=en", b'sid="quoted"']) == {"lang": "en", "sid": "quoted"}
    assert _cookie_jar([b"lang=en", b"lang=zh_CN"]) == {"lang": "zh_CN"}  # the later header wins
