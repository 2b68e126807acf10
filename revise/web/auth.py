"""Editor sign-in and sign-out, the session cookie, and require(): the check every editor route starts with.

The cookie "ed" holds the session token and an HMAC of it (forged cookies are refused
before any database lookup); the database keeps only the token's SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import NoMatchFound, Route

from revise import accounts
from revise.i18n import N_
from revise.store import consultations as consultation_store
from revise.web.comments import _check_post, _client, _run_sync, is_htmx, refuse, render
from revise.window import Window

COOKIE = "ed"
MAX_AGE = accounts.SESSION_HOURS * 3600
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
    if not token or len(value) > 200 or not hmac.compare_digest(_mac(request.app.state.signer.secret, token), mac):
        return None
    return token


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


def sign_in_page(request: Request):
    """The sign-in form; someone already signed in goes straight on."""
    next_path = safe_next(request.query_params.get("next"))
    if current_account(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    return _form_page(request, next_path, signed_out=request.query_params.get("signed_out") == "1")


async def sign_in(request: Request):
    """GET: the sign-in form; POST: check the name and password."""
    if request.method != "POST":
        return await _run_sync(request, sign_in_page, request)
    form = await request.form()
    return await _run_sync(request, _sign_in_post, request, dict(form))


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
    try:
        _account, token = accounts.sign_in(db, username, password, _client(request))
    except accounts.SignInRefused as refused:
        return _form_page(request, next_path, values, {"form": refused.message}, refused.status)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, cookie_value(request.app.state.signer.secret, token), max_age=MAX_AGE, path="/",
                        secure=request.url.scheme == "https", httponly=True, samesite="strict")
    return response


async def sign_out(request: Request):
    form = await request.form()
    return await _run_sync(request, _sign_out, request, dict(form))


def _sign_out(request: Request, form: dict):
    """End the session in the database (a replayed cookie is then useless) and drop the cookie."""
    problem = _check_post(request, form)
    if problem:
        return problem
    token = _session_token(request)
    if token:
        accounts.sign_out(request.app.state.connections.get(), token)
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
