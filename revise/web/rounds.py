"""Versions and rounds on the web (issue #12).

Editors: /editor/c/{slug}/rounds lists the rounds (window, version, comments, links to the
queue and the report of each) and what the editors changed since the published version; an
administrator publishes the revised text (POST …/versions) or opens the next round on it
(POST …/rounds: window, roster, optionally a new notice). The public: /c/{slug}/rounds is the
history of rounds, /c/{slug}/rounds/{number} one round's text as published and its published
comments.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from revise import reading, versions
from revise.i18n import N_
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.store import versions as version_store
from revise.timeutil import parse_local
from revise.web.auth import require
from revise.web.comments import audience_of, render
from revise.web.editor import _consultation, form_action
from revise.window import OPEN, Window

PAGE = 50  # published comments per page of a round's history


def editor_rounds(request: Request):
    """The rounds of a consultation, the published version, and (administrators) the forms."""
    account = require(request)
    return _editor_page(request, account, _consultation(request))


def _editor_page(request: Request, account: dict, c: dict, errors: dict | None = None, values: dict | None = None):
    db = request.app.state.connections.get()
    c = consultation_store.by_id(db, c["id"])
    return render(request, "editor/rounds.html", {
        "account": account, "c": c, "rounds": versions.rounds(db, c, with_comments=True),
        "published": versions.published_version(db, c["id"]),
        "versions": version_store.of_consultation(db, c["id"]),
        "pending": versions.pending_changes(db, c),
        "departments": list(db.query("select id, name from departments where consultation_id = ? order by name",
                                     [c["id"]])),
        "errors": errors or {}, "values": values or {}, "done": request.query_params.get("done", ""),
    }, status_code=422 if errors else 200)


@form_action("admin")
def publish_version(request: Request, account: dict, c: dict, form: dict):
    """Publish the editors' current text as the version the public reads (audited)."""
    db = request.app.state.connections.get()
    if Window.of(c).state() == OPEN:  # the text under consultation stays as published (issue #12)
        return _editor_page(request, account, c, {"label": N_("The round is open for comment: its text stays as published until the comment period ends.")}, form)
    if not versions.pending_changes(db, c):
        return _editor_page(request, account, c, {"label": N_("Nothing to publish: the editors' text is the same as the published version.")}, form)
    versions.publish_revised(db, c["id"], actor=account, label=form.get("label") or versions.REVISED_LABEL)
    return RedirectResponse(request.url_for("editor_rounds", slug=c["slug"]).path + "?done=version", status_code=303)


@form_action("admin")
def open_round(request: Request, account: dict, c: dict, form: dict):
    """Open the next round on the editors' current text: its window, roster and notice."""
    db = request.app.state.connections.get()
    errors: dict = {}
    try:
        opens = parse_local(form.get("opens", ""))
        closes = parse_local(form.get("closes", ""))
    except ValueError:
        errors["window"] = N_("Not a date and time: use e.g. 2024-03-01 09:00.")
    chosen = [int(v) for k, v in form.items() if k.startswith("department-") and v.isdigit() and len(v) < 12]
    if not errors:
        try:
            versions.open_round(db, c["id"], opens_at=opens, closes_at=closes, actor=account, department_ids=chosen,
                                notice=form.get("notice") if form.get("notice", "").strip() else None,
                                label=form.get("label") or None)
        except versions.VersionError as error:
            errors["window"] = error.message
    if errors:
        return _editor_page(request, account, c, errors, form)
    return RedirectResponse(request.url_for("editor_rounds", slug=c["slug"]).path + "?done=round", status_code=303)


def public_rounds(request: Request):
    """The history of rounds: each round's window, the version it was on and its published comments."""
    c = _public_consultation(request)
    db = request.app.state.connections.get()
    return render(request, "rounds.html", {"c": c, "rounds": versions.rounds(db, c)})


def public_round(request: Request):
    """One round: the text as it was published for it, and its published comments (paged)."""
    c = _public_consultation(request)
    db = request.app.state.connections.get()
    number = request.path_params["number"]
    found = next((r for r in versions.rounds(db, c) if r["number"] == number), None)
    if found is None:
        raise HTTPException(404)
    after = request.query_params.get("after", "")
    after = int(after) if after.isdigit() and len(after) < 12 else 0
    blocks = versions.version_blocks(db, found["version_id"])
    by_id = {b["id"]: b for b in blocks}
    comments = version_store.published_page(db, found["id"], comment_store.PUBLIC_COLUMNS, after, PAGE + 1)
    more = len(comments) > PAGE
    comments = comments[:PAGE]
    for comment in comments:
        comment["block"] = by_id.get(comment["block_id"])
    items = reading.layout(blocks)
    return render(request, "rounds_round.html", {
        "c": c, "round": found, "items": items, "comments": comments,
        "next_after": comments[-1]["id"] if more else None, "version": version_store.get(db, found["version_id"]),
    })


def _public_consultation(request: Request) -> dict:
    audience = audience_of(request)
    if audience.department is not None:
        raise HTTPException(404)
    return audience.consultation


routes = [
    Route("/editor/c/{slug}/rounds", editor_rounds, name="editor_rounds"),
    Route("/editor/c/{slug}/rounds", open_round, methods=["POST"], name="editor_open_round"),
    Route("/editor/c/{slug}/versions", publish_version, methods=["POST"], name="editor_publish_version"),
    Route("/c/{slug}/rounds", public_rounds, name="rounds"),
    Route("/c/{slug}/rounds/{number:int}", public_round, name="round"),
]
