"""Exports from one consistent snapshot: the clean plan, the plan with tracked changes, the report.

Editors may keep working while an export runs: everything an export needs is read inside one
read transaction (store.reading), so the files agree with each other and with one moment.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
import tempfile
from typing import BinaryIO

from sqlite_utils import Database

from revise import docx_export, report
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import connect, reading
from revise.store import revisions as revision_store

# name → (what it is, media type); the name is also the download's file-name suffix
KINDS = {
    "plan.docx": ("clean", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "plan-tracked.docx": ("tracked", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "report.docx": ("report", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "report.xlsx": ("report", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "report.csv": ("report", "text/csv; charset=utf-8"),
}


class Snapshot:
    """What the exports need, as of one instant.

    The plan's inputs (the original, the blocks with their latest revision) are read at once;
    the report's rows only when a report is rendered, streamed, so a plan costs the same with a
    million comments as with none (issue #11). They still come from the same instant: the
    snapshot keeps a read transaction open on a connection of its own until close().
    """

    def __init__(self, db: Database, consultation: dict, original: bytes, blocks: list[dict], locale: str,
                 public_only: bool, owned: bool):
        self.db, self.consultation, self.original, self.blocks = db, consultation, original, blocks
        self.locale, self.public_only, self._owned, self._report = locale, public_only, owned, None
        self.round: dict = {}  # the report of one round (issue #12): {"round_id", "round_name"}

    @property
    def report(self) -> report.Report:
        """The report with its rows in a list (small consultations, tests)."""
        if self._report is None:
            self._report = report.build_report(self.db, self.consultation, self.locale, public_only=self.public_only,
                                               **self.round)
        return self._report

    def streamed_report(self) -> report.Report:
        """The report with its rows read as they are written (the exports)."""
        if self._report is not None:
            return self._report
        return report.open_report(self.db, self.consultation, self.locale, public_only=self.public_only,
                                  **self.round)

    def close(self) -> None:
        """End the read transaction (and the snapshot's own connection)."""
        if self._owned and self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("COMMIT")
            self.db.close()
            self.db = None
            self._owned = False

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def snapshot(db: Database, consultation: dict, locale: str = "zh_CN", *, public_only: bool = False,
             round_id: int | None = None, round_name: str = "") -> Snapshot:
    """Everything the exports need, read at one instant (`public_only`: the report as the public gets it;
    `round_id`: the report of that round only, titled with `round_name`, issue #12)."""
    path = next((row[2] for row in db.execute("pragma database_list").fetchall() if row[1] == "main"), "")
    if not path:  # an in-memory database has no second connection: the report is read now
        with reading(db):
            snap = _read(db, consultation, locale, public_only, owned=False)
            snap.round = {"round_id": round_id, "round_name": round_name} if round_id else {}
            snap.report  # noqa: B018 (read inside the transaction)
        return snap
    own = connect(path)
    own.execute("BEGIN")
    try:
        snap = _read(own, consultation, locale, public_only, owned=True)
        snap.round = {"round_id": round_id, "round_name": round_name} if round_id else {}
        return snap
    except BaseException:
        own.close()
        raise


def _read(db: Database, consultation: dict, locale: str, public_only: bool, owned: bool) -> Snapshot:
    cid = consultation["id"]
    consultation = consultation_store.by_id(db, cid)  # the first read fixes the instant
    original = consultation_store.original_document(db, cid)["data"]
    latest = revision_store.latest_per_block(db, cid)
    blocks = block_store.of_consultation(db, cid, include_deleted=True)
    for block in blocks:
        mark = latest.get(block["id"])
        block["author"] = mark["author_name"] if mark else None
        block["date"] = mark["created_at"] if mark else None
        block["deleted"] = bool(block["deleted"])
    return Snapshot(db, consultation, original, blocks, locale, public_only, owned)


def render(snap: Snapshot, name: str) -> bytes:
    """One export file of the snapshot by its name (see KINDS)."""
    buffer = io.BytesIO()
    render_to(snap, name, buffer)
    return buffer.getvalue()


def render_file(snap: Snapshot, name: str) -> BinaryIO:
    """One export file in an anonymous temporary file, rewound (a big report never sits in memory)."""
    spool = tempfile.TemporaryFile()
    try:
        render_to(snap, name, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def render_to(snap: Snapshot, name: str, out: BinaryIO) -> None:
    """One export file written into `out` (a report is streamed row by row)."""
    if name == "plan.docx":
        out.write(docx_export.export_docx(snap.original, snap.blocks))
    elif name == "plan-tracked.docx":
        out.write(docx_export.export_docx(snap.original, snap.blocks, tracked=True))
    elif name == "report.docx":
        out.write(report.report_docx(snap.streamed_report(), snap.original))
    elif name == "report.xlsx":
        report.write_xlsx(snap.streamed_report(), out)
    elif name == "report.csv":
        report.write_csv(snap.streamed_report(), out)
    else:
        raise KeyError(name)


def file_name(consultation: dict, name: str) -> str:
    """The download's name: the consultation's slug and what it is, e.g. nanchong-2022-plan.docx."""
    return f"{consultation['slug']}-{name}"
