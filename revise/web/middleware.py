"""The one ASGI layer every request passes (RequestPath): the real client, the access log, the
security headers, the visitor's language, the host names served, the visitor session and the
limits on request bodies; and the pieces it is built from."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from http.cookies import Morsel, SimpleCookie
from urllib.parse import parse_qs, urlsplit

import anyio
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revise.i18n import N_, choose_locale
from revise.web.access_log import log as access_log, write_line
from revise.web.clients import ForwardedClient

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
SESSION_COOKIE = "sid"
HSTS = "max-age=31536000"


def private_cache_control(value: str) -> str:
    """A Cache-Control value that no shared cache may store: public and s-maxage become private."""
    directives = [d.strip() for d in value.split(",") if d.strip()]
    kept = [d for d in directives if d.lower() != "public" and not d.lower().startswith("s-maxage")]
    if not any(d.lower() in ("private", "no-store") for d in kept):
        kept.insert(0, "private")
    return ", ".join(kept)


class HostNames:
    """The host names served: exact ("consult.example.gov.cn", "::1") or "*.example.gov.cn"; "*"
    allows any. A request for another name is refused with 400 in the visitor's language (Starlette's
    TrustedHostMiddleware does the same matching but answers in English only)."""

    def __init__(self, allowed_hosts: tuple[str, ...]):
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


class VisitorSession:
    """Every visitor's session id (cookie "sid", given by RequestPath) that CSRF tokens are bound to.

    Only the server issues ids: an id is a random part and an HMAC of it with the app's secret
    (app.state.signer), so an id a client made up is replaced by a fresh one before the app sees
    it. rotate() gives the visitor a new id at sign-in and sign-out (issue #10): the CSRF tokens of
    the old id stop working, and an id planted in a browser before sign-in is worth nothing after.
    """

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
    clock = staticmethod(time.monotonic)  # the deadline's clock (a test gives the client's own times)

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
            started = self.clock() if started is None else started
            remaining = started + self.timeout + received / self.MIN_RATE - self.clock()
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


# A Cookie header of plain name=value pairs (what browsers send for revise's own cookies): split by
# hand. Anything else (quotes, attributes such as Path, "$" names, other characters) goes to SimpleCookie.
_PLAIN_COOKIES = re.compile(r"[A-Za-z0-9_-]+=[A-Za-z0-9_.-]*(?:;\s*[A-Za-z0-9_-]+=[A-Za-z0-9_.-]*)*;?\s*")
_COOKIE_ATTRIBUTES = frozenset(Morsel._reserved)  # names SimpleCookie takes as attributes, not cookies


def _cookie_jar(headers: list[bytes]) -> dict[str, str] | None:
    """The cookies of the request's Cookie headers as _cookie reads them (None: a malformed header,
    which counts as no cookie at all)."""
    jar: dict[str, str] = {}
    for raw in headers:
        text = raw.decode("latin-1").strip()
        if _PLAIN_COOKIES.fullmatch(text):
            pairs = [part.strip().split("=", 1) for part in text.split(";") if part.strip()]
            if not any(name.lower() in _COOKIE_ATTRIBUTES for name, _ in pairs):
                jar.update(pairs)
                continue
        parsed = SimpleCookie()
        try:
            parsed.load(raw.decode("latin-1"))
        except Exception:  # a malformed header must not break the page
            return None
        # Loaded into one jar in turn, as _cookie does: a later header's value wins.
        jar.update((name, morsel.value) for name, morsel in parsed.items())
    return jar


def _set_header(headers: list, name: bytes, value: bytes) -> None:
    """MutableHeaders.__setitem__ on a raw header list: the first `name` takes the value, the others go."""
    found = [i for i, (key, _) in enumerate(headers) if key == name]
    for i in reversed(found[1:]):
        del headers[i]
    if found:
        headers[found[0]] = (name, value)
    else:
        headers.append((name, value))


class RequestPath:
    """Every HTTP request's guards as one ASGI layer, outermost first: the real client and scheme
    behind a trusted proxy (ForwardedClient), one access-log line (issue #15), the security headers
    and no public cache for an answer that sets a cookie, the visitor's language (zh_CN by default,
    ?lang= remembered), the host names served, the visitor session, and the body limits
    (BodyLimit). One pass over the request headers, the Cookie header parsed once, and one wrapper of
    `send` that adds, at the start of the answer, the session cookie, then Vary/Content-Language/the
    lang cookie, then the security headers and the private Cache-Control, then logs the answer
    (issue #11: these were seven nested layers, a quarter of the event loop's time per comment POST;
    `tests/reference_layers.py` keeps them as the oracle `tests/test_request_path.py` compares with).

    What depends on a client-chosen value only through a small set of outcomes (the Host header's
    verdict, the locale chosen) is remembered in small bounded dicts. Anything but HTTP (the
    lifespan; revise serves no WebSocket, the router closes one) goes straight to the app.
    """

    CACHE = 512  # entries of each small memo; cleared when full (clients choose the keys)

    def __init__(self, app: ASGIApp, *, trusted: tuple[str, ...], hsts: bool, allowed_hosts: tuple[str, ...],
                 limit: int, uploads: dict[str, int], multipart: tuple[tuple[str, int], ...], timeout: float,
                 shortcut=None):
        self.app = app
        # async (scope, receive, send) -> bool: answers a request the app would answer the same way,
        # without the app's routing, or returns False (revise.web.public.answer_cached: the crowd's page).
        self.shortcut = shortcut
        self.body = BodyLimit(app, limit, uploads, multipart, timeout)
        self.hosts = HostNames(allowed_hosts)
        self.forwarded = ForwardedClient(app, trusted)  # only its rewrite of the scope is used
        headers = {**SECURITY_HEADERS, **({"strict-transport-security": HSTS} if hsts else {})}
        self.security_headers = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
        self._host_ok: dict[str, bool] = {}
        self._locales: dict[tuple, str] = {}

    def _allows(self, host: str) -> bool:
        known = self._host_ok.get(host)
        if known is None:
            if len(self._host_ok) >= self.CACHE:
                self._host_ok.clear()
            known = self._host_ok[host] = self.hosts.allows(host)
        return known

    def _locale(self, asked: str | None, remembered: str | None, accept_language: str) -> str:
        key = (asked, remembered, accept_language)
        known = self._locales.get(key)
        if known is None:
            if len(self._locales) >= self.CACHE:
                self._locales.clear()
            known = self._locales[key] = choose_locale(asked, remembered, accept_language)
        return known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = self.forwarded.rewrite(scope)
        logged = access_log.isEnabledFor(logging.INFO)
        started = time.perf_counter() if logged else 0.0
        status = 0

        # One pass over the request headers: what LocaleMiddleware (accept-language: the last one wins,
        # as in its dict), AllowedHosts (host: the first) and _cookie (every Cookie header) read.
        cookies: list[bytes] = []
        accept_language = ""
        host = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies.append(value)
            elif name == b"accept-language":
                accept_language = value.decode("latin-1")
            elif name == b"host" and host is None:
                host = value.decode("latin-1")
        jar = _cookie_jar(cookies)

        def cookie(name: str) -> str | None:
            return jar.get(name) if jar is not None else None

        # LocaleMiddleware
        query_string = scope.get("query_string", b"")
        asked = None
        if query_string and (b"lang" in query_string or b"%" in query_string):  # else parse_qs finds no "lang"
            asked = (parse_qs(query_string.decode("latin-1")).get("lang") or [None])[0]
        remembered = cookie(LANG_COOKIE)
        locale = self._locale(asked, remembered, accept_language)
        state = scope.setdefault("state", {})
        state["locale"] = locale
        remember = asked is not None and locale != remembered
        session_cookie = None  # VisitorSession: set once the host is allowed

        async def send_wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                headers = message["headers"]
                if not isinstance(headers, list):
                    headers = message["headers"] = list(headers)
                # VisitorSession (read at the start of the answer: the app may have rotated the id)
                if session_cookie is not None and state.get("new_session_id"):
                    headers.append((b"set-cookie", f"{SESSION_COOKIE}={state['new_session_id']}; "
                                                   f"Path=/; HttpOnly; SameSite=Lax{session_cookie}".encode("latin-1")))
                # LocaleMiddleware: add_vary_header twice, then setdefault and the remembered choice
                varies = [value for key, value in headers if key == b"vary"]
                _set_header(headers, b"vary", b", ".join([*varies, b"Accept-Language", b"Cookie"]))
                present = {key for key, _ in headers}
                if b"content-language" not in present:
                    headers.append((b"content-language", locale.replace("_", "-").encode("latin-1")))
                if remember:
                    headers.append((b"set-cookie", f"{LANG_COOKIE}={locale}; Path=/; Max-Age=31536000; "
                                                   "SameSite=Lax".encode("latin-1")))
                    present.add(b"set-cookie")
                # SecurityHeaders
                for key, value in self.security_headers:
                    if key not in present:
                        headers.append((key, value))
                if b"set-cookie" in present:
                    cache = next((value for key, value in headers if key == b"cache-control"), b"")
                    _set_header(headers, b"cache-control",
                                private_cache_control(cache.decode("latin-1")).encode("latin-1"))
                status = message["status"]
            await send(message)

        try:
            # AllowedHosts
            if not self._allows(host or ""):
                from revise.i18n import gettext

                text = gettext(N_("This site is not served under that address. Use the consultation's official link."),
                               locale)
                await PlainTextResponse(text, status_code=400)(scope, receive, send_wrapped)
                return
            # The crowd's page, when its cached copy is current: it has no form and sets no session
            # cookie, so the session below (an HMAC, and a new id for a cookieless visitor) is not needed.
            if self.shortcut is not None and await self.shortcut(scope, receive, send_wrapped):
                return
            # VisitorSession
            secret = VisitorSession._secret(scope)
            existing = cookie(SESSION_COOKIE) or ""
            valid = VisitorSession.issued(secret, existing)
            state["session_id"] = existing if valid else None
            state["new_session_id"] = None if valid else VisitorSession.issue(secret)
            session_cookie = "; Secure" if scope.get("scheme") == "https" else ""
            # BodyLimit, then the app
            await self.body(scope, receive, send_wrapped)
        except BaseException:
            status = status or 500
            raise
        finally:
            if logged:
                write_line(scope, status, started)
