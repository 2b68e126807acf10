"""Public pages: the list of consultations, a consultation's draft, and the department view of it.

The draft page is the one page a crowd reads (issue #11). It shows the published version of
the text (issue #12, revise/versions.py), never the blocks the editors are revising, and is the
same for every member of the public until a new version is published, the published comments
of the current round, the consultation's settings or the window change it, so it is rendered, gzipped and hashed once per such version and
language (`PublicPage`), and a view costs two small indexed reads: the consultation and its
version serials (revise/store/counts.py). Nothing personal is in it: its forms are on the
block pages, so it sets no session cookie and a shared cache may keep it (`public, no-cache`
with an ETag and Last-Modified: a repeat view is a 304). The one personal part, the receipt
box after a comment (`?receipt=`), is put into a copy of the cached page for that answer only.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revise import reading, versions
from revise.security import normalise_receipt
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.store import counts as count_store
from revise.store import reading as read_snapshot
from revise.templating import CountSlots, Skeleton
from revise.web import comments
from revise.web import outcome as outcome_pages
from revise.window import OPEN, Window

log = logging.getLogger("revise")

# Any cache may keep the page, and must ask again each time (a 304 when nothing changed).
PUBLIC_CACHE = "public, no-cache"
VARY = "Accept-Encoding, HX-Request"


def home(request: Request):
    """Every consultation, those open for comment first."""
    db = request.app.state.connections.get()
    consultations = consultation_store.all_(db)
    order = {"open": 0, "not_yet_open": 1, "closed": 2}
    for c in consultations:
        c["state"] = Window.of(c).state()
    consultations.sort(key=lambda c: order[c["state"]])
    return comments.render(request, "home.html", {"consultations": consultations})


@dataclass(frozen=True)
class PublicPage:
    """The public draft page as everyone gets it: rendered, compressed and hashed once per version."""

    version: tuple
    body: bytes
    gzipped: bytes
    etag: str  # strong validator of `body`, quoted; the gzipped bytes carry it with "-gz"
    modified: int  # Last-Modified, Unix seconds
    slots: dict = field(repr=False)  # block id (None: the whole draft) -> id of the element a receipt goes in
    headers: dict = field(default_factory=dict, repr=False)  # (gzipped, status) -> raw headers, made once

    def __post_init__(self) -> None:
        for gz in (False, True):
            common = [(b"etag", (self.etag[:-1] + '-gz"' if gz else self.etag).encode()), (b"vary", VARY.encode()),
                      (b"last-modified", formatdate(self.modified, usegmt=True).encode()),
                      (b"cache-control", PUBLIC_CACHE.encode())]
            self.headers[gz, 304] = common
            self.headers[gz, 200] = [*common, (b"content-type", b"text/html; charset=utf-8"),
                                     (b"content-length", str(len(self.gzipped if gz else self.body)).encode()),
                                     *([(b"content-encoding", b"gzip")] if gz else [])]

    @property
    def nbytes(self) -> int:
        return len(self.body) + len(self.gzipped)


class PreparedResponse(Response):
    """A response whose status, body and raw headers were made once (the cached page's)."""

    def __init__(self, status_code: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]):
        self.status_code, self.body, self.background = status_code, body, None
        self.raw_headers = list(raw_headers)  # a copy: middleware adds to each answer's own list


async def consultation(request: Request):
    """The notice, the window and the whole draft, block by block, with its outline.

    The same page serves a department through its private link, with its own submissions.
    """
    if "token" in request.path_params:
        return await run_in_threadpool(_page, request, comments.audience_of(request), None)
    found = count_store.page_state(request.app.state.connections.get(), request.path_params["slug"])
    if found is None:
        raise HTTPException(404)
    c = found.consultation
    page = await _public_page(request, c, found.values, found.blocks_serial, found.comments_serial)
    # The page has no form, so it needs no visitor session: no Set-Cookie, and a shared cache
    # may keep it. The block pages and thread fragments, which carry the forms, issue the id.
    request.scope["state"]["new_session_id"] = None
    code = normalise_receipt(request.query_params.get("receipt", "")) if request.scope["query_string"] else None
    if code:
        return await run_in_threadpool(_with_receipt, request, comments.Audience(c), page, code)
    return _send(request, page)


async def _public_page(request: Request, c: dict, values: tuple, blocks_serial: int, comments_serial: int) -> PublicPage:
    """The cached page for this consultation and language, rebuilt (once) when its version changed."""
    key = _page_key(c["id"], request.scope)
    cache = request.app.state.page_cache
    return await cache.latest(("public", *key), _page_version(c, values, blocks_serial, comments_serial),
                              lambda: run_in_threadpool(_build, request, c["id"], key))


def _page_key(cid: int, scope) -> tuple:
    host = next((v for k, v in scope["headers"] if k == b"host"), b"")
    # Links in the page are absolute (url_for), so the address it was asked under is part of the key.
    return (cid, scope["state"].get("locale"), scope["scheme"], host)


async def answer_cached(scope, receive, send) -> bool:
    """The public draft page answered from the cache without Starlette's routing (issue #11); False
    when it is not that page or its cached copy is not current (the route then answers: 404, or
    the page rebuilt, or the receipt box of ?receipt=).

    The crowd's page: the same bytes and headers as `consultation` sends (RequestPath adds the
    same headers to both), after the same one read; what it skips is the router's walk over the
    routes, the exception layer, and the Request and Response objects, about a third of a view.
    """
    path = scope["path"]
    if (scope["method"] != "GET" or scope["query_string"] or not path.startswith("/c/") or "/" in path[3:]
            or not path[3:] or scope.get("root_path")):
        return False
    state = scope["app"].state
    found = count_store.page_state(state.connections.get(), path[3:])
    if found is None:
        return False
    c, values, blocks_serial, comments_serial, _drafting = found
    page = state.page_cache.get(("public", *_page_key(c["id"], scope)))
    if page is None or page.version != _page_version(c, values, blocks_serial, comments_serial):
        return False
    scope["state"].update(session_id=None, new_session_id=None)  # as `consultation`: no form, no session cookie
    await _send_for(Headers(scope=scope), page)(scope, receive, send)
    return True


def _page_version(c: dict, values: tuple, blocks_serial: int, comments_serial: int) -> tuple:
    """The version a cached public page is kept under (the route and the shortcut compare the same)."""
    return (_draft_version(c, values, blocks_serial), comments_serial)


def _draft_version(c: dict, values: tuple, blocks_serial: int) -> tuple:
    """What the page is rendered from, but its counts: the window's state, the blocks, the consultation."""
    return (_window(c["opens_at"], c["closes_at"]).state(), blocks_serial, values)


@functools.lru_cache(maxsize=64)
def _window(opens_at: str, closes_at: str) -> Window:
    """The window parsed once (strptime on every view was a twentieth of the page's time)."""
    return Window.of({"opens_at": opens_at, "closes_at": closes_at})


@dataclass(frozen=True)
class DraftSkeleton:
    """The page rendered with its counts left open: rendered again only when the draft changes."""

    version: tuple
    skeleton: Skeleton
    outlines: list = field(repr=False)  # each block's id and the headings above it (section counts)
    slots: dict = field(repr=False)

    @property
    def nbytes(self) -> int:
        return self.skeleton.nbytes


def _build(request: Request, cid: int, key: tuple) -> PublicPage:
    """The page from one consistent snapshot: the skeleton (rendered again only if the draft
    changed) filled with the counts, gzipped and hashed."""
    db = request.app.state.connections.get()
    cache = request.app.state.page_cache
    draft = cache.get(("skeleton", *key))
    blocks = None
    with read_snapshot(db):
        c = consultation_store.by_id(db, cid)
        blocks_serial, comments_serial = count_store.versions(db, cid)
        draft_version = _draft_version(c, tuple(c.values()), blocks_serial)
        if draft is None or draft.version != draft_version:
            blocks = versions.public_blocks(db, c)  # the published version, never the editors' text
            round_now = versions.round_now(db, c)
        counts = versions.public_counts(db, c)
        totals = count_store.total_slots(count_store.public_totals(db, cid))  # 参与人数, 意见条数 … (m015)
    if blocks is not None:
        draft = _render_skeleton(request, c, blocks, draft_version, round_now)
        cache.put(("skeleton", *key), draft)
    body = draft.skeleton.fill({"b": counts, "s": reading.section_counts(draft.outlines, counts), "t": totals}).encode()
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    previous = cache.get(("public", *key))
    if previous is not None and previous.etag == etag:
        modified = previous.modified
    else:  # strictly later than the page it replaces, or If-Modified-Since could match a stale copy
        modified = max(int(time.time()), previous.modified + 1 if previous else 0)
    return PublicPage((draft_version, comments_serial), body, gzip.compress(body, 6, mtime=0), etag, modified,
                      draft.slots)


def _render_skeleton(request: Request, c: dict, blocks: list[dict], version: tuple,
                     round_now: dict | None = None) -> DraftSkeleton:
    items = reading.layout(blocks)
    window_state = version[0]
    context = {
        "c": c, "audience": comments.Audience(c), "window_state": window_state, "is_open": window_state == OPEN,
        "just_sent": None, "own": [], "filed": False, "items": items, "outline": reading.outline(items),
        "counts": CountSlots("b"), "section_counts": CountSlots("s"), "round_now": round_now,
        "totals": CountSlots("t"), "total_keys": count_store.TOTAL_SLOTS,
    }
    html = comments.render(request, "consultation.html", context).body.decode()
    slots: dict[int | None, str] = {None: "thread-draft"}
    for item in items:
        if isinstance(item, reading.Table):
            slots.update((row.block["id"], f"thread-t{item.number}") for row in item.rows)
        else:
            slots[item["id"]] = f"thread-{item['id']}"
    outlines = [{"id": b["id"], "outline": b["outline"]} for b in blocks]
    return DraftSkeleton(version, Skeleton(html), outlines, slots)


def _accepts_gzip(value: str) -> bool:
    for part in value.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and q[2:].strip().rstrip("0").rstrip(".") in ("", "0"))
    return False


def _not_modified(headers: Headers, page: PublicPage) -> bool:
    """If-None-Match (either encoding's ETag, weak or strong), else If-Modified-Since."""
    tags = headers.get("if-none-match")
    if tags is not None:
        bare = page.etag.strip('"')
        return any(t == "*" or t.removeprefix("W/").strip('"').removesuffix("-gz") == bare
                   for t in (t.strip() for t in tags.split(",")))
    since = headers.get("if-modified-since")
    if since:
        try:
            return page.modified <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def _send(request: Request, page: PublicPage) -> Response:
    """The cached page, gzipped when the client accepts it, or 304 when its copy is current."""
    return _send_for(request.headers, page)


def _send_for(headers: Headers, page: PublicPage) -> Response:
    gz = _accepts_gzip(headers.get("accept-encoding", ""))
    if _not_modified(headers, page):
        return PreparedResponse(304, b"", page.headers[gz, 304])
    return PreparedResponse(200, page.gzipped if gz else page.body, page.headers[gz, 200])


def _with_receipt(request: Request, audience: comments.Audience, page: PublicPage, code: str) -> Response:
    """The page with the receipt box of the comment just sent, in its paragraph's slot (this answer only)."""
    db = request.app.state.connections.get()
    c = audience.consultation
    just_sent = comment_store.by_receipt(db, code)
    if just_sent is None or just_sent["consultation_id"] != c["id"] or just_sent["block_id"] not in page.slots:
        return _send(request, page)
    box = comments.render_fragment(request, "partials/_receipt_box.html",
                                   {"comment": just_sent, "c": c, "audience": audience})
    marker = f'id="{page.slots[just_sent["block_id"]]}"'.encode()
    at = page.body.find(marker)
    at = page.body.find(b">", at) + 1 if at >= 0 else 0
    if at <= 0:  # the template no longer has the slot: render the whole page for this answer
        log.warning("receipt slot %s not found in the public page", marker)
        return _page(request, audience, just_sent)
    body = page.body[:at] + str(box).encode() + page.body[at:]
    headers = {"Vary": VARY, "Cache-Control": "private, no-cache"}
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        body, headers["Content-Encoding"] = gzip.compress(body, 6), "gzip"
    return Response(body, headers=headers, media_type="text/html")


def _page(request: Request, audience: comments.Audience, just_sent: dict | None):
    """The page rendered for this answer alone: a department's (its own submissions, no public counts)."""
    db = request.app.state.connections.get()
    c = audience.consultation
    window_state = Window.of(c).state()
    blocks = versions.public_blocks(db, c)
    items = reading.layout(blocks)
    counts = versions.public_counts(db, c) if audience.department is None else {}
    return comments.render(request, "consultation.html", {
        "c": c, "audience": audience, "window_state": window_state, "is_open": window_state == OPEN,
        "just_sent": just_sent, "filed": request.query_params.get("filed") == "1",
        "own": comment_store.of_department(db, audience.department["id"]) if audience.department else [],
        "items": items, "outline": reading.outline(items), "counts": counts,
        "totals": count_store.total_slots(count_store.public_totals(db, c["id"])), "total_keys": count_store.TOTAL_SLOTS,
        "section_counts": reading.section_counts(blocks, counts), "round_now": versions.round_now(db, c),
    })


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

PUBLIC_FILES = outcome_pages.PUBLIC_FILES


def _published(request: Request) -> dict:
    """The consultation whose outcome has been published (404 before that)."""
    audience = comments.audience_of(request)
    if audience.department is not None or not audience.consultation["outcome_published_at"]:
        raise HTTPException(404)
    return audience.consultation


def outcome(request: Request):
    """The revised text as published, the 修改对照表 and how each comment was handled (revise/web/outcome.py)."""
    return outcome_pages.public_page(request, _published(request))


def outcome_file(request: Request):
    """The 修改对照表, the clean revised plan or the report, once the outcome is published."""
    return outcome_pages.public_file(request, _published(request), request.path_params["name"])


routes += [
    Route("/c/{slug}/outcome", outcome, name="outcome"),
    Route("/c/{slug}/outcome/{name}", outcome_file, name="outcome_file"),
]
