"""Groups of similar comments: MinHash signatures, LSH band keys, membership (revise.grouping)."""

from __future__ import annotations

import json

from sqlite_utils import Database

from revise.store import first

# The oldest rows first: the index on (consultation_id, band, key) keeps them in rowid order.
_BAND = ("select * from (select b.band, b.key, b.comment_id, c.group_id from comment_bands b "
         "join comments c on c.id = b.comment_id "
         "where b.consultation_id = ? and b.band = ? and b.key = ? order by b.rowid limit ?)")


def band_hits(db: Database, cid: int, keys: list[tuple[int, int]], per_band: int) -> list[tuple]:
    """(band, key, comment id, group id) of earlier comments sharing a band key, per_band at most per key."""
    if not keys:
        return []
    # One statement of 32 index lookups: less than half the time of 32 statements.
    sql = " union all ".join([_BAND] * len(keys))
    return db.execute(sql, [v for band, key in keys for v in (cid, band, key, per_band)]).fetchall()


def signatures(db: Database, comment_ids: list[int]) -> dict[int, bytes | None]:
    """The stored signatures of some comments, by comment id."""
    if not comment_ids:
        return {}
    marks = ",".join("?" for _ in comment_ids)
    rows = db.execute(f"select comment_id, signature from comment_signatures where comment_id in ({marks})", comment_ids)
    return dict(rows.fetchall())


def new_group(db: Database, cid: int, comment_ids: list[int], at: str) -> int:
    """A new group holding the given comments; its id."""
    group_id = db.execute("insert into comment_groups (consultation_id, created_at) values (?, ?)", [cid, at]).lastrowid
    join(db, group_id, comment_ids)
    return group_id


def join(db: Database, group_id: int, comment_ids: list[int]) -> None:
    db.conn.executemany("update comments set group_id = ? where id = ?", [(group_id, i) for i in comment_ids])


def save(db: Database, cid: int, comment_id: int, signature: bytes | None, keys: list[tuple[int, int]]) -> None:
    """A placed comment's signature (NULL: too short to compare) and its band keys."""
    db.execute("insert or replace into comment_signatures (comment_id, consultation_id, signature) values (?, ?, ?)",
               [comment_id, cid, signature])
    db.conn.executemany("insert into comment_bands (consultation_id, band, key, comment_id) values (?, ?, ?, ?)",
                        [(cid, band, key, comment_id) for band, key in keys])


def enqueue(db: Database, comment: dict) -> None:
    """Put a new comment on the durable queue the writer's grouping drains."""
    db.execute("insert or ignore into grouping_queue (comment_id, consultation_id) values (?, ?)",
               [comment["id"], comment["consultation_id"]])


def enqueue_many(db: Database, comments: list[dict]) -> None:
    """enqueue() for a batch, in one statement."""
    if comments:
        db.execute("insert or ignore into grouping_queue (comment_id, consultation_id) "
                   "select json_extract(value, '$[0]'), json_extract(value, '$[1]') from json_each(?)",
                   [json.dumps([[c["id"], c["consultation_id"]] for c in comments])])


def queued(db: Database, limit: int) -> list[dict]:
    """The oldest queued comments, with what grouping reads of them."""
    # CROSS JOIN keeps the queue as the outer loop: with a plain JOIN SQLite scanned every
    # comment each time the writer went idle (17 ms at 100,000 comments, empty queue or not).
    return list(db.query(
        "select c.id, c.consultation_id, c.block_id, c.kind, c.body, c.suggestion from grouping_queue q "
        "cross join comments c on c.id = q.comment_id order by q.comment_id limit ?", [limit]))


def dequeue(db: Database, comment_id: int) -> bool:
    """Take a comment off the queue; False if it was no longer there."""
    return db.execute("delete from grouping_queue where comment_id = ?", [comment_id]).rowcount > 0


def queue_unplaced(db: Database) -> int:
    """Queue every comment that has no signature row (never placed); how many were added."""
    return db.execute(
        "insert or ignore into grouping_queue (comment_id, consultation_id) select c.id, c.consultation_id "
        "from comments c where not exists (select 1 from comment_signatures s where s.comment_id = c.id)"
    ).rowcount


def unplaced(db: Database, cid: int) -> list[dict]:
    """Comments of a consultation never placed into groups, oldest first."""
    return list(db.query(
        "select c.id, c.consultation_id, c.block_id, c.kind, c.body, c.suggestion from comments c "
        "where c.consultation_id = ? and not exists (select 1 from comment_signatures s where s.comment_id = c.id) "
        "order by c.id", [cid]))


def members(db: Database, cid: int, comment: dict, limit: int, offset: int = 0) -> list[dict]:
    """The comments grouped with this one (itself alone when in no group), oldest first, with their paragraph."""
    return list(db.query(
        "select c.id, c.block_id, c.kind, c.source, c.name, c.body, c.suggestion, c.status, c.created_at, "
        "c.disposition, c.disposition_reason, c.group_id, b.text as block_text, b.deleted as block_deleted "
        "from comments c left join blocks b on b.id = c.block_id "
        "where c.consultation_id = ? and (c.id = ? or c.group_id = ?) order by c.id limit ? offset ?",
        [cid, comment["id"], comment["group_id"], limit, offset]))


def member_ids(db: Database, cid: int, group_ids: list[int]) -> list[int]:
    """The ids of every comment in the given groups of the consultation."""
    if not group_ids:
        return []
    marks = ",".join("?" for _ in group_ids)
    rows = db.execute(f"select id from comments where consultation_id = ? and group_id in ({marks}) order by id",
                      [cid, *group_ids])
    return [r[0] for r in rows.fetchall()]


def size(db: Database, cid: int, group_id: int | None) -> int:
    """How many comments the group holds (1 for a comment in no group)."""
    if group_id is None:
        return 1
    return first(db, "select count(*) as n from comments where consultation_id = ? and group_id = ?", [cid, group_id])["n"]
