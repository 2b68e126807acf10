"""The editors' queue: comments filtered, searched, sorted and paged; the dashboard's counts.

Issue #11: at 1,000,000 comments no view may cost a scan of the consultation's comments.
Pages are keyset pages (`after`/`before` a comment id, never OFFSET); a page's rows are picked
by ids first and only those 51 are joined and decorated; the count shown is capped
(COUNT_CAP, shown as "1,000+"); a word shorter than a trigram is searched newest first in
windows of SHORT_SCAN comments with a cursor for the next window; the overview reads counts
kept by triggers (schema m011_editor_counts).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

PER_PAGE = 50
COUNT_CAP = 1_000  # counted up to here, then shown as "1,000+"
SHORT_SCAN = 20_000  # comments one request reads when searching a 1-2 character word


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
    page: int = 1  # old-style page number: turned into an `after` cursor (page_cursor)
    grouped: bool = True  # similar comments (revise.grouping) shown once, with the group's size
    channel: str | None = None  # web, letter, hotline, meeting, email, other (revise.ledger)
    after: int | None = None  # the page after this comment (in the chosen order)
    before: int | None = None  # the page before this comment
    round: int | None = None  # a round's number (issue #12); None: the current round, 0: every round
    assignee: int | None = None  # an account's comments (issue #13, "my queue"); 0: nobody's
    theme: int | None = None  # comments tagged with this theme (issue #13)

    def short_search(self) -> bool:
        """A word too short for the trigram index, searched newest first in bounded windows."""
        return 0 < len(self.q.strip()) < 3 and self.sort == "time"


@dataclass
class QueuePage:
    """One page of the queue and what its links need."""

    rows: list[dict]
    total: int | None  # rows matching (groups once), counted up to COUNT_CAP; None: not counted
    capped: bool  # more than COUNT_CAP match
    newer: int | None  # `before` cursor of the page before (None: this is the first page)
    older: int | None  # `after` cursor of the page after (None: this is the last page)
    searched_to: int | None = None  # short-word search: comments older than this not searched yet


def _like(words: str) -> str:
    return "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _section_blocks(db: Database, cid: int, section: int) -> list[int]:
    """A heading and every block under it (the outline holds the ids of the headings above).

    Remembered on the connection until a block is added (an outline is written only when its block
    is inserted): reading every block's outline cost 2.7 ms, three times per step of the triage view."""
    stamp = tuple(db.execute("select count(*), max(id) from blocks where consultation_id = ?", [cid]).fetchone())
    memo = db.__dict__.setdefault("_section_blocks", {})
    if memo.get((cid, section), (None,))[0] == stamp:
        return memo[(cid, section)][1]
    rows = db.execute(
        "select b.id from blocks b where b.consultation_id = ? and "
        "(b.id = ? or exists (select 1 from json_each(b.outline) where value = ?))",
        [cid, section, section],
    ).fetchall()
    memo[(cid, section)] = (stamp, [r[0] for r in rows])
    return memo[(cid, section)][1]


def _where(db: Database, cid: int, f: Filters, a: str = "c", *, words: bool = True,
           by_block: bool = False, unordered: bool = False) -> tuple[str, list]:
    """The filters as SQL on comments aliased `a` (`words=False`: without the search words;
    `by_block`: read one block at a time, so the assignee's index must not be chosen;
    `unordered`: for a count, where the rows' order does not matter)."""
    clauses, params = [f"{a}.consultation_id = ?"], [cid]
    # A status within some blocks is one range per block of the (consultation, block, status)
    # index; through the round's index every comment of those blocks was read to check its status
    # (a section's 128,000 for its 22,000 pending at 1,000,000 comments).
    status_first = unordered and f.status is not None and (f.section is not None or f.block is not None)
    if f.round != 0:  # one round (issue #12): the current one unless a number is given
        rid = round_id(db, cid, f.round)
        if rid is not None or f.round is not None:
            clauses.append(f"+{a}.round_id = ?" if status_first else f"{a}.round_id = ?")
            params.append(rid if rid is not None else -1)
    if f.section is not None:
        ids = _section_blocks(db, cid, f.section) or [-1]
        clauses.append(f"{a}.block_id in ({','.join('?' for _ in ids)})")
        params += ids
    for column, value in (("block_id", f.block), ("kind", f.kind), ("source", f.source),
                          ("department_id", f.department), ("status", f.status),
                          ("disposition", f.disposition), ("channel", f.channel)):
        if value is not None:
            clauses.append(f"{a}.{column} = ?")
            params.append(value)
    if f.assignee is not None:  # one range of the index on (consultation_id, assigned_to, id), m018
        # ... but not for a group's first member (alias g), which must be looked up by its group:
        # through this index it read every comment of the editor per row shown.
        column = f"+{a}.assigned_to" if a == "g" or by_block else f"{a}.assigned_to"
        clauses.append(f"{column} = ?" if f.assignee else f"{column} is null")
        params += [f.assignee] if f.assignee else []
    if f.theme is not None:
        clauses.append(f"exists (select 1 from comment_themes t where t.theme_id = ? and t.comment_id = {a}.id)"
                       if a == "g" else f"{a}.id in (select comment_id from comment_themes where theme_id = ?)")
        params.append(f.theme)
    q = f.q.strip()
    if words and len(q) >= 3:
        # FTS5 trigram: any substring of three or more characters, no word segmentation needed.
        clauses.append(f"{a}.id in (select rowid from comments_fts where comments_fts match ?)")
        params.append('"' + q.replace('"', '""') + '"')
    elif words and q:
        # Shorter than a trigram (e.g. two Chinese characters): a substring test.
        clauses.append(f"({a}.body like ? escape '\\' or {a}.suggestion like ? escape '\\')")
        params += [_like(q), _like(q)]
    return " and ".join(clauses), params


def round_id(db: Database, cid: int, number: int | None) -> int | None:
    """The id of a round by its number (None: the current round's; None when there is none)."""
    if number is None:
        row = db.execute("select round_id from consultations where id = ?", [cid]).fetchone()
    else:
        row = db.execute("select id from rounds where consultation_id = ? and number = ?", [cid, number]).fetchone()
    return row[0] if row else None


def _group_clause(db: Database, cid: int, f: Filters, a: str = "c") -> tuple[str, list]:
    """Grouped: a group shows once, as its first member among those matching the filters."""
    if not f.grouped:
        return "", []
    inner, params = _where(db, cid, f, "g")
    first = (f"(select g.id from comments g where {inner} and g.group_id = {a}.group_id "
             "order by g.id limit 1)")
    return f" and ({a}.group_id is null or {a}.id = {first})", params


_ORDER = {  # (parts of the sort key, ascending)
    "time": (("c.id",), False),
    "block": (("coalesce(b.position, -1)", "c.id"), True),
}


def _key(db: Database, f: Filters, comment_id: int) -> list:
    """The sort key of a cursor's comment."""
    if f.sort == "time":
        return [comment_id]
    row = db.execute("select coalesce(b.position, -1) from comments c left join blocks b on b.id = c.block_id "
                     "where c.id = ?", [comment_id]).fetchone()
    return [row[0] if row else -1, comment_id]


def _ids(db: Database, cid: int, f: Filters, cursor: tuple[str, int] | None, limit: int,
         offset: int = 0) -> list[int]:
    """The ids of the rows in order after (or before) a cursor: the cheap half of a page."""
    if f.sort == "block":
        return _ids_by_block(db, cid, f, cursor, limit, offset)
    where, params = _where(db, cid, f)
    group, group_params = _group_clause(db, cid, f)
    parts, ascending = _ORDER[f.sort]
    key = ", ".join(parts)
    join = "left join blocks b on b.id = c.block_id " if f.sort == "block" else ""
    keyset, keyset_params = "", []
    forward = True
    if cursor:
        direction, comment_id = cursor
        forward = direction == "after"
        later = ascending == forward  # rows with a greater key come next
        keyset = f" and ({key}) {'>' if later else '<'} ({','.join('?' for _ in _key(db, f, comment_id))})"
        keyset_params = _key(db, f, comment_id)
    descending = not ascending if forward else ascending
    order = ", ".join(f"{part} {'desc' if descending else 'asc'}" for part in parts)
    rows = db.execute(
        f"select c.id from comments c {join}where {where}{group}{keyset} order by {order} limit ? offset ?",
        [*params, *group_params, *keyset_params, limit, offset],
    ).fetchall()
    ids = [r[0] for r in rows]
    return ids if forward else ids[::-1]


def _ids_by_block(db: Database, cid: int, f: Filters, cursor: tuple[str, int] | None, limit: int,
                  offset: int = 0) -> list[int]:
    """In the draft's order: block by block (one index range each) from the cursor's block on,
    until the page is full. Sorting the matching comments by their block's position instead
    read and sorted every match (0.3 s for a section's pending comments at 1,000,000)."""
    where, params = _where(db, cid, f, by_block=True)
    group, group_params = _group_clause(db, cid, f)
    order = [(None, -1)] + [tuple(r) for r in db.execute(
        "select id, position from blocks where consultation_id = ? order by position", [cid]).fetchall()]
    if f.block is not None:
        order = [b for b in order if b[0] == f.block]
    elif f.section is not None:
        under = set(_section_blocks(db, cid, f.section))
        order = [b for b in order if b[0] in under]
    forward = not cursor or cursor[0] == "after"
    start_pos, start_id = _key(db, f, cursor[1]) if cursor else (None, None)
    if not forward:
        order = order[::-1]
    found: list[int] = []
    want = limit + offset
    for block_id, position in order:
        same = start_pos is not None and position == start_pos
        if start_pos is not None and not same and (position < start_pos) == forward:
            continue
        keyset = (f" and c.id {'>' if forward else '<'} ?", [start_id]) if same else ("", [])
        rows = db.execute(
            f"select c.id from comments c where {where} and c.block_id is ?{group}{keyset[0]} "
            f"order by c.id {'asc' if forward else 'desc'} limit ?",
            [*params, block_id, *group_params, *keyset[1], want - len(found)]).fetchall()
        found += [r[0] for r in rows]
        if len(found) >= want:
            break
    found = found[offset:offset + limit]
    return found if forward else found[::-1]


def count(db: Database, cid: int, f: Filters, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """Rows matching (a group once), counted up to `cap`: (n, more than cap)."""
    where, params = _where(db, cid, f, unordered=True)
    group, group_params = _group_clause(db, cid, f)
    n = db.execute(f"select count(*) from (select 1 from comments c where {where}{group} limit ?)",
                   [*params, *group_params, cap + 1]).fetchone()[0]
    return min(n, cap), n > cap


def page_cursor(db: Database, cid: int, f: Filters) -> int | None:
    """The `after` cursor that starts old-style page `f.page` (None: page 1 or past the end)."""
    if f.page <= 1:
        return None
    found = _ids(db, cid, f, None, 1, (f.page - 1) * PER_PAGE - 1)
    return found[0] if found else None


def view(db: Database, cid: int, f: Filters) -> QueuePage:
    """One page of the queue: its rows, a capped count and the cursors of its neighbours."""
    cursor = ("after", f.after) if f.after else ("before", f.before) if f.before else None
    if f.short_search():
        return _short_search(db, cid, f)
    ids = _ids(db, cid, f, cursor, PER_PAGE + 1)
    more = len(ids) > PER_PAGE
    if cursor and cursor[0] == "before":
        ids = ids[-PER_PAGE:] if more else ids
        newer, older = (ids[0] if more and ids else None), (ids[-1] if ids else None)
        if not more:  # back at the start: the first page as it is now
            return view(db, cid, Filters(**{**f.__dict__, "before": None, "after": None}))
    else:
        ids = ids[:PER_PAGE]
        newer = ids[0] if cursor and ids else None
        older = ids[-1] if more else None
    total, capped = count(db, cid, f)
    return QueuePage(rows(db, cid, ids, f.grouped), total, capped, newer, older)


def _short_search(db: Database, cid: int, f: Filters) -> QueuePage:
    """A 1-2 character word, newest first: read SHORT_SCAN comments (after the cursor), keep those
    holding the word. The trigram index cannot find words this short and a LIKE over every
    comment took 1.4 s at 1,000,000; a window costs the same however many comments there are.
    The same comments as one LIKE over all, page by page (tests/test_queue_pages.py)."""
    where, params = _where(db, cid, f, words=False)
    keyset, keyset_params = (" and c.id < ?", [f.after]) if f.after else ("", [])
    # The window's oldest comment first (an index range), then the window read newest first,
    # stopping at the page's 51st hit: a common word costs a few hundred rows, not the window.
    read, oldest = db.execute(
        f"select count(*), min(id) from (select c.id from comments c where {where}{keyset} "
        "order by c.id desc limit ?)", [*params, *keyset_params, SHORT_SCAN]).fetchone()
    if not read:
        return QueuePage([], None, False, None, None)
    group, group_params = _group_clause(db, cid, f)
    like = _like(f.q.strip())
    hits = [r[0] for r in db.execute(
        f"select c.id from comments c where {where}{keyset} and c.id >= ? "
        f"and (c.body like ? escape '\\' or c.suggestion like ? escape '\\'){group} order by c.id desc limit ?",
        [*params, *keyset_params, oldest, like, like, *group_params, PER_PAGE + 1]).fetchall()]
    newer = None  # a search is walked forwards; the browser's back button goes back
    if len(hits) > PER_PAGE:
        hits = hits[:PER_PAGE]
        return QueuePage(rows(db, cid, hits, f.grouped), None, False, newer, hits[-1])
    searched_to = oldest if read == SHORT_SCAN else None
    return QueuePage(rows(db, cid, hits, f.grouped), None, False, newer, searched_to, searched_to)


def rows(db: Database, cid: int, ids: list[int], grouped: bool = True) -> list[dict]:
    """The rows shown for these comment ids, in the given order, with block and group figures."""
    if not ids:
        return []
    marks = ",".join("?" for _ in ids)
    found = db.query(
        "select c.id, c.block_id, c.block_rev, c.kind, c.source, c.department_id, c.name, c.body, "
        "c.suggestion, c.quote, c.receipt, c.status, c.created_at, c.disposition, c.disposition_reason, "
        "c.decided_by, c.decided_at, c.group_id, c.channel, c.round_id, " + _GROUP_COUNTS + "b.text as block_text, b.rev as block_current_rev, b.label as block_label, "
        "b.kind as block_kind, b.deleted as block_deleted "
        f"from comments c left join blocks b on b.id = c.block_id where c.consultation_id = ? and c.id in ({marks})",
        [cid, *ids],
    )
    by_id = {r["id"]: r for r in found}
    return [by_id[i] for i in ids if i in by_id]


def page(db: Database, cid: int, f: Filters) -> tuple[list[dict], int]:
    """One page of the queue (old-style page number) and its row count, capped (benches, scripts)."""
    start = page_cursor(db, cid, f)
    if f.page > 1 and start is None:
        return [], count(db, cid, f)[0]
    shown = view(db, cid, Filters(**{**f.__dict__, "after": start or f.after}))
    return shown.rows, shown.total if shown.total is not None else len(shown.rows)


# Per row shown (50 at most): the size of its group and how many members wait for a decision.
_GROUP_COUNTS = (
    "(select count(*) from comments g where g.consultation_id = c.consultation_id and g.group_id = c.group_id) as group_size, "
    "(select count(*) from comments g where g.consultation_id = c.consultation_id and g.group_id = c.group_id "
    "and g.disposition = 'pending') as group_pending, "
)


def counts_by(db: Database, cid: int, column: str) -> dict[str, int]:
    """Comments of a consultation counted by status, source or disposition (kept by triggers, m011)."""
    assert column in ("status", "source", "disposition", "block", "department", "assignee", "assignee_decided",
                      "block_decided", "day")
    rows = db.execute("select key, n from editor_counts where consultation_id = ? and dim = ? and n != 0",
                      [cid, column]).fetchall()
    return {key: n for key, n in rows}


def counts_per_block(db: Database, cid: int) -> dict[int | None, int]:
    """All comments (any source and status) per block id; None for the draft as a whole."""
    return {(int(k) if k else None): n for k, n in counts_by(db, cid, "block").items()}


def headings(db: Database, cid: int) -> list[dict]:
    """The headings for the queue's section filter, in the draft's order (nothing else is read)."""
    return list(db.query("select id, text, level from blocks where consultation_id = ? and kind = 'heading' "
                         "and deleted = 0 order by position", [cid]))


def section_counts(db: Database, cid: int, dim: str = "block") -> dict[int, int]:
    """Comments per heading: on the heading itself and on every block under it (blocks not
    deleted), from the kept per-block counts; the same sums as revise.reading.section_counts.
    `dim="block_decided"`: the decided ones only (m018)."""
    assert dim in ("block", "block_decided")
    rows = db.execute(
        "with counted as (select b.id, b.kind, b.outline, e.n from editor_counts e "
        "join blocks b on b.id = cast(e.key as integer) and b.consultation_id = e.consultation_id "
        "where e.consultation_id = ? and e.dim = ? and e.key != '' and e.n != 0 and b.deleted = 0) "
        "select j.value, sum(c.n) from counted c, json_each(c.outline) j group by j.value "
        "union all select c.id, c.n from counted c where c.kind = 'heading'", [cid, dim]).fetchall()
    totals: dict[int, int] = {}
    for heading, n in rows:
        totals[heading] = totals.get(heading, 0) + n
    return totals


def departments(db: Database, cid: int) -> list[dict]:
    """The roster's names for the queue's filter (no comment counted)."""
    return list(db.query("select id, name from departments where consultation_id = ? order by name", [cid]))


def ids_matching(db: Database, cid: int, ids: list[int]) -> list[int]:
    """The subset of comment ids that belong to the consultation (bulk actions check this)."""
    if not ids:
        return []
    marks = ",".join("?" for _ in ids)
    rows = db.query(f"select id from comments where consultation_id = ? and id in ({marks})", [cid, *ids])
    return [r["id"] for r in rows]
