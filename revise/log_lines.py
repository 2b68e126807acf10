"""The server's log lines written in batches (issue #11).

The access log writes a line for every request. Written and flushed one by one (a system call
each, under the handler's lock) and with the time formatted by strftime for each line, it cost a
quarter of the public page's throughput under wrk (0.64x the floor without it, 0.49x with it).
`BatchedStreamHandler` keeps the same lines, in the same order, in the same format:

- a warning or an error is written at once, with everything before it;
- other lines wait at most `delay` seconds (a background thread writes them), or until
  `limit` characters wait;
- flush() and close() write what waits (logging.shutdown calls both when the server exits;
  only a process killed outright loses up to `delay` seconds of access lines).
"""

from __future__ import annotations

import logging
import os
import threading
import time


# The one format revise's server writes its lines in (revise/serving.py).
LINE_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(message)s"


def quick_info(logger: logging.Logger, message: str) -> bool:
    """Write `message` as logger.info(message) would, without building a LogRecord, where the
    logger's whole way out is one BatchedStreamHandler with a SecondsFormatter in LINE_FORMAT (as
    revise/serving.py sets it up): the same line, the same batching. False, with nothing written,
    anywhere else (a filter, another handler on the way, a test's capture): log the usual way.

    The access log writes a line per request, and the LogRecord (its time, thread, process and
    caller fields) and logging's walk were a tenth of a public page view (issue #11)."""
    found = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return False
        for handler in current.handlers:
            if found is not None or type(handler) is not BatchedStreamHandler or handler.filters:
                return False
            found = handler
        current = current.parent if current.propagate else None
    if found is None or found.level > logging.INFO or type(found.formatter) is not SecondsFormatter \
            or found.formatter._fmt != LINE_FORMAT:
        return False
    created = time.time()
    found.add_line(f"{found.formatter.time_text(created)} INFO [{os.getpid()}] {message}\n")
    return True


class BatchedStreamHandler(logging.StreamHandler):
    def __init__(self, stream=None, delay: float = 0.5, limit: int = 64 * 1024):
        super().__init__(stream)
        self.delay, self.limit = delay, limit
        self._waiting: list[str] = []
        self._size = 0
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._write_later, name="revise-log", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:  # called with the handler's lock held
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._waiting.append(line)
        self._size += len(line)
        if record.levelno >= logging.WARNING or self._size >= self.limit or self._closed:
            self._write(record)
        elif len(self._waiting) == 1:
            self._wake.set()  # the first line waiting starts the clock

    def add_line(self, line: str) -> None:
        """An INFO line already formatted (quick_info), batched as emit() batches it."""
        with self.lock:
            self._waiting.append(line)
            self._size += len(line)
            if self._size >= self.limit or self._closed:
                self._write()
            elif len(self._waiting) == 1:
                self._wake.set()

    def flush(self) -> None:
        with self.lock:
            self._write()

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._wake.set()
        super().close()

    def _write(self, record: logging.LogRecord | None = None) -> None:
        if not self._waiting:
            return
        text = "".join(self._waiting)
        self._waiting.clear()
        self._size = 0
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:
            if record is not None:
                self.handleError(record)

    def _write_later(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            time.sleep(self.delay)  # lines coming meanwhile go out together
            self.flush()


class SecondsFormatter(logging.Formatter):
    """logging.Formatter with the date and time of each second formatted once, not per line."""

    _second: int | None = None
    _text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        return self.time_text(record.created)

    def time_text(self, created: float) -> str:
        """The time as formatTime writes it without datefmt (msecs as LogRecord counts them)."""
        second = int(created)
        if second != self._second:
            self._text = time.strftime(self.default_time_format, self.converter(created))
            self._second = second
        return self.default_msec_format % (self._text, int((created - second) * 1000) + 0.0)
