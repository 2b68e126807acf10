"""What the audit wording reads besides the events (revise.audit_wording): the paragraphs of a
draft in order, which paragraph each comment is on, the roster's names."""

from __future__ import annotations

from sqlite_utils import Database


def blocks_in_order(db: Database, cid: int) -> list[dict]:
    """Every block of the draft (deleted ones too) in document order, with what naming its place needs."""
    return list(db.query(
        "select id, kind, level, label, text, outline, table_no, deleted from blocks "
        "where consultation_id = ? order by position", [cid]))


def comment_blocks(db: Database, cid: int, comment_ids: list[int]) -> dict[int, int | None]:
    """The block each comment is about (None: the draft as a whole), by comment id."""
    found: dict[int, int | None] = {}
    ids = sorted(set(comment_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        for comment_id, block_id in db.execute(
                f"select id, block_id from comments where consultation_id = ? and id in ({marks})", [cid, *chunk]):
            found[comment_id] = block_id
    return found


def department_names(db: Database, cid: int) -> dict[int, str]:
    """The roster's names by department id."""
    return dict(db.execute("select id, name from departments where consultation_id = ?", [cid]).fetchall())
