"""Bounded work off the event loop: CPU-heavy renders (diffs of user text) and their overload answer.

A preview of a 20,000-character suggestion costs up to Diff_Timeout of pure-Python diffing.
On the event loop six at once stalled every request, static files included (issue #10). Here
such work runs in worker threads, at most `workers` at a time (the event loop keeps its share
of the interpreter), with at most `max_waiting` queued behind them: past that the answer is
503 + Retry-After at once, instead of an ever longer queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class Busy(Exception):
    """Too much waits already, or the database stayed locked: the client should retry (503)."""

    retry_after = 5


class Limited(Exception):
    """The client sent more than its limit in the period (429); nothing was recorded."""


class CpuGate:
    """At most `workers` CPU-heavy calls at once in threads, at most `max_waiting` queued."""

    def __init__(self, workers: int = 1, max_waiting: int = 32):
        self.limiter = anyio.CapacityLimiter(workers)
        self.max_waiting = max_waiting
        self.waiting = 0

    async def run(self, fn: Callable[..., T], *args) -> T:
        if self.waiting >= self.max_waiting:
            raise Busy
        self.waiting += 1
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)
        finally:
            self.waiting -= 1
