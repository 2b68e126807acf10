"""One child process that runs pure functions (diffs of user text) for the server.

A diff in a worker thread still holds the interpreter lock the event loop needs; in another
process it holds nothing of ours (issue #10). The child is `python -m revise.diff_process`,
started on first use and restarted after it dies: it reads length-prefixed pickled calls
(module, function name, arguments) on its standard input and answers on its standard output.
It is our own child and speaks only to us, so pickle is safe here; it only calls functions of
the `revise` package. Unlike multiprocessing's spawn it never re-imports the server's __main__.
"""

from __future__ import annotations

import importlib
import os
import pickle
import select
import subprocess
import sys
import threading
from collections.abc import Callable

from revise.pickled_pipe import HEADER, receive, send


class ChildFailed(Exception):
    """The child died, hung past the time limit or could not start: it has been stopped."""


class DiffProcess:
    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def call(self, fn: Callable, *args):
        """fn(*args) in the child; one call at a time. Raises ChildFailed, or the function's error."""
        with self._lock:
            proc = self._started()
            try:
                send(proc.stdin, (fn.__module__, fn.__qualname__, args))
                ok, value = pickle.loads(self._read(proc, self._read(proc, HEADER.size, HEADER)))
            except (OSError, EOFError, ValueError, pickle.UnpicklingError) as error:
                self._stop()
                raise ChildFailed(str(error)) from error
        if not ok:
            raise RuntimeError(value)
        return value

    def _read(self, proc: subprocess.Popen, size: int, header=None):
        """size bytes of the answer (the header's number when given), each wait bounded by the timeout."""
        data = b""
        fd = proc.stdout.fileno()
        while len(data) < size:
            ready, _, _ = select.select([fd], [], [], self.timeout)
            if not ready:
                raise OSError(f"no answer in {self.timeout:.0f} s")
            chunk = os.read(fd, size - len(data))
            if not chunk:
                raise EOFError("the child closed its output")
            data += chunk
        return header.unpack(data)[0] if header else data

    def _started(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            try:
                self._proc = subprocess.Popen([sys.executable, "-m", "revise.diff_process"],
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
            except OSError as error:
                raise ChildFailed(str(error)) from error
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        with self._lock:
            self._stop()


def _serve() -> None:  # the child
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    os.nice(10)  # on a busy machine the server's own process goes first: the diffs can wait
    while (call := receive(source)) is not None:
        module, name, args = call
        try:
            if module != "revise" and not module.startswith("revise."):
                raise ValueError(f"not a function of revise: {module}")
            answer = (True, getattr(importlib.import_module(module), name)(*args))
        except Exception as error:  # the parent re-raises it
            answer = (False, f"{type(error).__name__}: {error}")
        send(sink, answer)


if __name__ == "__main__":
    _serve()
