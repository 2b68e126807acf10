"""Open .docx files in LibreOffice through UNO; report their tracked changes and text as JSON.

Run with Debian's interpreter (the uno module imports only there), as tests/test_docx_export.py
does:

    /usr/bin/python3 tests/uno_check.py FILE[:accept|:reject] ...

For each argument it loads the file hidden, counts its redlines (tracked changes), optionally
runs Accept All / Reject All, and prints one JSON list of
{"file", "action", "redlines", "types", "authors", "after", "text", "tables"}. soffice runs in a
throw-away profile on a free loopback port and is killed (its whole process group) at the end;
an alarm bounds the whole run (UNO_CHECK_TIMEOUT seconds, default 90).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import uno  # noqa: E402 — only in /usr/bin/python3 with python3-uno installed
from com.sun.star.beans import PropertyValue  # noqa: E402
from com.sun.star.connection import NoConnectException  # noqa: E402

COMMANDS = {"accept": ".uno:AcceptAllTrackedChanges", "reject": ".uno:RejectAllTrackedChanges"}


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout("LibreOffice did not answer in time")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prop(name: str, value) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(port: int, process: subprocess.Popen, seconds: float = 60):
    """The remote component context of the soffice listening on port."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + seconds
    while True:
        try:
            return resolver.resolve(
                f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if process.poll() is not None:
                raise RuntimeError(f"soffice exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def redline_facts(doc) -> tuple[int, dict[str, int], list[str]]:
    """(count, count per RedlineType, authors) of a document's tracked changes."""
    redlines = doc.getRedlines()
    types: dict[str, int] = {}
    authors: set[str] = set()
    enum = redlines.createEnumeration()
    while enum.hasMoreElements():
        redline = enum.nextElement()
        kind = redline.getPropertyValue("RedlineType")
        types[kind] = types.get(kind, 0) + 1
        authors.add(redline.getPropertyValue("RedlineAuthor"))
    return redlines.getCount(), types, sorted(authors)


def tables(doc) -> list[list[str]]:
    """Each text table's cell texts, in the order LibreOffice names the cells."""
    out = []
    for index in range(doc.getTextTables().getCount()):
        table = doc.getTextTables().getByIndex(index)
        out.append([table.getCellByName(name).getString() for name in table.getCellNames()])
    return out


def check(desktop, dispatcher, arg: str) -> dict:
    path, action = arg, ""
    for name in COMMANDS:
        if arg.endswith(":" + name):
            path, action = arg[: -len(name) - 1], name
    print(f"uno_check: {arg}", file=sys.stderr, flush=True)  # the last one named, if it crashes
    url = uno.systemPathToFileUrl(os.path.abspath(path))
    doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
    if doc is None:
        raise RuntimeError(f"LibreOffice could not open {path}")
    try:
        count, types, authors = redline_facts(doc)
        if action:
            frame = doc.getCurrentController().getFrame()
            dispatcher.executeDispatch(frame, COMMANDS[action], "", 0, ())
        return {"file": path, "action": action, "redlines": count, "types": types,
                "authors": authors, "after": doc.getRedlines().getCount(),
                "text": doc.getText().getString(), "tables": tables(doc)}
    finally:
        doc.close(True)


def main(args: list[str]) -> int:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(os.environ.get("UNO_CHECK_TIMEOUT", "90")))
    with tempfile.TemporaryDirectory(prefix="uno-check-") as tmp:
        port = free_port()
        process = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
             f"-env:UserInstallation=file://{tmp}/profile",
             f"--accept=socket,host=127.0.0.1,port={port};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            context = connect(port, process)
            manager = context.ServiceManager
            desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
            dispatcher = manager.createInstanceWithContext("com.sun.star.frame.DispatchHelper",
                                                           context)
            results = [check(desktop, dispatcher, arg) for arg in args]
            try:
                desktop.terminate()
            except Exception:  # the bridge drops as soffice exits; the kill below is the rule
                pass
        finally:
            signal.alarm(0)
            try:
                os.killpg(process.pid, signal.SIGTERM)  # soffice and everything it started
                process.wait(10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
