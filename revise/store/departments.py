"""Departments on a consultation's roster, found by the hash of their private link's token."""

from __future__ import annotations

from sqlite_utils import Database

from revise.store import first, writing


def add(db: Database, cid: int, name: str, token_hash: str, at: str, audit: dict) -> int:
    """Put a department on the roster; return its id."""
    with writing(db):
        table = db.table("departments")
        table.insert({"consultation_id": cid, "name": name, "token_hash": token_hash, "created_at": at})
        department_id = table.last_pk
        db.table("audit").insert(dict(audit, subject=f"department:{department_id}"))
    return department_id


def add_all(db: Database, cid: int, entries: list[tuple[str, str, dict]], at: str) -> list[int]:
    """Put several departments (name, token hash, audit event) on the roster in one transaction."""
    ids = []
    with writing(db):
        table = db.table("departments")
        for name, token_hash, audit in entries:
            table.insert({"consultation_id": cid, "name": name, "token_hash": token_hash, "created_at": at})
            ids.append(table.last_pk)
            db.table("audit").insert(dict(audit, subject=f"department:{table.last_pk}"))
    return ids


def by_token_hash(db: Database, token_hash: str) -> dict | None:
    return first(db, "select * from departments where token_hash = ?", [token_hash])


def by_name(db: Database, cid: int, name: str) -> dict | None:
    rows = list(db.table("departments").rows_where("consultation_id = ? and name = ?", [cid, name], limit=1))
    return rows[0] if rows else None


def replace_token(db: Database, department_id: int, token_hash: str, audit: dict) -> None:
    """Give a department a new private link (the old one stops working)."""
    with writing(db):
        db.table("departments").update(department_id, {"token_hash": token_hash})
        db.table("audit").insert(dict(audit, subject=f"department:{department_id}"))


def roster(db: Database, cid: int) -> list[dict]:
    """Every department with its number of comments and when it last commented, by name."""
    return list(
        db.query(
            # Per department an index count and one index seek for its latest comment (ids follow
            # time): a join with max(created_at) read every department comment (1 s at 1,000,000).
            "select d.id, d.name, d.created_at, d.no_comment_at, "
            "(select count(*) from comments c where c.department_id = d.id) as comments, "
            "(select c.created_at from comments c where c.department_id = d.id order by c.id desc limit 1) "
            "as last_comment_at from departments d where d.consultation_id = ? order by d.name",
            [cid],
        )
    )


def file_no_comment(db: Database, department_id: int, at: str, audit: dict) -> bool:
    """Record 无修改意见 for the whole draft; False if it was already filed."""
    with writing(db):
        row = db.table("departments").get(department_id)
        if row["no_comment_at"]:
            return False
        db.table("departments").update(department_id, {"no_comment_at": at})
        db.table("audit").insert(dict(audit, subject=f"department:{department_id}"))
    return True
