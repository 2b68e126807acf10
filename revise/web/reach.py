"""Reach beyond the screen: a QR code of the consultation's page and a printable A4 notice."""

from __future__ import annotations

import io

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revise.web.comments import audience_of, render


def absolute_url(request: Request, name: str, **params: object) -> str:
    """A route's absolute address under the configured base URL.

    Never built from the request's Host header: a forged one would otherwise be printed on
    a notice, encoded in a QR code or sent to a department as its private link (issue #10).
    """
    return request.app.state.settings.public_url + str(request.app.url_path_for(name, **params))


def page_url(request: Request, slug: str) -> str:
    """The consultation page's absolute address, as the public reaches it."""
    return absolute_url(request, "consultation", slug=slug)


def qr_svg(url: str) -> bytes:
    """The QR code of `url` as a standalone SVG (error correction M: a smudged print still scans)."""
    buffer = io.BytesIO()
    # A white background and a 4-module quiet zone, as the standard asks, so any scanner reads it.
    segno.make(url, error="m", micro=False).save(buffer, kind="svg", scale=4, border=4, xmldecl=False,
                                                 dark="#000", light="#fff", svgclass=None, lineclass=None)
    return buffer.getvalue()


def qr(request: Request):
    """GET /c/{slug}/qr.svg: the code the window box and the printed notice show."""
    c = _public(request)
    return Response(qr_svg(page_url(request, c["slug"])), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=3600"})


def notice(request: Request):
    """GET /c/{slug}/notice: the notice on one A4 page to print and post (title, window, link, code)."""
    c = _public(request)
    return render(request, "notice.html", {"c": c, "page_url": page_url(request, c["slug"])})


def _public(request: Request) -> dict:
    """The consultation of the public path (404 when the slug is unknown)."""
    return audience_of(request).consultation


routes = [
    Route("/c/{slug}/qr.svg", qr, name="consultation_qr"),
    Route("/c/{slug}/notice", notice, name="consultation_notice"),
]
