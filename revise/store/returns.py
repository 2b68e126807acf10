"""Returned Word files (issue #14): remembered by SHA-256 so the same file creates nothing twice."""

from __future__ import annotations

from sqlite_utils import Database

from revise.store import first, insert


def seen(db: Database, cid: int, sha256: str) -> dict | None:
    """The earlier import of this very file into the consultation, if any."""
    return first(db, "select * from returned_files where consultation_id = ? and sha256 = ?", [cid, sha256])


def add(db: Database, row: dict) -> bool:
    """Remember a returned file; False when it was stored before. Call inside a write transaction."""
    if seen(db, row["consultation_id"], row["sha256"]):
        return False
    insert(db, "returned_files", row)
    return True


def set_count(db: Database, cid: int, sha256: str, comments: int) -> None:
    """How many comments the file became."""
    db.execute("update returned_files set comments = ? where consultation_id = ? and sha256 = ?",
               [comments, cid, sha256])
