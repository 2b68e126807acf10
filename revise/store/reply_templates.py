"""常用答复: the reply templates editors keep per consultation (schema m017_reply_templates)."""

from __future__ import annotations

from sqlite_utils import Database

from revise.store import first, insert, writing

COLUMNS = "id, consultation_id, disposition, title, body, position, created_by, created_at, updated_at"


def of_consultation(db: Database, cid: int) -> list[dict]:
    """Every template of a consultation, by disposition then in their order."""
    return list(db.query(f"select {COLUMNS} from reply_templates where consultation_id = ? "
                         "order by disposition, position, id", [cid]))


def get(db: Database, cid: int, template_id: int) -> dict | None:
    return first(db, f"select {COLUMNS} from reply_templates where consultation_id = ? and id = ?",
                 [cid, template_id])


def count(db: Database, cid: int) -> int:
    return db.execute("select count(*) from reply_templates where consultation_id = ?", [cid]).fetchone()[0]


def create(db: Database, rows: list[dict], audits: list[dict]) -> list[int]:
    """Insert templates and their audit events (subject filled in here) in one transaction."""
    ids = []
    with writing(db):
        for row, audit in zip(rows, audits, strict=True):
            new_id = insert(db, "reply_templates", row)
            insert(db, "audit", {**audit, "subject": f"reply_template:{new_id}"})
            ids.append(new_id)
    return ids


def update(db: Database, cid: int, template_id: int, values: dict, audit: dict) -> bool:
    with writing(db):
        changed = db.execute(
            "update reply_templates set " + ", ".join(f"{k} = ?" for k in values) +
            " where consultation_id = ? and id = ?", [*values.values(), cid, template_id]).rowcount
        if changed:
            insert(db, "audit", {**audit, "subject": f"reply_template:{template_id}"})
    return bool(changed)


def delete(db: Database, cid: int, template_id: int, audit: dict) -> bool:
    with writing(db):
        changed = db.execute("delete from reply_templates where consultation_id = ? and id = ?",
                             [cid, template_id]).rowcount
        if changed:
            insert(db, "audit", {**audit, "subject": f"reply_template:{template_id}"})
    return bool(changed)
