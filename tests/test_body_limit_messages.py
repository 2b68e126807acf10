"""What a resident reads when a form is refused for its size or its slowness (issue #10, checked for #17).

The body limit answers before the app sees the form, so its words are its own: the exact
sentence in the visitor's language (Chinese when none was chosen), the limit in whole KB, and
a closed connection (the rest of the body was never read, so the connection cannot be reused).
"""

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


def _post(limit: int, chunks: list[bytes], content_length: int | None = None):
    """A POST through BodyLimit alone: (status answered, what the app read, messages received)."""
    read = []
    received = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            read.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

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
