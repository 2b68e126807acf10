"""Export downloads, shared by the editor pages and the public outcome page."""

from __future__ import annotations

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from revise import docx_export, exporting
from revise.web.comments import refuse


def download(request: Request, consultation: dict, name: str, allowed=exporting.KINDS,
             public_only: bool = False) -> Response:
    """One export file, made from a consistent snapshot, as an attachment."""
    if name not in allowed:
        raise HTTPException(404)
    db = request.app.state.connections.get()
    snap = exporting.snapshot(db, consultation, request.scope["state"].get("locale", "zh_CN"), public_only=public_only)
    try:
        data = exporting.render(snap, name)
    except docx_export.ExportError as error:
        return refuse(request, 409, error.message)
    filename = exporting.file_name(consultation, name)
    return Response(data, media_type=exporting.KINDS[name][1], headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store",
    })
