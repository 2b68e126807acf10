"""ASGI middleware: security headers on every answer, and the visitor's language."""

from __future__ import annotations

import re
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revise.i18n import choose_locale

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    # Department links carry a secret in the path: never send it on as a Referer.
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
LANG_COOKIE = "lang"


def _cookie(scope: Scope, name: str) -> str | None:
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
    """Adds the security headers to every HTTP response, errors included."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
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
        remembered = _cookie(scope, LANG_COOKIE)
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
                    out.append(
                        "set-cookie",
                        f"{LANG_COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax",
                    )
            await send(message)

        await self.app(scope, receive, send_with_locale)


SESSION_COOKIE = "sid"


class VisitorSession:
    """Gives every visitor a random session id (cookie "sid") that CSRF tokens are bound to."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        existing = _cookie(scope, SESSION_COOKIE) or ""
        valid = 20 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum()
        session_id = existing if valid else secrets.token_urlsafe(24)
        scope.setdefault("state", {})["session_id"] = session_id if valid else None
        scope["state"]["new_session_id"] = None if valid else session_id
        secure = "; Secure" if scope.get("scheme") == "https" else ""

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and not valid:
                MutableHeaders(scope=message).append(
                    "set-cookie", f"{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax{secure}"
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class BodyLimit:
    """Refuses request bodies over the limit with 413 before the app reads them all.

    `uploads` maps a path to a larger limit (the administrator's .docx upload); `multipart`
    gives (path regex, limit) pairs that apply only to multipart bodies, the only ones that can
    carry a file (comment forms with an attachment): a plain form keeps the small limit.
    """

    def __init__(self, app: ASGIApp, limit: int, uploads: dict[str, int] | None = None,
                 multipart: tuple[tuple[str, int], ...] = ()):
        self.app = app
        self.default = limit
        self.uploads = uploads or {}
        self.multipart = [(re.compile(pattern), n) for pattern, n in multipart]

    def _limit(self, scope: Scope) -> int:
        """The limit for this request's path and content type."""
        if scope["path"] in self.uploads:
            return self.uploads[scope["path"]]
        if self.multipart and any(name == b"content-type" and value.lower().startswith(b"multipart/form-data")
                                  for name, value in scope["headers"]):
            for pattern, n in self.multipart:
                if pattern.fullmatch(scope["path"]):
                    return n
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._too_large(scope, receive, send, limit)
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._too_large(scope, receive, send, limit)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        from revise.i18n import gettext

        locale = scope.get("state", {}).get("locale", "zh_CN")
        text = gettext("The form is too large to accept (at most %(kb)s KB).", locale, kb=limit // 1024)
        response = PlainTextResponse(text, status_code=413)
        await response(scope, receive, send)


class BodyTooLarge(Exception):
    pass
