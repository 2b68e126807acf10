"""Themes (主题, issue #13): labels editors keep per consultation and put on comments (schema m018).

A comment may carry several themes; deleting a theme takes it off every comment. Every change
is audited in its own transaction: one event per theme change and one per comment tagged or
untagged (like decisions, store.comments.set_disposition).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlite_utils import Database

from revise.store import first, insert, writing
from revise.store.report import _COMMENTS


def _json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False)


def of_consultation(db: Database, cid: int) -> list[dict]:
    """The consultation's themes by name, each with how many comments carry it."""
    return list(db.query(
        "select t.id, t.name, t.created_by, t.created_at, "
        "(select count(*) from comment_themes ct where ct.theme_id = t.id) as comments "
        "from themes t where t.consultation_id = ? order by t.name, t.id", [cid]))


def names(db: Database, cid: int) -> list[dict]:
    """id and name of each theme (for selects; nothing counted)."""
    return list(db.query("select id, name from themes where consultation_id = ? order by name, id", [cid]))


def get(db: Database, cid: int, theme_id: int) -> dict | None:
    return first(db, "select id, name from themes where id = ? and consultation_id = ?", [theme_id, cid])


def by_name(db: Database, cid: int, name: str) -> dict | None:
    return first(db, "select id, name from themes where consultation_id = ? and name = ?", [cid, name])


def create(db: Database, cid: int, name: str, by: str, at: str, audit: dict) -> int:
    with writing(db):
        theme_id = insert(db, "themes", {"consultation_id": cid, "name": name, "created_by": by, "created_at": at})
        insert(db, "audit", dict(audit, subject=f"theme:{theme_id}", after=_json({"name": name})))
    return theme_id


def rename(db: Database, cid: int, theme_id: int, name: str, audit: dict) -> bool:
    with writing(db):
        row = db.execute("select name from themes where id = ? and consultation_id = ?", [theme_id, cid]).fetchone()
        if row is None or row[0] == name:
            return False
        db.execute("update themes set name = ? where id = ?", [name, theme_id])
        insert(db, "audit", dict(audit, subject=f"theme:{theme_id}", before=_json({"name": row[0]}),
                                 after=_json({"name": name})))
    return True


def delete(db: Database, cid: int, theme_id: int, audit: dict) -> int | None:
    """Delete a theme and take it off its comments; returns how many comments carried it."""
    with writing(db):
        row = db.execute("select name from themes where id = ? and consultation_id = ?", [theme_id, cid]).fetchone()
        if row is None:
            return None
        n = db.execute("delete from comment_themes where theme_id = ?", [theme_id]).rowcount
        db.execute("delete from themes where id = ?", [theme_id])
        insert(db, "audit", dict(audit, subject=f"theme:{theme_id}", before=_json({"name": row[0], "comments": n})))
    return n


def of_comment(db: Database, comment_id: int) -> list[dict]:
    return list(db.query("select t.id, t.name from comment_themes ct join themes t on t.id = ct.theme_id "
                         "where ct.comment_id = ? order by t.name, t.id", [comment_id]))


def tag(db: Database, cid: int, theme_id: int, comment_ids: list[int], audit: dict, on: bool = True) -> int:
    """Put a theme on comments (`on=False`: take it off); returns how many changed. Comments of
    another consultation are left alone. One audit event per comment changed."""
    with writing(db):
        theme = db.execute("select name from themes where id = ? and consultation_id = ?", [theme_id, cid]).fetchone()
        if theme is None:
            return 0
        changed = 0
        for comment_id in comment_ids:
            if on:
                n = db.execute("insert or ignore into comment_themes (theme_id, comment_id) select ?, id from comments "
                               "where id = ? and consultation_id = ?", [theme_id, comment_id, cid]).rowcount
            else:
                n = db.execute("delete from comment_themes where theme_id = ? and comment_id = ?",
                               [theme_id, comment_id]).rowcount
            if n:
                insert(db, "audit", dict(audit, subject=f"comment:{comment_id}",
                                         **({"after": _json({"theme": theme[0]})} if on
                                            else {"before": _json({"theme": theme[0]})})))
                changed += 1
    return changed


# --- the report grouped by theme ------------------------------------------------------------

def each_comment_by_theme(db: Database, cid: int) -> Iterator[dict]:
    """The report's rows theme by theme (`theme_id`, `theme_name` added; None: no theme)."""
    for theme_id, name in report_groups(db, cid):
        for row in each_comment(db, cid, theme_id):
            row["theme_id"], row["theme_name"] = theme_id, name
            yield row


def report_groups(db: Database, cid: int) -> list[tuple[int | None, str | None]]:
    """(theme id, name) of every theme with a comment, by name, then (None, None): no theme."""
    rows = db.execute("select t.id, t.name from themes t where t.consultation_id = ? and exists "
                      "(select 1 from comment_themes ct where ct.theme_id = t.id) order by t.name, t.id",
                      [cid]).fetchall()
    return [*(tuple(r) for r in rows), (None, None)]


def each_comment(db: Database, cid: int, theme_id: int | None) -> Iterator[dict]:
    """The report's rows (store.report's columns) of one theme's comments (None: the comments
    without a theme), in the draft's order. Without a theme they are read block by block, like
    store.report.each_comment, so most of a million comments are never sorted at once."""
    if theme_id is None:
        blocks = [None] + [r[0] for r in db.execute(
            "select id from blocks where consultation_id = ? order by position", [cid]).fetchall()]
        queries = ((" and c.block_id is ? and not exists (select 1 from comment_themes ct "
                    "where ct.comment_id = c.id) order by c.id", [block_id]) for block_id in blocks)
    else:
        queries = iter([(" and c.id in (select comment_id from comment_themes where theme_id = ?) "
                         "order by coalesce(b.position, -1), c.id", [theme_id])])
    for where, params in queries:
        for row in db.query(_COMMENTS + where, [cid, *params]):
            row["block_outline"] = json.loads(row["block_outline"]) if row["block_outline"] else []
            row["block_cells"] = json.loads(row["block_cells"]) if row["block_cells"] else []
            yield row


def fold_candidates(db: Database, cid: int, public_only: bool) -> Iterator[tuple]:
    """store.report.fold_candidates with the theme first (None: no theme), once per theme."""
    published = " and c.status = 'published'" if public_only else ""
    yield from db.execute(
        "select ct.theme_id, c.id, c.group_id, c.block_id, c.kind, c.disposition, c.disposition_reason, "
        "c.disposition_revision_id from comments c left join comment_themes ct on ct.comment_id = c.id "
        f"where c.consultation_id = ? and c.group_id is not null and c.source = 'public'{published}", [cid])


def listed_rows(db: Database, cid: int, public_only: bool) -> int:
    """How many (theme, comment) pairs plus untagged comments the themed report lists."""
    published = " and c.status = 'published'" if public_only else ""
    return db.execute(
        "select (select count(*) from comment_themes ct join comments c on c.id = ct.comment_id "
        f"where c.consultation_id = ?{published}) + (select count(*) from comments c where c.consultation_id = ?"
        f"{published} and not exists (select 1 from comment_themes ct where ct.comment_id = c.id))",
        [cid, cid]).fetchone()[0]
