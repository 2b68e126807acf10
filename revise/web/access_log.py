"""One access-log line per request (issue #15), with the secrets in addresses redacted.

    203.0.113.7 "GET /c/nanchong-2022?lang=en" 200 3.1ms
    198.51.100.4 "POST /d/[token]/remarks" 303 12.4ms
    198.51.100.4 "GET /r/[receipt]" 200 2.0ms

The client is the address revise believes (after revise.web.clients.ForwardedClient: the real
client behind a trusted proxy, else the peer), so it sits right after that middleware. A
department's private link (/d/<token>/…) is its password and a receipt code (/r/<code>,
?receipt=, ?code=) lets anyone read the comment: neither is ever written to the log. Other
query parameters are kept (?lang=, ?page=) but cut to a bounded length, as is the path.

The lines go to the "revise.access" logger at INFO (revise/serving.py sends them to stderr,
where journald or a log file takes them; REVISE_ACCESS_LOG=0 turns them off). uvicorn's own
access log is off: it would print the proxy's address and the secrets.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revise.log_lines import quick_info

log = logging.getLogger("revise.access")

# Path segments that are secrets: (pattern, replacement).
_SECRET_PATHS = (
    (re.compile(r"^/d/[^/]+"), "/d/[token]"),
    (re.compile(r"^/r/[^/]+"), "/r/[receipt]"),
)
# Query parameters whose values are secrets.
SECRET_PARAMS = frozenset({"receipt", "code", "token"})
MAX_PATH = 300
MAX_QUERY = 200


def redact(path: str, query: str = "") -> str:
    """The path and query as logged: tokens and receipt codes replaced, length bounded."""
    if path.startswith(("/d/", "/r/")):  # the only paths _SECRET_PATHS can match
        for pattern, replacement in _SECRET_PATHS:
            path = pattern.sub(replacement, path, count=1)
    path = _printable(path)[:MAX_PATH]
    if not query:
        return path
    pairs = [(name, "[redacted]" if name.lower() in SECRET_PARAMS else value)
             for name, value in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{_printable(urlencode(pairs, safe='[]'))[:MAX_QUERY]}" if pairs else path


def _printable(text: str) -> str:
    """No control characters (a forged newline would forge a log line)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else "?" for ch in text)


class AccessLog:
    """Logs method, path (redacted), status, duration and client of every HTTP request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        except BaseException:
            status = status or 500
            raise
        finally:
            write_line(scope, status, started)


def write_line(scope: Scope, status: int, started: float) -> None:
    """The request's line (status 0: no answer was started); `started` is its time.perf_counter()."""
    if not log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    query = scope.get("query_string", b"").decode("latin-1")
    args = (client[0] if client else "-", _printable(scope.get("method", "?"))[:16],
            redact(scope.get("path", ""), query), status or "-", (time.perf_counter() - started) * 1000)
    # The line straight into the server's batched handler, as logging would write it; else (a
    # filter, another handler, a test's capture) log.info() without its search of the call stack
    # for the caller (a third of the line's cost): the same record, the same filters and handlers.
    if not quick_info(log, _LINE % args):
        log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, _LINE, args, None, "write_line"))


_LINE = '%s "%s %s" %s %.1fms'

