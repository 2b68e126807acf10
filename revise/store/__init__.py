"""The store: one SQLite file through sqlite-utils. All SQL of revise lives in this package."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from revise.store.schema import migrations


def connect(path: Path | str, busy_timeout: float = 10.0) -> sqlite_utils.Database:
    """A connection set up the one way revise uses SQLite (WAL, busy timeout, FULL sync)."""
    # isolation_level=None: statements autocommit unless inside db.atomic(), which issues
    # BEGIN/COMMIT itself; so no transaction is ever left open by accident.
    conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode = WAL")
    # synchronous=FULL with WAL: a transaction acknowledged to a user survives a power cut,
    # not only a process crash. Measured here it still allows thousands of commits a second.
    db.execute("PRAGMA synchronous = FULL")
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite file and bring its schema up to date."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(path)
    db = connect(path)
    migrations.apply(db)
    return db


def make_private(path: Path) -> None:
    """The database file, its WAL and its shared memory, readable and writable by the owner only.

    The file is created 0600 before SQLite opens it; SQLite then gives the -wal and -shm files
    it creates the database's own mode. Files left by an earlier version are narrowed too.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            file.chmod(0o600)


class WriteLock:
    """One writer at a time among the threads of this process (a lock) and among revise's processes
    on this database (an flock on the file beside it, DB-lock), taken before BEGIN IMMEDIATE
    (writing()). Writers queue here and the kernel wakes the next one as soon as the lock is let
    go; without it, the server's threads and the comment writer's own process (or another worker)
    would meet only in SQLite's busy handler, which polls in steps of up to 100 ms: under a steady
    stream of comment batches an editor's decision waited p99 254 ms instead of 44
    (bench/public_page.py --parts decide). Scripts that write without it still meet the others
    in SQLite's own lock, as before. Where the file cannot be created (a read-only folder) the
    lock is this process's only."""

    def __init__(self, path: Path | str):
        self.path = Path(f"{path}-lock")
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._shared = True

    def __enter__(self) -> WriteLock:
        self._threads.acquire()
        try:
            if self._shared and self._fd is None:
                try:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                except OSError:
                    self._shared = False
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class ThreadConnections:
    """One connection per thread: Starlette runs plain `def` endpoints in a thread pool."""

    def __init__(self, path: Path | str, busy_timeout: float = 10.0):
        self.path = Path(path)
        # How long a request's write waits for another process's lock (in its worker thread)
        # before SQLite gives up and the app answers 503 (app.py).
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()
        # One writer at a time within the process and among revise's processes (see writing()):
        # threads queue on this lock instead of polling SQLite's busy handler, which sleeps in
        # coarse steps.
        self.write_lock = WriteLock(self.path)

    def get(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path, self.busy_timeout)
            db.write_lock = self.write_lock
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close_all(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()
        self.write_lock.close()


@contextlib.contextmanager
def writing(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction that takes SQLite's write lock at once (BEGIN IMMEDIATE).

    A deferred BEGIN that reads and then writes can fail with "database is locked" when
    another writer got there first; taking the lock up front makes concurrent writers wait
    their turn (busy_timeout) instead. Everything inside commits together or not at all.
    Connections from ThreadConnections (and the comment writer's) also take a WriteLock first, so
    revise's writers, threads and processes, wait for each other without sleeping in SQLite's
    busy handler.
    """
    lock = getattr(db, "write_lock", None) or contextlib.nullcontext()
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")


@contextlib.contextmanager
def reading(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One read transaction: every query inside sees the same committed state (WAL snapshot),
    however many writes other connections commit meanwhile."""
    db.execute("BEGIN")
    try:
        yield db
    finally:
        db.execute("COMMIT")


def checkpoint_in_background(db: sqlite_utils.Database) -> None:
    """Leave the WAL's copying into the database file to someone else: this connection's commits
    no longer checkpoint when the WAL passes 1,000 pages (the comment writer, whose checkpointer
    thread calls copy_wal)."""
    db.execute("PRAGMA wal_autocheckpoint = 0")


def copy_wal(db: sqlite_utils.Database) -> tuple[int, int, int]:
    """Copy what the WAL holds into the database file without waiting for any reader or writer
    (a PASSIVE checkpoint): (busy, frames in the WAL, frames copied)."""
    return tuple(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())


def restart_wal(db: sqlite_utils.Database, write_lock=None) -> bool:
    """Copy the rest of the WAL into the database file and have the next transaction write it from
    its beginning again (a RESTART checkpoint), holding the writers' lock meanwhile; True when
    done. PASSIVE copies never catch up with a writer that commits all the time, and the WAL then
    grew by every page written (1.9 GB over a 20 s run of comment POSTs at 1,000,000 comments):
    each commit extended the file, and every reader looked pages up in an ever larger index of
    it. The wait for readers still on the old frames is the connection's busy timeout: keep it
    short, since writers wait meanwhile; if they outlast it, nothing happens until next time."""
    with write_lock or contextlib.nullcontext():
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
    return busy == 0


def kept_under(db: sqlite_utils.Database, key: tuple, serial: int, read: Callable[[], dict | None],
               limit: int = 4096) -> dict | None:
    """read()'s row kept on the connection under `serial`, a trigger-kept number that moves with
    every change to what read() returns (store.counts: `drafting` for blocks); a copy each time.
    A read that comes after the serial's: a change committed in between is read again next time."""
    kept = db.__dict__.setdefault("_kept_under", {})
    found = kept.get(key)
    if found is None or found[0] != serial:
        if len(kept) >= limit:
            kept.clear()
        found = kept[key] = (serial, read())
    return dict(found[1]) if found[1] is not None else None


def first(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> dict | None:
    """The first row of a query as a dict, or None.

    Used on hot paths instead of Table.rows_where()/get(), which look the table up in
    sqlite_master on every call (measured: a third of a comment submission's time).
    """
    return next(db.query(sql, params), None)


def insert(db: sqlite_utils.Database, table: str, row: dict) -> int:
    """Insert one row and return its rowid (Table.insert() also re-checks the schema each call)."""
    columns = ", ".join(f"[{name}]" for name in row)
    marks = ", ".join("?" for _ in row)
    return db.execute(f"insert into [{table}] ({columns}) values ({marks})", list(row.values())).lastrowid
