"""Exports from one consistent snapshot: the clean plan, the plan with tracked changes, the report.

Editors may keep working while an export runs: everything an export needs is read inside one
read transaction (store.reading), so the files agree with each other and with one moment.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from revise import docx_export, report
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import reading
from revise.store import revisions as revision_store

# name → (what it is, media type); the name is also the download's file-name suffix
KINDS = {
    "plan.docx": ("clean", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "plan-tracked.docx": ("tracked", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "report.docx": ("report", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "report.xlsx": ("report", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "report.csv": ("report", "text/csv; charset=utf-8"),
}


@dataclass
class Snapshot:
    consultation: dict
    original: bytes
    blocks: list[dict]
    report: report.Report


def snapshot(db: Database, consultation: dict, locale: str = "zh_CN", *, public_only: bool = False) -> Snapshot:
    """Everything the exports need, read at one instant (`public_only`: the report as the public gets it)."""
    with reading(db):
        cid = consultation["id"]
        consultation = consultation_store.by_id(db, cid)
        original = consultation_store.original_document(db, cid)["data"]
        latest = revision_store.latest_per_block(db, cid)
        blocks = block_store.of_consultation(db, cid, include_deleted=True)
        for block in blocks:
            mark = latest.get(block["id"])
            block["author"] = mark["author_name"] if mark else None
            block["date"] = mark["created_at"] if mark else None
            block["deleted"] = bool(block["deleted"])
        made = report.build_report(db, consultation, locale, public_only=public_only)
    return Snapshot(consultation, original, blocks, made)


def render(snap: Snapshot, name: str) -> bytes:
    """One export file of the snapshot by its name (see KINDS)."""
    if name == "plan.docx":
        return docx_export.export_docx(snap.original, snap.blocks)
    if name == "plan-tracked.docx":
        return docx_export.export_docx(snap.original, snap.blocks, tracked=True)
    if name == "report.docx":
        return report.report_docx(snap.report, snap.original)
    if name == "report.xlsx":
        return report.report_xlsx(snap.report)
    if name == "report.csv":
        return report.report_csv(snap.report)
    raise KeyError(name)


def file_name(consultation: dict, name: str) -> str:
    """The download's name: the consultation's slug and what it is, e.g. nanchong-2022-plan.docx."""
    return f"{consultation['slug']}-{name}"
