"""The request guards as the separate ASGI layers they were before issue #11 folded them into
`revise.web.middleware.RequestPath`: kept here, as the oracle `tests/test_request_path.py`
compares the one layer against (same status, headers, cookies and access-log line). Not used
by the app. Each is the code as it ran in production until then, less what moved into
`revise.web.middleware` (the host-name matching, the session id's issue and check).
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revise.i18n import N_, choose_locale, gettext
from revise.web.middleware import (
    HSTS,
    LANG_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    HostNames,
    VisitorSession,
    private_cache_control,
)


def cookie(scope: Scope, name: str) -> str | None:
    """One cookie's value from the request headers; a malformed Cookie header counts as none."""
    jar = SimpleCookie()
    for header, value in scope["headers"]:
        if header == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed header must not break the page
                return None
    return jar[name].value if name in jar else None


class SecurityHeaders:
    """Adds the security headers to every HTTP response; one that sets a cookie is never left
    publicly cacheable."""

    def __init__(self, app: ASGIApp, hsts: bool = False):
        self.app = app
        self.headers = {**SECURITY_HEADERS, **({"strict-transport-security": HSTS} if hsts else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if "set-cookie" in headers:
                    headers["cache-control"] = private_cache_control(headers.get("cache-control", ""))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LocaleMiddleware:
    """Chooses zh_CN or en for the request (scope state "locale") and remembers ?lang=."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        asked = (query.get("lang") or [None])[0]
        remembered = cookie(scope, LANG_COOKIE)
        locale = choose_locale(asked, remembered, headers.get("accept-language", ""))
        scope.setdefault("state", {})["locale"] = locale
        remember = asked is not None and locale != remembered

        async def send_with_locale(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.add_vary_header("Accept-Language")
                out.add_vary_header("Cookie")
                out.setdefault("content-language", locale.replace("_", "-"))
                if remember:
                    out.append("set-cookie", f"{LANG_COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax")
            await send(message)

        await self.app(scope, receive, send_with_locale)


class AllowedHosts:
    """Refuses (400, in the visitor's language) requests addressed to a host name not served."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...]):
        self.app = app
        self.names = HostNames(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.names.allows(Headers(scope=scope).get("host", "")):
            await self.app(scope, receive, send)
            return
        locale = scope.get("state", {}).get("locale", "zh_CN")
        text = gettext(N_("This site is not served under that address. Use the consultation's official link."), locale)
        await PlainTextResponse(text, status_code=400)(scope, receive, send)


class VisitorSessionLayer:
    """Gives every visitor a session id (cookie "sid") issued by the server."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secret = scope["app"].state.signer.secret
        existing = cookie(scope, SESSION_COOKIE) or ""
        valid = VisitorSession.issued(secret, existing)
        state = scope.setdefault("state", {})
        state["session_id"] = existing if valid else None
        state["new_session_id"] = None if valid else VisitorSession.issue(secret)
        secure = "; Secure" if scope.get("scheme") == "https" else ""

        async def send_with_cookie(message: Message) -> None:
            # Read at the start of the answer: the app may have rotated the id meanwhile.
            if message["type"] == "http.response.start" and state.get("new_session_id"):
                MutableHeaders(scope=message).append(
                    "set-cookie", f"{SESSION_COOKIE}={state['new_session_id']}; Path=/; HttpOnly; SameSite=Lax{secure}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)
