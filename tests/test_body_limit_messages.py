"""What a resident reads when a form is refused for its size or its slowness (issue #10, checked for #17).

The body limit answers before the app sees the form, so its words are its own: the exact
sentence in the visitor's language (Chinese when none was chosen), the limit in whole KB, and
a closed connection (the rest of the body was never read, so the connection cannot be reused).
"""

import pytest

from revise.web.middleware import BodyLimit


def _finish(coroutine):
    """Run a coroutine that never waits (no event loop: another test may have left one running)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("the refusal waited for something")


def refusal(status: int, limit: int, locale: str | None):
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/c/x/b/1", "headers": []}
    if locale is not None:
        scope["state"] = {"locale": locale}
    _finish(BodyLimit(None, limit)._refuse(scope, receive, send, status, limit))
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
