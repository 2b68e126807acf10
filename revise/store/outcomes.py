"""Outcome publications (schema m015): who published a consultation's outcome, when, with which
options, and its withdrawal; the counts the confirmation shows; what the 修改对照表 reads.

Publishing and withdrawing also set `consultations.outcome_published_at` (what the receipts and
the public pages test), in the same transaction as the publication row and its audit event.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from revise.store import first, insert


def _decoded(row: dict | None) -> dict | None:
    if row is None:
        return None
    row["options"] = json.loads(row["options"] or "{}")
    row["counts"] = json.loads(row["counts"]) if row.get("counts") else {}
    return row


def current(db: Database, cid: int) -> dict | None:
    """The publication in force (the latest, if not withdrawn), else None."""
    row = first(db, "select p.* from outcome_publications p join consultations c on c.id = p.consultation_id "
                    "where p.consultation_id = ? and c.outcome_published_at is not null "
                    "and p.withdrawn_at is null order by p.id desc limit 1", [cid])
    return _decoded(row)


def history(db: Database, cid: int) -> list[dict]:
    """Every publication of the consultation's outcome, newest first, withdrawn ones included."""
    return [_decoded(r) for r in db.query(
        "select * from outcome_publications where consultation_id = ? order by id desc", [cid])]


def published_at(db: Database, cid: int) -> str | None:
    """When the consultation's outcome became public (None: it is not), as stored now."""
    row = db.execute("select outcome_published_at from consultations where id = ?", [cid]).fetchone()
    return row[0] if row else None


def publish(db: Database, row: dict, audit: dict) -> int:
    """Record a publication and make the outcome public, with its audit event (caller's transaction)."""
    options = row.get("options") or {}
    row = dict(row, options=json.dumps(options, ensure_ascii=False),
               counts=json.dumps(row.get("counts") or {}, ensure_ascii=False))
    publication_id = insert(db, "outcome_publications", row)
    db.execute("update consultations set outcome_published_at = ?, report_department_names = ? where id = ?",
               [row["published_at"], int(bool(options.get("department_names", True))), row["consultation_id"]])
    insert(db, "audit", dict(audit, subject=f"outcome:{publication_id}"))
    return publication_id


def withdraw(db: Database, cid: int, publication_id: int | None, at: str, actor: str, reason: str,
             audit: dict) -> None:
    """Withdraw the outcome and mark its publication withdrawn, with its audit event (caller's transaction)."""
    if publication_id is not None:
        db.execute("update outcome_publications set withdrawn_at = ?, withdrawn_by = ?, withdraw_reason = ? "
                   "where id = ? and consultation_id = ?", [at, actor, reason, publication_id, cid])
    db.execute("update consultations set outcome_published_at = null where id = ?", [cid])
    subject = f"outcome:{publication_id}" if publication_id is not None else f"consultation:{cid}"
    insert(db, "audit", dict(audit, subject=subject))


def status_counts(db: Database, cid: int) -> dict[str, int]:
    """Every comment of the consultation, and the published ones, counted (editor_counts, m011)."""
    found = {"total": 0, "published": 0}
    for key, n in db.execute("select key, n from editor_counts where consultation_id = ? and dim = 'status'", [cid]):
        found["total"] += n
        if key == "published":
            found["published"] += n
    return found


def revisions_until(db: Database, cid: int, since: str | None, until: str | None) -> list[dict]:
    """The consultation's revisions made at or after `since` and at or before `until` (None: unbounded),
    by block then number."""
    return list(db.query(
        "select id, block_id, number, action, reason, created_at from revisions where consultation_id = ? "
        "and (? is null or created_at >= ?) and (? is null or created_at <= ?) order by block_id, number",
        [cid, since, since, until, until]))


def version_created_at(db: Database, version_id: int) -> str | None:
    """When a published version (revise.versions) was frozen."""
    row = db.execute("select created_at from versions where id = ?", [version_id]).fetchone()
    return row[0] if row else None


def published_comments_of_revisions(db: Database, cid: int, since: str | None, until: str | None) -> list[dict]:
    """The published comments each revision answers (revision_comments), with their decision's
    reason. Withheld comments (hidden, never reviewed) are never read here."""
    return list(db.query(
        "select rc.revision_id, c.id as comment_id, c.disposition, c.disposition_reason from revisions r "
        "join revision_comments rc on rc.revision_id = r.id join comments c on c.id = rc.comment_id "
        "where r.consultation_id = ? and (? is null or r.created_at >= ?) and (? is null or r.created_at <= ?) "
        "and c.status = 'published' order by rc.revision_id, c.id", [cid, since, since, until, until]))
