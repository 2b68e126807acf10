"""Editor pages: the dashboard, the queue of comments, decisions, moderation (the outcome: web/outcome.py).

Every route here starts with auth.require(): anonymous visitors and department links are
refused (tests/test_editor_access.py walks every route to prove it).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from revise import audit_wording, commenting, departments, docx_sanitize, drafts, triage
from revise import versions
from revise.comment_form import KIND_SHORT, KINDS
from revise.docx_import import ImportRefused
from revise.i18n import DEFAULT_LOCALE, N_, gettext
from revise.ledger import CHANNELS
from revise.store import attachments as attachment_store
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import bulk_selection
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.store import groups as group_store
from revise.store import queue as queue_store
from revise import assignments, themes
from revise.store import assignments as assignment_store
from revise.store import themes as theme_store
from revise.templating import local_time
from revise.textclean import clean_text
from revise.timeutil import parse_local
from revise.web.auth import require
from revise.web.comments import _check_post, is_htmx, render
from revise.web.downloads import download
from revise.web.reach import absolute_url
from revise.window import Window, default_window

STATUSES = {"pending": N_("Awaiting review"), "published": N_("Published"), "hidden": N_("Not published")}
SOURCES = {"public": N_("Public"), "department": N_("Department")}


def _consultation(request: Request) -> dict:
    db = request.app.state.connections.get()
    found = consultation_store.by_slug(db, request.path_params["slug"])
    if found is None:
        raise HTTPException(404)
    return found


def form_action(role: str = "editor", multi: tuple[str, ...] = ()):
    """An editor POST: read the form, then (in the thread pool) check the role, the
    consultation and CSRF before calling fn(request, account, consultation, form).
    Fields named in `multi` may come several times and arrive as lists of strings."""

    def wrap(fn):
        def checked(request: Request, form: dict):
            account = require(request, role)
            c = _consultation(request)
            problem = _check_post(request, form)
            if problem:
                return problem
            return fn(request, account, c, form)

        async def endpoint(request: Request):
            raw = await request.form()
            form = dict(raw)
            if multi:
                form = {k: ([v for v in raw.getlist(k) if isinstance(v, str)] if k in multi else raw.get(k))
                        for k in raw.keys()}
                form = {k: v for k, v in form.items() if isinstance(v, (str, list))}
            return await run_in_threadpool(checked, request, form)

        endpoint.__doc__ = fn.__doc__
        return endpoint

    return wrap


def dashboard(request: Request):
    """Comments received by status, source and disposition; the busiest sections; the roster."""
    account = require(request)
    return _dashboard_page(request, account, _consultation(request))


def _dashboard_page(request: Request, account: dict, c: dict, errors: dict | None = None,
                    values: dict | None = None, new_link: tuple[str, str] | None = None):
    db = request.app.state.connections.get()
    c = consultation_store.by_id(db, c["id"])
    # Counts kept by triggers (schema m011_editor_counts): no scan of the comments per view.
    per_block = queue_store.counts_per_block(db, c["id"])
    sections = queue_store.section_counts(db, c["id"])
    headings = queue_store.headings(db, c["id"])
    busiest = sorted((h for h in headings if sections.get(h["id"])), key=lambda h: -sections[h["id"]])[:5]
    return render(request, "editor/dashboard.html", {
        "account": account, "c": c,
        "by_status": queue_store.counts_by(db, c["id"], "status"),
        "by_source": queue_store.counts_by(db, c["id"], "source"),
        "by_disposition": queue_store.counts_by(db, c["id"], "disposition"),
        "total": sum(per_block.values()),
        "headings": headings, "sections": sections, "busiest": busiest,
        "roster": departments.status(db, c),
        "statuses": STATUSES, "sources": SOURCES, "department_status": departments.STATUS_NAMES,
        "errors": errors or {}, "values": values or {}, "new_link": new_link,
        "window_state": Window.of(c).state(),
        "removed": _removed_at_import(db, c),
        **assignments.overview(db, c, request.scope["state"].get("locale", DEFAULT_LOCALE),
                               request.url_for("editor_queue", slug=c["slug"]).path, per_block, sections),
    }, status_code=422 if errors else 200)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


def _choice(value: str | None, allowed) -> str | None:
    return value if value in allowed else None


def parse_filters(query, account: dict | None = None) -> queue_store.Filters:
    """The queue's filters from the query string; unknown values are ignored, not errors.
    `mine=1` is the signed-in `account`'s comments (none at all when no account is given, so a
    bulk action never widens to everyone's); `assignee=ID` an account's, `assignee=none` nobody's."""
    assignee = 0 if query.get("assignee") == "none" else _int(query.get("assignee"))
    if query.get("mine") == "1":
        assignee = account["id"] if account else -1
    return queue_store.Filters(
        assignee=assignee, theme=_int(query.get("theme")),
        section=_int(query.get("section")), block=_int(query.get("block")),
        kind=_choice(query.get("kind"), KINDS), source=_choice(query.get("source"), SOURCES),
        department=_int(query.get("department")), status=_choice(query.get("status"), STATUSES),
        disposition=_choice(query.get("disposition"), triage.DISPOSITIONS),
        q=clean_text(query.get("q") or "", multiline=False)[:200], sort="block" if query.get("sort") == "block" else "time",
        page=max(1, min(_int(query.get("page")) or 1, 100_000)),
        grouped=query.get("grouped") != "0",
        channel=_choice(query.get("channel"), CHANNELS),
        after=_int(query.get("after")), before=_int(query.get("before")),
        round=0 if query.get("round") == "all" else _int(query.get("round")),  # issue #12: default the current round
    )


CURSORS = ("page", "after", "before", "done")  # what a page's own links replace


def queue(request: Request):
    """All comments, filterable, searchable and paged; moderation and decisions in bulk."""
    account = require(request)
    c = _consultation(request)
    filters = parse_filters(request.query_params, account)
    if request.query_params.get("mine") == "1":  # "my queue" as a link that names the account
        kept = {k: v for k, v in request.query_params.items() if k not in (*CURSORS, "mine") and v}
        path = request.url_for("editor_queue", slug=c["slug"]).path
        return RedirectResponse(f"{path}?{urlencode({**kept, 'assignee': account['id']})}", status_code=303)
    if filters.page > 1 and not (filters.after or filters.before):
        # Old-style page numbers (bookmarks, scripts) become the keyset page that starts there.
        db = request.app.state.connections.get()
        start = queue_store.page_cursor(db, c["id"], filters)
        kept = {k: v for k, v in request.query_params.items() if k not in CURSORS and v}
        path = request.url_for("editor_queue", slug=c["slug"]).path
        return RedirectResponse(f"{path}?{urlencode({**kept, **({'after': start} if start else {})})}", status_code=303)
    return _queue_page(request, account, c, request.query_params)


def _queue_page(request: Request, account: dict, c: dict, query, errors: dict | None = None,
                form: dict | None = None, status_code: int = 200):
    db = request.app.state.connections.get()
    filters = parse_filters(query, account)
    shown = queue_store.view(db, c["id"], filters)
    locale = request.scope["state"].get("locale", DEFAULT_LOCALE)
    labels = _row_labels(locale)
    when: dict[str, str] = {}
    for r in shown.rows:  # shown to the minute: a page of a busy queue spans a few minutes
        minute = r["created_at"][:16]
        if minute not in when:
            when[minute] = local_time({"locale": locale}, r["created_at"])
        r["when"] = when[minute]
    kept = {k: v for k, v in query.items() if k not in CURSORS and v}
    return render(request, "editor/queue.html", {
        "account": account, "c": c, "rows": shown.rows, "shown": shown, "filters": filters,
        "total": shown.total, "query": urlencode({**kept, **{k: v for k, v in query.items() if k in ("after", "before") and v}}),
        "first_query": "?" + urlencode(kept),
        "page_query": lambda name, cursor: "?" + urlencode({**kept, name: cursor}),
        "headings": queue_store.headings(db, c["id"]), "links": _row_links(request, c), "labels": labels,
        "roster": queue_store.departments(db, c["id"]),
        "assignees": assignment_store.accounts(db), "themes": theme_store.names(db, c["id"]),
        "kinds": KINDS, "dispositions": triage.DISPOSITIONS, "statuses": STATUSES, "sources": SOURCES,
        "errors": errors or {}, "form": form or {}, "done": query.get("done", ""),
        "rounds": versions.rounds(db, c),  # issue #12: which round the queue shows
    }, status_code=status_code)


def _row_labels(locale: str) -> dict[str, dict[str, str]]:
    """The rows' kind, status, decision and channel names, translated once a page instead of
    once a row (gettext and babel were half of the queue's rendering)."""
    return {name: {k: gettext(v, locale) for k, v in names.items()}
            for name, names in (("kind", KIND_SHORT), ("status", STATUSES), ("disposition", triage.DISPOSITIONS),
                                ("channel", CHANNELS))}


def _row_links(request: Request, c: dict) -> dict[str, str]:
    """The start of each row's links, built once: url_for walks the route table on every call
    (a third of the queue page's time at 150 calls a page)."""
    comment = request.url_for("editor_comment", slug=c["slug"], comment_id=1).path
    block = request.url_for("editor_block", slug=c["slug"], block_id=1).path
    group = request.url_for("editor_group", slug=c["slug"], comment_id=1).path
    return {"comment": comment[:-1], "block": block[:-1], "group": group[len(comment):]}


async def queue_action(request: Request):
    """Publish, withhold or decide the selected comments (one reason for all): first a page stating
    exactly how many comments will change, group members included; then, confirmed, the change."""
    form = await request.form()
    picked = [v for v in form.getlist("ids") if isinstance(v, str)]
    ids = [int(v) for v in picked if v.isdigit() and len(v) < 12]
    # A group's row ("g:ID") stands for every member of the group.
    groups = [int(v[2:]) for v in picked if v.startswith("g:") and v[2:].isdecimal() and len(v) < 14]
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "ids"}
    fields["picked"] = [v for v in picked if len(v) < 14]
    return await run_in_threadpool(_queue_action, request, fields, ids, groups)


def _queue_action(request: Request, form: dict, ids: list[int], groups: list[int] = ()):
    account = require(request)
    c = _consultation(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    db = request.app.state.connections.get()
    query = dict(parse_qsl(form.get("query", "")))
    action = form.get("action") if form.get("action") in BULK_ACTIONS else "decide"
    disposition, reason = form.get("disposition", ""), form.get("reason", "")
    if action == "decide":
        try:  # the decision's own rules first: decide() checks them before it looks at the comments
            triage.decide(db, c, [], disposition, reason, account["display_name"])
        except triage.TriageError as error:
            if error.field != "ids":
                return _queue_page(request, account, c, query, {error.field: error.message}, form, 422)
    scope = form.get("scope") if form.get("scope") in ("filter", "page") else \
        "page" if form.get("page_all") == "1" else "ticked"
    filters = parse_filters(query, account)  # the queue's own filters, "my queue" included
    if scope == "filter":
        selection = bulk_selection.of_filter(db, c["id"], filters)
    else:
        if scope == "page":  # the page as the editor saw it: the same filters and cursor
            for row in queue_store.view(db, c["id"], filters).rows:
                grouped = filters.grouped and row["group_size"] > 1
                (groups if grouped else ids).append(row["group_id"] if grouped else row["id"])
        selection = bulk_selection.of_ticks(db, c["id"], ids, list(groups))
    if action in ("publish", "hide"):
        selection = bulk_selection.changing_status(db, selection, "published" if action == "publish" else "hidden")
    if not selection.ids:
        message = N_("None of the selected comments would change: they already are so.") if selection.unchanged \
            else N_("Select at least one comment.")
        return _queue_page(request, account, c, query, {"ids": message}, form, 422)
    if len(selection.ids) > bulk_selection.BULK_MAX:
        return _queue_page(request, account, c, query, {"ids": N_("At most 10,000 comments can be changed at once: narrow the filter.")}, form, 422)
    expected = _int(form.get("expect"))
    if form.get("confirm") != "1" or expected != len(selection.ids):
        # Nothing is changed before the editor has seen the exact number (and again if it moved).
        return render(request, "editor/bulk_confirm.html", {
            "account": account, "c": c, "selection": selection, "action": action, "scope": scope,
            "disposition": disposition, "reason": reason, "form": form, "dispositions": triage.DISPOSITIONS,
            "changed_since": expected is not None and form.get("confirm") == "1",
            "errors": {"count": N_("The number of comments changed since you looked (a colleague's change or a new "
                                   "comment): check it again.")},
            "back": request.url_for("editor_queue", slug=c["slug"]).path + "?" + urlencode(query),
        }, status_code=409 if expected is not None and form.get("confirm") == "1" else 200)
    if action in ("publish", "hide"):
        done = commenting.moderate(db, c, selection.ids, action == "publish", account["display_name"])
    else:
        done = triage.decide(db, c, selection.ids, disposition, reason, account["display_name"])
    path = request.url_for("editor_queue", slug=c["slug"]).path
    return RedirectResponse(f"{path}?{urlencode({**query, 'done': f'{action}:{done}'})}", status_code=303)


BULK_ACTIONS = ("publish", "hide", "decide")


def comment_detail(request: Request):
    """One comment in full with its decision form and the history of its decisions."""
    account = require(request)
    return _comment_page(request, account, _consultation(request))


def _comment_page(request: Request, account: dict, c: dict, errors: dict | None = None,
                  values: dict | None = None, status_code: int = 200):
    db = request.app.state.connections.get()
    comment = comment_store.get(db, c["id"], request.path_params["comment_id"])
    if comment is None:
        raise HTTPException(404)
    block = block_store.get(db, c["id"], comment["block_id"]) if comment["block_id"] else None
    return render(request, "editor/comment.html", {
        "account": account, "c": c, "comment": comment, "block": block,
        "errors": errors or {}, "values": values or {}, "saved": request.query_params.get("saved") == "1",
        "dispositions": triage.DISPOSITIONS, "statuses": STATUSES, "sources": SOURCES,
        "events": audit_wording.describe(db, c, audit_store.of_subject(db, c["id"], f"comment:{comment['id']}"),
                                         request.scope["state"].get("locale", DEFAULT_LOCALE)),
        "group_size": group_store.size(db, c["id"], comment["group_id"]),
        "attachments": attachment_store.of_comment(db, comment["id"]),
        "further_blocks": attachment_store.further_blocks(db, comment["id"]),
        **assignments.of_comment(db, c, comment), "themes": themes.of_comment(db, c, comment["id"]),
    }, status_code=status_code)


@form_action()
def comment_decide(request: Request, account: dict, c: dict, form: dict):
    """Record (or change) the disposition of one comment."""
    db = request.app.state.connections.get()
    comment = comment_store.get(db, c["id"], request.path_params["comment_id"])
    if comment is None:
        raise HTTPException(404)
    try:
        triage.decide(db, c, [comment["id"]], form.get("disposition", ""), form.get("reason", ""),
                      account["display_name"], comment["disposition_revision_id"])
    except triage.TriageError as error:
        return _comment_page(request, account, c, {error.field: error.message}, form, 422)
    path = request.url_for("editor_comment", slug=c["slug"], comment_id=comment["id"]).path
    return RedirectResponse(path + "?saved=1", status_code=303)


def audit_log(request: Request):
    """Every recorded action on the consultation, newest first (administrators)."""
    account = require(request, "admin")
    c = _consultation(request)
    db = request.app.state.connections.get()
    locale = request.scope["state"].get("locale", DEFAULT_LOCALE)
    events = audit_store.of_consultation(db, c["id"], limit=1000)
    return render(request, "editor/audit.html", {"account": account, "c": c,
                                                 "lines": audit_wording.describe(db, c, events, locale)})


routes = [
    Route("/editor/c/{slug}", dashboard, name="editor_dashboard"),
    Route("/editor/c/{slug}/comments", queue, name="editor_queue"),
    Route("/editor/c/{slug}/comments", queue_action, methods=["POST"], name="editor_queue_action"),
    Route("/editor/c/{slug}/comments/{comment_id:int}", comment_detail, name="editor_comment"),
    Route("/editor/c/{slug}/comments/{comment_id:int}", comment_decide, methods=["POST"], name="editor_comment_decide"),
    Route("/editor/c/{slug}/audit", audit_log, name="editor_audit"),
]

GROUP_PAGE = 500  # members of a group listed per page


def comment_group(request: Request):
    """The comments grouped with one (a form letter and its copies): every member; one decision for all."""
    account = require(request)
    c = _consultation(request)
    db = request.app.state.connections.get()
    comment = comment_store.get(db, c["id"], request.path_params["comment_id"])
    if comment is None:
        raise HTTPException(404)
    size = group_store.size(db, c["id"], comment["group_id"])
    pages = (size + GROUP_PAGE - 1) // GROUP_PAGE
    page = max(1, min(_int(request.query_params.get("page")) or 1, pages))
    members = group_store.members(db, c["id"], comment, GROUP_PAGE, (page - 1) * GROUP_PAGE)
    first = members[0] if page == 1 else group_store.members(db, c["id"], comment, 1)[0]
    # htmx loads the list into the queue row; without JavaScript it is a page of its own.
    return render(request, "editor/_group.html" if is_htmx(request) else "editor/group.html", {
        "account": account, "c": c, "comment": comment, "members": members, "first": first, "size": size,
        "page": page, "pages": pages, "statuses": STATUSES, "sources": SOURCES,
    })


routes += [Route("/editor/c/{slug}/comments/{comment_id:int}/group", comment_group, name="editor_group")]


def new_consultation(request: Request):
    """The administrator's upload of a new draft (the same checks as the command line)."""
    account = require(request, "admin")
    return render(request, "editor/new.html", {"account": account, "values": {}, "errors": {}})


async def create_consultation(request: Request):
    """Import an uploaded .docx as a new consultation; a bad file is refused with its reason."""
    settings = request.app.state.settings
    # Only an administrator may send 20 MB: anyone else is refused before the body is read.
    await run_in_threadpool(require, request, "admin")
    form = await request.form(max_files=1, max_fields=20, max_part_size=settings.max_docx_bytes + 1024)
    upload = form.get("file")
    data = await upload.read(settings.max_docx_bytes + 1) if hasattr(upload, "read") else b""
    filename = getattr(upload, "filename", "") or "draft.docx"
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_create_consultation, request, fields, data, filename)


def _create_consultation(request: Request, form: dict, data: bytes, filename: str):
    account = require(request, "admin")
    problem = _check_post(request, form)
    if problem:
        return problem
    errors: dict[str, str] = {}
    params: dict = {}
    window = None
    try:
        opens = parse_local(form.get("opens", "")) if form.get("opens", "").strip() else None
        closes = parse_local(form.get("closes", "")) if form.get("closes", "").strip() else None
        default = default_window(opens)
        window = Window(default.opens_at, closes or default.closes_at)
    except ValueError:
        errors["window"] = N_("Not a date and time: use e.g. 2024-03-01 09:00.")
    if not data:
        errors["file"] = N_("Choose the draft's .docx file.")
    if not errors:
        db = request.app.state.connections.get()
        try:
            drafts.import_draft(db, data, filename=filename, slug=form.get("slug", "").strip(), window=window,
                                settings=request.app.state.settings, title=form.get("title", "").strip(),
                                issuer=form.get("issuer", "").strip(), notice=form.get("notice", "").strip(),
                                contact=form.get("contact", "").strip(), published_on="")
        except ImportRefused as refused:
            errors["file"] = refused.message
        except drafts.DraftError as error:
            errors["slug"], params = error.message, error.params
    if errors:
        return render(request, "editor/new.html", {"account": account, "values": form, "errors": errors,
                                                   "params": params}, status_code=422)
    return RedirectResponse(request.url_for("editor_dashboard", slug=form["slug"].strip()).path, status_code=303)


def _removed_at_import(db, c: dict) -> list:
    """What docx_sanitize took out of the uploaded file (shown on the dashboard after upload)."""
    events = audit_store.of_subject(db, c["id"], f"consultation:{c['id']}")
    return [r for e in events if e["action"] == "document.sanitize" for r in docx_sanitize.from_audit(e["after"])]


routes += [
    Route("/editor/new", new_consultation, name="editor_new"),
    Route("/editor/new", create_consultation, methods=["POST"], name="editor_create"),
]


def export(request: Request):
    """Download the clean plan, the plan with tracked changes, or the report (docx, xlsx, csv)."""
    require(request)
    c = _consultation(request)
    if request.query_params.get("group") == "theme":  # the report theme by theme (issue #13)
        from revise.web.assign import report_by_theme

        return report_by_theme(request, c, request.path_params["name"])
    db = request.app.state.connections.get()  # the report of one round, the current by default (issue #12)
    return download(request, c, request.path_params["name"], **versions.report_round(
        db, c, request.query_params.get("round"), request.scope["state"].get("locale", DEFAULT_LOCALE)))


routes += [Route("/editor/c/{slug}/export/{name}", export, name="editor_export")]


@form_action("admin")
def change_window(request: Request, account: dict, c: dict, form: dict):
    """Administrators change or extend the comment window (audited, like the command line)."""
    db = request.app.state.connections.get()
    try:
        window = Window(parse_local(form.get("opens", "")), parse_local(form.get("closes", "")))
        drafts.change_window(db, c, window, account["display_name"])
    except ValueError:
        return _dashboard_page(request, account, c, {"window": (N_("Not a date and time: use e.g. 2024-03-01 09:00."), {})}, form)
    except drafts.DraftError as error:
        return _dashboard_page(request, account, c, {"window": (error.message, error.params)}, form)
    return RedirectResponse(request.url_for("editor_dashboard", slug=c["slug"]).path + "?saved=window#window",
                            status_code=303)


@form_action("admin")
def add_department(request: Request, account: dict, c: dict, form: dict):
    """Administrators put a department on the roster; its private link is shown this once."""
    db = request.app.state.connections.get()
    try:
        _, token = departments.add(db, c, form.get("name", ""), account["display_name"])
    except departments.RosterError as error:
        return _dashboard_page(request, account, c, {"department": (error.message, error.params)}, form)
    link = absolute_url(request, "department", token=token)
    return _dashboard_page(request, account, c, new_link=(" ".join(form.get("name", "").split()), link))


routes += [
    Route("/editor/c/{slug}/window", change_window, methods=["POST"], name="editor_window"),
    Route("/editor/c/{slug}/departments", add_department, methods=["POST"], name="editor_department"),
]
