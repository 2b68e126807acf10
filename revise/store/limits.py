"""Rate limits kept in SQLite, so every worker process of one data folder counts the same events.

`server.py serve --workers N` runs N processes on one database. A limit counted in each
process's memory would let a client send N times its quota (one per worker its connections
happen to land on), or, divided by N, refuse a client whose connections all land on one worker
well before its quota. Counting in the database is exact whatever the spread. Each allowed event
is one row (bucket, key, at): a sliding log, the same rule as revise.security.RateLimiter,
bounded by the limit per key (a refused try records nothing). Rows older than the period are
deleted for the key on each try and for every key now and then.

The check is a short write transaction, so it never runs on the event loop: `await check(key)`
hands it to a worker thread. Its connection commits with synchronous=NORMAL: a count lost to a
power cut costs nothing, and an fsync per comment would halve the writer's throughput.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from revise.offload import Limited
from revise.store import connect, writing

SWEEP_EVERY = 500  # tries between deletions of every key's expired rows


class SharedRateLimiter:
    """At most `limit` events per `period` seconds for each key, counted in the database."""

    def __init__(self, path: Path | str, bucket: str, limit: int, period: float = 60.0,
                 write_lock: threading.Lock | None = None, busy_timeout: float = 8.0):
        self.path = Path(path)
        self.bucket = bucket
        self.limit = limit
        self.period = period
        self.write_lock = write_lock
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._tries = 0

    def _db(self):
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path, self.busy_timeout)
            db.execute("PRAGMA synchronous = NORMAL")
            if self.write_lock is not None:
                db.write_lock = self.write_lock
            self._local.db = db
        return db

    def allow(self, key: str, now: float | None = None) -> bool:
        """Record an event for key; False (and nothing recorded) if the key is over its limit.

        Blocking (a write transaction): call it from a thread, or `await check(key)`.
        """
        db = self._db()
        with writing(db):
            return self.take(db, key, now)

    def take(self, db, key: str, now: float | None = None) -> bool:
        """allow() inside a write transaction the caller holds (the comment writer's batch: the
        count and the comment commit together, without a transaction of their own)."""
        return self.take_many(db, [key], now)[0]

    def take_many(self, db, keys: list[str], now: float | None = None) -> list[bool]:
        """Each key taken in turn, as one at a time would (a key may come more than once; a
        refused try records nothing), in three statements for them all: the comment writer's
        batch (each statement is a hand-over of the interpreter lock to the event loop's thread)."""
        if not keys:
            return []
        now = time.time() if now is None else now
        listed = json.dumps(sorted(set(keys)), ensure_ascii=False)
        before, self._tries = self._tries, self._tries + len(keys)
        if before // SWEEP_EVERY != self._tries // SWEEP_EVERY:
            db.execute("delete from rate_events where bucket = ? and at <= ?", [self.bucket, now - self.period])
        else:
            db.execute("delete from rate_events where bucket = ? and key in (select value from json_each(?)) "
                       "and at <= ?", [self.bucket, listed, now - self.period])
        counts = json.loads(db.execute(
            "select json_group_object(key, n) from (select key, count(*) as n from rate_events "
            "where bucket = ? and key in (select value from json_each(?)) group by key)",
            [self.bucket, listed]).fetchone()[0])
        allowed = []
        for key in keys:
            n = counts.get(key, 0)
            allowed.append(n < self.limit)
            if n < self.limit:
                counts[key] = n + 1
        taken = [key for key, ok in zip(keys, allowed) if ok]
        if taken:
            db.execute("insert into rate_events (bucket, key, at) select ?, value, ? from json_each(?)",
                       [self.bucket, now, json.dumps(taken, ensure_ascii=False)])
        return allowed

    def __reduce__(self):
        # Pickled for the comment writer's own process (revise.writer_process): there each limiter
        # of the same terms is one object, so a batch's admissions are taken together (admit_many).
        return shared_limiter, (str(self.path), self.bucket, self.limit, self.period)

    def admitter(self, key: str) -> "Admission":
        """take(key) for the comment writer: raises Limited (nothing stored) over the limit."""
        return Admission(self, key)

    async def check(self, key: str) -> bool:
        """allow(key) in a worker thread (the event loop never waits for SQLite's lock)."""
        return await run_in_threadpool(self.allow, key)


_SHARED: dict[tuple, SharedRateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(path: str, bucket: str, limit: int, period: float) -> SharedRateLimiter:
    """The one limiter of these terms in this process (what a pickled limiter becomes)."""
    with _SHARED_LOCK:
        key = (path, bucket, limit, period)
        if key not in _SHARED:
            _SHARED[key] = SharedRateLimiter(path, bucket, limit, period)
        return _SHARED[key]


@dataclass(frozen=True)
class Admission:
    """One comment's turn against a limit, taken in the writer's transaction: call it with the
    database (raises Limited over the limit), or give many to admit_many."""

    limiter: SharedRateLimiter
    key: str

    def __call__(self, db) -> None:
        if not self.limiter.take(db, self.key):
            raise Limited


def admit_many(db, admissions: list[Admission | None]) -> list[bool]:
    """Each admission taken in turn (None: no limit), a few statements for each limiter."""
    allowed = [True] * len(admissions)
    by_limiter: dict[int, list[int]] = {}
    for i, admission in enumerate(admissions):
        if admission is not None:
            by_limiter.setdefault(id(admission.limiter), []).append(i)
    for places in by_limiter.values():
        limiter = admissions[places[0]].limiter
        for i, ok in zip(places, limiter.take_many(db, [admissions[i].key for i in places])):
            allowed[i] = ok
    return allowed
