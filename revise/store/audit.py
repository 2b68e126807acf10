"""The audit log: who did what, when, with the values before and after."""

from __future__ import annotations

import json

from sqlite_utils import Database


def event(actor: str, action: str, cid: int | None, before: object = None, after: object = None, at: str = "") -> dict:
    """An audit row, ready to insert in the same transaction as the change it records."""
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "consultation_id": cid,
        "before": json.dumps(before, ensure_ascii=False) if before is not None else None,
        "after": json.dumps(after, ensure_ascii=False) if after is not None else None,
    }


def of_consultation(db: Database, cid: int, limit: int = 500) -> list[dict]:
    return list(db.table("audit").rows_where("consultation_id = ?", [cid], order_by="id desc", limit=limit))


def of_subject(db: Database, cid: int, subject: str) -> list[dict]:
    """The events about one thing (e.g. "comment:12"), oldest first."""
    return list(db.table("audit").rows_where("consultation_id = ? and subject = ?", [cid, subject], order_by="id"))
