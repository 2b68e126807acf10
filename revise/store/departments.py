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


# A department's comments in the consultation's current round (issue #12: a new round starts a new
# reply; NULL when the consultation has no rounds).
_IN_ROUND = "c.department_id = d.id and c.round_id is (select k.round_id from consultations k where k.id = d.consultation_id)"


def roster(db: Database, cid: int) -> list[dict]:
    """Every department with its number of comments (this round) and when it last commented, by name."""
    return list(
        db.query(
            # Per department an index count and one index seek for its latest comment (ids follow
            # time): a join with max(created_at) read every department comment (1 s at 1,000,000).
            "select d.id, d.name, d.created_at, d.no_comment_at, "
            f"(select count(*) from comments c where {_IN_ROUND}) as comments, "
            f"(select c.created_at from comments c where {_IN_ROUND} order by c.id desc limit 1) "
            "as last_comment_at from departments d where d.consultation_id = ? order by d.name",
            [cid],
        )
    )


def reply(db: Database, department_id: int) -> dict:
    """One department's row of the roster (the same columns as roster())."""
    return first(db,
                 "select d.id, d.name, d.created_at, d.no_comment_at, "
                 f"(select count(*) from comments c where {_IN_ROUND}) as comments, "
                 f"(select c.created_at from comments c where {_IN_ROUND} order by c.id desc limit 1) "
                 "as last_comment_at from departments d where d.id = ?", [department_id])


OWN_COLUMNS = ("id, consultation_id, block_id, block_rev, kind, body, suggestion, quote, quote_start, receipt, "
               "status, created_at, disposition, officer_name, officer_phone, round_id, version_id")


def own_comments(db: Database, department_id: int) -> list[dict]:
    """A department's comments in the current round, newest first, with its 经办人 and 联系电话 (its own page only)."""
    return list(db.query(f"select {OWN_COLUMNS} from comments c where c.department_id = ? and c.round_id is "
                         "(select k.round_id from consultations k where k.id = c.consultation_id) order by c.id desc",
                         [department_id]))


def own_comment(db: Database, department_id: int, comment_id: int) -> dict | None:
    """One of the department's own comments (any round), or None when it is not the department's."""
    return first(db, f"select {OWN_COLUMNS} from comments where id = ? and department_id = ?",
                 [comment_id, department_id])


def correct_comment(db: Database, comment_id: int, values: dict, audit: dict) -> None:
    """Store a department's corrected comment with its audit event (before and after), in one transaction."""
    with writing(db):
        db.execute(f"update comments set {', '.join(f'{k} = ?' for k in values)} where id = ?",
                   [*values.values(), comment_id])
        db.table("audit").insert(dict(audit, subject=f"comment:{comment_id}"))


def _dependents(db: Database) -> list[tuple[str, str]]:
    """Every (table, column) whose foreign key points at comments: what hangs off a comment
    (further blocks, attachments, grouping signatures and queue, themes …), read from the schema
    so a table added later is included."""
    found = []
    for (table,) in db.execute("select name from sqlite_master where type = 'table'").fetchall():
        for key in db.execute(f"pragma foreign_key_list('{table}')").fetchall():
            if key[2] == "comments":
                found.append((table, key[3]))
    return found


def _delete_comments(db: Database, comment_ids: list[int]) -> None:
    marks = ", ".join("?" * len(comment_ids))
    for table, column in _dependents(db):
        db.execute(f'delete from "{table}" where "{column}" in ({marks})', comment_ids)
    db.execute(f"delete from comments where id in ({marks})", comment_ids)


def withdraw_comments(db: Database, department_id: int, comment_ids: list[int], audits: list[dict]) -> int:
    """Withdraw (delete) undecided comments of the department, each with its audit event keeping
    what it said; how many went. Decided ones stay (the caller refuses before)."""
    with writing(db):
        ids = [r[0] for r in db.execute(
            f"select id from comments where department_id = ? and disposition = 'pending' and id in "
            f"({', '.join('?' * len(comment_ids))})", [department_id, *comment_ids]).fetchall()] if comment_ids else []
        if ids:
            _delete_comments(db, ids)
        for audit in audits:
            db.table("audit").insert(audit)
    return len(ids)


def file_no_comment(db: Database, department_id: int, at: str, audit: dict,
                    withdraw: tuple[list[int], list[dict]] = ((), ())) -> bool:
    """Record 无修改意见 for the whole draft, after withdrawing the comments in `withdraw` (ids and
    their audit events), all in one transaction; False if it was already filed and nothing was
    withdrawn (filed first, then comments sent: those are withdrawn and the first date stays)."""
    with writing(db):
        row = db.table("departments").get(department_id)
        ids, audits = withdraw
        if ids:
            _delete_comments(db, list(ids))
            for event in audits:
                db.table("audit").insert(event)
        if row["no_comment_at"]:
            return bool(ids)
        db.table("departments").update(department_id, {"no_comment_at": at})
        db.table("audit").insert(dict(audit, subject=f"department:{department_id}"))
    return True
