"""Consistent copies of the database while the server runs (SQLite's online backup API)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def backup(source: Path, target: Path, pages_per_step: int = 1024) -> int:
    """Copy the live database at `source` into a new file `target`; return its page count.

    SQLite's backup API copies a snapshot: writes that commit during the copy make it restart
    the remaining steps from a consistent state, so the result is always one committed state.
    The copy is written to a temporary name and renamed, so `target` is never half-written.
    """
    target = Path(target)
    if target.exists():
        raise FileExistsError(target)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(str(source), timeout=30)
    dst = sqlite3.connect(str(partial))
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst, pages=pages_per_step, sleep=0.005)
        # The copy is a single file: fold any WAL content in and leave it in rollback mode.
        dst.execute("PRAGMA journal_mode = DELETE")
        ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if ok != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the copy failed its integrity check: {ok}")
    partial.rename(target)
    return pages
