"""The one timing rule of the bench scripts: the median of repeated runs."""

from __future__ import annotations

import statistics
import time


def timed(fn, runs: int) -> float:
    """Median seconds of `runs` calls of fn()."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
