"""Commenting routes, shared by the public (/c/{slug}) and departments (/d/{token}).

Each route: parse and check the request → commenting/departments rules → store → template.
With htmx (HX-Request) a route answers with the fragment to swap; without, a whole page or a
303 redirect back to the paragraph's anchor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from revise import anchoring, attachments, comment_form, commenting, departments, revising, table_cards
from revise import versions
from revise.templating import route_path
from revise.i18n import N_
from revise.offload import Limited
from revise.masking import mask
from revise.previews import change_view
from revise.security import normalise_receipt, token_hash
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.store import counts as count_store
from revise.store import departments as department_store
from revise.web import csrf
from revise.web.clients import client_address, submission_key
from revise.web.forms import read_form
from revise.window import OPEN, Window


@dataclass
class Audience:
    """Who is looking: the public on /c/{slug}, or one department through its private link."""

    consultation: dict
    department: dict | None = None
    token: str = ""
    drafting: int | None = None  # the consultation's blocks serial when read with it (page_state)
    _prefixes: dict = field(default_factory=dict, repr=False)

    def url(self, request: Request, what: str, **params) -> str:
        """A path within this audience's pages ("page", "block", "comment", "draft", "no_comment")."""
        if params.keys() == {"block_id"}:
            # The draft page links every block twice: build the route once, then fill in ids
            # (url_for per link was a third of the page's render time).
            key = (what, "block_id")
            if key not in self._prefixes:
                marker = 987654321
                self._prefixes[key] = self._url(request, what, block_id=marker).split(str(marker))
            head, tail = self._prefixes[key]
            return f"{head}{params['block_id']}{tail}"
        return self._url(request, what, **params)

    def _url(self, request: Request, what: str, **params) -> str:
        if self.department is None:
            names = {"page": "consultation", "block": "block", "comment": "block_comment",
                     "draft": "draft_remarks", "draft_comment": "draft_comment"}
            return self._path(request, names[what], slug=self.consultation["slug"], **params)
        names = {"page": "department", "block": "dept_block", "comment": "dept_block_comment",
                 "draft": "dept_draft", "draft_comment": "dept_draft_comment", "no_comment": "dept_no_comment"}
        return self._path(request, names[what], token=self.token, **params)

    @staticmethod
    def _path(request: Request, name: str, **params) -> str:
        """request.url_for(...).path, each route's path found once (templating.route_path)."""
        return route_path(request.scope, name, **params).make_absolute_url(base_url=request.base_url).path


def audience_of(request: Request) -> Audience:
    """The audience named by the path: a consultation's slug or a department's link token (404 if neither)."""
    db = request.app.state.connections.get()
    if "token" in request.path_params:
        token = request.path_params["token"]
        department = department_store.by_token_hash(db, token_hash(token)) if len(token) < 200 else None
        if department is None:
            raise HTTPException(404)
        consultation = consultation_store.by_id(db, department["consultation_id"])
        department["left_out"] = not versions.on_roster(db, consultation, department)  # issue #12
        department.update(departments.reply_of(db, department))  # status and comments, as on the roster
        return Audience(consultation, department, token)
    # One query of four serials; the consultation's row is kept on the connection until it changes.
    found = count_store.page_state(db, request.path_params["slug"])
    if found is None:
        raise HTTPException(404)
    return Audience(found.consultation, drafting=found.drafting)


def _block_or_404(request: Request, audience: Audience) -> dict | None:
    """The block in the path (None when the path is about the whole draft)."""
    if "block_id" not in request.path_params:
        return None
    db = request.app.state.connections.get()
    # The block as the published version shows it, whatever the editors revise (issue #12).
    block = versions.public_block(db, audience.consultation, request.path_params["block_id"], audience.drafting)
    if block is None:
        raise HTTPException(404)
    return block


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, context: dict, status_code: int = 200) -> Response:
    response = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    response.headers["Vary"] = "HX-Request, Accept-Language, Cookie"
    return response


def render_fragment(request: Request, template: str, context: dict) -> Markup:
    """A template rendered to safe HTML with the same context a page gets (for caching)."""
    templates = request.app.state.templates
    full = {"request": request, **context}
    for processor in templates.context_processors:
        full.update(processor(request))
    return Markup(templates.get_template(template).render(full))


def refuse(request: Request, status: int, message: str) -> Response:
    """A clear answer in the visitor's language with a 4xx status (a fragment for htmx)."""
    template = "partials/_notice.html" if is_htmx(request) else "error.html"
    response = render(request, template, {"status": status, "message": message}, status_code=status)
    if status == 429:  # a per-minute limit: after its window the same try is taken (RFC 6585)
        response.headers["Retry-After"] = str(int(request.app.state.limiter.period))
    return response


def thread_context(request: Request, audience: Audience, block: dict | None, values: dict | None = None,
                   errors: dict | None = None, form_token: str | None = None, preview: dict | None = None) -> dict:
    """What the comment thread and form of a block (or the whole draft) need to render;
    `preview` is the proposed change, computed beforehand off the event loop (`preview_of`)."""
    db = request.app.state.connections.get()
    c = audience.consultation
    signer = request.app.state.signer
    if values is None:
        values = {"kind": "edit" if block else "remark", "suggestion": block["text"] if block else ""}
    comments = versions.published_on_block(db, c, block["id"] if block else None)
    if audience.department is not None:
        own = comment_store.of_department(db, audience.department["id"])
        comments = [x for x in own if x["block_id"] == (block["id"] if block else None)]
    if block is not None:  # each comment against the text it was written on, and its phrase now
        anchoring.annotate(comments, block, lambda n: revising.text_at_revision(db, block, n))
    card = None
    if block is not None and block["kind"] == "table_row":  # the row under its column headers (issue #16)
        card = table_cards.row_card(versions.public_blocks(db, c), block)
    return {
        "card": card,
        "cell_values": _cell_values(block, values) if card else None,
        "c": c,
        "audience": audience,
        "block": block,
        "single": True,  # the block shown alone, above its thread
        "comments": comments,
        "is_open": Window.of(c).state() == OPEN,
        "window_state": Window.of(c).state(),
        "values": values,
        "errors": errors or {},
        "kinds": comment_form.KINDS,
        "form_token": form_token or signer.form_token(),
        "preview": preview,
        "action": audience.url(request, "comment", block_id=block["id"]) if block else audience.url(request, "draft_comment"),
        "back": audience.url(request, "page") + (f"#b-{block['id']}" if block else ""),
    }


def _cell_values(block: dict, values: dict) -> list[str]:
    """What each cell input of a row's form holds: the suggestion's cells, else the row's own."""
    own = table_cards.row_texts(block)
    proposed = (values.get("suggestion") or "").split("\t")
    return proposed if len(proposed) == len(own) else own


async def preview_of(request: Request, block: dict | None, values: dict) -> dict | None:
    """The proposed change, computed on the server — in the diff process (offload.CpuGate.compute),
    so the largest suggestion never holds the interpreter the event loop runs on (issue #10)."""
    if block is None:
        return None
    kind, suggestion = values.get("kind", ""), values.get("suggestion", "")
    if kind not in ("edit", "delete", "insert"):
        return None
    return await request.app.state.cpu.compute(change_view, kind, block["text"], suggestion)


def block_thread(request: Request):
    """A block's comments and the form to comment on it (a fragment for htmx, else a page)."""
    audience = audience_of(request)
    block = _block_or_404(request, audience)
    context = thread_context(request, audience, block)
    return render(request, "partials/_thread.html" if is_htmx(request) else "block.html", context)


async def submit_comment(request: Request):
    """Preview or record a comment on a block (or on the whole draft).

    The checks run on the event loop (a few hundred microseconds, less than a hand-off to a
    thread); what can take long never does: re-rendering the form with its diffs runs through
    the CPU gate (revise.offload), and the comment is committed by the writer thread
    (revise.writer), which waits for SQLite's lock in its place and answers 503 when it stays
    locked. Where the consultation takes attachments the form is multipart with one file
    (BodyLimit lets such bodies reach the attachment limit); its text fields keep the form limit.
    """
    state = request.app.state
    settings = state.settings
    form = await read_form(request, max_files=1, max_part_size=settings.max_form_bytes)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if sum(len(v.encode()) for v in fields.values()) > settings.max_form_bytes:
        return refuse(request, 413, N_("The text of the form is too long to accept."))
    upload = form.get("attachment")
    file = await attachments.read_upload(upload, settings.max_attachment_bytes) if hasattr(upload, "read") else None
    audience = audience_of(request)
    block = _block_or_404(request, audience)
    problem = _check_post(request, fields)
    if problem:
        return problem
    values, errors = comment_form.validate(fields, block, department=audience.department is not None)
    attachment = None
    if file is not None and audience.consultation["public_attachments"]:  # else a posted file is ignored
        # Hashing a file of megabytes would hold up the event loop: a worker thread does it.
        attachment, refused = await run_in_threadpool(_checked_attachment, file, settings.max_attachment_bytes)
        if refused is not None:
            errors["attachment"] = (refused.message, refused.params)
        values["attachment_again"] = True  # a re-shown form has lost the file: say to choose it again
    form_token = fields.get("form_token")
    if not state.signer.check_form_token(form_token):
        form_token = None
    wants_preview = fields.get("action") == "preview"
    if errors or wants_preview or form_token is None:
        if wants_preview and not await state.preview_limiter.check(client_address(request)):
            return refuse(request, 429, N_("Too many previews from your connection in a short time. Please wait a minute and try again."))
        if form_token is None and not errors and not wants_preview:
            errors = {"form": N_("The form had expired: check it and send it again.")}
        status = 200 if wants_preview and not errors else 422
        preview = await preview_of(request, block, values)
        return await state.cpu.run(_form_again, request, audience, block, values, errors, form_token, status, preview)
    try:
        row = commenting.prepare(audience.consultation, block, values, form_token=form_token,
                                 department=audience.department)
    except commenting.Refused as refused:
        return refuse(request, refused.status, refused.message)
    # The rate limit is counted in the comment's own transaction (no write of its own per POST),
    # after the form token is known to be new: a resent form is not counted twice.
    admit = state.limiter.admitter(submission_key(request, audience.department))
    try:
        comment, _created = await state.writer.submit(row, commenting.then_web(row, attachment), admit)
    except Limited:
        return refuse(request, 429, N_("Too many comments from your connection in a short time. Please wait a minute and send it again."))
    if is_htmx(request):
        return render(request, "partials/_receipt_box.html", {"comment": comment, "c": audience.consultation,
                                                               "audience": audience, "block": block})
    page = audience.url(request, "page")
    anchor = "#receipt"  # the receipt box, in its paragraph's slot: the first thing on the screen (issue #16)
    return RedirectResponse(f"{page}?{urlencode({'receipt': comment['receipt']})}{anchor}", status_code=303)


def _checked_attachment(file: tuple[str, bytes], limit: int):
    """(attachment, None) or (None, the refusal)."""
    try:
        return attachments.check(*file, limit), None
    except attachments.AttachmentRefused as refused:
        return None, refused


def _form_again(request: Request, audience: Audience, block: dict | None, values: dict, errors: dict,
                form_token: str | None, status: int, preview: dict | None) -> Response:
    """The form shown again, with its errors or the preview of the change (a worker thread)."""
    context = thread_context(request, audience, block, values, errors, form_token, preview=preview)
    return render(request, "partials/_form.html" if is_htmx(request) else "block.html", context, status)


def _check_post(request: Request, form: dict) -> Response | None:
    """The 403 answer to a cross-site or session-less POST (revise.web.csrf), or None."""
    message = csrf.problem(request, form)
    return refuse(request, 403, message) if message else None


def _client(request: Request) -> str:
    return client_address(request)


async def read_upload_form(request: Request, field: str, limit: int, max_fields: int = 10):
    """A multipart form with one file: (the form, its text fields, (name, bytes) of the file or None).

    Text parts keep the form limit; the file is read up to `limit` (attachments.read_upload)."""
    settings = request.app.state.settings
    form = await request.form(max_files=1, max_fields=max_fields, max_part_size=settings.max_form_bytes)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return form, fields, await attachments.read_upload(form.get(field), limit)


def receipt(request: Request):
    """A commenter's receipt page: their comment, when it arrived, its status. Never the contact."""
    code = normalise_receipt(request.path_params["code"])
    db = request.app.state.connections.get()
    comment = comment_store.by_receipt(db, code) if code else None
    if comment is None:
        return _lookup_again(request, 404, N_("No comment has this receipt code. Check the code and try again."),
                             request.path_params["code"])
    consultation = consultation_store.by_id(db, comment["consultation_id"])
    block = versions.comment_block(db, comment)  # the text it was written on, as published (issue #12)
    for private in ("contact", "officer_name", "officer_phone"):  # never on a receipt (issue #12)
        comment.pop(private, None)
    change = None
    if block is not None and comment["kind"] in ("edit", "delete", "insert"):
        written_on = block["text"] if comment["block_rev"] is None else revising.text_at_revision(db, block, comment["block_rev"])
        change = change_view(comment["kind"], written_on, mask(comment["suggestion"] or ""))
    return render(request, "receipt.html", {"comment": comment, "c": consultation, "block": block, "change": change})


def _lookup_again(request: Request, status: int, message: str, typed: str) -> Response:
    """The lookup form again, with what was wrong and the code as typed (issue #16)."""
    if is_htmx(request):
        return refuse(request, status, message)
    return render(request, "receipt.html", {"comment": None, "message": message, "typed": typed[:20]},
                  status_code=status)


def receipt_lookup(request: Request):
    """Find a receipt by a typed code (GET form on the receipt page)."""
    code = normalise_receipt(request.query_params.get("code", ""))
    if code is None:
        return _lookup_again(request, 400, N_("A receipt code has ten letters and digits, e.g. K7QH2-MZ4XR."),
                             request.query_params.get("code", ""))
    return RedirectResponse(request.url_for("receipt", code=code).path, status_code=303)


async def no_comment(request: Request):
    """A department files 无修改意见 for the whole draft."""
    form = await request.form()
    return await run_in_threadpool(_no_comment, request, dict(form))


def _no_comment(request: Request, form: dict):
    audience = audience_of(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    db = request.app.state.connections.get()
    try:
        commenting.file_no_comment(db, audience.consultation, audience.department,
                                   withdraw_comments=form.get("withdraw") == "1")
    except commenting.Refused as refused:
        return refuse(request, refused.status, refused.message)
    return RedirectResponse(audience.url(request, "page") + "?filed=1", status_code=303)


# The comment paths (public and department) whose multipart bodies may carry an attachment:
# BodyLimit (app.py) lets those reach the attachment limit; plain forms keep the form limit.
UPLOAD_PATHS = (r"/(c|d)/[^/]+/(b/[0-9]+/comments|remarks)",)
