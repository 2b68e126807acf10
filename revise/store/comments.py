"""Comments: stored with their one-time form token, listed per block, looked up by receipt."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator

from sqlite_utils import Database

from revise.security import new_receipt, new_receipts
from revise.store import first, insert, writing

PUBLIC_COLUMNS = "id, consultation_id, block_id, block_rev, kind, source, name, body, suggestion, quote, quote_start, receipt, status, created_at, anchor_start, anchor_rev, anchor_state, round_id, version_id"


def insert_once(db: Database, row: dict, then: Callable[[Database, dict], None] | None = None) -> tuple[dict, bool]:
    """Insert the comment unless its form token was used already; return (comment, created).

    The check and the insert run in one write transaction: a receipt shown to a user is a
    committed row, and a repeated submission of the same form finds the first one. `then`
    runs after the insert in the same transaction (grouping: one commit, one fsync, not two).
    """
    with writing(db):
        return insert_once_in(db, row, then)


def insert_once_in(db: Database, row: dict, then: Callable[[Database, dict], None] | None = None,
                   admit: Callable[[Database], None] | None = None) -> tuple[dict, bool]:
    """insert_once inside a write transaction the caller holds (the writer batches several).

    `admit` runs once the form is known to be new, before the insert (the rate limit: a resent
    form is not counted twice); it raises to refuse the comment.
    """
    earlier = first(db, "select * from comments where form_token = ?", [row["form_token"]])
    if earlier:
        return earlier, False
    if admit is not None:
        admit(db)
    for _ in range(5):  # a receipt code collision (50 bits) is astronomically rare; retry anyway
        comment = dict(row, receipt=new_receipt())
        db.execute("savepoint receipt")
        try:
            comment["id"] = insert(db, "comments", comment)
        except sqlite3.IntegrityError as error:
            db.execute("rollback to receipt")
            db.execute("release receipt")
            if "receipt" not in str(error):
                raise
            continue
        db.execute("release receipt")
        if then is not None:
            then(db, comment)
        return comment, True
    raise RuntimeError("could not draw a unique receipt code")


def by_form_tokens(db: Database, tokens: list[str]) -> dict[str, dict]:
    """The comments already stored under any of these one-time form tokens, by token."""
    # execute(), not query(): query() wraps the read in a savepoint of its own, two statements more
    # for the writer's batch.
    cursor = db.execute("select * from comments where form_token in (select value from json_each(?))",
                        [json.dumps(tokens, ensure_ascii=False)])
    names = [d[0] for d in cursor.description]
    return {row["form_token"]: row for row in (dict(zip(names, values)) for values in cursor)}


def insert_many(db: Database, rows: list[dict]) -> list[dict]:
    """Insert comment rows (all with the same keys) in one statement, each with a new receipt
    code; returns them with their ids, in order. Inside the caller's write transaction.

    One statement for the batch, not one per comment: each statement hands the interpreter lock
    to the event loop's thread and waits to get it back (the writer under load, issue #11). A
    receipt code drawn twice raises IntegrityError and inserts nothing (the caller falls back to
    insert_once_in, which draws again).
    """
    if not rows:
        return []
    columns = list(rows[0])
    if any(list(row) != columns for row in rows) or "receipt" in columns or "id" in columns:
        raise ValueError("insert_many takes rows with the same columns, without id or receipt")
    comments = [dict(row, receipt=receipt) for row, receipt in zip(rows, new_receipts(len(rows)))]
    columns.append("receipt")
    picked = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
    values = json.dumps([[c[k] for k in columns] for c in comments], ensure_ascii=False)
    db.execute(f"insert into comments ({', '.join(f'[{c}]' for c in columns)}) "
               f"select {picked} from json_each(?) order by key", [values])
    receipts = json.dumps([c["receipt"] for c in comments])
    ids = dict(json.loads(db.execute(
        "select json_group_array(json_array(receipt, id)) from comments "
        "where receipt in (select value from json_each(?))", [receipts]).fetchone()[0]))
    for comment in comments:
        comment["id"] = ids[comment["receipt"]]
    return comments


@contextlib.contextmanager
def indexing_afterwards(db: Database) -> Iterator[list[int]]:
    """Inside a write transaction: comments inserted in the block are put in the full-text index
    together as it ends, not row by row (m021: a tenth of the cost when many go in together).

    Yields a list; append the id of every comment inserted meanwhile. Nothing in the block may
    change an indexed text (body, suggestion, name) of a comment: its update trigger would take
    out index entries the comment does not have yet. The trigger is held by a row that exists
    only inside the caller's uncommitted transaction: if the block raises, the caller's
    transaction rolls back and takes the row with it.
    """
    if not db.conn.in_transaction:
        raise RuntimeError("indexing_afterwards needs the caller's write transaction")
    db.execute("insert into search_index_held (held) values (1)")
    ids: list[int] = []
    yield ids
    db.execute("delete from search_index_held")
    if ids:
        db.execute("insert into comments_fts (rowid, body, suggestion, name) select id, body, suggestion, name "
                   "from comments where id in (select value from json_each(?)) order by id", [json.dumps(ids)])


def merge_search_index(db: Database, pages: int = 64) -> bool:
    """Some of the full-text index's merging (when the writer is idle; FTS5 also merges a little
    after each write, m021); False when none was left."""
    before = db.conn.total_changes
    db.execute("insert into comments_fts (comments_fts, rank) values ('merge', ?)", [pages])
    # FTS5: a merge that changed fewer than two rows found nothing left to merge.
    return db.conn.total_changes - before >= 2


def on_block(db: Database, cid: int, block_id: int) -> list[dict]:
    """Every comment on a block, any source and status, oldest first (for editors)."""
    return list(db.query("select * from comments where consultation_id = ? and block_id = ? order by id", [cid, block_id]))


def get(db: Database, cid: int, comment_id: int) -> dict | None:
    """One comment of the consultation (all fields: for editors only)."""
    return first(db, "select * from comments where consultation_id = ? and id = ?", [cid, comment_id])


def by_receipt(db: Database, receipt: str) -> dict | None:
    return first(db, "select * from comments where receipt = ?", [receipt])


def published_on_block(db: Database, cid: int, block_id: int | None) -> list[dict]:
    """Published public comments on a block (or on the whole draft when block_id is None), oldest first."""
    where = "consultation_id = ? and source = 'public' and status = 'published' and block_id "
    where += "is ?" if block_id is None else "= ?"
    return list(
        db.table("comments").rows_where(where, [cid, block_id], select=PUBLIC_COLUMNS, order_by="id")
    )


def of_department(db: Database, department_id: int) -> list[dict]:
    """A department's own submissions, newest first."""
    return list(
        db.table("comments").rows_where(
            "department_id = ?", [department_id], select=PUBLIC_COLUMNS, order_by="id desc"
        )
    )


def with_status(db: Database, cid: int, status: str, limit: int = 200) -> list[dict]:
    """Public comments of a consultation in one moderation status, oldest first."""
    return list(
        db.table("comments").rows_where(
            "consultation_id = ? and source = 'public' and status = ?",
            [cid, status],
            order_by="id",
            limit=limit,
        )
    )


def set_status(db: Database, comment_ids: list[int], status: str, audit: dict) -> int:
    """Moderate comments (publish or hide) with one audit event each; return how many changed."""
    changed = 0
    with writing(db):
        for comment_id in comment_ids:
            row = db.execute("select status from comments where id = ?", [comment_id]).fetchone()
            if row is None or row[0] == status:
                continue
            db.table("comments").update(comment_id, {"status": status})
            db.table("audit").insert(
                dict(audit, subject=f"comment:{comment_id}", before=f'"{row[0]}"', after=f'"{status}"')
            )
            changed += 1
    return changed


def set_disposition(db: Database, cid: int, comment_ids: list[int], decision: dict, audit: dict) -> int:
    """Apply one decision to several comments, each with an audit event keeping the earlier one."""
    changed = 0
    with writing(db):
        for comment_id in comment_ids:
            before = first(
                db,
                "select disposition, disposition_reason, decided_by, decided_at from comments "
                "where id = ? and consultation_id = ?",
                [comment_id, cid],
            )
            if before is None:
                continue
            # plain SQL: Table.update/insert re-read the schema on every call (most of a decision's time)
            db.execute(f"update comments set {', '.join(f'{k} = ?' for k in decision)} where id = ?",
                       [*decision.values(), comment_id])
            insert(db, "audit",
                dict(audit, subject=f"comment:{comment_id}",
                     before=json.dumps(before, ensure_ascii=False),
                     after=json.dumps({k: decision[k] for k in ("disposition", "disposition_reason")}, ensure_ascii=False))
            )
            changed += 1
    return changed
