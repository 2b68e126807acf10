"""The comment writer: one thread that commits web submissions, many to a transaction.

Why a thread of its own (issue #10, #11):
- A submission must never wait on SQLite's lock on the event loop: another process (a backup,
  an import, a second worker) may hold it for seconds, and the whole site would stall with it.
  Here the wait happens in this thread; the request awaits a future, bounded, and answers
  503 + Retry-After when the database stays locked (the form keeps its one-time token, so the
  resent form finds the comment if it was committed after all: nothing acknowledged is lost,
  nothing is stored twice).
- Group commit: with synchronous=FULL every COMMIT is an fsync. Submissions that arrive while
  one transaction commits are taken together into the next one. Web comments without
  attachments are stored together in a few statements (commenting.store_together: each
  statement hands the interpreter lock to the event loop's thread); anything else, or a batch
  that failed that way, goes one by one, each under its own savepoint, so one bad row fails
  alone, and is put in the full-text index in one statement before the commit
  (store.comments.indexing_afterwards). A comment is acknowledged only after its transaction
  committed.
- The COMMIT only appends to the WAL and fsyncs it: a checkpointer thread copies the WAL into
  the database file.
- Grouping of similar comments, and the full-text index's merging, run here too, when no
  submission has come for a quarter of a second (under a burst each of their transactions cost
  the submissions a fourth of the writer's time and an extra fsync), and one batch at least every
  5 s under sustained load: it drains the durable
  `grouping_queue` that every web submission feeds in its own transaction, so it survives
  restarts and never delays a receipt by more than one small batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from revise import commenting, grouping
from revise.offload import Busy, Limited
from revise.store import comments as comment_store
from revise.store import limits as limit_store
from revise.store import checkpoint_in_background, connect, copy_wal, restart_wal, writing

log = logging.getLogger("revise.writer")

MAX_BATCH = 128  # submissions committed together at most
GROUPING_BATCH = 16  # comments grouped per transaction when the writer is idle
GROUPING_AFTER_IDLE = 0.25  # seconds without a submission before grouping runs
# Under sustained load the writer is never idle that long: one batch of idle work at least this
# often, so grouping keeps up with a steady stream and is never more than a few batches behind.
GROUPING_AT_LEAST_EVERY = 5.0
# How often the checkpointer copies what the writer committed from the WAL into the database file.
CHECKPOINT_EVERY = 0.5
# Past this many frames (4 KB pages) in the WAL the checkpointer restarts it (store.restart_wal).
WAL_RESTART_FRAMES = 4096
# Seconds a restart waits for readers still on the old frames, the writer waiting meanwhile; a
# long reader (an export at 1,000,000 comments reads for tens of seconds) outlasts it, and the
# next try waits until the WAL has doubled.
RESTART_WAITS_FOR_READERS = 0.05


@dataclass
class _Job:
    """One submission: answered through its event loop's future, or (in the writer's own process,
    revise.writer_process) by its number, through the `answer` callable the writer was given."""

    row: dict
    then: Callable[[Database, dict], None] | None
    admit: Callable[[Database], None] | None
    deadline: float
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future | None = field(default=None, repr=False)
    ident: int | None = None

    def cancelled(self) -> bool:
        return self.future is not None and self.future.cancelled()


def _give_up(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(Busy())


class CommentWriter:
    """Commits comment rows from one thread; `await submit(row)` gives (comment, created)."""

    def __init__(self, path: Path | str, write_lock: threading.Lock | None = None, *,
                 wait: float = 8.0, max_waiting: int = 4096, group: bool = True,
                 answer: Callable[[list], None] | None = None):
        self.path = Path(path)
        self.write_lock = write_lock
        self.wait = wait  # how long a submission may wait for the database before 503
        self.max_waiting = max_waiting
        self.group = group
        # How a batch's results reach the submitters: their futures (settle_futures), or in the
        # writer's own process a message back to the server (revise.writer_process).
        self._answer_all = answer or settle_futures
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._merged = False  # the full-text index has nothing left to merge
        self._idle_work_at = time.monotonic()  # when grouping or merging last ran
        self._commits = 0  # transactions committed by the writer thread (read by the checkpointer)
        self._checkpointer: threading.Thread | None = None

    # --- the event loop's side -----------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._checkpointer = threading.Thread(target=self._checkpoints, name="revise-checkpoint", daemon=True)
            self._checkpointer.start()
            self._thread = threading.Thread(target=self._run, name="revise-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._jobs.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=30)
            self._checkpointer = None

    async def submit(self, row: dict, then: Callable[[Database, dict], None] | None = None,
                     admit: Callable[[Database], None] | None = None) -> tuple[dict, bool]:
        """Commit the comment unless its form token was used already; raises Busy after `wait` seconds.

        `admit` checks the rate limit in the same transaction (store.comments.insert_once_in).
        """
        if self._jobs.qsize() >= self.max_waiting:
            raise Busy
        loop = asyncio.get_running_loop()
        job = _Job(row, then, admit, time.monotonic() + self.wait, loop, loop.create_future())
        self._jobs.put(job)
        # The writer answers Busy itself once the job's deadline has passed; the timer only covers
        # a writer that stopped answering. The future is awaited as it is: wait_for(shield(...))
        # took two more turns of the event loop per comment, and under a flash crowd of readers
        # each turn is tens of milliseconds. A request cancelled before the writer took its job
        # (the server shutting down) cancels the job: nothing answered, nothing stored.
        timer = loop.call_later(self.wait + 1, _give_up, job.future)
        try:
            return await job.future
        finally:
            timer.cancel()

    def put(self, job: _Job) -> None:
        """Queue a job for the writer thread (revise.writer_process: jobs read from the server)."""
        self._jobs.put(job)

    def wait_idle(self, timeout: float = 30) -> bool:
        """Block until every queued submission and grouping is done (tests, benches, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._idle.clear()
            if self._jobs.qsize() == 0 and self._idle.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
                if self._jobs.qsize() == 0:
                    return True
        return False

    # --- the writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        db = connect(self.path)
        # The busy handler sleeps in this thread, never on the event loop; each try is short so
        # that a job past its deadline is answered soon.
        db.execute("PRAGMA busy_timeout = 1000")
        if self.write_lock is not None:
            db.write_lock = self.write_lock
        # Its commits only append to the WAL and fsync it; the checkpointer thread copies the WAL
        # into the database file beside it (a third of each COMMIT when the commit did it).
        checkpoint_in_background(db)
        try:
            while not self._stop.is_set():
                batch = self._drain(MAX_BATCH)
                if not batch:
                    # Grouping waits until no comment has come for a moment: under load each of its
                    # transactions would cost the submissions an extra fsync.
                    try:
                        job = self._jobs.get(timeout=GROUPING_AFTER_IDLE)
                    except queue.Empty:
                        if self.group and self._group_some(db):
                            continue
                        self._idle.set()
                        job = self._jobs.get()
                    if job is None:
                        continue
                    batch = [job, *self._drain(MAX_BATCH - 1)]
                self._commit(db, batch)
                self._commits += 1
                self._merged = False  # new rows in the full-text index: merge when idle
                if self.group and time.monotonic() - self._idle_work_at > GROUPING_AT_LEAST_EVERY:
                    self._group_some(db)
        finally:
            db.close()

    def _checkpoints(self) -> None:
        """The checkpointer thread: every CHECKPOINT_EVERY seconds in which the writer committed,
        a PASSIVE checkpoint, which waits for no reader or writer (what a reader still uses is
        copied next time). Its I/O and fsync of the database file run beside the writer's work,
        not inside a COMMIT that comments wait on. Past WAL_RESTART_FRAMES, a restart
        (store.restart_wal)."""
        db = connect(self.path, busy_timeout=RESTART_WAITS_FOR_READERS)
        seen, restart_at = self._commits, WAL_RESTART_FRAMES
        try:
            while not self._stop.wait(CHECKPOINT_EVERY):
                if self._commits != seen:
                    seen = self._commits
                    try:
                        restart_at = self.checkpoint(db, restart_at)
                    except sqlite3.OperationalError as error:
                        log.warning("checkpoint waits: %s", error)
        finally:
            db.close()

    def checkpoint(self, db: Database, restart_at: int = WAL_RESTART_FRAMES) -> int:
        """One turn of the checkpointer on its connection: copy the WAL (PASSIVE), and restart it
        once it holds `restart_at` frames or more; the threshold for the next turn (doubled when
        a reader outlasted the restart's wait)."""
        _, frames, _ = copy_wal(db)
        # Under a steady stream PASSIVE copies never reach the WAL's end: from time to time the
        # writer waits a moment while the rest is copied and the WAL starts over, so it stays a
        # few MB instead of growing with every commit.
        if frames < restart_at:
            return restart_at
        return WAL_RESTART_FRAMES if restart_wal(db, self.write_lock) else 2 * frames

    def _drain(self, n: int) -> list[_Job]:
        jobs = []
        while len(jobs) < n:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                jobs.append(job)
        return jobs

    def _commit(self, db: Database, batch: list[_Job]) -> None:
        results: list[tuple[_Job, object, BaseException | None]] = []
        together = self._can_go_together(batch)
        while True:
            live = [job for job in batch if job.deadline > time.monotonic() and not job.cancelled()]
            for job in batch:
                if job not in live:
                    self._answer(job, None, Busy())
            batch = live
            if not batch:
                return
            try:
                with writing(db):
                    results = self._together(db, batch) if together else self._one_by_one(db, batch)
                break
            except Exception as error:  # all undone by writing()
                if isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error)):
                    continue  # another process holds the write lock: try again until each job's deadline
                if together:  # a receipt code drawn twice, say: again one by one, each alone
                    if not isinstance(error, sqlite3.IntegrityError):
                        log.warning("a batch of comments is stored one by one: %r", error)
                    together = False
                    continue
                log.exception("a batch of comments could not be stored")
                results = [(job, None, error) for job in batch]
                break
        self._answer_all(results)

    @staticmethod
    def _can_go_together(batch: list[_Job]) -> bool:
        """Web comments without attachments (the common case) can be stored together."""
        return len(batch) > 1 and all(
            isinstance(job.then, commenting.AfterWeb) and job.then.attachment is None
            and (job.admit is None or isinstance(job.admit, limit_store.Admission)) for job in batch)

    @staticmethod
    def _together(db: Database, batch: list[_Job]) -> list[tuple[_Job, object, BaseException | None]]:
        """The batch's web comments stored in a few statements for them all (raises if any fails,
        and the caller tries again one by one): each statement hands the interpreter lock to the
        event loop's thread and waits to get it back, and one by one a comment took about ten.
        One INSERT for the batch also feeds the full-text index in one go (m021)."""
        outcomes = commenting.store_together(db, [job.row for job in batch], [job.admit for job in batch])
        return [(job, None, outcome) if isinstance(outcome, Exception) else (job, outcome, None)
                for job, outcome in zip(batch, outcomes)]

    @staticmethod
    def _one_by_one(db: Database, batch: list[_Job]) -> list[tuple[_Job, object, BaseException | None]]:
        """Each job under its own savepoint, so one bad row fails alone; the comments go into the
        full-text index together before the commit (row by row, FTS5 flushes at every statement)."""
        results = []
        with comment_store.indexing_afterwards(db) as new_ids:
            for job in batch:
                db.execute("savepoint one")
                try:
                    outcome = comment_store.insert_once_in(db, job.row, job.then, job.admit)
                    db.execute("release one")
                    results.append((job, outcome, None))
                    if outcome[1]:
                        new_ids.append(outcome[0]["id"])
                except Exception as error:  # this row alone fails (after the savepoint)
                    db.execute("rollback to one")
                    db.execute("release one")
                    if not isinstance(error, Limited):
                        log.exception("a comment could not be stored")
                    results.append((job, None, error))
        return results

    def _answer(self, job: _Job, outcome, error: BaseException | None) -> None:
        self._answer_all([(job, outcome, error)])

    def _group_some(self, db: Database) -> bool:
        """Idle work: place a few queued comments into groups, else merge some of the full-text
        index; False when there is nothing left to do."""
        self._idle_work_at = time.monotonic()
        try:
            if grouping.drain_queue(db, GROUPING_BATCH) > 0:
                return True
            if self._merged:
                return False
            with writing(db):
                self._merged = not comment_store.merge_search_index(db)
            return not self._merged
        except sqlite3.OperationalError as error:
            log.warning("idle work waits: %s", error)
            return False


def settle_futures(results: list[tuple[object, object, BaseException | None]]) -> None:
    """Settle each job's future (.loop, .future) with its outcome or error, one wake-up of each
    event loop for the whole batch (each wake-up is a write to the loop's socket, and a hand-over
    of the interpreter lock)."""
    by_loop: dict[asyncio.AbstractEventLoop, list] = {}
    for result in results:
        by_loop.setdefault(result[0].loop, []).append(result)

    def settle(settled: list) -> None:
        for job, outcome, error in settled:
            if job.future.done():
                continue
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(outcome)

    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(settle, settled)
        except RuntimeError:  # the loop has closed (shutdown): nobody is waiting any more
            pass
