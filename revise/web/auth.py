"""Editor sign-in and sign-out, the session cookie, and require(): the check every editor route starts with.

The cookie "ed" holds the session token and an HMAC of it (forged cookies are refused
before any database lookup); the database keeps only the token's SHA-256. Signing in or out
also gives the visitor a new session id (and so a new CSRF token).

The device cookie "device" is given to a browser once it has signed in as a user name: a
random id, the user name and an HMAC of both. A later sign-in as that name from that browser
counts in the throttle's own bucket for the device, not the address's (see revise.accounts):
an attacker guessing from elsewhere, or from the same office address, never slows it down.
It is kept for a year, sent only to the sign-in page, HttpOnly, SameSite=Lax, Secure over https.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import quote, urlencode

from babel.dates import format_timedelta
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import NoMatchFound, Route

from revise import accounts
from revise.i18n import N_, babel_locale
from revise.store import consultations as consultation_store
from revise.web.comments import _check_post, _client, is_htmx, refuse, render
from revise.web.middleware import VisitorSession
from revise.window import Window

COOKIE = "ed"
MAX_AGE = accounts.SESSION_HOURS * 3600
DEVICE_COOKIE = "device"
DEVICE_MAX_AGE = 365 * 24 * 3600
HOME = "/editor"


class SignInRequired(HTTPException):
    """No editor is signed in: a GET goes to the sign-in page (then back to `next`), a POST gets 401."""

    def __init__(self, next_path: str | None):
        super().__init__(401)
        self.next = next_path


class NotAllowed(HTTPException):
    """The signed-in account's role does not allow this (403)."""

    def __init__(self, message: str):
        super().__init__(403)
        self.message = message


def _mac(secret: bytes, token: str) -> str:
    return hmac.new(secret, b"editor-session\x1f" + token.encode(), hashlib.sha256).hexdigest()[:32]


def cookie_value(secret: bytes, token: str) -> str:
    """What the "ed" cookie holds for a session token: the token and its HMAC."""
    return f"{token}.{_mac(secret, token)}"


def _session_token(request: Request) -> str | None:
    """The session token in the cookie if its HMAC is right, else None."""
    value = request.cookies.get(COOKIE, "")
    token, _, mac = value.rpartition(".")
    if (not token or len(value) > 200 or not value.isascii()  # compare_digest refuses non-ASCII text: a 500
            or not hmac.compare_digest(_mac(request.app.state.signer.secret, token), mac)):
        return None
    return token


def _device_mac(secret: bytes, device: str, username: str) -> str:
    return hmac.new(secret, f"device\x1f{device}\x1f{username}".encode(), hashlib.sha256).hexdigest()[:32]


def device_cookie_value(secret: bytes, username: str) -> str:
    """What a new device cookie holds: a random device id, its HMAC with the user name, the user name."""
    device = secrets.token_urlsafe(18)
    return f"{device}.{_device_mac(secret, device, username)}.{username}"


def _device(request: Request, username: str) -> str | None:
    """The id of the browser's device cookie if it is ours and was given for this user name."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    device, _, rest = value.partition(".")
    mac, _, name = rest.partition(".")
    if not device or len(value) > 200 or not value.isascii() or name != username.strip().lower():
        return None
    return device if hmac.compare_digest(_device_mac(request.app.state.signer.secret, device, name), mac) else None


def current_account(request: Request) -> dict | None:
    """The signed-in editor or administrator, or None (looked up once per request)."""
    state = request.scope.setdefault("state", {})
    if "editor_account" not in state:
        token = _session_token(request)
        db = request.app.state.connections.get()
        state["editor_account"] = accounts.session_account(db, token) if token else None
    return state["editor_account"]


def require(request: Request, role: str = "editor") -> dict:
    """The signed-in account if its role allows `role` (an administrator is also an editor), else raise."""
    account = current_account(request)
    if account is None:
        if request.method in ("GET", "HEAD"):
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(path)
        raise SignInRequired(None)
    if not accounts.has_role(account, role):
        raise NotAllowed(N_("Only an administrator may do this; your account is an editor's."))
    return account


def sign_in_path(request: Request, next_path: str | None = None, **extra: str) -> str:
    """The sign-in page's path, with where to go afterwards."""
    params = {"next": next_path} if next_path else {}
    query = urlencode({**params, **extra})
    return request.url_for("sign_in").path + (f"?{query}" if query else "")


def safe_next(value: object) -> str:
    """`next` if it is a local editor path, else the editor home: never an open redirect."""
    if (isinstance(value, str) and len(value) <= 2000 and (value == HOME or value.startswith((HOME + "/", HOME + "?")))
            and "\\" not in value and value.isprintable() and not any(ch.isspace() for ch in value)):
        return value
    return HOME


async def _denied(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, SignInRequired) and exc.next:
        target = sign_in_path(request, safe_next(exc.next))
        if is_htmx(request):  # a fragment request: have htmx load the whole sign-in page
            response = refuse(request, 401, N_("Sign in as an editor to see this page."))
            response.headers["HX-Redirect"] = target
            return response
        return RedirectResponse(target, status_code=303)
    if isinstance(exc, SignInRequired):
        return refuse(request, 401, N_("Sign in as an editor to do this."))
    return refuse(request, 403, exc.message)


def install(app: Starlette) -> None:
    """Answer SignInRequired with the sign-in page and NotAllowed with a 403 page (call before start)."""
    app.add_exception_handler(SignInRequired, _denied)
    app.add_exception_handler(NotAllowed, _denied)


def _form_page(request: Request, next_path: str, values: dict | None = None, errors: dict | None = None,
               status_code: int = 200, signed_out: bool = False) -> Response:
    return render(request, "sign_in.html", {
        "action": request.url_for("sign_in").path, "next": next_path, "values": values or {},
        "errors": errors or {}, "signed_out": signed_out,
    }, status_code)


def _wait_text(request: Request, seconds: int) -> str:
    """A wait in the visitor's language, rounded up: "15秒钟", "3 minutes"."""
    wait = timedelta(seconds=seconds) if seconds < 60 else timedelta(minutes=-(-seconds // 60))
    locale = babel_locale(request.scope.get("state", {}).get("locale", "zh_CN"))
    return format_timedelta(wait, threshold=1, add_direction=False, format="long", locale=locale)


def sign_in_page(request: Request):
    """The sign-in form; someone already signed in goes straight on."""
    next_path = safe_next(request.query_params.get("next"))
    if current_account(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    return _form_page(request, next_path, signed_out=request.query_params.get("signed_out") == "1")


async def sign_in(request: Request):
    """GET: the sign-in form; POST: check the name and password."""
    if request.method != "POST":
        return await run_in_threadpool(sign_in_page, request)
    form = await request.form()
    return await run_in_threadpool(_sign_in_post, request, dict(form))


def _text(form: dict, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _sign_in_post(request: Request, form: dict):
    """Check the name and password; on success set the session cookie and go to `next`."""
    problem = _check_post(request, form)
    if problem:
        return problem
    next_path = safe_next(form.get("next"))
    username, password = _text(form, "username").strip()[:64], _text(form, "password")
    values, errors = {"username": username}, {}
    if not username:
        errors["username"] = N_("Enter your user name.")
    if not password:
        errors["password"] = N_("Enter your password.")
    if errors:
        return _form_page(request, next_path, values, errors, 422)
    db = request.app.state.connections.get()
    secret = request.app.state.signer.secret
    try:
        account, token = accounts.sign_in(db, username, password, _client(request),
                                          device=_device(request, username), previous_token=_session_token(request))
    except accounts.SignInRefused as refused:
        if refused.retry_after is None:
            return _form_page(request, next_path, values, {"form": refused.message}, refused.status)
        error = (refused.message, {"wait": _wait_text(request, refused.retry_after)})
        response = _form_page(request, next_path, values, {"form": error}, refused.status)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    VisitorSession.rotate(request.scope)  # a new session id, and with it a new CSRF token
    https = request.url.scheme == "https"
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, cookie_value(secret, token), max_age=MAX_AGE, path="/",
                        secure=https, httponly=True, samesite="strict")
    response.set_cookie(DEVICE_COOKIE, device_cookie_value(secret, account["username"]), max_age=DEVICE_MAX_AGE,
                        path=request.url_for("sign_in").path, secure=https, httponly=True, samesite="lax")
    return response


async def sign_out(request: Request):
    form = await request.form()
    return await run_in_threadpool(_sign_out, request, dict(form))


def _sign_out(request: Request, form: dict):
    """End the session in the database (a replayed cookie is then useless), drop the cookie, renew the session id."""
    problem = _check_post(request, form)
    if problem:
        return problem
    token = _session_token(request)
    if token:
        accounts.sign_out(request.app.state.connections.get(), token)
    VisitorSession.rotate(request.scope)
    response = RedirectResponse(sign_in_path(request, signed_out="1"), status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict")
    return response


def _editor_link(request: Request, slug: str) -> str:
    try:
        return request.url_for("editor_dashboard", slug=slug).path
    except NoMatchFound:  # the consultation pages may not be mounted in every app
        return f"{HOME}/c/{quote(slug)}"


def editor_home(request: Request):
    """The editor's landing page: every consultation, with who is signed in."""
    account = require(request)
    db = request.app.state.connections.get()
    consultations = consultation_store.all_(db)
    for c in consultations:
        c["state"] = Window.of(c).state()
        c["editor_url"] = _editor_link(request, c["slug"])
    return render(request, "editor/home.html", {"account": account, "consultations": consultations,
                                                "role_name": accounts.ROLE_NAMES[account["role"]]})


routes = [
    Route("/editor", editor_home, name="editor_home"),
    Route("/editor/sign-in", sign_in, methods=["GET", "POST"], name="sign_in"),
    Route("/editor/sign-out", sign_out, methods=["POST"], name="sign_out"),
]
