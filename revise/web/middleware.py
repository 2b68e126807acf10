"""ASGI middleware: security headers on every answer, the visitor's language, the hosts served,
the visitor session and the limits on request bodies."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revise.i18n import N_, choose_locale

logger = logging.getLogger("revise")

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


HSTS = "max-age=31536000"


class SecurityHeaders:
    """Adds the security headers to every HTTP response, errors included.

    It sits outside every middleware that sets a cookie, so it also sees each answer's final
    headers: one that sets a cookie is never left publicly cacheable, or a shared cache would
    hand one visitor's session to the next (issue #10). `hsts` when the base URL is https.
    """

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


def private_cache_control(value: str) -> str:
    """A Cache-Control value that no shared cache may store: public and s-maxage become private."""
    directives = [d.strip() for d in value.split(",") if d.strip()]
    kept = [d for d in directives if d.lower() != "public" and not d.lower().startswith("s-maxage")]
    if not any(d.lower() in ("private", "no-store") for d in kept):
        kept.insert(0, "private")
    return ", ".join(kept)


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


class AllowedHosts:
    """Refuses (400, in the visitor's language) requests addressed to a host name not served.

    Starlette's TrustedHostMiddleware does the same matching but answers in English only;
    names are exact ("consult.example.gov.cn", "::1") or "*.example.gov.cn"; "*" allows any.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...]):
        self.app = app
        self.exact = {name.lower() for name in allowed_hosts if not name.startswith("*")}
        self.suffixes = tuple(name.lower()[1:] for name in allowed_hosts if name.startswith("*."))
        self.any = "*" in allowed_hosts

    def allows(self, host_header: str) -> bool:
        """Whether a Host header ("name", "name:port", "[::1]:port") names a host served here."""
        try:
            split = urlsplit("//" + host_header)
            name, _port = split.hostname, split.port  # .port checks the port is a number
        except ValueError:
            return False
        if not name or split.username is not None or split.path or split.query or split.fragment:
            return False
        return self.any or name in self.exact or name.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allows(Headers(scope=scope).get("host", "")):
            await self.app(scope, receive, send)
            return
        from revise.i18n import gettext

        locale = scope.get("state", {}).get("locale", "zh_CN")
        text = gettext(N_("This site is not served under that address. Use the consultation's official link."), locale)
        await PlainTextResponse(text, status_code=400)(scope, receive, send)


SESSION_COOKIE = "sid"


class VisitorSession:
    """Gives every visitor a session id (cookie "sid") that CSRF tokens are bound to.

    Only the server issues ids: an id is a random part and an HMAC of it with the app's secret
    (app.state.signer), so an id a client made up is replaced by a fresh one before the app sees
    it. rotate() gives the visitor a new id at sign-in and sign-out (issue #10): the CSRF tokens of
    the old id stop working, and an id planted in a browser before sign-in is worth nothing after.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    @staticmethod
    def _secret(scope: Scope) -> bytes:
        return scope["app"].state.signer.secret

    @staticmethod
    def _mac(secret: bytes, nonce: str) -> str:
        return hmac.new(secret, b"visitor-session\x1f" + nonce.encode(), hashlib.sha256).hexdigest()[:32]

    @classmethod
    def issue(cls, secret: bytes) -> str:
        """A new session id: 192 random bits and their HMAC."""
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{cls._mac(secret, nonce)}"

    @classmethod
    def issued(cls, secret: bytes, value: str) -> bool:
        """Whether this server issued the session id (a forged or foreign one is not)."""
        nonce, _, mac = value.partition(".")
        if not (len(nonce) == 32 and len(mac) == 32 and value.isascii()):
            return False
        return hmac.compare_digest(cls._mac(secret, nonce), mac)

    @classmethod
    def rotate(cls, scope: Scope) -> str:
        """Give the visitor a new session id with this answer; the old one no longer passes CSRF checks."""
        state = scope["state"]
        state["session_id"], state["new_session_id"] = None, cls.issue(cls._secret(scope))
        return state["new_session_id"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secret = self._secret(scope)
        existing = _cookie(scope, SESSION_COOKIE) or ""
        valid = self.issued(secret, existing)
        state = scope.setdefault("state", {})
        state["session_id"] = existing if valid else None
        state["new_session_id"] = None if valid else self.issue(secret)
        secure = "; Secure" if scope.get("scheme") == "https" else ""

        async def send_with_cookie(message: Message) -> None:
            # Read at the start of the answer: the app may have rotated the id meanwhile.
            if message["type"] == "http.response.start" and state.get("new_session_id"):
                MutableHeaders(scope=message).append(
                    "set-cookie",
                    f"{SESSION_COOKIE}={state['new_session_id']}; Path=/; HttpOnly; SameSite=Lax{secure}",
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class BodyLimit:
    """Refuses request bodies over the limit with 413, and bodies that trickle in with 408.

    `uploads` maps a path to a larger limit (the administrator's .docx upload); `multipart`
    gives (path regex, limit) pairs that apply only to multipart bodies, the only ones that can
    carry a file (comment forms with an attachment): a plain form keeps the small limit.

    A body must arrive within `timeout` seconds, plus one second per MIN_RATE bytes received
    (a large upload on a slow line still gets through): a client that sends a byte now and then
    would otherwise hold a connection and a worker for as long as it likes (issue #10).
    A client that goes away mid-body is logged in one line, not as a server error.
    """

    MIN_RATE = 10 * 1024  # bytes per second

    def __init__(self, app: ASGIApp, limit: int, uploads: dict[str, int] | None = None,
                 multipart: tuple[tuple[str, int], ...] = (), timeout: float = 30.0):
        self.app = app
        self.default = limit
        self.uploads = uploads or {}
        self.multipart = [(re.compile(pattern), n) for pattern, n in multipart]
        self.timeout = timeout

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
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            if scope["method"] in ("GET", "HEAD", "OPTIONS"):
                await self.app(scope, receive, send)
            else:
                await self._limited(scope, receive, send)
        except ClientDisconnect:
            logger.info("client %s went away during %s %s", (scope.get("client") or ("unknown",))[0],
                        scope["method"], scope["path"])

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(scope, receive, send, 413, limit)
                return
        received = 0
        started: float | None = None
        finished = False

        async def counting_receive() -> Message:
            nonlocal received, started, finished
            if finished:  # the body is complete: what remains is waiting for a disconnect
                return await receive()
            started = time.monotonic() if started is None else started
            remaining = started + self.timeout + received / self.MIN_RATE - time.monotonic()
            with anyio.move_on_after(max(remaining, 0)) as waited:
                message = await receive()
            if waited.cancelled_caught:
                raise BodyTimeout
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
                finished = not message.get("more_body", False)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._refuse(scope, receive, send, 413, limit)
        except BodyTimeout:
            logger.info("client %s sent its body too slowly: %s %s answered 408",
                        (scope.get("client") or ("unknown",))[0], scope["method"], scope["path"])
            await self._refuse(scope, receive, send, 408, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, limit: int) -> None:
        from revise.i18n import gettext

        locale = scope.get("state", {}).get("locale", "zh_CN")
        if status == 408:
            text = gettext(N_("The form arrived too slowly and was not accepted. Check your connection and send it again."), locale)
        else:
            text = gettext("The form is too large to accept (at most %(kb)s KB).", locale, kb=limit // 1024)
        # The rest of the body is not read: the connection cannot be reused.
        response = PlainTextResponse(text, status_code=status, headers={"connection": "close"})
        await response(scope, receive, send)


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass
