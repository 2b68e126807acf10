"""Read-only looks at a database file for `server.py check`: its integrity and its schema version."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from revise.store.schema import migrations


@dataclass(frozen=True)
class SchemaState:
    applied: list[str]  # revise's migrations recorded in the file, in order
    pending: list[str]  # known to this code, not yet applied (the next start applies them)
    unknown: list[str]  # applied, but unknown to this code: the file is newer than the program


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def integrity(path: Path) -> str:
    """PRAGMA integrity_check of the file: "ok", or SQLite's first complaints."""
    with _read_only(path) as conn:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check(10)")]
    return "ok" if rows == ["ok"] else "; ".join(rows)


def schema_state(path: Path) -> SchemaState:
    """Which of revise's migrations the file has, against those this code knows."""
    with _read_only(path) as conn:
        db = sqlite_utils.Database(conn)
        applied = [m.name for m in migrations.applied(db)]
        pending = [m.name for m in migrations.pending(db)]
    # Every migration this code knows is pending on an empty database.
    known = {m.name for m in migrations.pending(sqlite_utils.Database(memory=True))}
    return SchemaState(applied, pending, [name for name in applied if name not in known])
