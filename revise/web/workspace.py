"""The editor's workspace for one block: its text, its comments, and every way to revise it.

Each change is a revision (revise.revising); a save based on a stale revision answers 409
with both versions and a proposed merge, never overwriting a colleague's work.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from revise import anchoring, audit_wording, diffing, revising, triage
from revise.i18n import DEFAULT_LOCALE, N_
from revise import reply_templates, triage_view
from revise.i18n import gettext
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.timeutil import parse_local, to_text
from revise.web.auth import require
from revise.web.comments import _check_post, is_htmx, render
from revise.web.editor import STATUSES, _consultation


def _block(request: Request, c: dict) -> dict:
    db = request.app.state.connections.get()
    block = block_store.get(db, c["id"], request.path_params["block_id"])
    if block is None:
        raise HTTPException(404)
    return block


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 12 else None


def workspace(request: Request):
    """The block's current text and revision, its comments with their suggestions as diffs."""
    account = require(request)
    c = _consultation(request)
    return _page(request, account, c, _block(request, c))


def _page(request: Request, account: dict, c: dict, block: dict, *, status_code: int = 200, **extra):
    db = request.app.state.connections.get()
    comments = comment_store.on_block(db, c["id"], block["id"])
    failed = extra.get("rebase_failed")
    for comment in comments:
        comment["diff"] = _suggestion_diff(db, block, comment)
        comment["adjust_text"] = _wording_to_adjust(db, block, comment, failed)
    # Where each quote now is (its anchor state is shown with it) and the text it was written on.
    anchoring.annotate(comments, block, lambda n: revising.text_at_revision(db, block, n))
    context = {
        "account": account, "c": c, "block": block, "comments": comments,
        "dispositions": triage.DISPOSITIONS, "statuses": STATUSES, "errors": {}, "values": {},
        "conflict": None, "rebase_failed": None, "preview": None,
        "saved": request.query_params.get("saved") == "1" and request.method == "GET",
    }
    # issue #13: any comment (意见 too) is decided here, with the 常用答复 filled in for this paragraph
    context["replies"] = _replies(db, c, block, request.scope["state"].get("locale", "zh_CN"))
    context.update(extra)
    return render(request, "editor/block.html", context, status_code=status_code)


def _wording_to_adjust(db, block: dict, comment: dict, failed) -> str:
    """What the "adjust the wording" box starts with: the suggestion carried onto the current text.

    A suggestion written on an older revision is rebased first, so submitting the box unchanged
    never undoes a colleague's later change; where part of it no longer fits, the box holds the
    current text with the parts that did fit.
    """
    if comment["kind"] != "edit" or (comment["block_rev"] or 0) == block["rev"]:
        return comment["suggestion"] or ""
    if failed is not None and failed.comment_id == comment["id"]:
        return failed.rebase.text
    base = revising.text_at_revision(db, block, comment["block_rev"] or 0)
    return diffing.rebase(base, comment["suggestion"] or "", block["text"]).text


def _suggestion_diff(db, block: dict, comment: dict):
    """A suggestion as a tracked diff against the text it was written on."""
    if comment["kind"] == "edit" and comment["suggestion"]:
        base = revising.text_at_revision(db, block, comment["block_rev"] or 0)
        return diffing.diff_html(base, comment["suggestion"])
    if comment["kind"] == "insert" and comment["suggestion"]:
        return diffing.diff_html("", comment["suggestion"])
    if comment["kind"] == "delete":
        return diffing.diff_html(block["text"], "")
    return None


async def preview(request: Request):
    """The edit being typed as a diff against the current text (htmx live preview, or a page)."""
    form = await request.form()
    # A diff of the editor's text: bounded like the public preview, through the same CPU gate.
    return await request.app.state.cpu.run(_preview, request, dict(form))


def _preview(request: Request, form: dict):
    account = require(request)
    c = _consultation(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    block = _block(request, c)
    text = form.get("text") if isinstance(form.get("text"), str) else ""
    html = diffing.diff_html(block["text"], text.replace("\r\n", "\n"))
    if is_htmx(request):
        return render(request, "editor/_preview.html", {"preview": html})
    return _page(request, account, c, block, preview=html, values=form)


async def change(request: Request):
    """Edit the text, edit a row's cells, insert after, delete, revert, or accept a suggestion."""
    form = await request.form()
    cells = [v for v in form.getlist("cell") if isinstance(v, str)]
    return await run_in_threadpool(_change, request, dict(form), cells)


def _change(request: Request, form: dict, cells: list[str]):
    account = require(request)
    c = _consultation(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    block = _block(request, c)
    db = request.app.state.connections.get()
    action = request.path_params["action"]
    base = _int(form.get("base_number"))
    reason = form.get("reason", "") if isinstance(form.get("reason"), str) else ""
    text = (form.get("text") or "").replace("\r\n", "\n") if isinstance(form.get("text"), str) else ""
    author = {"id": account["id"], "display_name": account["display_name"]}
    target = block["id"]
    try:
        if base is None and action not in ("insert",):
            raise revising.RevisionError(N_("The form is incomplete: reload the page and try again."))
        if action == "edit":
            revising.edit_block(db, c, block["id"], text, base_number=base, author=author, reason=reason)
        elif action == "row":
            revising.edit_row(db, c, block["id"], [v.replace("\r\n", "\n") for v in cells], base_number=base,
                              author=author, reason=reason)
        elif action == "insert":
            revision = revising.insert_after(db, c, block["id"], text, author=author, reason=reason)
            target = revision["block_id"]
        elif action == "delete":
            revising.delete_block(db, c, block["id"], base_number=base, author=author, reason=reason)
        elif action == "revert":
            revising.revert(db, c, block["id"], _int(form.get("to_number")) or 0, base_number=base,
                            author=author, reason=reason)
        elif action == "accept":
            comment_id = _int(form.get("comment_id"))
            adjusted = text if form.get("adjust") == "1" else None
            revision = revising.accept_suggestion(db, c, comment_id or 0, base_number=base, author=author,
                                                  adjusted_text=adjusted, reason=reason)
            target = revision["block_id"]
        else:
            raise HTTPException(404)
    except revising.Conflict as conflict:
        return _page(request, account, c, block_store.get(db, c["id"], block["id"]), status_code=409,
                     conflict=conflict, values=form)
    except revising.RebaseFailed as failed:
        return _page(request, account, c, block, status_code=409, rebase_failed=failed, values=form)
    except revising.RevisionError as error:
        return _page(request, account, c, block, status_code=422,
                     errors={action: (error.message, error.params)}, values=form)
    path = request.url_for("editor_block", slug=c["slug"], block_id=target).path
    return RedirectResponse(path + "?saved=1#text", status_code=303)


def history(request: Request):
    """Every revision of the block with its diff; compare any two; revert to one."""
    account = require(request)
    c = _consultation(request)
    block = _block(request, c)
    db = request.app.state.connections.get()
    steps = revising.history(db, block["id"])
    a, b = _int(request.query_params.get("a")), _int(request.query_params.get("b"))
    comparison = None
    if a is not None and b is not None and a <= block["rev"] and b <= block["rev"]:
        comparison = revising.compare(db, block["id"], a, b)
    locale = request.scope["state"].get("locale", DEFAULT_LOCALE)
    for step, sentence in zip(steps, audit_wording.revision_steps(steps, locale)):
        step["sentence"] = sentence
    return render(request, "editor/history.html", {"account": account, "c": c, "block": block, "steps": steps,
                                                   "a": a, "b": b, "comparison": comparison,
                                                   "place": audit_wording.place_names(db, c, locale).get(block["id"], "")})


def redline(request: Request):
    """The whole draft: original (or a point in time) against current text; unchanged runs collapsed."""
    account = require(request)
    c = _consultation(request)
    db = request.app.state.connections.get()
    errors, since, until = {}, None, None
    for name in ("since", "until"):
        value = request.query_params.get(name, "").strip()
        if value:
            try:
                moment = to_text(parse_local(value))
            except ValueError:
                errors[name] = N_("Not a date and time: use e.g. 2024-03-01 09:00.")
                continue
            if name == "since":
                since = moment
            else:
                until = moment
    rows = revising.redline(db, c, since=since, until=until)
    places = audit_wording.place_names(db, c, request.scope["state"].get("locale", DEFAULT_LOCALE))
    for row in rows:
        row["place"] = places.get(row["block"]["id"], "")
    return render(request, "editor/redline.html", {
        "account": account, "c": c, "runs": _collapse(rows), "errors": errors,
        "changed": sum(1 for r in rows if r["changed"]),
        "since": request.query_params.get("since", ""), "until": request.query_params.get("until", ""),
    }, status_code=422 if errors else 200)


def _collapse(rows: list[dict]) -> list[dict]:
    """Changed blocks one by one; each run of unchanged blocks as one collapsed item."""
    runs: list[dict] = []
    for row in rows:
        if row["changed"]:
            runs.append({"changed": True, "row": row})
        elif runs and not runs[-1]["changed"]:
            runs[-1]["rows"].append(row)
        else:
            runs.append({"changed": False, "rows": [row]})
    return runs


routes = [
    Route("/editor/c/{slug}/b/{block_id:int}", workspace, name="editor_block"),
    Route("/editor/c/{slug}/b/{block_id:int}/preview", preview, methods=["POST"], name="editor_block_preview"),
    Route("/editor/c/{slug}/b/{block_id:int}/history", history, name="editor_block_history"),
    Route("/editor/c/{slug}/b/{block_id:int}/{action:str}", change, methods=["POST"], name="editor_block_change"),
    Route("/editor/c/{slug}/redline", redline, name="editor_redline"),
]


def _replies(db, c: dict, block: dict, locale: str) -> list[dict]:
    """The common replies for the decision forms, with this paragraph's section filled in."""
    section = reply_templates.section_label(db, c["id"], block, locale)
    return [{**t, "filled": reply_templates.fill(t["body"], section)}
            for rows in reply_templates.of_consultation(db, c["id"]).values() for t in rows]


async def decide(request: Request):
    """Decide one comment of the block (意见 included) from the workspace (issue #13)."""
    form = await request.form()
    return await run_in_threadpool(_decide, request, dict(form))


def _decide(request: Request, form: dict):
    account = require(request)
    c = _consultation(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    block = _block(request, c)
    db = request.app.state.connections.get()
    comment = comment_store.get(db, c["id"], request.path_params["comment_id"])
    if comment is None or comment["block_id"] != block["id"]:
        raise HTTPException(404)
    locale = request.scope["state"].get("locale", "zh_CN")
    try:
        triage.decide(db, c, [comment["id"]], form.get("disposition", ""),
                      triage_view.reason_from(db, c, block, form, locale), account["display_name"],
                      comment["disposition_revision_id"])
    except triage.TriageError as error:
        return _page(request, account, c, block, status_code=422, values=form,
                     errors={f"decide-{comment['id']}": (error.message, {})},
                     error_fields={f"decide-{comment['id']}": (gettext("Disposition", locale), f"comment-{comment['id']}")})
    path = request.url_for("editor_block", slug=c["slug"], block_id=block["id"]).path
    return RedirectResponse(f"{path}#comment-{comment['id']}", status_code=303)


routes += [Route("/editor/c/{slug}/b/{block_id:int}/c/{comment_id:int}/decide", decide, methods=["POST"],
                 name="editor_block_decide")]
