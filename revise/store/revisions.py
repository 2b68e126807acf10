"""Revisions: the append-only history of each block's text, and the block updates they make.

Every function here runs inside the caller's write transaction (revise.revising opens it),
so a revision, the block's new state, its comment links and the audit event commit together.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from revise.store import first, insert
from revise.store.blocks import POSITION_STEP, _decode


def add(db: Database, row: dict, comment_ids: list[int] | tuple[int, ...] = ()) -> int:
    """Append one revision and link it to the comments it answers; return its id."""
    row = dict(row)
    if isinstance(row.get("cells"), list):
        row["cells"] = json.dumps(row["cells"], ensure_ascii=False) if row["cells"] else None
    revision_id = insert(db, "revisions", row)
    for comment_id in dict.fromkeys(comment_ids):  # each link once, in the order given
        insert(db, "revision_comments", {"revision_id": revision_id, "comment_id": comment_id})
    return revision_id


def of_block(db: Database, block_id: int) -> list[dict]:
    """A block's revisions, oldest first, cells decoded and the ids of the comments each answers."""
    rows = db.query(
        "select r.*, (select json_group_array(comment_id) from revision_comments rc "
        "where rc.revision_id = r.id) as comment_ids from revisions r where r.block_id = ? order by r.number",
        [block_id],
    )
    return [_revision(r) for r in rows]


def get(db: Database, block_id: int, number: int) -> dict | None:
    """One revision of a block by its number (1, 2, ...), or None."""
    row = first(db, "select * from revisions where block_id = ? and number = ?", [block_id, number])
    return _revision(row) if row else None


def of_consultation_between(db: Database, cid: int, since: str | None, until: str | None) -> list[dict]:
    """The consultation's revisions made after `since` and at or before `until` (None: unbounded)."""
    rows = db.query(
        "select * from revisions where consultation_id = ? and (? is null or created_at > ?) "
        "and (? is null or created_at <= ?) order by created_at, id",
        [cid, since, since, until, until],
    )
    return [_revision(r) for r in rows]


def block_at(db: Database, block_id: int, instant: str) -> dict | None:
    """The block's state at an instant: its latest revision then, else the original; None if not yet inserted."""
    row = first(
        db,
        "select * from revisions where block_id = ? and created_at <= ? order by number desc limit 1",
        [block_id, instant],
    )
    if row:
        return _revision(row)
    found = block_by_id(db, block_id)
    return _original(found) if found else None


def states_at(db: Database, cid: int, instant: str) -> dict[int, dict]:
    """block_at for every block of a consultation in one query: {block id: latest revision by then}."""
    rows = db.query(
        "select r.* from revisions r join (select block_id, max(number) as number from revisions "
        "where consultation_id = ? and created_at <= ? group by block_id) latest "
        "on latest.block_id = r.block_id and latest.number = r.number",
        [cid, instant],
    )
    return {r["block_id"]: _revision(r) for r in rows}


def original(block: dict) -> dict | None:
    """Revision 0 of a decoded block as a revision-like dict; None for a block inserted later."""
    return _original(block)


def block_by_id(db: Database, block_id: int) -> dict | None:
    """A block by id alone, decoded (the history pages know the block, not its consultation)."""
    row = first(db, "select * from blocks where id = ?", [block_id])
    return _decode(row) if row else None


def next_block(db: Database, block: dict) -> dict | None:
    """The block that follows in document order (deleted ones included), or None."""
    row = first(
        db,
        "select * from blocks where consultation_id = ? and position > ? order by position limit 1",
        [block["consultation_id"], block["position"]],
    )
    return _decode(row) if row else None


def set_current(db: Database, block_id: int, text: str, cells: list[dict] | None, rev: int, deleted: bool) -> None:
    """Make a revision's text and cells the block's current state."""
    db.execute(
        "update blocks set text = ?, cells = ?, rev = ?, deleted = ? where id = ?",
        [text, json.dumps(cells, ensure_ascii=False) if cells else None, rev, int(deleted), block_id],
    )


def insert_block(db: Database, row: dict, after: dict) -> int:
    """Insert a block right after another; return its id. Positions are renumbered if no gap is left.

    The new position is the integer midpoint between `after` and the next block (deleted ones
    included: they keep their place in the history). Ids never change, only order keys.
    """
    position = _position_after(db, after["consultation_id"], after["id"])
    if position is None:
        _renumber(db, after["consultation_id"])
        position = _position_after(db, after["consultation_id"], after["id"])
    row = dict(row, consultation_id=after["consultation_id"], position=position)
    for name in ("cells", "original_cells", "outline"):
        if isinstance(row.get(name), list):
            row[name] = json.dumps(row[name], ensure_ascii=False) if row[name] or name == "outline" else None
    return insert(db, "blocks", row)


def _position_after(db: Database, cid: int, block_id: int) -> int | None:
    here = first(db, "select position from blocks where id = ?", [block_id])["position"]
    after = first(
        db,
        "select min(position) as p from blocks where consultation_id = ? and position > ?",
        [cid, here],
    )["p"]
    if after is None:
        return here + POSITION_STEP
    return (here + after) // 2 if after - here >= 2 else None


def _renumber(db: Database, cid: int) -> None:
    """Space the consultation's order keys by POSITION_STEP again, keeping the order."""
    ids = [r["id"] for r in db.query("select id from blocks where consultation_id = ? order by position", [cid])]
    # Negate first: position is unique per consultation, and the new keys may meet old ones.
    db.execute("update blocks set position = -position - 1 where consultation_id = ?", [cid])
    db.conn.executemany(
        "update blocks set position = ? where id = ?",
        [((i + 1) * POSITION_STEP, block_id) for i, block_id in enumerate(ids)],
    )


def adopt_comment(db: Database, comment_id: int, decision: dict) -> dict:
    """Record a comment's disposition (inside the revision's transaction); return the earlier one."""
    before = first(
        db,
        "select disposition, disposition_reason, disposition_revision_id, decided_by, decided_at "
        "from comments where id = ?",
        [comment_id],
    )
    columns = ", ".join(f"[{name}] = ?" for name in decision)
    db.execute(f"update comments set {columns} where id = ?", [*decision.values(), comment_id])
    return before or {}


def comments_of(db: Database, cid: int, comment_ids: list[int] | tuple[int, ...]) -> list[dict]:
    """The comments (of this consultation) among the given ids."""
    if not comment_ids:
        return []
    marks = ", ".join("?" for _ in comment_ids)
    return list(db.query(f"select * from comments where consultation_id = ? and id in ({marks})", [cid, *comment_ids]))


def _revision(row: dict) -> dict:
    row["cells"] = json.loads(row["cells"]) if row.get("cells") else []
    if "comment_ids" in row:
        row["comment_ids"] = json.loads(row["comment_ids"]) if row["comment_ids"] else []
    return row


def _original(block: dict) -> dict | None:
    if block["original_text"] is None:
        return None  # inserted by an editor: it did not exist in the draft
    return {"number": 0, "action": None, "text": block["original_text"], "cells": block["original_cells"],
            "block_id": block["id"], "patch": None, "base_number": None, "reason": None, "author_id": None,
            "author_name": None, "created_at": None, "comment_ids": []}


def latest_per_block(db: Database, cid: int) -> dict[int, dict]:
    """Who made each block's latest revision and when (for the tracked export's marks)."""
    rows = db.query(
        "select r.block_id, r.author_name, r.created_at from revisions r "
        "join (select block_id, max(number) as n from revisions where consultation_id = ? group by block_id) m "
        "on m.block_id = r.block_id and m.n = r.number",
        [cid],
    )
    return {r["block_id"]: r for r in rows}
