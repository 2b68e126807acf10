"""What a resident reads when a form is refused for its size or its slowness (issue #10, checked for #17).

The body limit answers before the app sees the form, so its words are its own: the exact
sentence in the visitor's language (Chinese when none was chosen), the limit in whole KB, and
a closed connection (the rest of the body was never read, so the connection cannot be reused).
"""

import logging

import pytest
from conftest import finish

from revise.web.middleware import BodyLimit


def refusal(status: int, limit: int, locale: str | None):
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/c/x/b/1", "headers": []}
    if locale is not None:
        scope["state"] = {"locale": locale}
    finish(BodyLimit(None, limit)._refuse(scope, receive, send, status, limit))
    start, body = sent
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, body["body"].decode()


@pytest.mark.parametrize("locale, limit, says", [
    ("zh_CN", 65536, "提交的内容过大(最多 64 KB)。"),
    (None, 65536, "提交的内容过大(最多 64 KB)。"),  # no language chosen: Chinese
    ("en", 65536, "The form is too large to accept (at most 64 KB)."),
    ("en", 10 * 1024 * 1024 + 1023, "The form is too large to accept (at most 10240 KB)."),  # whole KB, rounded down
])
def test_a_form_over_the_limit_is_refused_with_the_limit_in_kb(locale, limit, says):
    status, headers, text = refusal(413, limit, locale)
    assert (status, text) == (413, says)
    assert headers["connection"] == "close"
    assert headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("locale, says", [
    ("zh_CN", "表单传送太慢,未被接受。请检查网络连接后重新提交。"),
    (None, "表单传送太慢,未被接受。请检查网络连接后重新提交。"),
    ("en", "The form arrived too slowly and was not accepted. Check your connection and send it again."),
])
def test_a_form_that_trickles_in_is_refused_as_too_slow(locale, says):
    status, headers, text = refusal(408, 65536, locale)
    assert (status, text) == (408, says)
    assert headers["connection"] == "close"


def _run(make):
    """asyncio.run(make()) in a thread of its own (this thread may already have a loop running)."""
    import asyncio
    import threading

    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("value", asyncio.run(make())))
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the body limit waited for a body it should not have read"
    return out["value"]


def _reading_app(read: list, *, wait_for_disconnect: bool = False):
    """An app that reads the whole body into `read` (then, if asked, waits for the client to go
    away) and answers 200."""

    async def app(scope, receive, send):
        while True:
            message = await receive()
            read.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        if wait_for_disconnect:
            assert (await receive())["type"] == "http.disconnect"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _post(limit: int, chunks: list[bytes], content_length: int | None = None):
    """A POST through BodyLimit alone: (status answered, what the app read, messages received)."""
    read = []
    received = []
    app = _reading_app(read)

    async def make():
        import asyncio

        sent = []
        queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

        async def receive():
            if queue:
                received.append(queue[0])
                return queue.pop(0)
            await asyncio.sleep(3600)  # a client that never sends the rest

        async def send(message):
            sent.append(message)

        headers = [(b"content-type", b"application/x-www-form-urlencoded")]
        if content_length is not None:
            headers.append((b"content-length", str(content_length).encode()))
        scope = {"type": "http", "method": "POST", "path": "/c/x/b/1", "headers": headers, "state": {"locale": "en"}}
        await BodyLimit(app, limit, timeout=60)(scope, receive, send)
        return sent[0]["status"]

    status = _run(make)
    return status, b"".join(read), received


def test_a_declared_length_over_the_limit_is_refused_before_any_of_the_body_is_read():
    """The client that announces 11 bytes to a 10-byte limit and then sends nothing is answered at once."""
    status, read, received = _post(10, [], content_length=11)
    assert status == 413 and read == b"" and received == []


def test_a_declared_length_of_exactly_the_limit_is_read_and_accepted():
    status, read, _ = _post(10, [b"a=12345678"], content_length=10)
    assert (status, read) == (200, b"a=12345678")


@pytest.mark.parametrize("chunks, status", [
    ([b"a=123", b"45678"], 200),  # exactly the limit, in two pieces and without a declared length
    ([b"a=123", b"456789"], 413),  # one byte over
])
def test_an_undeclared_body_is_counted_to_the_byte(chunks, status):
    assert _post(10, chunks)[0] == status


# --- how long a body may take (issue #10): `timeout` seconds, plus one second per 10 KB received ---------


def _timed_post(chunks: list[tuple[float, bytes]], *, timeout: float | None = 30, limit: int = 1 << 20,
                then: float | None = None, client=("203.0.113.9", 5000), last_says_more_body: bool = True):
    """A POST whose body pieces reach the server at the given times (seconds on the client's own
    clock, which BodyLimit reads): the status answered and what the app read. `then`: once the body
    is complete the app waits for the client to go away, and it does at that time."""
    read: list[bytes] = []
    app = _reading_app(read, wait_for_disconnect=then is not None)

    async def make():
        import asyncio

        sent = []
        arrivals = [at for at, _ in chunks] + ([then] if then is not None else [])
        queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, (_, c) in enumerate(chunks)]
        if not last_says_more_body:  # ASGI: a message without "more_body" is the last
            del queue[len(chunks) - 1]["more_body"]
        if then is not None:
            queue.append({"type": "http.disconnect"})
        now = [arrivals[0]]

        async def receive():
            await asyncio.sleep(0)  # where a deadline already passed cuts the wait short
            message = queue.pop(0)
            now[0] = arrivals[len(arrivals) - len(queue)] if queue else now[0]
            return message

        async def send(message):
            sent.append(message)

        limiter = BodyLimit(app, limit, timeout=timeout) if timeout is not None else BodyLimit(app, limit)
        limiter.clock = lambda: now[0]
        scope = {"type": "http", "method": "POST", "path": "/c/x/b/1", "client": client,
                 "headers": [(b"content-type", b"application/x-www-form-urlencoded")], "state": {"locale": "zh_CN"}}
        await limiter(scope, receive, send)
        return sent[0]["status"], sent[1]["body"].decode()

    status, text = _run(make)
    return status, text, b"".join(read)


@pytest.mark.parametrize("second_piece_at, status", [(29.0, 200), (31.0, 408)])
def test_a_small_form_must_arrive_within_the_timeout(second_piece_at, status):
    answered, text, read = _timed_post([(0.0, b"a=1"), (second_piece_at, b"&b=2")])
    assert answered == status
    if status == 200:
        assert read == b"a=1&b=2"
    else:
        assert text == "表单传送太慢,未被接受。请检查网络连接后重新提交。"


@pytest.mark.parametrize("timeout, second_piece_at, status", [(5, 4.0, 200), (5, 6.0, 408), (60, 59.0, 200),
                                                            (None, 29.0, 200), (None, 31.0, 408)])  # default: 30 s
def test_the_timeout_is_the_configured_one(timeout, second_piece_at, status):
    assert _timed_post([(0.0, b"a=1"), (second_piece_at, b"&b=2")], timeout=timeout)[0] == status


@pytest.mark.parametrize("last_piece_at, status", [
    (31.5, 200),  # 20 KB received: 30 s + 2 s
    (32.5, 408),
])
def test_each_10_kb_received_earns_one_more_second(last_piece_at, status):
    """A large upload on a slow line still gets through; a trickle of bytes does not."""
    assert _timed_post([(0.0, b"a=" + b"x" * (20 * 1024 - 2)), (last_piece_at, b"&b=2")])[0] == status


def test_the_allowance_counts_every_piece_received_so_far():
    pieces = [(0.0, b"a=" + b"x" * 10238)] + [(1.0 + i, b"y" * 10240) for i in range(4)]  # 50 KB by 4 s
    assert _timed_post(pieces + [(34.5, b"&b=2")])[0] == 200  # 30 s + 5 s
    assert _timed_post(pieces + [(35.5, b"&b=2")])[0] == 408


def test_a_form_sent_whole_is_never_cut_off_however_long_the_app_then_waits():
    """Once the body is complete, waiting for the client (to notice it leave) has no deadline."""
    status, _, read = _timed_post([(0.0, b"a=1")], then=10_000.0)
    assert (status, read) == (200, b"a=1")


def test_a_body_whose_last_piece_does_not_say_more_body_is_complete():
    status, _, read = _timed_post([(0.0, b"a=1"), (1.0, b"&b=2")], then=10_000.0, last_says_more_body=False)
    assert (status, read) == (200, b"a=1&b=2")


def test_a_form_too_slow_is_one_line_in_the_log(caplog):
    with caplog.at_level(logging.INFO, logger="revise"):
        assert _timed_post([(0.0, b"a=1"), (31.0, b"&b=2")])[0] == 408
        assert _timed_post([(0.0, b"a=1"), (31.0, b"&b=2")], client=None)[0] == 408
    assert [r.getMessage() for r in caplog.records if r.name == "revise"] == [
        "client 203.0.113.9 sent its body too slowly: POST /c/x/b/1 answered 408",
        "client unknown sent its body too slowly: POST /c/x/b/1 answered 408"]


# --- which requests are limited, and by how much --------------------------------------------------------


def _through(method: str, path: str, content_type: bytes, size: int, **limits):
    """The status BodyLimit(limit=1000, uploads=…, multipart=…) answers a body of `size` bytes."""
    app = _reading_app([])

    async def make():
        sent = []
        body = [{"type": "http.request", "body": b"x" * size, "more_body": False}]

        async def receive():
            return body.pop(0) if body else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        headers = [(b"content-type", content_type), (b"content-length", str(size).encode())]
        scope = {"type": "http", "method": method, "path": path, "headers": headers, "state": {"locale": "en"}}
        await BodyLimit(app, 1000, uploads={"/editor/new": 5000}, multipart=((r"/c/[a-z]+/b/\d+", 3000),),
                        **limits)(scope, receive, send)
        return sent[0]["status"]

    return _run(make)


FORM, MULTIPART = b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x"


@pytest.mark.parametrize("method, path, content_type, size, status", [
    ("POST", "/c/x/b/1", FORM, 1000, 200),
    ("POST", "/c/x/b/1", FORM, 1001, 413),
    ("PUT", "/c/x/b/1", FORM, 1001, 413),
    ("PATCH", "/c/x/b/1", FORM, 1001, 413),
    ("DELETE", "/c/x/b/1", FORM, 1001, 413),
    ("GET", "/c/x/b/1", FORM, 100_000, 200),  # a reader's page is never refused for a body
    ("HEAD", "/c/x/b/1", FORM, 100_000, 200),
    ("OPTIONS", "/c/x/b/1", FORM, 100_000, 200),
    ("POST", "/editor/new", FORM, 5000, 200),  # the draft upload's own limit, whatever the type
    ("POST", "/editor/new", MULTIPART, 5001, 413),
    ("POST", "/editor/new/x", FORM, 1001, 413),  # an exact path, not a prefix
    ("POST", "/c/x/b/1", MULTIPART, 3000, 200),  # a comment with an attachment
    ("POST", "/c/x/b/1", b"Multipart/Form-Data; boundary=x", 3000, 200),
    ("POST", "/c/x/b/1", MULTIPART, 3001, 413),
    ("POST", "/c/x/b/1/more", MULTIPART, 1001, 413),  # the pattern must match the whole path
    ("POST", "/other", MULTIPART, 1001, 413),  # multipart elsewhere keeps the small limit
])
def test_each_path_and_type_has_its_limit(method, path, content_type, size, status):
    assert _through(method, path, content_type, size) == status


def test_a_client_that_goes_away_mid_body_is_one_line_naming_it(caplog):
    from starlette.requests import ClientDisconnect

    async def app(scope, receive, send):
        raise ClientDisconnect()

    async def make():
        async def nothing(*_):
            return {"type": "http.disconnect"}

        for client in (("198.51.100.7", 4000), None):
            scope = {"type": "http", "method": "POST", "path": "/c/x/b/1", "headers": [], "client": client}
            await BodyLimit(app, 1000)(scope, nothing, nothing)
        return True

    with caplog.at_level(logging.INFO, logger="revise"):
        assert _run(make)
    assert [r.getMessage() for r in caplog.records if r.name == "revise"] == [
        "client 198.51.100.7 went away during POST /c/x/b/1", "client unknown went away during POST /c/x/b/1"]


def test_anything_but_http_goes_straight_to_the_app():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    async def make():
        async def nothing(*_):
            return {}

        await BodyLimit(app, 10)({"type": "lifespan"}, nothing, nothing)
        return seen

    assert _run(make) == ["lifespan"]
