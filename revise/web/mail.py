"""The mailbox becomes comments (issue #14): editors upload .eml or .mbox files, see what was
created, skipped or refused, and place each message on the block it concerns."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from revise import attachments, mail_import
from revise.i18n import N_
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import mail as mail_store
from revise.timeutil import to_text, utc_now
from revise.web.auth import require
from revise.web.comments import _check_post, read_upload_form, refuse, render
from revise.web.editor import _consultation, _int, form_action

UPLOAD_PATH = r"/editor/c/[^/]+/mail"


def upload_limits(settings) -> tuple[tuple[str, int], ...]:
    """BodyLimit's multipart rule for the mailbox upload: a mailbox may be as large as a draft."""
    return ((UPLOAD_PATH, settings.max_docx_bytes + settings.max_form_bytes),)


def mail_page(request: Request):
    """The upload form and the e-mail comments not yet placed on a block, with a suggestion each."""
    account = require(request)
    return _page(request, account, _consultation(request))


def _page(request: Request, account: dict, c: dict, outcomes: list | None = None,
          error: tuple | None = None, status_code: int = 200):
    db = request.app.state.connections.get()
    blocks = block_store.of_consultation(db, c["id"])
    waiting = mail_store.unplaced(db, c["id"])
    for comment in waiting:
        found = mail_import.suggest_block(comment["body"], blocks)
        comment["suggested"] = found["id"] if found else None
    return render(request, "editor/mail.html", {
        "account": account, "c": c, "blocks": blocks, "waiting": waiting, "outcomes": outcomes,
        "error": error}, status_code=status_code)


async def upload(request: Request):
    """Import the uploaded .eml or .mbox and show, message by message, what became of it."""
    require(request)  # before reading a body of megabytes
    _, fields, file = await read_upload_form(request, "mailbox", request.app.state.settings.max_docx_bytes)
    return await run_in_threadpool(_upload, request, fields, file)


def _upload(request: Request, form: dict, file: tuple[str, bytes] | None):
    account = require(request)
    c = _consultation(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    settings = request.app.state.settings
    if file is None or not file[1]:
        return _page(request, account, c, error=(N_("Choose an .eml or .mbox file."), {}),
                     status_code=422)
    filename, data = file
    if len(data) > settings.max_docx_bytes:
        return _page(request, account, c, status_code=413, error=(
            N_("The file is too large (at most %(mb)s MB)."),
            {"mb": attachments.megabytes(settings.max_docx_bytes)}))
    db = request.app.state.connections.get()
    try:
        outcomes = mail_import.import_mail(
            db, c, data, filename, account["display_name"],
            blocks=block_store.of_consultation(db, c["id"]),
            attachment_limit=settings.max_attachment_bytes,
            returned=mail_import.returned_drafts(db, c, account["display_name"]))
    except mail_import.MailRefused as refused:
        return _page(request, account, c, error=(refused.message, refused.params), status_code=422)
    return _page(request, account, c, outcomes=outcomes)


@form_action()
def place(request: Request, account: dict, c: dict, form: dict):
    """Put an e-mail comment on the block it concerns (it was about the draft as a whole)."""
    db = request.app.state.connections.get()
    comment_id, block_id = _int(form.get("comment")), _int(form.get("block"))
    block = block_store.get(db, c["id"], block_id) if block_id else None
    if comment_id is None or block is None or block["deleted"]:
        return refuse(request, 422, N_("Choose a paragraph of the draft for this comment."))
    event = audit_store.event(account["display_name"], "comment.place", c["id"],
                              after={"block_id": block["id"]}, at=to_text(utc_now()))
    if not mail_store.place(db, c["id"], comment_id, block, event):
        return refuse(request, 404, N_("No comment has this number in this consultation."))
    return RedirectResponse(request.url_for("editor_mail", slug=c["slug"]).path, status_code=303)


routes = [
    Route("/editor/c/{slug}/mail", mail_page, name="editor_mail"),
    Route("/editor/c/{slug}/mail", upload, methods=["POST"], name="editor_mail_upload"),
    Route("/editor/c/{slug}/mail/place", place, methods=["POST"], name="editor_mail_place"),
]
