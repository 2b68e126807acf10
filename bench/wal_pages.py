"""Issue #11: what a comment writes to the WAL, page by page, and which table or index each page is.

    .venv/bin/python bench/wal_pages.py DATA [--comments 1500] [--batch 15]

DATA is a data folder built by bench/bigcase.py; its database is copied (never written). On the
copy, web comments are stored as writer_batch.py stores them together (commenting.store_together,
one transaction a batch, as the comment writer does) with the WAL left to grow (no checkpoint); then
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

from writer_batch import run  # noqa: E402

from revise.store import connect, open_database  # noqa: E402


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
        # Held open while writer_batch.run stores the batches and closes its own connection: the
        # last connection to close would checkpoint the WAL away.
        db = connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        run(path, "together", args.comments, args.batch)
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
