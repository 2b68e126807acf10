"""create_app(settings): the Starlette application, its routes, middleware and lifespan."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Mount

from revise import attachments, drafts
from revise.i18n import N_
from revise.ledger import CHANNELS
from revise.offload import Busy, CpuGate
from revise.web.assets import MemoryStatic
from revise.web.render_gate import gate_pages, warm
from revise.security import Signer, load_or_create_secret
from revise.settings import ROOT, Settings
from revise.store import ThreadConnections, open_database
from revise.store.limits import SharedRateLimiter
from revise.templating import FragmentCache, make_templates
from revise.writer import CommentWriter
from revise.writer_process import WriterProcess
from revise.web import anchors, auth, comments, editor, ledger, mail, public, reach, returns, text_size, workspace
from revise.web import outcome as outcome_pages
from revise.web import rounds as rounds_pages
from revise.web import assign as assign_pages
from revise.web import triage_view as triage_pages
from revise.web.middleware import SECURITY_HEADERS, RequestPath

STATIC_DIR = ROOT / "static"
# Seconds a thread may hold the interpreter before another gets a turn (Python's default 0.005).
SWITCH_INTERVAL = 0.001


def _locked(error: sqlite3.OperationalError) -> bool:
    """SQLite gave up waiting for another connection's lock (busy_timeout passed)."""
    return "locked" in str(error) or "busy" in str(error)


HTMX = "htmx-2.0.11.min.js"


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app for one data folder; the schema is migrated and the default seeded at start."""
    settings = settings or Settings()
    templates = make_templates()
    templates.env.globals["htmx_file"] = HTMX
    templates.env.globals.update(channels=CHANNELS, attachment_accept=attachments.ACCEPT,
                                 attachment_mb=attachments.megabytes(settings.max_attachment_bytes))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        db = open_database(settings.db_path)
        try:
            drafts.ensure_default(db, settings)
        finally:
            db.close()
        # The event loop shares the interpreter with worker threads that may diff for a quarter
        # of a second (offload.CpuGate): with 1 ms turns instead of 5 it waits less for each.
        sys.setswitchinterval(SWITCH_INTERVAL)
        warm(templates.env)  # compiled once now, not by the first visitors all at once
        # Everything built so far (modules, routes, compiled templates, the catalog) lives as long
        # as the server: kept out of the collector's full passes, each of which walked it all and
        # held a request up by tens of milliseconds (the editor queue's p99 at 4 connections at
        # 1,000,000 comments: 136 → 64 ms, bench/README.md). Released again at shutdown, so that
        # many apps in one process (the tests) do not keep each other's cycles.
        gc.freeze()
        app.state.writer.start()
        yield
        gc.unfreeze()
        app.state.writer.stop()
        app.state.cpu.close()
        app.state.connections.close_all()

    async def http_error(request: Request, exc: HTTPException):
        return templates.TemplateResponse(
            request, "error.html", {"status": exc.status_code}, status_code=exc.status_code
        )

    def busy(request: Request, exc: Exception):
        """503 + Retry-After: the database stayed locked, or too much work waits (offload.Busy)."""
        if isinstance(exc, sqlite3.OperationalError) and not _locked(exc):
            raise exc
        message = N_("The server is busy: nothing was recorded. Please try again in a few seconds.")
        response = templates.TemplateResponse(request, "error.html", {"status": 503, "message": message},
                                              status_code=503)
        response.headers["Retry-After"] = str(Busy.retry_after)
        return response

    async def server_error(request: Request, exc: Exception):
        # Answered outside the middleware stack, so the security headers are added here.
        response = templates.TemplateResponse(request, "error.html", {"status": 500}, status_code=500)
        response.headers.update(SECURITY_HEADERS)
        return response

    app = Starlette(
        routes=[
            # Files read once, served from memory; first, so a stylesheet is not matched against every
            # route below in turn (83 patterns: 70 µs a request, issue #11). No other route is under /static/.
            Mount("/static", MemoryStatic(STATIC_DIR), name="static"),
            *public.routes,
            *auth.routes,
            *editor.routes,
            *workspace.routes,
            *ledger.routes,
            *reach.routes,
            *anchors.routes,
            *rounds_pages.routes,
            *mail.routes,
            *returns.routes,
            *text_size.routes,
            *outcome_pages.routes,
            *triage_pages.routes,
            *assign_pages.routes,
        ],
        middleware=[
            # One layer doing, in this order: ForwardedClient (the real client and scheme, issue #10),
            # AccessLog (one line per request, secrets redacted, issue #15), the security headers,
            # the language, the host names served, the visitor session, the body limits
            # (revise/web/middleware.py).
            Middleware(RequestPath, trusted=settings.trusted_proxies,
                       hsts=settings.public_url.startswith("https://"), allowed_hosts=settings.host_names,
                       limit=settings.max_form_bytes,
                       uploads={"/editor/new": settings.max_docx_bytes + 64 * 1024},
                       # Bodies that may carry one attachment: the file plus the form's text.
                       multipart=tuple((path, settings.max_attachment_bytes + settings.max_form_bytes)
                                       for path in (*ledger.UPLOAD_PATHS, *comments.UPLOAD_PATHS))
                       + mail.upload_limits(settings) + returns.upload_limits(settings),
                       timeout=settings.body_timeout, shortcut=public.answer_cached),
        ],
        exception_handlers={HTTPException: http_error, Busy: busy, sqlite3.OperationalError: busy,
                            500: server_error},
        lifespan=lifespan,
    )
    auth.install(app)
    app.state.settings = settings
    app.state.templates = templates
    app.state.page_cache = FragmentCache()
    app.state.connections = ThreadConnections(Path(settings.db_path), busy_timeout=settings.write_wait)
    app.state.signer = Signer(load_or_create_secret(settings.data_dir))
    # Counted in the database: every worker process of the data folder shares them (issue #15).
    app.state.limiter = SharedRateLimiter(settings.db_path, "comment", settings.comments_per_minute,
                                          write_lock=app.state.connections.write_lock)
    app.state.preview_limiter = SharedRateLimiter(settings.db_path, "preview", settings.previews_per_minute,
                                                  write_lock=app.state.connections.write_lock)
    app.state.cpu = CpuGate(workers=1, max_waiting=32)
    if settings.comment_writer == "process":
        app.state.writer = WriterProcess(settings.db_path, wait=settings.write_wait)
    else:
        app.state.writer = CommentWriter(settings.db_path, app.state.connections.write_lock,
                                         wait=settings.write_wait)
    # Plain GET pages render a few at a time (revise.web.render_gate): the public's and the staff's apart.
    app.state.renders = CpuGate(workers=2, max_waiting=512, processes=False)
    app.state.staff_renders = CpuGate(workers=2, max_waiting=128, processes=False)
    gate_pages(app.router.routes)
    return app
