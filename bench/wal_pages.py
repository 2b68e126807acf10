"""Issue #11: what a comment writes to the WAL, page by page, and which table or index each page is.

    .venv/bin/python bench/wal_pages.py DATA [--comments 1500] [--batch 15]

DATA is a data folder built by bench/bigcase.py; its database is copied (never written). On the
copy, web comments (writer_batch.py's rows) are stored the way the comment writer stores a batch
(commenting.store_together, one transaction each) with the WAL left to grow (no checkpoint); then
each frame of the WAL is mapped to its b-tree through SQLite's dbstat table. Every page a commit
writes is a pwrite and part of the fsync that comments wait on: the table says where to look.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import struct
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from writer_batch import rows_for  # noqa: E402

from revise import commenting  # noqa: E402
from revise.store import checkpoint_in_background, connect, open_database, writing  # noqa: E402
from revise.store.limits import SharedRateLimiter  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--comments", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wal-pages-"))
    try:
        path = work / "revise.db"
        shutil.copyfile(args.data / "revise.db", path)
        open_database(path).close()  # the schema of this checkout
        db = connect(path)
        checkpoint_in_background(db)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = rows_for(db, args.comments, "wal")
        limiter = SharedRateLimiter(path, "comment", 5, period=600)
        for k in range(0, len(rows), args.batch):
            part = rows[k:k + args.batch]
            with writing(db):
                commenting.store_together(db, part, [limiter.admitter(f"10.9.{(k + i) // 250 % 250}.{(k + i) % 250}")
                                                     for i in range(len(part))])
        size = db.execute("pragma page_size").fetchone()[0]
        btree = dict((page, name) for name, page in db.execute("select name, pageno from dbstat"))
        wal = (work / "revise.db-wal").read_bytes()  # before the last connection closes and checkpoints
        db.close()
        frames, offset = collections.Counter(), 32
        while offset + 24 + size <= len(wal):
            frames[btree.get(struct.unpack(">I", wal[offset:offset + 4])[0], "(freed or new)")] += 1
            offset += 24 + size
        n = args.comments
        print(f"{n} comments in batches of {args.batch} on a copy of {args.data}: {sum(frames.values())} WAL "
              f"frames, {sum(frames.values()) * (size + 24) / n / 1024:.1f} KB a comment (pages of {size} bytes)")
        print("| b-tree | pages a comment |\n|---|---|")
        for name, count in frames.most_common(20):
            print(f"| {name} | {count / n:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
