"""Published-comment counts per block and the public page's versions, kept by SQLite triggers.

Issue #11: the public page counted published comments with a GROUP BY over every comment of
the consultation on each view (1.8 s at 1,000,000 comments). The counts now live in
`published_counts` (one row per block; block 0 is the draft as a whole), and
`public_versions` holds serials per consultation: `blocks` (a change to a block the public
reads), `comments` (any change to the set of published public comments), and since m022
`settings` (any change to the consultation's row) and `drafting` (any change to one of its
blocks, the editors' revisions included). Triggers on `comments`, `blocks` and
`consultations` (migrations m010, m022) keep them in the same transaction as the change,
whichever path makes it: a web comment, the ledger, moderation, the bulk loader, a revision, a
script. A view reads ~1,000 small rows when the page is rebuilt and four integers otherwise.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlite_utils import Database

from revise.store import first, kept_under

DRAFT = 0  # the block id standing for "the draft as a whole" (comments.block_id IS NULL)


def published_counts(db: Database, cid: int) -> dict[int | None, int]:
    """Number of published public comments per block id (None: the whole draft); zero counts left out."""
    rows = db.execute("select block_id, n from published_counts where consultation_id = ? and n > 0", [cid])
    return {(block_id or None): n for block_id, n in rows}


def versions(db: Database, cid: int) -> tuple[int, int]:
    """(blocks serial, published comments serial): either changes whenever the public page would."""
    row = db.execute("select blocks, comments from public_versions where consultation_id = ?", [cid]).fetchone()
    return row or (0, 0)


class PageState(NamedTuple):
    """What a public view or a comment POST reads first: the consultation (a copy: the caller may
    change it), its row's values, and its serials (counts.py's module note; m022)."""

    consultation: dict
    values: tuple
    blocks_serial: int
    comments_serial: int
    drafting: int


def page_state(db: Database, slug: str) -> PageState | None:
    """The consultation with this slug and its serials.

    Kept on the connection while `PRAGMA data_version` (which moves with every commit of another
    connection) and the connection's own total_changes stay put: a quiet view costs that pragma.
    When they moved, one query of four integers; the consultation's row is kept under its
    `settings` serial, which moves with every change to the row whoever makes it (a trigger) and
    which the comment writer's commits leave: under a stream of comments a view or a POST reads
    no more than these two statements.
    """
    stamp = (db.execute("pragma data_version").fetchone()[0], db.conn.total_changes)
    memo = db.__dict__.get("_page_states")
    if memo is None or memo[0] != stamp:
        memo = db._page_states = (stamp, {})
    found = memo[1].get(slug, _UNREAD)
    if found is _UNREAD:
        found = _read_page_state(db, slug)
        if len(memo[1]) < PAGE_STATES_KEPT:  # unknown slugs asked at random never grow it past this
            memo[1][slug] = found
    if found is None:
        return None
    return found._replace(consultation=dict(found.consultation))  # a copy: the caller may change its dict


def _read_page_state(db: Database, slug: str) -> PageState | None:
    row = db.execute(_SERIALS, [slug]).fetchone()
    if row is None:
        return None
    cid, blocks_serial, comments_serial, settings, drafting = row
    # Read after the serial: a change committed in between is read now and re-read next time.
    c = kept_under(db, ("consultation", cid), settings,
                   lambda: first(db, "select * from consultations where id = ?", [cid]))
    if c is None:
        return None
    return PageState(c, tuple(c.values()), blocks_serial, comments_serial, drafting)


PAGE_STATES_KEPT = 256
_UNREAD = object()
_SERIALS = ("select c.id, coalesce(v.blocks, 0), coalesce(v.comments, 0), coalesce(v.settings, 0), "
            "coalesce(v.drafting, 0) from consultations c left join public_versions v on v.consultation_id = c.id "
            "where c.slug = ?")


def counted_by_scan(db: Database, cid: int) -> dict[int | None, int]:
    """The same counts computed from the comments themselves (a check; never on a page view)."""
    rows = db.execute(
        "select block_id, count(*) from comments where consultation_id = ? and source = 'public' "
        "and status = 'published' group by block_id", [cid])
    return {block_id: n for block_id, n in rows}


def recount(db: Database) -> None:
    """Rebuild published_counts from the comments (the migration; a repair after editing the file by hand)."""
    db.execute("delete from published_counts")
    db.execute(
        "insert into published_counts (consultation_id, block_id, n) "
        "select consultation_id, coalesce(block_id, 0), count(*) from comments "
        "where source = 'public' and status = 'published' group by 1, 2")
    db.execute(
        "insert into public_versions (consultation_id, blocks, comments) select id, 1, 1 from consultations "
        "where true on conflict (consultation_id) do update set blocks = blocks + 1, comments = comments + 1")


# The public page's totals (issue #12; schema m015, kept by triggers): 参与人数 is the number of
# distinct senders of published comments — a department once, a person once per name and
# contact as given (compared trimmed, case-insensitively), a comment with neither name nor
# contact as one person of its own —, 意见条数 the published comments (the public's and the
# departments'), and the published comments by decision. Keys as the page's count slots.
TOTAL_SLOTS = {"participants": 1, "comments": 2, "adopted": 3, "partly": 4, "rejected": 5, "reflected": 6,
               "pending": 7}


def public_totals(db: Database, cid: int) -> dict[str, int]:
    """{"participants": n, "comments": n, "adopted": n, …} for the consultation's published comments."""
    found = dict.fromkeys(TOTAL_SLOTS, 0)
    for key, n in db.execute("select key, n from published_totals where consultation_id = ?", [cid]):
        key = key[2:] if key.startswith("d:") else key
        if key in found:
            found[key] += n
    return found


def total_slots(totals: dict[str, int]) -> dict[int, str]:
    """The totals as the page's count slots fill them (text, so that a zero still shows as 0)."""
    return {slot: str(totals.get(key, 0)) for key, slot in TOTAL_SLOTS.items()}


def totals_by_scan(db: Database, cid: int) -> dict[str, int]:
    """public_totals computed from the comments themselves (a check; never on a page view)."""
    from revise.store.schema import _SENDER

    found = dict.fromkeys(TOTAL_SLOTS, 0)
    row = db.execute(f"select count(*), count(distinct {_SENDER.format(row='c')}) from comments c "
                     "where consultation_id = ? and status = 'published'", [cid]).fetchone()
    found["comments"], found["participants"] = row
    for disposition, n in db.execute("select disposition, count(*) from comments where consultation_id = ? "
                                     "and status = 'published' group by disposition", [cid]):
        if disposition in found:
            found[disposition] += n
    return found


def recount_totals(db: Database) -> None:
    """Rebuild published_senders and published_totals from the comments (the migration; a repair)."""
    from revise.store.schema import _SENDER

    who = _SENDER.format(row="c")
    db.execute("delete from published_senders")
    db.execute("delete from published_totals")
    db.execute(f"insert into published_senders (consultation_id, who, n) select consultation_id, {who}, count(*) "
               "from comments c where status = 'published' group by 1, 2")
    db.execute("insert into published_totals (consultation_id, key, n) select consultation_id, 'participants', "
               "count(*) from published_senders group by 1")
    db.execute("insert into published_totals (consultation_id, key, n) select consultation_id, 'comments', "
               "count(*) from comments where status = 'published' group by 1")
    db.execute("insert into published_totals (consultation_id, key, n) select consultation_id, 'd:' || disposition, "
               "count(*) from comments where status = 'published' group by 1, 2")
