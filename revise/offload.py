"""Bounded work off the event loop: CPU-heavy renders (diffs of user text) and their overload answer.

A preview of a 20,000-character suggestion costs up to Diff_Timeout of pure-Python diffing.
On the event loop six at once stalled every request, static files included (issue #10). Here
such work runs off the event loop, at most `workers` at a time, with at most `max_waiting`
queued behind them: past that the answer is 503 + Retry-After at once, instead of an ever
longer queue.

`run` takes a worker thread (for renders that need the request and the database). A thread
still shares the interpreter lock with the event loop: twenty clients sending the largest
previews kept a static file's p99 at 100–430 ms. So the diff itself, a pure function of two
strings, goes through `compute`, to one child process (revise.diff_process, started on first
use, so a server that never previews never starts it); the thread then only renders. Should
the child die or hang, it is stopped, the next call starts another, and this call runs in a
thread rather than failing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread

from revise.diff_process import ChildFailed, DiffProcess

log = logging.getLogger("revise.offload")

T = TypeVar("T")


class Busy(Exception):
    """Too much waits already, or the database stayed locked: the client should retry (503)."""

    retry_after = 5


class Limited(Exception):
    """The client sent more than its limit in the period (429); nothing was recorded."""


class CpuGate:
    """At most `workers` CPU-heavy calls at once in threads, at most `max_waiting` queued."""

    def __init__(self, workers: int = 1, max_waiting: int = 32, processes: bool = True):
        self._limiters: WeakKeyDictionary = WeakKeyDictionary()
        self.workers = workers
        self.max_waiting = max_waiting
        self.waiting = 0
        self.child = DiffProcess() if processes else None

    async def run(self, fn: Callable[..., T], *args) -> T:
        if self.waiting >= self.max_waiting:
            raise Busy
        self.waiting += 1
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter())
        finally:
            self.waiting -= 1

    async def compute(self, fn: Callable[..., T], *args) -> T:
        """A pure function of picklable arguments (a module-level one of revise), in the child."""
        if self.waiting >= self.max_waiting:
            raise Busy
        self.waiting += 1
        try:
            async with self._limiter():
                if self.child is not None:
                    try:
                        return await anyio.to_thread.run_sync(self.child.call, fn, *args)
                    except ChildFailed as failure:
                        log.warning("the diff process failed (%s): this one runs in a thread", failure)
                return await anyio.to_thread.run_sync(fn, *args)
        finally:
            self.waiting -= 1

    def _limiter(self) -> anyio.CapacityLimiter:
        """The limiter of the running event loop: an anyio limiter belongs to one loop, and a
        server has one, but tests drive one app from several (a TestClient each)."""
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.workers)
        return limiter

    def close(self) -> None:
        """Stop the diff process (the app's shutdown)."""
        if self.child is not None:
            self.child.close()
