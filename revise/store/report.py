"""The rows behind the 意见采纳情况表: every comment with its block, sender and the change made."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlite_utils import Database

# Listed column by column on purpose: comments.contact is private and is never selected here,
# so no export built from these rows can leak it. A department's 经办人 and 联系电话
# (officer_name, officer_phone) are selected for the editors' report only (revise.report).
_COMMENTS = """
select c.id, c.block_id, c.kind, c.source, c.name, c.body, c.suggestion, c.status, c.group_id, c.channel,
       c.disposition, c.disposition_reason, c.disposition_revision_id,
       d.name as department_name,
       b.kind as block_kind, b.position as block_position, b.outline as block_outline,
       coalesce(b.original_text, b.text) as block_text,
       coalesce(b.original_cells, b.cells) as block_cells,
       case when c.block_rev > 0 then
            (select w.text from revisions w where w.block_id = c.block_id and w.number = c.block_rev)
            else coalesce(b.original_text, b.text) end as written_text,
       c.officer_name, c.officer_phone,
       r.action as revision_action, r.text as revision_text,
       case when r.number > 1 then
            (select p.text from revisions p where p.block_id = r.block_id and p.number = r.number - 1)
            else rb.original_text end as revision_previous_text
from comments c
left join blocks b on b.id = c.block_id
left join departments d on d.id = c.department_id
left join revisions r on r.id = c.disposition_revision_id and r.consultation_id = c.consultation_id
left join blocks rb on rb.id = r.block_id
where c.consultation_id = ?
"""


def comments(db: Database, cid: int) -> list[dict]:
    """Every comment of a consultation (any source, status and disposition) in the draft's order.

    Remarks on the whole draft come first, then comments by block position, then by id; the
    block's text is the one put out for comment (revision 0), and the revision decided with
    the comment comes with the text before it.
    """
    return list(each_comment(db, cid))


def each_comment(db: Database, cid: int, round_id: int | None = None) -> Iterator[dict]:
    """The same rows in the same order, one block at a time: a million comments are never held
    (or sorted) at once (issue #11); each block's comments come from one index range."""
    blocks = [None] + [r[0] for r in db.execute(
        "select id from blocks where consultation_id = ? order by position", [cid]).fetchall()]
    for block_id in blocks:
        in_round = " and c.round_id = ?" if round_id else ""  # one round of consultation (issue #12)
        for row in db.query(_COMMENTS + f" and c.block_id is ?{in_round} order by c.id",
                            [cid, block_id, *([round_id] if round_id else [])]):
            row["block_outline"] = json.loads(row["block_outline"]) if row["block_outline"] else []
            row["block_cells"] = json.loads(row["block_cells"]) if row["block_cells"] else []
            yield row


def fold_candidates(db: Database, cid: int, public_only: bool, round_id: int | None = None) -> Iterator[tuple]:
    """What revise.report folds on, for the public's grouped comments only (a small share):
    (id, group_id, block_id, kind, disposition, disposition_reason, disposition_revision_id)."""
    published = " and status = 'published'" if public_only else ""
    published += f" and round_id = {int(round_id)}" if round_id else ""
    yield from db.execute(
        "select id, group_id, block_id, kind, disposition, disposition_reason, disposition_revision_id "
        f"from comments where consultation_id = ? and group_id is not null and source = 'public'{published}",
        [cid])


def tally(db: Database, cid: int, round_id: int | None = None) -> dict[str, dict[str, int]]:
    """The consultation's comments counted by disposition, source and status (schema m011's
    counts, kept by triggers): {"disposition": {"pending": n, ...}, "source": ..., "status": ...}."""
    found: dict[str, dict[str, int]] = {"disposition": {}, "source": {}, "status": {}}
    if round_id:  # one round (issue #12): counted from that round's comments (index on round_id)
        for dim in found:
            for key, n in db.execute(f"select {dim}, count(*) from comments where round_id = ? group by 1", [round_id]):
                found[dim][key] = n
        return found
    for dim, key, n in db.execute("select dim, key, n from editor_counts where consultation_id = ? and n != 0 "
                                  "and dim in ('disposition', 'source', 'status')", [cid]):
        found[dim][key] = n
    return found


def headings(db: Database, cid: int) -> dict[int, str]:
    """The text of every heading as put out for comment (deleted ones too), by block id."""
    rows = db.query(
        "select id, coalesce(original_text, text) as text from blocks "
        "where consultation_id = ? and kind = 'heading'",
        [cid],
    )
    return {r["id"]: r["text"] for r in rows}


def no_change_departments(db: Database, cid: int, round_id: int | None = None) -> list[str]:
    """Departments that replied 无修改意见 and sent no comment, in the order they replied.

    A department that also sent comments counts as having replied with comments, as on the
    roster (revise.departments.status).
    """
    if round_id and not db.execute("select 1 from consultations where id = ? and round_id = ?",
                                    [cid, round_id]).fetchone():
        # A round that has ended keeps its replies in round_departments (issue #12).
        return [r[0] for r in db.execute(
            "select d.name from round_departments rd join departments d on d.id = rd.department_id "
            "where rd.round_id = ? and rd.no_comment_at is not null and rd.left_out = 0 and not exists "
            "(select 1 from comments c where c.department_id = d.id and c.round_id = rd.round_id) "
            "order by rd.no_comment_at, d.id", [round_id])]
    rows = db.query(
        "select d.name from departments d where d.consultation_id = ? and d.no_comment_at is not null "
        "and not exists (select 1 from comments c where c.department_id = d.id) "
        "order by d.no_comment_at, d.id",
        [cid],
    )
    return [r["name"] for r in rows]
