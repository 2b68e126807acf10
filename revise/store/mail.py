"""Comments imported from the mailbox (issue #14): known by Message-ID, placed on a block later."""

from __future__ import annotations

import json

from sqlite_utils import Database

from revise.store import first, insert, writing


def seen(db: Database, cid: int, message_id: str) -> bool:
    """Whether a message with this Message-ID was imported into the consultation before."""
    return first(db, "select 1 from comments where consultation_id = ? and message_id = ?",
                 [cid, message_id]) is not None


def unplaced(db: Database, cid: int, limit: int = 200) -> list[dict]:
    """Mail comments still about the draft as a whole, newest first."""
    return list(db.query("select id, name, body, received_on, receipt from comments where consultation_id = ? "
                         "and channel = 'email' and message_id is not null and block_id is null "
                         "order by id desc limit ?", [cid, limit]))


def place(db: Database, cid: int, comment_id: int, block: dict, audit: dict) -> bool:
    """Put a comment on a block (written against its current revision); False if not found."""
    with writing(db):
        row = first(db, "select id, block_id from comments where consultation_id = ? and id = ?",
                    [cid, comment_id])
        if row is None:
            return False
        db.execute("update comments set block_id = ?, block_rev = ? where id = ?",
                   [block["id"], block["rev"], comment_id])
        insert(db, "audit", dict(audit, before=json.dumps({"block_id": row["block_id"]}),
                                 subject=f"comment:{comment_id}"))
    return True

