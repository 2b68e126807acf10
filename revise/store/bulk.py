"""Bulk loading of comments (bench/bigcase.py): big batches, one transaction each, derived data kept right.

Not a path of the web app: a comment taken over the web goes through store.comments.insert_once
one at a time. This is for building a big consultation offline (no server writing to the file
meanwhile) in minutes rather than hours, keeping everything derived from the comments consistent
at every commit:

- comments_fts (FTS5 trigram, external content on comments): each batch is indexed with one
  INSERT ... SELECT before its commit, as the comment writer does
  (store.comments.indexing_afterwards). Measured on the generated case: half the time of
  indexing row by row through the trigger;
- comment_blocks: a row may carry "extra_blocks" (the further paragraphs a ledger entry
  concerns), inserted in the same transaction;
- grouping (comment_groups, comment_signatures, comment_bands): a row may carry "group" (any
  hashable key the caller knows makes comments the same letter, e.g. the campaign template it
  was copied from). Each key gets one comment_groups row and its comments that group_id. With
  grouping="known" every comment also gets a comment_signatures row with a NULL signature and
  no band keys: it counts as placed (grouping.place_missing will not redo a million comments)
  but, like a too-short text, is never a candidate for a later comment to join. With
  grouping="none" "group" is ignored, nothing is written there and every comment is left to be
  placed by revise.grouping: queued in
  grouping_queue (when that table exists) for the server's grouping worker;
- other derived tables maintained by triggers on comments stay right because those triggers
  fire as usual; one maintained in Python code is not written here and must be added here.

Rows go in with executemany on one prepared INSERT rather than sqlite-utils' insert_all:
insert_all inspects and converts every value in Python (measured: ~150 µs a row, 2.5 minutes
at a million, more than SQLite's own work).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from sqlite_utils import Database

from revise.store import comments as comment_store
from revise.store import writing

GROUPING_MODES = ("known", "none")
_EXTRA_KEYS = ("group", "extra_blocks")


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def insert_comments(db: Database, rows: Iterable[dict], *, batch_size: int = 50_000,
                    grouping: str = "known", created_at: str | None = None) -> int:
    """Insert comment rows (dicts of comments' columns, plus optional "group" and "extra_blocks").

    Every row has the same keys. Every batch is one write transaction. Ids are assigned here,
    consecutively after the largest existing id, so groups, extra blocks and the index are
    written without reading anything back. Receipts and form tokens must be unique (the
    caller's job; the unique indexes check). Returns the number of comments inserted.
    """
    if grouping not in GROUPING_MODES:
        raise ValueError(f"grouping must be one of {GROUPING_MODES}")
    queue = grouping == "none" and db.execute(
        "select 1 from sqlite_master where type = 'table' and name = 'grouping_queue'").fetchone() is not None
    next_id = (db.execute("select coalesce(max(id), 0) from comments").fetchone()[0] or 0) + 1
    groups: dict[tuple[int, object], int] = {}
    sql = columns = None
    done = 0
    for batch in _batches(rows, batch_size):
        if columns is None:
            columns = ["id", *(k for k in batch[0] if k not in _EXTRA_KEYS and k != "id")]
            if "group_id" not in columns:
                columns.append("group_id")
            sql = (f"insert into comments ({', '.join(f'[{c}]' for c in columns)}) "
                   f"values ({', '.join('?' for _ in columns)})")
        first_id = next_id
        values, extra, signatures = [], [], []
        with writing(db), comment_store.indexing_afterwards(db) as indexed:
            for row in batch:
                row["id"] = next_id
                next_id += 1
                key = row.get("group") if grouping == "known" else None
                if key is not None:
                    gkey = (row["consultation_id"], key)
                    if gkey not in groups:
                        groups[gkey] = db.execute(
                            "insert into comment_groups (consultation_id, created_at) values (?, ?)",
                            [row["consultation_id"], created_at or row["created_at"]]).lastrowid
                    row["group_id"] = groups[gkey]
                for block_id in row.get("extra_blocks") or ():
                    extra.append((row["id"], block_id))
                if grouping == "known":
                    signatures.append((row["id"], row["consultation_id"]))
                values.append([row.get(c) for c in columns])
            db.conn.executemany(sql, values)
            indexed.extend(range(first_id, next_id))
            if extra:
                db.conn.executemany("insert into comment_blocks (comment_id, block_id) values (?, ?)", extra)
            if queue:
                db.execute("insert or ignore into grouping_queue (comment_id, consultation_id) select id, consultation_id "
                           "from comments where id between ? and ?", [first_id, next_id - 1])
            if signatures:
                db.conn.executemany(
                    "insert into comment_signatures (comment_id, consultation_id, signature) values (?, ?, NULL)",
                    signatures)
        done += len(batch)
    return done


def check_fts(db: Database) -> tuple[int, int]:
    """(rows in comments, rows in the full-text index): equal when the index is complete."""
    comments = db.execute("select count(*) from comments").fetchone()[0]
    indexed = db.execute("select count(*) from comments_fts_docsize").fetchone()[0]
    return comments, indexed
