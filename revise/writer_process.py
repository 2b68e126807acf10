"""The comment writer in a process of its own: what `serve` runs (issue #11).

In the server's process the writer thread (revise.writer) shares the interpreter lock with the
event loop: every SQLite statement lets go of it and has to win it back from the thread that
parses requests, and under a stream of comments half of the writer's time went to waiting for it
(bench/README.md, fifth session). Here the same CommentWriter runs in a child process with an
interpreter of its own; the server sends it the rows and gets the answers back through two pipes,
a batch to a message either way.

- Jobs go out as (number, row, then, admit, seconds left), `then` and `admit` the writer's own
  dataclasses (commenting.AfterWeb, store.limits.Admission) pickled; answers come back as
  (number, outcome, error). A sender and a receiver thread in the server do the pickling and the
  pipe I/O, so the event loop never blocks on a full pipe.
- The child stops when the pipe of jobs ends: when the server stops it, and also when the server
  dies (the kernel closes its end), so a killed server leaves no writer behind. It is in a session
  of its own: a Ctrl-C at the terminal reaches the server, which stops it in order.
- If the child dies, the submissions it had are answered Busy (503: the form keeps its one-time
  token, so sending it again finds the comment if it was committed after all) and another child
  is started.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

from revise.offload import Busy
from revise.pickled_pipe import receive, send
from revise.writer import _give_up, settle_futures

log = logging.getLogger("revise.writer")

BATCH = 256  # jobs sent in one message at most (a job with an attachment ends its message)
RESTART_AFTER = 1.0  # seconds before a child that died is replaced


def portable(error: BaseException | None) -> BaseException | None:
    """The error as it can cross the pipe: itself if it pickles, else a RuntimeError saying what it was."""
    if error is None:
        return None
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(repr(error))


class WriterProcess:
    """CommentWriter's interface (start, stop, `await submit(row, then, admit)`, wait_idle), the
    writing done by a child process running revise.writer_process."""

    def __init__(self, path: Path | str, *, wait: float = 8.0, max_waiting: int = 4096, group: bool = True):
        self.path = Path(path)
        self.wait = wait
        self.max_waiting = max_waiting
        self.group = group
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._pending: dict[int, _Waiting] = {}
        self._idle_answers: dict[int, tuple[threading.Event, list]] = {}
        self._lock = threading.Lock()  # _pending, _idle_answers, the child and its pipes
        self._numbers = iter(range(1, sys.maxsize))
        self._child: subprocess.Popen | None = None
        self._jobs_out = None
        self._answers_in = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- the server's side ---------------------------------------------------------------

    def start(self) -> None:
        if self._child is not None:
            return
        self._stopping.clear()
        self._spawn()
        self._threads = [threading.Thread(target=self._send_jobs, name="revise-writer-send", daemon=True),
                         threading.Thread(target=self._read_answers, name="revise-writer-answers", daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        if self._child is None:
            return
        self._stopping.set()
        self._outbox.put(None)  # the sender closes the pipe of jobs: the child finishes and exits
        for thread in self._threads:
            thread.join(timeout=30)
        child = self._child
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.error("the comment writer process did not stop: killed")
            child.kill()
            child.wait()
        self._child = None
        self._fail_pending()

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    async def submit(self, row: dict, then=None, admit=None) -> tuple[dict, bool]:
        """Commit the comment unless its form token was used already; raises Busy when the writer
        cannot take it, or after `wait` seconds."""
        if len(self._pending) >= self.max_waiting or self._child is None:
            raise Busy
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        number = next(self._numbers)
        with self._lock:
            self._pending[number] = _Waiting(loop, future)
        self._outbox.put((number, row, then, admit, time.monotonic() + self.wait))
        # The child answers Busy itself once the deadline has passed; the timer only covers a child
        # that stopped answering.
        timer = loop.call_later(self.wait + 1, _give_up, future)
        try:
            return await future
        finally:
            timer.cancel()
            with self._lock:
                self._pending.pop(number, None)

    def wait_idle(self, timeout: float = 30) -> bool:
        """Block until the child has written everything sent to it, grouping included."""
        if self._child is None:
            return True
        done, answer = threading.Event(), []
        number = next(self._numbers)
        with self._lock:
            self._idle_answers[number] = (done, answer)
        self._outbox.put(("idle", number, timeout))
        finished = done.wait(timeout + 5)
        with self._lock:
            self._idle_answers.pop(number, None)
        return finished and bool(answer and answer[0])

    # --- the threads that talk to the child ---------------------------------------------

    def _spawn(self) -> None:
        jobs_read, jobs_write = os.pipe()
        answers_read, answers_write = os.pipe()
        # This checkout's revise, wherever the server was started from.
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(Path(__file__).resolve().parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]))
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "revise.writer_process", str(jobs_read), str(answers_write),
                 str(self.path.resolve()), str(self.wait), "1" if self.group else "0"],
                pass_fds=(jobs_read, answers_write), stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        except BaseException:
            for fd in (jobs_write, answers_read):
                os.close(fd)
            raise
        finally:
            os.close(jobs_read)
            os.close(answers_write)
        with self._lock:
            old = self._jobs_out, self._answers_in
            self._child = child
            self._jobs_out = os.fdopen(jobs_write, "wb")
            self._answers_in = os.fdopen(answers_read, "rb")
        for stream in old:  # a child that died: the sender may be writing to it still (it gets an error)
            if stream is not None:
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass

    def _send_jobs(self) -> None:
        """Jobs from the event loop to the child, as many to a message as are waiting."""
        while True:
            item = self._outbox.get()
            if item is None:
                break
            items = [item]
            while len(items) < BATCH and not _carries_a_file(items[-1]):
                try:
                    more = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._outbox.put(None)
                    break
                items.append(more)
            now = time.monotonic()
            jobs = [(n, row, then, admit, deadline - now) for n, row, then, admit, deadline in
                    (item for item in items if item[0] != "idle")]
            idles = [item for item in items if item[0] == "idle"]
            try:
                if jobs:
                    send(self._jobs_out, ("jobs", jobs))
                for _, number, timeout in idles:
                    send(self._jobs_out, ("idle", number, timeout))
            except (OSError, ValueError):  # the child is gone: _read_answers answers its jobs Busy
                self._answer([(job[0], None, Busy()) for job in jobs])
        with self._lock:
            try:
                self._jobs_out.close()
            except OSError:
                pass

    def _read_answers(self) -> None:
        """Answers from the child to the event loops; a child that died is replaced."""
        while True:
            try:
                message = receive(self._answers_in)
            except (OSError, ValueError, pickle.UnpicklingError, EOFError) as error:
                log.error("the comment writer's answers could not be read: %r", error)
                message = None
            if message is None:
                if self._stopping.is_set():
                    return
                code = self._child.wait()
                log.error("the comment writer process ended (exit status %s): its submissions are "
                          "answered 503, and another is started", code)
                self._fail_pending()
                while not self._stopping.wait(RESTART_AFTER):
                    try:
                        self._spawn()
                        break
                    except OSError as error:
                        log.error("the comment writer process could not be started: %r", error)
                continue
            if message[0] == "done":
                self._answer(message[1])
            elif message[0] == "idle":
                with self._lock:
                    waiting = self._idle_answers.get(message[1])
                if waiting is not None:
                    waiting[1].append(message[2])
                    waiting[0].set()

    def _answer(self, results: list) -> None:
        """Settle the futures of these (number, outcome, error), one wake-up of each event loop."""
        with self._lock:
            settled = [(self._pending[number], outcome, error) for number, outcome, error in results
                       if number in self._pending]
        settle_futures(settled)

    def _fail_pending(self) -> None:
        with self._lock:
            numbers = list(self._pending)
            for done, answer in self._idle_answers.values():
                answer.append(False)
                done.set()
        self._answer([(number, None, Busy()) for number in numbers])


def _carries_a_file(item: tuple) -> bool:
    """A job with an attachment: sent in a message of its own (pickled_pipe.MESSAGE_MAX)."""
    return getattr(item[2], "attachment", None) is not None if item[0] != "idle" else False


class _Waiting(NamedTuple):
    """A submission the child has not answered yet (what writer.settle_futures settles)."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future


# --- the child process ---------------------------------------------------------------------


def main(argv: list[str]) -> int:
    jobs_fd, answers_fd, path, wait, group = int(argv[0]), int(argv[1]), argv[2], float(argv[3]), argv[4] == "1"
    from revise.serving import _configure_logging
    from revise.store import WriteLock
    from revise.writer import CommentWriter, _Job

    _configure_logging()
    out = os.fdopen(answers_fd, "wb")
    out_lock = threading.Lock()

    def tell(message) -> None:
        with out_lock:
            try:
                send(out, message)
            except (OSError, ValueError):  # the server is gone: nobody to answer
                pass

    def answer(results: list) -> None:
        tell(("done", [(job.ident, outcome, portable(error)) for job, outcome, error in results]))

    def when_idle(number: int, timeout: float) -> None:
        tell(("idle", number, writer.wait_idle(timeout)))

    # The server's threads take the same lock (store.WriteLock) for an editor's decision, an
    # import…: they queue with this process's batches instead of polling SQLite's busy handler.
    writer = CommentWriter(path, WriteLock(path), wait=wait, group=group, answer=answer)
    writer.start()
    try:
        with os.fdopen(jobs_fd, "rb") as inbox:
            while (message := receive(inbox)) is not None:
                if message[0] == "jobs":
                    now = time.monotonic()
                    for number, row, then, admit, seconds_left in message[1]:
                        writer.put(_Job(row, then, admit, now + seconds_left, ident=number))
                elif message[0] == "idle":
                    threading.Thread(target=when_idle, args=message[1:], daemon=True).start()
    finally:
        # As the thread stops: the batch in hand is committed and answered; nothing else is
        # waited for (grouping resumes with the next start, from its durable queue).
        writer.stop()
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
