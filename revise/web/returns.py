"""A returned Word file becomes comments (issue #14): an editor, or a department through its
private link, uploads the draft edited elsewhere, sees block by block what it will become,
drops what should not be taken and confirms. The upload waits in DATA/returned/ until then."""

from __future__ import annotations

import re
import time
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from revise import diffing, returned_docx
from revise.comment_form import KINDS
from revise.docx_import import ImportRefused
from revise.i18n import N_
from revise.store import blocks as block_store
from revise.store import returns as return_store
from revise.web.auth import require
from revise.web.comments import _check_post, audience_of, read_upload_form, refuse, render
from revise.web.editor import _consultation
from revise.window import Window

UPLOAD_PATHS = (r"/editor/c/[^/]+/returned", r"/d/[^/]+/returned")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def upload_limits(settings) -> tuple[tuple[str, int], ...]:
    """BodyLimit's multipart rules: a returned draft may be as large as a draft."""
    return tuple((path, settings.max_docx_bytes + settings.max_form_bytes) for path in UPLOAD_PATHS)


def _who(request: Request) -> tuple[dict | None, dict, dict | None]:
    """(editor account or None, consultation, department or None) of the path."""
    if "token" in request.path_params:
        audience = audience_of(request)
        if Window.of(audience.consultation).state() != "open":
            raise HTTPException(403)
        return None, audience.consultation, audience.department
    return require(request), _consultation(request), None


def _urls(request: Request, c: dict, department: dict | None) -> dict:
    if department is None:
        return {"upload": request.url_for("editor_returned_upload", slug=c["slug"]).path,
                "confirm": request.url_for("editor_returned_confirm", slug=c["slug"]).path}
    token = request.path_params["token"]
    return {"upload": request.url_for("dept_returned_upload", token=token).path,
            "confirm": request.url_for("dept_returned_confirm", token=token).path}


def _page(request: Request, account, c, department, *, preview=None, sha="", error=None,
          done=None, status_code=200):
    return render(request, "returned.html", {
        "account": account, "c": c, "department": department, "urls": _urls(request, c, department),
        "preview": preview, "sha": sha, "error": error, "done": done, "kinds": KINDS},
        status_code=status_code)


def returned_page(request: Request):
    """The upload form for a draft sent back edited."""
    account, c, department = _who(request)
    done = request.query_params.get("done")
    return _page(request, account, c, department, done=int(done) if done and done.isdigit() else None)


def _pending(request: Request, sha: str) -> Path:
    return Path(request.app.state.settings.data_dir) / "returned" / f"{sha}.docx"


async def upload(request: Request):
    """Read the returned file and show what it will become; nothing is stored yet."""
    _who(request)  # before reading a body of megabytes
    _, fields, file = await read_upload_form(request, "docx", request.app.state.settings.max_docx_bytes)
    return await run_in_threadpool(_upload, request, fields, file)


def _upload(request: Request, form: dict, file):
    account, c, department = _who(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    if file is None or not file[1]:
        return _page(request, account, c, department, error=(N_("Choose the returned Word file."), {}),
                     status_code=422)
    filename, data = file
    db = request.app.state.connections.get()
    try:
        result = returned_docx.propose(data, filename, block_store.of_consultation(db, c["id"], include_deleted=True),
                                       sender=department["name"] if department else "")
    except ImportRefused as refused:
        return _page(request, account, c, department, error=(refused.message, {}), status_code=422)
    except returned_docx.ReturnRefused as refused:
        return _page(request, account, c, department, error=(refused.message, refused.params), status_code=422)
    if return_store.seen(db, c["id"], result.sha256):
        return _page(request, account, c, department, error=(returned_docx.REFUSALS["seen"], {}), status_code=409)
    path = _pending(request, result.sha256)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    _forget_abandoned(path.parent)
    path.write_bytes(data)
    rows = [{"p": p, "diff": _diff(p)} for p in result.proposals]
    return _page(request, account, c, department, preview=rows, sha=result.sha256)


def _forget_abandoned(folder: Path, hours: int = 24) -> None:
    """Uploads previewed but never confirmed are removed after a day."""
    limit = time.time() - hours * 3600
    for old in folder.glob("*.docx"):
        try:
            if old.stat().st_mtime < limit:
                old.unlink()
        except OSError:  # removed meanwhile by another request
            pass


def _diff(p: returned_docx.Proposal):
    """What the proposal changes, as the editor's diffs show it."""
    original = p.block["original_text"] or ""
    if p.kind == "edit":
        return diffing.diff_html(original, p.suggestion, context=30)
    if p.kind == "insert":
        return diffing.diff_html("", p.suggestion)
    if p.kind == "delete":
        return diffing.diff_html(original, "")
    return None


async def confirm(request: Request):
    """Store the proposals the uploader kept (each checked box), once per file."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    keep = {v for v in form.getlist("keep") if isinstance(v, str) and v.isdigit()}
    return await run_in_threadpool(_confirm, request, fields, keep)


def _confirm(request: Request, form: dict, keep: set[str]):
    account, c, department = _who(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    sha = form.get("sha") or ""
    path = _pending(request, sha) if _SHA.match(sha) else None
    if path is None or not path.is_file():
        return refuse(request, 410, N_("This upload is no longer waiting: upload the file again."))
    db = request.app.state.connections.get()
    result = returned_docx.propose(path.read_bytes(), form.get("filename") or "returned.docx",
                                   block_store.of_consultation(db, c["id"], include_deleted=True),
                                   sender=department["name"] if department else "")
    dropped = {p.n for p in result.proposals if str(p.n) not in keep}
    actor = account["display_name"] if account else f"department:{department['id']}"
    created, new = returned_docx.store(db, c, result, dropped, actor, department=department,
                                       channel="web" if department else "other")
    path.unlink(missing_ok=True)
    if not new:
        return _page(request, account, c, department, error=(returned_docx.REFUSALS["seen"], {}), status_code=409)
    target = _urls(request, c, department)["upload"]
    return RedirectResponse(f"{target}?done={len(created)}", status_code=303)


routes = [
    Route("/editor/c/{slug}/returned", returned_page, name="editor_returned"),
    Route("/editor/c/{slug}/returned", upload, methods=["POST"], name="editor_returned_upload"),
    Route("/editor/c/{slug}/returned/confirm", confirm, methods=["POST"], name="editor_returned_confirm"),
    Route("/d/{token}/returned", returned_page, name="dept_returned"),
    Route("/d/{token}/returned", upload, methods=["POST"], name="dept_returned_upload"),
    Route("/d/{token}/returned/confirm", confirm, methods=["POST"], name="dept_returned_confirm"),
]
