"""A larger-text switch for older readers (适老化, issue #16), remembered in a cookie like ?lang=.

The public draft page is the same bytes for every visitor (a shared cache keeps it), so the
choice is not written into the page: the page links /text-size.css, whose answer depends on the
cookie (private, Vary: Cookie). The switch is a plain link, so it works without JavaScript.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

SIZE_COOKIE = "size"
LARGE_CSS = """/* larger text: chosen by this visitor */
html { font-size: 125%; }
body { font-size: 21px; }
.size-switch .size-large { font-weight: 700; text-decoration: none; color: inherit; }
"""
NORMAL_CSS = """/* standard text size */
.size-switch .size-normal { font-weight: 700; text-decoration: none; color: inherit; }
"""


def _back(request: Request) -> str:
    """Where to go after switching: the page the link was on (a local path only), else home."""
    target = request.query_params.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc or "\\" in target:
        return str(request.url_for("home").path)
    return target


def set_size(request: Request) -> Response:
    """Remember the visitor's text size (?to=large or ?to=normal) and go back to the page."""
    size = "large" if request.query_params.get("to") == "large" else "normal"
    response = RedirectResponse(_back(request), status_code=303)
    response.set_cookie(SIZE_COOKIE, size, max_age=31536000, path="/", samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


def size_css(request: Request) -> Response:
    """The stylesheet of the visitor's text size (empty but for the switch's state when standard)."""
    large = request.cookies.get(SIZE_COOKIE) == "large"
    return Response(LARGE_CSS if large else NORMAL_CSS, media_type="text/css",
                    headers={"Cache-Control": "private, no-cache", "Vary": "Cookie"})


routes = [
    Route("/text-size", set_size, name="text_size"),
    Route("/text-size.css", size_css, name="text_size_css"),
]
