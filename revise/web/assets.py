"""The files under static/, served from memory (issue #10).

They are a few small files that change only with a release. Starlette's StaticFiles stats,
opens, reads and closes each one per request, every step a hop to a worker thread: under
attack those hops queued behind busy threads and a stylesheet waited for them. Here they are
read once, when the app starts, with their ETag, Last-Modified and a gzip copy of text files,
and answered on the event loop without touching the disk or a thread.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from email.utils import formatdate
from pathlib import Path

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

COMPRESSIBLE = ("text/", "application/javascript", "image/svg+xml", "application/json")


class Asset:
    __slots__ = ("body", "gzipped", "media_type", "etag", "last_modified")

    def __init__(self, path: Path):
        self.body = path.read_bytes()
        self.media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if self.media_type.startswith("text/") or self.media_type == "application/javascript":
            self.media_type += "; charset=utf-8"
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'
        self.last_modified = formatdate(path.stat().st_mtime, usegmt=True)
        packed = gzip.compress(self.body, mtime=0) if self.media_type.startswith(COMPRESSIBLE) else None
        self.gzipped = packed if packed is not None and len(packed) < len(self.body) else None


class MemoryStatic:
    """An ASGI app for GET/HEAD of the files of one folder (no subfolders needed, but allowed)."""

    def __init__(self, directory: Path):
        self.assets = {p.relative_to(directory).as_posix(): Asset(p)
                       for p in sorted(directory.rglob("*")) if p.is_file() and not p.name.startswith(".")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        asset = self.assets.get(scope["path_params"].get("path") or _path_in(scope))
        if asset is None:
            raise HTTPException(404)
        request = Headers(scope=scope)
        headers = {"etag": asset.etag, "last-modified": asset.last_modified, "vary": "Accept-Encoding"}
        if asset.etag in request.get("if-none-match", ""):
            response = Response(status_code=304, headers=headers)
        elif asset.gzipped is not None and "gzip" in request.get("accept-encoding", ""):
            response = Response(asset.gzipped, media_type=asset.media_type, headers={**headers, "content-encoding": "gzip"})
        else:
            response = Response(asset.body, media_type=asset.media_type, headers=headers)
        if scope["method"] == "HEAD":
            response.body = b""  # Content-Length stays that of the body a GET would get
        await response(scope, receive, send)


def _path_in(scope: Scope) -> str:
    root = scope.get("root_path", "")
    path = scope["path"]
    return path[len(root):].lstrip("/") if path.startswith(root) else path.lstrip("/")
