"""Attachments of comments (bytes in the database with their SHA-256) and the further blocks a comment concerns."""

from __future__ import annotations

from sqlite_utils import Database

from revise.store import first, insert

_META = "a.id, a.comment_id, a.filename, a.media_type, a.size, a.sha256, a.created_at"


def add(db: Database, comment_id: int, row: dict, at: str) -> int:
    """Store a checked file for a comment; call inside the comment's write transaction."""
    return insert(db, "attachments", dict(row, comment_id=comment_id, created_at=at))


def get(db: Database, cid: int, attachment_id: int) -> dict | None:
    """One attachment with its bytes, only if its comment belongs to the consultation."""
    return first(db, "select a.* from attachments a join comments c on c.id = a.comment_id "
                     "where a.id = ? and c.consultation_id = ?", [attachment_id, cid])


def of_comment(db: Database, comment_id: int) -> list[dict]:
    """A comment's attachments without their bytes, oldest first."""
    return list(db.query(f"select {_META} from attachments a where a.comment_id = ? order by a.id", [comment_id]))


def link_blocks(db: Database, comment_id: int, block_ids: list[int]) -> None:
    """The blocks a comment concerns besides comments.block_id; call inside its write transaction."""
    for block_id in block_ids:
        db.execute("insert or ignore into comment_blocks (comment_id, block_id) values (?, ?)", [comment_id, block_id])


def further_blocks(db: Database, comment_id: int) -> list[dict]:
    """The further blocks of a comment (id, label, text, deleted), in the draft's order."""
    return list(db.query(
        "select b.id, b.label, b.text, b.kind, b.deleted from comment_blocks cb join blocks b on b.id = cb.block_id "
        "where cb.comment_id = ? order by b.position", [comment_id]))
