"""The triage view's routes (issue #13): one comment at a time in the queue's filter and order,
decided by keys (static/triage.js) or by a plain form; and the 常用答复 editors keep.

Every action is a form POST answered with 303 to the next comment; with htmx the next panel
comes back at once (one request) with HX-Push-Url, so the address is always the comment shown.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from revise import reply_templates, revising, triage, triage_view
from revise.i18n import DEFAULT_LOCALE, N_
from revise.store import reply_templates as template_store
from revise.templating import local_time
from revise.web.auth import require
from revise.web.comments import is_htmx, render
from revise.web.editor import CURSORS, SOURCES, STATUSES, _consultation, _row_labels, form_action, parse_filters

NOT_FILTERS = (*CURSORS, "from")  # query parameters that are not part of the queue's filter
DISPOSITION_KEYS = {"1": "adopted", "2": "partly", "3": "rejected", "4": "reflected"}


def _locale(request: Request) -> str:
    return request.scope["state"].get("locale", DEFAULT_LOCALE)


def _kept(query) -> dict:
    """The queue's filter as query parameters (whatever filters the queue has: they are passed on)."""
    return {k: v for k, v in query.items() if k not in NOT_FILTERS and v}


def _fragment(request: Request) -> bool:
    """htmx swapping the panel (a history restore wants the whole page)."""
    return is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"


def _url(request: Request, c: dict, comment_id: int | None, kept: dict, **extra) -> str:
    """The triage view's address (the first of the filter, or one comment), with the filter."""
    path = _base(request, c) + (f"/{comment_id}" if comment_id is not None else "")
    query = urlencode({**kept, **{k: v for k, v in extra.items() if v not in (None, "")}})
    return path + ("?" + query if query else "")


def _base(request: Request, c: dict) -> str:
    return _links(request, c)["triage"]


def _links(request: Request, c: dict) -> dict[str, str]:
    """The start of the panel's links per consultation, built once per process: url_for walks the
    whole route table (it was most of the panel's rendering time at some twenty links a panel)."""
    cache = getattr(request.app.state, "triage_links", None)
    if cache is None:
        cache = request.app.state.triage_links = {}
    if c["slug"] not in cache:
        comment = request.url_for("editor_comment", slug=c["slug"], comment_id=1).path
        block = request.url_for("editor_block", slug=c["slug"], block_id=1).path
        group = request.url_for("editor_group", slug=c["slug"], comment_id=1).path
        cache[c["slug"]] = {
            "comment": comment[:-1], "block": block[:-1], "group": group[len(comment):],
            "triage": request.url_for("editor_triage_start", slug=c["slug"]).path,
            "replies": request.url_for("editor_replies", slug=c["slug"]).path,
            "queue": request.url_for("editor_queue", slug=c["slug"]).path}
    return cache[c["slug"]]


def start(request: Request):
    """The first comment of the filter, or the one after (?after=ID) or before (?before=ID) one."""
    account = require(request)
    c = _consultation(request)
    db = request.app.state.connections.get()
    kept = _kept(request.query_params)
    filters = parse_filters(request.query_params, account)
    after, before = filters.after, filters.before
    if before:
        found = triage_view.neighbour(db, c, filters, before, "before")
    else:
        found = triage_view.neighbour(db, c, filters, after, "after")
    came_from = after or None
    if found is None:
        return _panel(request, account, c, None, kept, came_from=after or before, at_start=bool(before),
                      done=request.query_params.get("done", ""))
    # shown here (no redirect: one request); htmx is given the comment's own address to push
    return _panel(request, account, c, found, kept, came_from=came_from, done=request.query_params.get("done", ""))


def show(request: Request):
    """One comment beside its paragraph, with the decision form."""
    account = require(request)
    c = _consultation(request)
    came_from = request.query_params.get("from")
    return _panel(request, account, c, request.path_params["comment_id"], _kept(request.query_params),
                  came_from=int(came_from) if came_from and came_from.isdigit() and len(came_from) < 12 else None,
                  done=request.query_params.get("done", ""))


def _panel(request: Request, account: dict, c: dict, comment_id: int | None, kept: dict, *,
           came_from: int | None = None, done: str = "", errors: dict | None = None, values: dict | None = None,
           status_code: int = 200, at_start: bool = False, push: bool = False):
    db = request.app.state.connections.get()
    item = None
    if comment_id is not None:
        item = triage_view.load(db, c, comment_id, _locale(request))
        if item is None:
            raise HTTPException(404)
    filters = parse_filters(kept, account)
    context = {
        "account": account, "c": c, "item": item, "kept": kept, "filters": filters,
        "query": urlencode(kept), "came_from": came_from, "done": _done(done), "at_start": at_start,
        "errors": errors or {}, "values": values or {},
        "dispositions": triage.DISPOSITIONS, "keys": DISPOSITION_KEYS, "links": _links(request, c),
        "labels": _labels(_locale(request)),
        "when": _when(_locale(request), item.comment["created_at"]) if item else "", "statuses": STATUSES, "sources": SOURCES,
        "queue_url": _links(request, c)["queue"] + ("?" + urlencode(kept) if kept else ""),
        "skip_url": _url(request, c, None, kept, after=comment_id) if comment_id else None,
        "back_url": (_url(request, c, came_from, kept) if came_from
                     else _url(request, c, None, kept, before=comment_id) if comment_id else None),
        "first_url": _url(request, c, None, kept),
        "self_url": _url(request, c, comment_id, kept) if comment_id else _url(request, c, None, kept),
        "only_pending_url": _url(request, c, None, {**kept, "disposition": "pending"}),
    }
    fragment = _fragment(request)
    response = render(request, "editor/triage_panel.html" if fragment else "editor/triage.html", context,
                      status_code=status_code)
    if fragment and (push or request.method == "GET") and status_code == 200:
        response.headers["HX-Push-Url"] = context["self_url"] + (
            ("&" if "?" in context["self_url"] else "?") + urlencode({"from": came_from}) if came_from and comment_id else "")
    return response


_WHEN: dict[tuple[str, str], str] = {}
_LABELS: dict[str, dict] = {}


def _labels(locale: str) -> dict:
    """Kind, status, decision and channel names, translated once per language (not per panel)."""
    if locale not in _LABELS:
        _LABELS[locale] = _row_labels(locale)
    return _LABELS[locale]


def _when(locale: str, instant: str) -> str:
    """A comment's time as the queue shows it, formatted once per minute (babel is slow)."""
    key = (locale, instant[:16])
    if key not in _WHEN:
        if len(_WHEN) > 4096:
            _WHEN.clear()
        _WHEN[key] = local_time({"locale": locale}, instant)
    return _WHEN[key]


def _done(done: str) -> dict | None:
    """"adopted:12:3" → the decision just recorded (disposition, comment id, how many), for the notice."""
    parts = done.split(":")
    if len(parts) == 3 and parts[0] in triage.DISPOSITIONS and parts[1].isdigit() and parts[2].isdigit():
        return {"disposition": parts[0], "id": int(parts[1]), "n": int(parts[2])}
    if len(parts) == 2 and parts[0] == "accepted" and parts[1].isdigit():
        return {"disposition": "accepted", "id": int(parts[1]), "n": 1}
    return None


@form_action()
def decide(request: Request, account: dict, c: dict, form: dict):
    """Decide the comment (or accept its suggestion into the text), then the next one in the filter."""
    db = request.app.state.connections.get()
    query = form.get("query") if isinstance(form.get("query"), str) else ""
    kept = _kept(dict(parse_qsl(query)))
    comment_id = request.path_params["comment_id"]
    found = triage_view.target(db, c, comment_id)
    if found is None:
        raise HTTPException(404)
    comment, block = found
    action = form.get("action") if form.get("action") in ("decide", "accept") else "decide"
    try:
        if action == "accept":
            author = {"id": account["id"], "display_name": account["display_name"]}
            triage_view.accept(db, c, comment, block, form, author, _locale(request))
            done = f"accepted:{comment_id}"
        else:
            n = triage_view.decide(db, c, comment, block, form, account["display_name"], _locale(request))
            done = f"{form.get('disposition')}:{comment_id}:{n}"
    except triage.TriageError as error:
        return _panel(request, account, c, comment_id, kept, errors={error.field: (error.message, {})}, values=form,
                      status_code=422)
    except revising.RebaseFailed:
        return _panel(request, account, c, comment_id, kept, status_code=409, values=form, errors={"accept": (
            N_("The suggestion was written on an earlier text and part of it no longer fits. Nothing was changed."), {})})
    except revising.Conflict:
        return _panel(request, account, c, comment_id, kept, status_code=409, values=form, errors={"accept": (
            N_("A colleague changed this text meanwhile. Nothing was saved: look at it again."), {})})
    except revising.RevisionError as error:
        return _panel(request, account, c, comment_id, kept, status_code=422, values=form,
                      errors={"accept": (error.message, error.params)})
    following = triage_view.neighbour(db, c, parse_filters(kept, account), comment_id, "after")
    if _fragment(request):
        return _panel(request, account, c, following, kept, came_from=comment_id, done=done, push=True)
    return RedirectResponse(_url(request, c, following, kept, **{"from": comment_id, "done": done})
                            if following else _url(request, c, None, kept, after=comment_id, done=done),
                            status_code=303)


routes = [
    Route("/editor/c/{slug}/triage", start, name="editor_triage_start"),
    Route("/editor/c/{slug}/triage/{comment_id:int}", show, name="editor_triage"),
    Route("/editor/c/{slug}/triage/{comment_id:int}", decide, methods=["POST"], name="editor_triage_decide"),
]


# 常用答复: the reply templates (editors keep them; every change audited).

def replies(request: Request):
    """The consultation's reply templates by disposition, a form to add one (?edit=N: to edit N)."""
    account = require(request)
    c = _consultation(request)
    raw = request.query_params.get("edit", "")
    if raw:
        db = request.app.state.connections.get()
        found = template_store.get(db, c["id"], int(raw)) if raw.isdigit() and len(raw) < 12 else None
        if found is None:
            raise HTTPException(404)
        return _replies_page(request, account, c, editing=found, values=found)
    return _replies_page(request, account, c)


def _replies_page(request: Request, account: dict, c: dict, errors: dict | None = None, values: dict | None = None,
                  editing: dict | None = None, status_code: int = 200):
    db = request.app.state.connections.get()
    return render(request, "editor/templates.html", {
        "account": account, "c": c, "templates": reply_templates.of_consultation(db, c["id"]),
        "kinds": reply_templates.KINDS, "dispositions": triage.DISPOSITIONS, "editing": editing,
        "errors": errors or {}, "values": values or {}, "done": request.query_params.get("done", ""),
    }, status_code=status_code)


def _replies_url(request: Request, c: dict, done: str = "") -> str:
    return request.url_for("editor_replies", slug=c["slug"]).path + (f"?done={done}" if done else "")


@form_action()
def replies_add(request: Request, account: dict, c: dict, form: dict):
    """Add a template (with defaults=1, the suggested ones when there are none); with id=N, save
    or (action=delete) delete template N."""
    db = request.app.state.connections.get()
    raw = form.get("id")
    if isinstance(raw, str) and raw:
        return _reply_change(request, account, c, form, int(raw) if raw.isdigit() and len(raw) < 12 else 0)
    if form.get("defaults") == "1":
        n = reply_templates.add_defaults(db, c, account["display_name"], _locale(request))
        return RedirectResponse(_replies_url(request, c, f"added:{n}"), status_code=303)
    try:
        reply_templates.create(db, c, form, account["display_name"])
    except reply_templates.TemplateError as error:
        return _replies_page(request, account, c, {error.field: error.message}, form, status_code=422)
    return RedirectResponse(_replies_url(request, c, "added:1"), status_code=303)


def _reply_change(request: Request, account: dict, c: dict, form: dict, template_id: int):
    db = request.app.state.connections.get()
    found = template_store.get(db, c["id"], template_id)
    if found is None:
        raise HTTPException(404)
    if form.get("action") == "delete":
        reply_templates.delete(db, c, template_id, account["display_name"])
        return RedirectResponse(_replies_url(request, c, "deleted:1"), status_code=303)
    try:
        reply_templates.update(db, c, template_id, form, account["display_name"])
    except reply_templates.TemplateError as error:
        return _replies_page(request, account, c, {error.field: error.message}, form, editing=found, status_code=422)
    return RedirectResponse(_replies_url(request, c, "saved:1"), status_code=303)


routes += [
    Route("/editor/c/{slug}/replies", replies, name="editor_replies"),
    Route("/editor/c/{slug}/replies", replies_add, methods=["POST"], name="editor_replies_add"),
]
