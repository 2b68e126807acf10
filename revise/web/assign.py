"""Sharing the work (issue #13): assigning sections and comments, themes, the report by theme.

Plain forms with CSRF and a 303 afterwards; assigning is for administrators (editors get 403),
themes for every editor. Like revise/web/editor.py, every route starts with auth.require().
"""

from __future__ import annotations

import os
import tempfile
from urllib.parse import parse_qsl, quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, StreamingResponse
from starlette.routing import Route

from revise import assignments, exporting, report, themes
from revise.i18n import N_
from revise.store import bulk_selection
from revise.store import comments as comment_store
from revise.store import groups as group_store
from revise.store import queue as queue_store
from revise.store import themes as theme_store
from revise.web.auth import require
from revise.web.comments import render
from revise.web.downloads import _chunks
from revise.web.editor import _comment_page, _consultation, _queue_page, form_action, parse_filters

MULTI = ("ids", "theme")  # fields that may come several times


def _post(role: str = "editor"):
    """An editor POST (editor.form_action): role, consultation and CSRF checked; fields in MULTI as lists."""
    return form_action(role, multi=MULTI)


def _text(form: dict, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


# --- assignments ----------------------------------------------------------------------------

def assignments_page(request: Request):
    """Every section with its editor (administrators): one select per heading."""
    account = require(request, "admin")
    return _assignments_page(request, account, _consultation(request))


def _assignments_page(request: Request, account: dict, c: dict, errors: dict | None = None, status_code: int = 200):
    db = request.app.state.connections.get()
    return render(request, "editor/assign.html", {
        "account": account, "c": c, "sections": assignments.sections(db, c),
        "assignees": assignments.store.accounts(db), "names": assignments.store.names(db),
        "totals": queue_store.section_counts(db, c["id"]),
        "decided": queue_store.section_counts(db, c["id"], "block_decided"),
        "errors": errors or {}, "done": request.query_params.get("done"),
        "moved": request.query_params.get("moved"),
    }, status_code=status_code)


@_post("admin")
def assignments_save(request: Request, account: dict, c: dict, form: dict):
    """Save the sections whose select changed (each one audited); comments follow their section."""
    db = request.app.state.connections.get()
    current = {s["id"]: s["account_id"] for s in assignments.sections(db, c)}
    sections = moved = 0
    for heading_id, had in current.items():
        field = f"s{heading_id}"
        if field not in form:
            continue
        try:
            chosen = assignments.parse_account(db, form[field])
            if chosen == had:
                continue
            changed = assignments.assign_section(db, c, heading_id, chosen, account["display_name"])
        except assignments.AssignError as error:
            return _assignments_page(request, account, c, {"assign": error.message}, 422)
        if changed is not None:
            sections, moved = sections + 1, moved + changed
    path = request.url_for("editor_assignments", slug=c["slug"]).path
    return RedirectResponse(f"{path}?{urlencode({'done': sections, 'moved': moved})}", status_code=303)


@_post("admin")
def comment_assign(request: Request, account: dict, c: dict, form: dict):
    """Give one comment to an editor over its section's, or let it follow its section again."""
    db = request.app.state.connections.get()
    comment = comment_store.get(db, c["id"], request.path_params["comment_id"])
    if comment is None:
        raise HTTPException(404)
    try:
        chosen = assignments.parse_account(db, form.get("account"))
    except assignments.AssignError as error:
        return _comment_page(request, account, c, {"assign": error.message}, {}, 422)
    assignments.assign_comment(db, c, comment["id"], chosen, account["display_name"])
    path = request.url_for("editor_comment", slug=c["slug"], comment_id=comment["id"]).path
    return RedirectResponse(path + "#assign", status_code=303)


# --- themes ---------------------------------------------------------------------------------

def themes_page(request: Request):
    """The consultation's themes: create, rename, delete; how many comments carry each."""
    account = require(request)
    return _themes_page(request, account, _consultation(request))


def _themes_page(request: Request, account: dict, c: dict, errors: dict | None = None, values: dict | None = None,
                 status_code: int = 200):
    db = request.app.state.connections.get()
    return render(request, "editor/themes.html", {
        "account": account, "c": c, "themes": theme_store.of_consultation(db, c["id"]),
        "errors": errors or {}, "values": values or {}, "done": request.query_params.get("done", ""),
    }, status_code=status_code)


def _themes_done(request: Request, c: dict, done: str) -> RedirectResponse:
    path = request.url_for("editor_themes", slug=c["slug"]).path
    return RedirectResponse(f"{path}?{urlencode({'done': done})}", status_code=303)


@_post()
def theme_create(request: Request, account: dict, c: dict, form: dict):
    """A new theme for this consultation."""
    db = request.app.state.connections.get()
    try:
        themes.create(db, c, form.get("name"), account["display_name"])
    except themes.ThemeError as error:
        return _themes_page(request, account, c, {"new": (error.message, error.params)}, form, 422)
    return _themes_done(request, c, "created")


@_post()
def theme_rename(request: Request, account: dict, c: dict, form: dict):
    """Rename a theme (its comments keep it)."""
    db = request.app.state.connections.get()
    theme_id = _text(form, "theme_id")
    try:
        themes.rename(db, c, theme_id, form.get("name"), account["display_name"])
    except themes.ThemeError as error:
        return _themes_page(request, account, c, {"theme": (error.message, error.params)}, form, 422)
    return _themes_done(request, c, "renamed")


@_post()
def theme_delete(request: Request, account: dict, c: dict, form: dict):
    """Delete a theme: it is taken off every comment that carried it."""
    db = request.app.state.connections.get()
    try:
        n = themes.delete(db, c, _text(form, "theme_id"), account["display_name"])
    except themes.ThemeError as error:
        return _themes_page(request, account, c, {"theme": (error.message, error.params)}, form, 422)
    return _themes_done(request, c, f"deleted:{n}")


@_post()
def comment_themes(request: Request, account: dict, c: dict, form: dict):
    """The comment carries exactly the themes ticked on its page."""
    db = request.app.state.connections.get()
    comment = comment_store.get(db, c["id"], request.path_params["comment_id"])
    if comment is None:
        raise HTTPException(404)
    try:
        themes.set_for_comment(db, c, comment["id"], form.get("theme") or [], account["display_name"])
    except themes.ThemeError as error:
        return _comment_page(request, account, c, {"themes": error.message}, {}, 422)
    path = request.url_for("editor_comment", slug=c["slug"], comment_id=comment["id"]).path
    return RedirectResponse(path + "#themes", status_code=303)


@_post()
def themes_bulk(request: Request, account: dict, c: dict, form: dict):
    """Put a theme on the comments ticked in the queue, or take it off (a group's row stands for
    every member, as for decisions): first the exact number is stated and confirmed, like every
    bulk action (web/editor._queue_action), then back to the queue with how many changed."""
    db = request.app.state.connections.get()
    picked = [v for v in form.get("ids") or [] if len(v) < 14]
    ids = [int(v) for v in picked if v.isdigit() and len(v) < 12]
    groups = [int(v[2:]) for v in picked if v.startswith("g:") and v[2:].isdecimal()]
    query_text = _text(form, "query")
    query = dict(parse_qsl(query_text))
    on = form.get("action") != "untag"
    try:
        theme = themes.chosen(db, c, (form.get("theme") or [""])[0])
    except themes.ThemeError as error:
        return _queue_page(request, account, c, query, {error.field: error.message}, {}, 422)
    # The bulk bar's scope, as for decisions: every comment matching the filter, the page as
    # shown, or the rows ticked (a group's row: every member).
    scope = form.get("scope") if form.get("scope") in ("filter", "page") else \
        "page" if form.get("page_all") == "1" else "ticked"
    filters = parse_filters(query, account)
    if scope == "filter":
        selection = bulk_selection.of_filter(db, c["id"], filters)
    else:
        if scope == "page":
            for row in queue_store.view(db, c["id"], filters).rows:
                grouped = filters.grouped and row["group_size"] > 1
                (groups if grouped else ids).append(row["group_id"] if grouped else row["id"])
        selection = bulk_selection.of_ticks(db, c["id"], ids, groups)
    if not selection.ids:
        return _queue_page(request, account, c, query, {"ids": N_("Select at least one comment.")}, {}, 422)
    if len(selection.ids) > bulk_selection.BULK_MAX:
        return _queue_page(request, account, c, query, {"ids": N_(
            "At most 10,000 comments can be changed at once: narrow the filter.")}, {}, 422)
    expected = _text(form, "expect")
    confirmed = _text(form, "confirm") == "1"
    if not confirmed or expected != str(len(selection.ids)):
        return render(request, "editor/bulk_confirm.html", {
            "account": account, "c": c, "selection": selection, "action": "tag" if on else "untag",
            "theme": theme, "scope": scope, "disposition": "", "reason": "",
            "form": {"query": query_text, "picked": picked},
            "confirm_action": request.url_for("editor_themes_bulk", slug=c["slug"]).path,
            "changed_since": confirmed,
            "errors": {"count": N_("The number of comments changed since you looked (a colleague's change or a new "
                                   "comment): check it again.")},
            "back": request.url_for("editor_queue", slug=c["slug"]).path + "?" + urlencode(query),
        }, status_code=409 if confirmed else 200)
    done = themes.tag(db, c, theme["id"], selection.ids, account["display_name"], on=on)
    path = request.url_for("editor_queue", slug=c["slug"]).path
    outcome = f"{'tag' if on else 'untag'}:{done}"
    return RedirectResponse(f"{path}?{urlencode({**query, 'done': outcome})}", status_code=303)


# --- the report theme by theme --------------------------------------------------------------

REPORTS = {"report.docx", "report.xlsx", "report.csv"}


def report_by_theme(request: Request, c: dict, name: str):
    """The 意见采纳情况表 theme by theme (`?group=theme` on an editor's report download)."""
    if name not in REPORTS:
        raise HTTPException(404)
    db = request.app.state.connections.get()
    with exporting.snapshot(db, c, request.scope["state"].get("locale", "zh_CN")) as snap:
        made = report.open_report(snap.db, snap.consultation, snap.locale, group_by="theme")
        spool = tempfile.TemporaryFile()
        try:
            if name == "report.docx":
                spool.write(report.report_docx(made, snap.original))
            elif name == "report.xlsx":
                report.write_xlsx(made, spool)
            else:
                report.write_csv(made, spool)
        except BaseException:
            spool.close()
            raise
    spool.seek(0)
    filename = exporting.file_name(c, name.replace("report", "report-by-theme"))
    return StreamingResponse(_chunks(spool), media_type=exporting.KINDS[name][1], headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
        "Content-Length": str(os.fstat(spool.fileno()).st_size),
        "Cache-Control": "no-store",
    })


routes = [
    Route("/editor/c/{slug}/assignments", assignments_page, name="editor_assignments"),
    Route("/editor/c/{slug}/assignments", assignments_save, methods=["POST"], name="editor_assignments_save"),
    Route("/editor/c/{slug}/comments/{comment_id:int}/assign", comment_assign, methods=["POST"],
          name="editor_comment_assign"),
    Route("/editor/c/{slug}/comments/{comment_id:int}/themes", comment_themes, methods=["POST"],
          name="editor_comment_themes"),
    Route("/editor/c/{slug}/themes", themes_page, name="editor_themes"),
    Route("/editor/c/{slug}/themes", theme_create, methods=["POST"], name="editor_theme_create"),
    Route("/editor/c/{slug}/themes/bulk", themes_bulk, methods=["POST"], name="editor_themes_bulk"),
    Route("/editor/c/{slug}/themes/rename", theme_rename, methods=["POST"], name="editor_theme_rename"),
    Route("/editor/c/{slug}/themes/delete", theme_delete, methods=["POST"], name="editor_theme_delete"),
]
