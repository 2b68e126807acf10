"""Issue #11, the comment writer's own cost: a comment stored one by one vs in a batch, with a floor.

    .venv/bin/python bench/writer_batch.py DATA [--comments 4000] [--batch 12]

DATA is a data folder built by bench/bigcase.py; its database is copied (never written). On the
copy, in one thread (no event loop competing for the interpreter lock), the same web comments
(text taken from the case's own comments, each with its own form token and rate-limit key) are
stored in batches of --batch per transaction, as the comment writer commits them under load:

- one by one: each under a savepoint through store.comments.insert_once_in, the full-text index
  held and filled once per batch (revise.writer's fallback path, store.comments.indexing_afterwards);
- together: commenting.store_together (revise.writer's path for web comments without attachments);
- floor: the same rows into a bare table of the same columns (no index, no trigger), one
  executemany and one COMMIT per batch (WAL, synchronous=FULL), on the same file system.

It prints µs a comment and SQL statements a comment (each statement is a hand-over of the
interpreter lock to the event loop under load), and the ratio of rates to the floor.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from revise import commenting  # noqa: E402
from revise.store import comments as comment_store  # noqa: E402
from revise.store import connect, open_database, writing  # noqa: E402
from revise.store.limits import SharedRateLimiter  # noqa: E402


def rows_for(db, n: int, tag: str) -> list[dict]:
    c = next(db.query("select * from consultations order by id limit 1"))
    blocks = list(db.query("select id, rev from blocks where consultation_id = ? and kind = 'paragraph'", [c["id"]]))
    bodies = [r[0] for r in db.execute("select body from comments order by random() limit 2000")]
    rng = random.Random(7)
    out = []
    for i in range(n):
        b = rng.choice(blocks)
        out.append({"consultation_id": c["id"], "block_id": b["id"], "block_rev": b["rev"], "kind": "remark",
                    "source": "public", "department_id": None, "name": f"读者{i}", "contact": "",
                    "officer_name": None, "officer_phone": None, "body": rng.choice(bodies), "suggestion": "",
                    "quote": None, "quote_start": None, "anchor_start": None, "anchor_rev": None,
                    "anchor_state": None, "form_token": f"{tag}-{i}", "status": "published",
                    "created_at": "2026-12-02T10:00:00.000000+00:00", "round_id": c.get("round_id"),
                    "version_id": c.get("version_id")})
    return out


def run(path: Path, mode: str, n: int, batch: int, trace: bool = False) -> tuple[float, float]:
    """(seconds a comment, statements a comment); with trace the statements the Python code runs
    are counted (sqlite-utils' query() adds a savepoint and its release) and the time is not
    worth reading."""
    db = connect(path)
    db.execute("PRAGMA wal_autocheckpoint = 0")  # as the writer: the checkpointer copies the WAL
    statements = []
    rows = rows_for(db, n, f"{mode}-{trace}")
    limiter = SharedRateLimiter(path, "comment", 5, period=600)
    if trace:
        def seen(sql: str) -> None:
            # SQLite's trace repeats a statement's text for each row its triggers run on, and
            # reports FTS5's own statements ("--" or on its shadow tables): counted once / left out.
            if sql.startswith(("--", "PRAGMA 'main'", "SELECT k, v FROM")) or (statements and statements[-1] == sql):
                return
            statements.append(sql)
        db.conn.set_trace_callback(seen)
    started = time.perf_counter()
    for k in range(0, n, batch):
        part = rows[k:k + batch]
        keys = [f"10.{(k + i) // 250 % 250}.{(k + i) % 250}.1" for i in range(len(part))]
        with writing(db):
            if mode == "together":
                commenting.store_together(db, part, [limiter.admitter(key) for key in keys])
            else:
                with comment_store.indexing_afterwards(db) as ids:
                    for row, key in zip(part, keys):
                        db.execute("savepoint one")
                        comment, _ = comment_store.insert_once_in(db, row, commenting.then_web(row),
                                                                  limiter.admitter(key))
                        db.execute("release one")
                        ids.append(comment["id"])
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed / n, len(statements) / n


def floor(folder: Path, n: int, batch: int, columns: list[str]) -> float:
    con = sqlite3.connect(folder / "floor.db", isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.execute(f"create table comments ({', '.join(columns)})")
    rows = [[f"{c}{i}" if c in ("body", "form_token") else i for c in columns] for i in range(n)]
    started = time.perf_counter()
    for k in range(0, n, batch):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(f"insert into comments values ({', '.join('?' for _ in columns)})", rows[k:k + batch])
        con.execute("COMMIT")
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--comments", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=12)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="writer-batch-"))
    try:
        results = {}
        for mode in ("one by one", "together"):
            copy = work / f"{mode.replace(' ', '-')}.db"
            shutil.copyfile(args.data / "revise.db", copy)
            open_database(copy).close()  # the schema of this checkout
            name = "together" if mode == "together" else "one-by-one"
            seconds, _ = run(copy, name, args.comments, args.batch)
            _, statements = run(copy, name, 20 * args.batch, args.batch, trace=True)
            results[mode] = seconds, statements
        columns = [r[1] for r in sqlite3.connect(work / "together.db").execute("pragma table_info(comments)")]
        bare = floor(work, args.comments, args.batch, columns)
        print(f"{args.comments} web comments in batches of {args.batch}, one thread, on a copy of {args.data}:")
        print("| path | µs a comment | statements a comment | rate / floor |")
        print("|---|---|---|---|")
        for mode, (seconds, statements) in results.items():
            print(f"| {mode} | {seconds * 1e6:.0f} | {statements:.1f} | {bare / seconds:.2f}× |")
        print(f"| floor: bare table, no index or trigger | {bare * 1e6:.0f} | {3 / args.batch:.2f} | 1× |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
