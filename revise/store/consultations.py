"""Consultations and their original documents."""

from __future__ import annotations

import hashlib

from sqlite_utils import Database

from revise.store import first, writing
from revise.timeutil import utc_now_text


def create(db: Database, consultation: dict, *, filename: str, data: bytes) -> int:
    """Insert a consultation and its original .docx bytes; return the consultation's id."""
    row = dict(consultation, created_at=utc_now_text())
    table = db.table("consultations")
    table.insert(row)
    cid = table.last_pk
    db.table("documents").insert(
        {
            "consultation_id": cid,
            "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "data": data,
            "imported_at": row["created_at"],
        }
    )
    return cid


def by_slug(db: Database, slug: str) -> dict | None:
    """The consultation with this slug, or None."""
    return first(db, "select * from consultations where slug = ?", [slug])


def by_id(db: Database, cid: int) -> dict | None:
    """The consultation with this id, or None."""
    return first(db, "select * from consultations where id = ?", [cid])


def all_(db: Database) -> list[dict]:
    """Every consultation with its block count, newest first."""
    rows = db.table("consultations").rows_where(
        select="id, slug, title, issuer, published_on, opens_at, closes_at, created_at",
        order_by="created_at desc, id desc",
    )
    counts = {
        r["consultation_id"]: r["n"]
        for r in db.query("select consultation_id, count(*) as n from blocks group by consultation_id")
    }
    return [dict(r, blocks=counts.get(r["id"], 0)) for r in rows]


def slug_taken(db: Database, slug: str) -> bool:
    """Whether a consultation already uses this slug."""
    return by_slug(db, slug) is not None


def original_document(db: Database, cid: int) -> dict | None:
    """The .docx imported for the consultation (filename, sha256, size, data)."""
    rows = list(db.table("documents").rows_where("consultation_id = ?", [cid], order_by="id", limit=1))
    return rows[0] if rows else None


def set_window(db: Database, cid: int, opens_at: str, closes_at: str, audit: dict | None = None) -> None:
    """Store a new comment window (UTC instants as text), with its audit event in one transaction."""
    with writing(db):
        db.table("consultations").update(cid, {"opens_at": opens_at, "closes_at": closes_at})
        if audit is not None:
            db.table("audit").insert(dict(audit, subject=f"consultation:{cid}"))


def set_publish_immediately(db: Database, cid: int, value: bool, audit: dict) -> None:
    """Whether public comments appear without review."""
    with writing(db):
        db.table("consultations").update(cid, {"publish_immediately": int(value)})
        db.table("audit").insert(dict(audit, subject=f"consultation:{cid}"))


def count(db: Database) -> int:
    return db.table("consultations").count


def set_outcome_published(db: Database, cid: int, at: str | None, audit: dict) -> None:
    """When the outcome (dispositions and reasons) became public; None withdraws it."""
    with writing(db):
        db.table("consultations").update(cid, {"outcome_published_at": at})
        db.table("audit").insert(dict(audit, subject=f"consultation:{cid}"))


def set_public_attachments(db: Database, cid: int, value: bool, audit: dict) -> None:
    """Whether the public comment form takes one attachment (a scan or photo)."""
    with writing(db):
        db.table("consultations").update(cid, {"public_attachments": int(value)})
        db.table("audit").insert(dict(audit, subject=f"consultation:{cid}"))


NOTICE_COLUMNS = ("notice", "contact", "email", "postal_address", "fax", "contact_person",
                  "contact_phone", "office")


def set_notice(db: Database, cid: int, values: dict, audit: dict) -> None:
    """Store the notice's text and how to comment (revise.notice), with its audit event, in one transaction."""
    unknown = set(values) - set(NOTICE_COLUMNS)
    if unknown:
        raise ValueError(f"not a notice column: {sorted(unknown)}")
    with writing(db):
        db.table("consultations").update(cid, values)
        db.table("audit").insert(dict(audit, subject=f"consultation:{cid}"))
