"""Editors enter comments that arrived elsewhere (letter, 12345 hotline, meeting, e-mail) and
download the scans attached to comments. Every route starts with auth.require()."""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from revise import attachments, ledger
from revise.i18n import N_
from revise.store import attachments as attachment_store
from revise.store import blocks as block_store
from revise.store import departments as department_store
from revise.timeutil import SHANGHAI, utc_now
from revise.web.auth import require
from revise.web.comments import _check_post, read_upload_form, render
from revise.web.editor import _consultation, _int

FORM_FIELDS = 100  # the entry form's fields; each chosen paragraph is one more


def new_entry(request: Request):
    """The entry form; ?block=ID starts it on one paragraph (a link from the block's workspace)."""
    account = require(request)
    c = _consultation(request)
    block = _int(request.query_params.get("block"))
    values = {"kind": "remark", "block_ids": [block] if block else [], "received_on": _today()}
    return _entry_page(request, account, c, values)


def _today() -> str:
    return utc_now().astimezone(SHANGHAI).date().isoformat()


def _entry_page(request: Request, account: dict, c: dict, values: dict, errors: dict | None = None,
                form_token: str | None = None, status_code: int = 200):
    db = request.app.state.connections.get()
    opens, last = ledger.window_days(c)
    return render(request, "editor/ledger.html", {
        "account": account, "c": c, "values": values, "errors": errors or {},
        "blocks": block_store.of_consultation(db, c["id"]),
        "roster": department_store.roster(db, c["id"]),
        "entered_channels": ledger.ENTERED, "window_days": (opens.isoformat(), last.isoformat()),
        "today": _today(), "form_token": form_token or request.app.state.signer.form_token(),
    }, status_code=status_code)


async def create_entry(request: Request):
    """Record an entry; errors are shown next to their fields (422), the file must be chosen again."""
    require(request)  # before reading a body of megabytes
    form, fields, file = await read_upload_form(request, "attachment", request.app.state.settings.max_attachment_bytes,
                                                max_fields=FORM_FIELDS + ledger.BLOCKS_MAX)
    fields["blocks"] = [v for v in form.getlist("blocks") if isinstance(v, str)]
    return await run_in_threadpool(_create_entry, request, fields, file)


def _create_entry(request: Request, form: dict, file: tuple[str, bytes] | None):
    account = require(request)
    c = _consultation(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    db = request.app.state.connections.get()
    blocks = block_store.of_consultation(db, c["id"])
    values, errors = ledger.validate(form, c, blocks, department_store.roster(db, c["id"]))
    attachment = None
    if file is not None:
        try:
            attachment = attachments.check(*file, request.app.state.settings.max_attachment_bytes)
        except attachments.AttachmentRefused as refused:
            errors["attachment"] = (refused.message, refused.params)
    form_token = form.get("form_token")
    if not request.app.state.signer.check_form_token(form_token):
        form_token = None
        errors.setdefault("form", N_("The form had expired: check it and send it again."))
    if errors:
        values["attachment_again"] = file is not None
        return _entry_page(request, account, c, values, errors, form_token, 422)
    comment, _created = ledger.enter_comment(db, c, values, attachment, account["display_name"],
                                             form_token=form_token)
    return RedirectResponse(request.url_for("editor_comment", slug=c["slug"], comment_id=comment["id"]).path,
                            status_code=303)


def download_attachment(request: Request):
    """An attachment as a download for editors: its checked media type, never shown inline."""
    require(request)
    c = _consultation(request)
    row = attachment_store.get(request.app.state.connections.get(), c["id"], request.path_params["attachment_id"])
    if row is None:
        raise HTTPException(404)
    name = row["filename"] or "attachment"
    extension = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(row["media_type"], "")
    fallback = f"attachment-{row['id']}{extension}"  # header values are Latin-1: the real name goes in filename*
    return Response(row["data"], media_type=row["media_type"], headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-store",
    })


routes = [
    Route("/editor/c/{slug}/ledger/new", new_entry, name="editor_ledger"),
    Route("/editor/c/{slug}/ledger/new", create_entry, methods=["POST"], name="editor_ledger_create"),
    Route("/editor/c/{slug}/attachments/{attachment_id:int}", download_attachment, name="editor_attachment"),
]
# The paths whose multipart bodies may carry a file (BodyLimit's `multipart` rules in app.py).
UPLOAD_PATHS = (r"/editor/c/[^/]+/ledger/new",)
