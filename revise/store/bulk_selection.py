"""Which comments a bulk action of the queue changes (issue #13: no silent extra comments).

A ticked row of a group (`g:ID`) stands for every member of the group, and "select all matching
this filter" stands for every comment the queue's Filters match — with, when the queue shows
groups once, every member of their groups. The editor is told the exact number, and how many of
them were pulled in only because they share a group, before anything is applied; the action
then applies to the same selection, evaluated again here with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from revise.store import queue as queue_store

BULK_MAX = 10_000  # comments one bulk action may change (a bigger one: narrow the filter)


@dataclass
class Selection:
    """The comments an action applies to: `ids` in order; `pulled` those only there through a group."""

    ids: list[int]
    pulled: set[int] = field(default_factory=set)
    unchanged: int = 0  # selected but already as the action would leave them (moderation)

    @property
    def members(self) -> int:
        return sum(1 for i in self.ids if i in self.pulled)


def of_ticks(db: Database, cid: int, ids: list[int], group_ids: list[int]) -> Selection:
    """The ticked comments and, for each ticked group row, every member of its group."""
    direct = queue_store.ids_matching(db, cid, ids)
    groups = _groups_of(db, cid, group_ids)
    members = []
    for start in range(0, len(groups), 500):
        chunk = groups[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        members += [r[0] for r in db.execute(
            f"select id from comments where consultation_id = ? and group_id in ({marks}) order by id", [cid, *chunk])]
    chosen = list(dict.fromkeys([*direct, *members]))
    # A group's row is one ticked comment (the member shown); the rest of its group is pulled in.
    firsts = {_first_member(db, cid, g) for g in groups}
    picked = set(direct) | firsts
    return Selection(chosen, {i for i in chosen if i not in picked})


def of_filter(db: Database, cid: int, f: queue_store.Filters) -> Selection:
    """Every comment matching the filters (all pages), plus the members of their groups when grouped."""
    where, params = queue_store._where(db, cid, f)  # the queue's own filters, searched words included
    # Read at most one past the limit: a filter matching a million comments is refused, not loaded.
    matching = [r[0] for r in db.execute(f"select c.id from comments c where {where} order by c.id limit ?",
                                         [*params, BULK_MAX + 1])]
    pulled: list[int] = []
    if f.grouped and len(matching) <= BULK_MAX:
        pulled = [r[0] for r in db.execute(
            f"select g.id from comments g where g.consultation_id = ? and g.group_id in "
            f"(select c.group_id from comments c where {where} and c.group_id is not null) "
            f"and g.id not in (select c.id from comments c where {where}) order by g.id limit ?",
            [cid, *params, *params, BULK_MAX + 1])]
    return Selection(matching + pulled, set(pulled))


def changing_status(db: Database, selection: Selection, status: str) -> Selection:
    """The part of a selection that publishing or withholding would change (others already are)."""
    current = _column(db, selection.ids, "status")
    kept = [i for i in selection.ids if current.get(i) is not None and current[i] != status]
    return Selection(kept, selection.pulled & set(kept), len(selection.ids) - len(kept))


def _column(db: Database, ids: list[int], column: str) -> dict[int, object]:
    assert column in ("status", "disposition")
    found: dict[int, object] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        found.update(db.execute(f"select id, {column} from comments where id in ({marks})", chunk).fetchall())
    return found


def _groups_of(db: Database, cid: int, group_ids: list[int]) -> list[int]:
    """The given groups that hold comments of this consultation."""
    found = []
    for g in dict.fromkeys(group_ids):
        if db.execute("select 1 from comments where consultation_id = ? and group_id = ? limit 1", [cid, g]).fetchone():
            found.append(g)
    return found


def _first_member(db: Database, cid: int, group_id: int) -> int:
    return db.execute("select min(id) from comments where consultation_id = ? and group_id = ?",
                      [cid, group_id]).fetchone()[0]
