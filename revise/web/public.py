"""Public pages: the list of consultations, a consultation's draft, and the department view of it."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from revise import reading, report, revising
from revise.security import normalise_receipt
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.web import comments
from revise.web.downloads import download
from revise.window import OPEN, Window


def home(request: Request):
    """Every consultation, those open for comment first."""
    db = request.app.state.connections.get()
    consultations = consultation_store.all_(db)
    order = {"open": 0, "not_yet_open": 1, "closed": 2}
    for c in consultations:
        c["state"] = Window.of(c).state()
    consultations.sort(key=lambda c: order[c["state"]])
    return comments.render(request, "home.html", {"consultations": consultations})


def consultation(request: Request):
    """The notice, the window and the whole draft, block by block, with its outline.

    The same page serves a department through its private link, with its own submissions.
    """
    audience = comments.audience_of(request)
    db = request.app.state.connections.get()
    c = audience.consultation
    code = normalise_receipt(request.query_params.get("receipt", ""))
    just_sent = comment_store.by_receipt(db, code) if code else None
    if just_sent and just_sent["consultation_id"] != c["id"]:
        just_sent = None
    window_state = Window.of(c).state()
    context = {
        "c": c,
        "audience": audience,
        "window_state": window_state,
        "is_open": window_state == OPEN,
        "just_sent": just_sent,
        "own": comment_store.of_department(db, audience.department["id"]) if audience.department else [],
        "filed": request.query_params.get("filed") == "1",
        "counts": {},
        "reader_html": None,
    }
    # The draft itself is the same for every member of the public until a revision, a
    # moderation or the window changes it: render it once per version and language.
    cacheable = audience.department is None and just_sent is None
    key = None
    if cacheable:
        key = (c["id"], request.scope["state"].get("locale"), window_state,
               block_store.version(db, c["id"]), comment_store.published_version(db, c["id"]))
        context["reader_html"] = request.app.state.page_cache.get(key)
    if context["reader_html"] is None:
        blocks = block_store.of_consultation(db, c["id"])
        items = reading.layout(blocks)
        counts = comment_store.published_counts(db, c["id"]) if audience.department is None else {}
        context.update(items=items, outline=reading.outline(items), counts=counts,
                       section_counts=reading.section_counts(blocks, counts))
        if cacheable:
            html = comments.render_fragment(request, "partials/_reader.html", context)
            request.app.state.page_cache.put(key, html)
            context["reader_html"] = html
    else:
        context["counts"] = comment_store.published_counts(db, c["id"])
    return comments.render(request, "consultation.html", context)


routes = [
    Route("/", home, name="home"),
    Route("/c/{slug}", consultation, name="consultation"),
    Route("/c/{slug}/b/{block_id:int}", comments.block_thread, name="block"),
    Route("/c/{slug}/b/{block_id:int}/comments", comments.submit_comment, methods=["POST"], name="block_comment"),
    Route("/c/{slug}/remarks", comments.block_thread, name="draft_remarks"),
    Route("/c/{slug}/remarks", comments.submit_comment, methods=["POST"], name="draft_comment"),
    Route("/r", comments.receipt_lookup, name="receipt_lookup"),
    Route("/r/{code}", comments.receipt, name="receipt"),
    Route("/d/{token}", consultation, name="department"),
    Route("/d/{token}/b/{block_id:int}", comments.block_thread, name="dept_block"),
    Route("/d/{token}/b/{block_id:int}/comments", comments.submit_comment, methods=["POST"], name="dept_block_comment"),
    Route("/d/{token}/remarks", comments.block_thread, name="dept_draft"),
    Route("/d/{token}/remarks", comments.submit_comment, methods=["POST"], name="dept_draft_comment"),
    Route("/d/{token}/no-comment", comments.no_comment, methods=["POST"], name="dept_no_comment"),
]

PUBLIC_FILES = ("plan.docx", "report.docx", "report.xlsx", "report.csv")


def _published(request: Request) -> dict:
    """The consultation whose outcome has been published (404 before that)."""
    audience = comments.audience_of(request)
    if audience.department is not None or not audience.consultation["outcome_published_at"]:
        raise HTTPException(404)
    return audience.consultation


def outcome(request: Request):
    """The revised plan marked against the draft, the summary, and how each comment was handled."""
    c = _published(request)
    db = request.app.state.connections.get()
    locale = request.scope["state"].get("locale", "zh_CN")
    rows = revising.redline(db, c)
    return comments.render(request, "outcome.html", {
        "c": c, "rows": rows, "changed": sum(1 for r in rows if r["changed"]),
        "report": report.build_report(db, c, locale, public_only=True), "files": PUBLIC_FILES,
    })


def outcome_file(request: Request):
    """The clean revised plan or the report, once the outcome is published."""
    return download(request, _published(request), request.path_params["name"], allowed=PUBLIC_FILES,
                    public_only=True)


routes += [
    Route("/c/{slug}/outcome", outcome, name="outcome"),
    Route("/c/{slug}/outcome/{name}", outcome_file, name="outcome_file"),
]
