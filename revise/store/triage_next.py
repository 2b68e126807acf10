"""The triage view's reads: the comment after (or before) one in the queue's filter and order,
and what is shown beside it, each bounded (issue #13; issue #11's rule: no scan of a
consultation's comments per view).

"Next" is the queue's own keyset query (store.queue: the same filters, grouping and order) with
the current comment as its cursor and a limit of one, so the triage view walks exactly the
comments the queue lists, and filters added to the queue apply here too.
"""

from __future__ import annotations

from sqlite_utils import Database

from revise.store import queue as queue_store

OTHERS_SHOWN = 10  # the paragraph's other comments listed beside the one being decided


def neighbour(db: Database, cid: int, f: queue_store.Filters, comment_id: int | None, direction: str) -> int | None:
    """The id of the comment after (direction "after") or before ("before") `comment_id` in the
    queue's order under filters `f`; with no comment id, the first one. None: there is none."""
    cursor = (direction, comment_id) if comment_id else None
    found = queue_store._ids(db, cid, f, cursor, 1)  # one keyset step, never OFFSET
    return found[0] if found else None


def comment(db: Database, cid: int, comment_id: int) -> dict | None:
    """The comment with its group's size and pending members (counted through the group index)."""
    return next(db.query(
        "select c.*, (select count(*) from comments g where g.consultation_id = c.consultation_id and "
        "g.group_id = c.group_id) as group_size, (select count(*) from comments g where "
        "g.consultation_id = c.consultation_id and g.group_id = c.group_id and g.disposition = 'pending') "
        "as group_pending from comments c where c.consultation_id = ? and c.id = ?", [cid, comment_id]), None)


def others_on_block(db: Database, cid: int, block_id: int | None, comment_id: int,
                    limit: int = OTHERS_SHOWN) -> tuple[list[dict], int]:
    """A few other comments on the same paragraph (oldest first) and how many there are in all
    (the per-block count kept by triggers, m011): a busy paragraph can hold thousands."""
    if block_id is None:
        return [], 0
    rows: list[dict] = []
    for status in ("pending", "published", "hidden"):  # one ordered range of the (block, status) index each
        rows += db.query(
            "select id, kind, source, name, body, status, disposition, disposition_reason, group_id from comments "
            "where consultation_id = ? and block_id = ? and status = ? and id != ? order by id limit ?",
            [cid, block_id, status, comment_id, limit])
    rows = sorted(rows, key=lambda r: r["id"])[:limit]
    total = db.execute("select n from editor_counts where consultation_id = ? and dim = 'block' and key = ?",
                       [cid, str(block_id)]).fetchone()
    return rows, max(0, (total[0] if total else 0) - 1)


def group_members(db: Database, cid: int, group_id: int | None, comment_id: int, limit: int = 5) -> list[dict]:
    """A few other members of the comment's group (the group page lists them all)."""
    if group_id is None:
        return []
    return list(db.query(
        "select id, block_id, name, body, disposition from comments where consultation_id = ? and group_id = ? "
        "and id != ? order by id limit ?", [cid, group_id, comment_id, limit]))


def pending_ids_of_group(db: Database, cid: int, group_id: int, but: int) -> list[int]:
    """The group's members still to be decided, other than `but` (a decision "for the whole group")."""
    return [r[0] for r in db.execute(
        "select id from comments where consultation_id = ? and group_id = ? and disposition = 'pending' "
        "and id != ? order by id", [cid, group_id, but]).fetchall()]
