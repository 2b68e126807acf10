"""The editors' queue: comments filtered, searched, sorted and paged; the dashboard's counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

PER_PAGE = 50


@dataclass
class Filters:
    """What an editor narrowed the queue to (all optional)."""

    section: int | None = None  # a heading's block id: comments on it and on every block under it
    block: int | None = None
    kind: str | None = None
    source: str | None = None
    department: int | None = None
    status: str | None = None
    disposition: str | None = None
    q: str = ""  # words in the comment (full-text, works for Chinese)
    sort: str = "time"  # time | block
    page: int = 1
    grouped: bool = True  # similar comments (revise.grouping) shown once, with the group's size
    channel: str | None = None  # web, letter, hotline, meeting, email, other (revise.ledger)


def _where(cid: int, f: Filters) -> tuple[str, list]:
    clauses, params = ["c.consultation_id = ?"], [cid]
    if f.section is not None:
        clauses.append(
            "c.block_id in (select b.id from blocks b where b.consultation_id = ? and "
            "(b.id = ? or exists (select 1 from json_each(b.outline) where value = ?)))"
        )
        params += [cid, f.section, f.section]
    for column, value in (("block_id", f.block), ("kind", f.kind), ("source", f.source),
                          ("department_id", f.department), ("status", f.status),
                          ("disposition", f.disposition), ("channel", f.channel)):
        if value is not None:
            clauses.append(f"c.{column} = ?")
            params.append(value)
    words = f.q.strip()
    if len(words) >= 3:
        # FTS5 trigram: any substring of three or more characters, no word segmentation needed.
        clauses.append("c.id in (select rowid from comments_fts where comments_fts match ?)")
        params.append('"' + words.replace('"', '""') + '"')
    elif words:
        # Shorter than a trigram (e.g. two Chinese characters): a plain substring scan.
        clauses.append("(c.body like ? escape '\\' or c.suggestion like ? escape '\\')")
        like = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like]
    return " and ".join(clauses), params


def page(db: Database, cid: int, f: Filters) -> tuple[list[dict], int]:
    """One page of the queue and its number of rows (comments, or groups counted once when grouped)."""
    where, params = _where(cid, f)
    if f.grouped:
        where, params, total = _one_row_per_group(db, where, params)
    else:
        total = next(db.query(f"select count(*) as n from comments c where {where}", params))["n"]
    order = "c.id desc" if f.sort == "time" else "coalesce(b.position, -1), c.id"
    offset = (max(1, f.page) - 1) * PER_PAGE
    rows = db.query(
        "select c.id, c.block_id, c.block_rev, c.kind, c.source, c.department_id, c.name, c.body, "
        "c.suggestion, c.quote, c.receipt, c.status, c.created_at, c.disposition, c.disposition_reason, "
        "c.decided_by, c.decided_at, c.group_id, c.channel, " + _GROUP_COUNTS + "b.text as block_text, b.rev as block_current_rev, b.label as block_label, "
        "b.kind as block_kind, b.deleted as block_deleted "
        f"from comments c left join blocks b on b.id = c.block_id where {where} "
        f"order by {order} limit ? offset ?",
        [*params, PER_PAGE, offset],
    )
    return list(rows), total


# Per row shown (50 at most): the size of its group and how many members wait for a decision.
_GROUP_COUNTS = (
    "(select count(*) from comments g where g.consultation_id = c.consultation_id and g.group_id = c.group_id) as group_size, "
    "(select count(*) from comments g where g.consultation_id = c.consultation_id and g.group_id = c.group_id "
    "and g.disposition = 'pending') as group_pending, "
)


def _one_row_per_group(db: Database, where: str, params: list) -> tuple[str, list, int]:
    """The filters narrowed to one row per group (its first member among those matching), and the row count."""
    total = next(db.query("select count(*) - count(c.group_id) + count(distinct c.group_id) as n "
                          f"from comments c where {where}", params))["n"]
    # With filters, a group shows when any member matches (e.g. a new, undecided one); without,
    # its first member is one index lookup.
    matching = f" and g.id in (select c.id from comments c where {where})" if len(params) > 1 else ""
    first = ("(select g.id from comments g where g.consultation_id = c.consultation_id and g.group_id = c.group_id"
             f"{matching} order by g.id limit 1)")
    return f"{where} and (c.group_id is null or c.id = {first})", [*params, *(params if matching else [])], total


def counts_by(db: Database, cid: int, column: str) -> dict[str, int]:
    """Comments of a consultation counted by status, source, disposition or kind."""
    assert column in ("status", "source", "disposition", "kind")
    rows = db.query(
        f"select {column} as k, count(*) as n from comments where consultation_id = ? group by {column}",
        [cid],
    )
    return {r["k"]: r["n"] for r in rows}


def counts_per_block(db: Database, cid: int) -> dict[int | None, int]:
    """All comments (any source and status) per block id; None for the draft as a whole."""
    rows = db.query(
        "select block_id, count(*) as n from comments where consultation_id = ? group by block_id", [cid]
    )
    return {r["block_id"]: r["n"] for r in rows}


def ids_matching(db: Database, cid: int, ids: list[int]) -> list[int]:
    """The subset of comment ids that belong to the consultation (bulk actions check this)."""
    if not ids:
        return []
    marks = ",".join("?" for _ in ids)
    rows = db.query(f"select id from comments where consultation_id = ? and id in ({marks})", [cid, *ids])
    return [r["id"] for r in rows]
