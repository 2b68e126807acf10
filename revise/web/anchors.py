"""The editors' orphans view: comments whose quoted words were revised away, and comments on deleted blocks.

Each comment stays attached to its block (block ids never change); this page lists those an
editor should re-read against the text they were written on.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from revise import anchoring, revising
from revise.store import anchors as anchor_store
from revise.store import revisions as revision_store
from revise.web.auth import require
from revise.web.comments import render
from revise.web.editor import _consultation


def orphans(request: Request):
    """Orphaned quotes (原文已修改) and comments on deleted blocks, in document order."""
    account = require(request)
    c = _consultation(request)
    db = request.app.state.connections.get()
    orphaned = anchor_store.orphaned(db, c["id"])
    on_deleted = anchor_store.on_deleted_blocks(db, c["id"])
    _annotate(db, orphaned + on_deleted)
    return render(request, "editor/orphans.html", {"account": account, "c": c, "orphaned": orphaned,
                                                   "on_deleted": on_deleted})


def _annotate(db, comments: list[dict]) -> None:
    """Give each comment the text it was written on (revise.anchoring.annotate), block by block."""
    by_block: dict[int, list[dict]] = {}
    for comment in comments:
        by_block.setdefault(comment["block_id"], []).append(comment)
    for block_id, group in by_block.items():
        block = revision_store.block_by_id(db, block_id)
        anchoring.annotate(group, block, lambda n, block=block: revising.text_at_revision(db, block, n))


routes = [
    Route("/editor/c/{slug}/orphans", orphans, name="editor_orphans"),
]
