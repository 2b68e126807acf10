"""Who works on what (issue #13): sections and single comments assigned to editors.

A section is a heading and every block under it (blocks carry `outline`, the ids of the
headings above). A block's assignee is that of the nearest assigned heading above it (the block
itself, when it is a heading); a comment's is its own when assigned singly, else its block's.
`comments.assigned_to` holds the result (schema m018) so "my queue" reads one index range: it is
rewritten here when a section's assignee changes, and set by triggers when a comment arrives or
moves to another block.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from revise.store import first, insert, writing


def accounts(db: Database) -> list[dict]:
    """Accounts that may be given work (not disabled), by display name."""
    return list(db.query("select id, username, display_name, role from accounts where disabled_at is null "
                         "order by display_name, id"))


def account(db: Database, account_id: int) -> dict | None:
    return first(db, "select id, username, display_name, role, disabled_at from accounts where id = ?", [account_id])


def names(db: Database) -> dict[int, str]:
    """Every account's display name by id (disabled ones too: they may still hold work)."""
    return {r[0]: r[1] for r in db.execute("select id, display_name from accounts").fetchall()}


def sections(db: Database, cid: int) -> list[dict]:
    """The headings in the draft's order with their own assignee (None: not assigned itself)."""
    return list(db.query(
        "select b.id, b.text, b.level, b.outline, s.account_id, s.assigned_by, s.assigned_at from blocks b "
        "left join section_assignments s on s.block_id = b.id where b.consultation_id = ? and b.kind = 'heading' "
        "and b.deleted = 0 order by b.position", [cid]))


def section_map(db: Database, cid: int) -> dict[int, int]:
    """{heading id: account id} for the headings assigned themselves."""
    return {h: a for h, a in db.execute(
        "select block_id, account_id from section_assignments where consultation_id = ?", [cid]).fetchall()}


def nearest(block_id: int, outline: list[int], assigned: dict[int, int]) -> tuple[int | None, int | None]:
    """(account id, heading id) of the nearest assigned heading at or above a block."""
    for heading in [block_id, *reversed(outline)]:
        if heading in assigned:
            return assigned[heading], heading
    return None, None


def of_block(db: Database, cid: int, block_id: int | None) -> tuple[int | None, int | None]:
    """(account id, heading id) a comment on this block gets from its section."""
    if block_id is None:
        return None, None
    row = db.execute("select outline from blocks where id = ? and consultation_id = ?", [block_id, cid]).fetchone()
    if row is None:
        return None, None
    return nearest(block_id, json.loads(row[0] or "[]"), section_map(db, cid))


def heading(db: Database, cid: int, block_id: int) -> dict | None:
    return first(db, "select id, text, level from blocks where id = ? and consultation_id = ? and kind = 'heading' "
                 "and deleted = 0", [block_id, cid])


def _json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False)


CHUNK = 1_000  # comments handed over per transaction when a section changes hands


def set_section(db: Database, cid: int, heading_id: int, account_id: int | None, audit: dict,
                at: str, by: str) -> int | None:
    """Assign a section to an account (None: take its own assignment away, so it follows the
    section above); the comments under it follow unless assigned singly. Returns how many
    comments changed hands (None: the section already had that assignee, nothing recorded).

    A section can hold 200,000 comments at 1,000,000, and rewriting them took 12 s in one
    transaction, during which no comment could be stored (the writer gives up after 8 s). So the
    comments already there are handed over first, CHUNK per transaction (a comment arriving
    meanwhile waits for one chunk at most); then one transaction records the assignment, hands
    over the comments that arrived meanwhile (the trigger gave them the old assignee) and writes
    the audit event. Until then the page still shows the old assignee; a save interrupted
    between the two is completed by saving again.
    """
    row = db.execute("select account_id from section_assignments where block_id = ?", [heading_id]).fetchone()
    if (row[0] if row else None) == account_id:
        return None
    assigned = section_map(db, cid)
    if account_id is None:
        assigned.pop(heading_id, None)
    else:
        assigned[heading_id] = account_id
    under = db.execute(
        "select b.id, b.outline from blocks b where b.consultation_id = ? and "
        "(b.id = ? or exists (select 1 from json_each(b.outline) where value = ?))",
        [cid, heading_id, heading_id]).fetchall()
    by_account: dict[int | None, list[int]] = {}
    for block_id, outline in under:
        who, _ = nearest(block_id, json.loads(outline or "[]"), assigned)
        by_account.setdefault(who, []).append(block_id)
    last = db.execute("select coalesce(max(id), 0) from comments").fetchone()[0]
    changed = 0
    for who, blocks in by_account.items():
        for start in range(0, len(blocks), 500):
            part = blocks[start:start + 500]
            ids = [r[0] for r in db.execute(
                f"select id from comments where consultation_id = ? and block_id in ({','.join('?' for _ in part)}) "
                "and assigned_singly = 0 and assigned_to is not ? and id <= ?", [cid, *part, who, last]).fetchall()]
            for first_id in range(0, len(ids), CHUNK):
                chunk = ids[first_id:first_id + CHUNK]
                with writing(db):
                    changed += db.execute(
                        f"update comments set assigned_to = ? where id in ({','.join('?' for _ in chunk)}) "
                        "and assigned_singly = 0 and assigned_to is not ?", [who, *chunk, who]).rowcount
    with writing(db):
        row = db.execute("select account_id from section_assignments where block_id = ?", [heading_id]).fetchone()
        before = row[0] if row else None
        if account_id is None:
            db.execute("delete from section_assignments where block_id = ?", [heading_id])
        else:
            db.execute("insert into section_assignments (block_id, consultation_id, account_id, assigned_by, "
                       "assigned_at) values (?, ?, ?, ?, ?) on conflict (block_id) do update set "
                       "account_id = excluded.account_id, assigned_by = excluded.assigned_by, "
                       "assigned_at = excluded.assigned_at", [heading_id, cid, account_id, by, at])
        for who, blocks in by_account.items():
            for start in range(0, len(blocks), 500):
                part = blocks[start:start + 500]
                changed += db.execute(
                    f"update comments set assigned_to = ? where consultation_id = ? and block_id in "
                    f"({','.join('?' for _ in part)}) and id > ? and assigned_singly = 0 and assigned_to is not ?",
                    [who, cid, *part, last, who]).rowcount
        who_is = names(db)
        insert(db, "audit", dict(audit, subject=f"block:{heading_id}",
                                 before=_json({"assignee": who_is.get(before), "account_id": before}),
                                 after=_json({"assignee": who_is.get(account_id), "account_id": account_id,
                                              "comments": changed})))
    return changed


def set_comment(db: Database, cid: int, comment_id: int, account_id: int | None, audit: dict) -> bool:
    """Assign one comment to an account over its section's assignee (None: it follows its
    section again). Returns whether anything changed; audited in the same transaction."""
    with writing(db):
        row = db.execute("select block_id, assigned_to, assigned_singly from comments where id = ? "
                         "and consultation_id = ?", [comment_id, cid]).fetchone()
        if row is None:
            return False
        block_id, before, singly = row
        if account_id is None:
            account_id_now, singly_now = of_block(db, cid, block_id)[0], 0
        else:
            account_id_now, singly_now = account_id, 1
        if (before, singly) == (account_id_now, singly_now):
            return False
        db.execute("update comments set assigned_to = ?, assigned_singly = ? where id = ?",
                   [account_id_now, singly_now, comment_id])
        who_is = names(db)
        insert(db, "audit", dict(audit, subject=f"comment:{comment_id}",
                                 before=_json({"assignee": who_is.get(before), "account_id": before, "own": bool(singly)}),
                                 after=_json({"assignee": who_is.get(account_id_now), "account_id": account_id_now,
                                              "own": bool(singly_now)})))
    return True


def of_comment(db: Database, cid: int, comment_id: int) -> tuple[int | None, bool]:
    """(effective assignee, assigned singly) of one comment."""
    row = db.execute("select assigned_to, assigned_singly from comments where id = ? and consultation_id = ?",
                     [comment_id, cid]).fetchone()
    return (row[0], bool(row[1])) if row else (None, False)
