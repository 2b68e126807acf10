"""Export downloads, shared by the editor pages and the public outcome page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from revise import docx_export, exporting
from revise.web.comments import refuse

CHUNK = 256 * 1024


def download(request: Request, consultation: dict, name: str, allowed=exporting.KINDS,
             public_only: bool = False, round_id: int | None = None, round_name: str = "") -> Response:
    """One export file, made from a consistent snapshot, as an attachment.

    The file is written to an anonymous temporary file (a report of a million comments is tens
    of MB, streamed row by row) and sent from there in chunks, never held in memory whole.
    """
    if name not in allowed:
        raise HTTPException(404)
    db = request.app.state.connections.get()
    try:
        with exporting.snapshot(db, consultation, request.scope["state"].get("locale", "zh_CN"),
                                public_only=public_only, round_id=round_id, round_name=round_name) as snap:
            spool = exporting.render_file(snap, name)
    except docx_export.ExportError as error:
        return refuse(request, 409, error.message)
    size = os.fstat(spool.fileno()).st_size
    filename = exporting.file_name(consultation, name)
    return StreamingResponse(_chunks(spool), media_type=exporting.KINDS[name][1], headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
        "Content-Length": str(size),
        "Cache-Control": "no-store",
    })


def _chunks(spool: BinaryIO) -> Iterator[bytes]:
    """The file in chunks, closed (and so deleted) at the end or when the client goes away."""
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


