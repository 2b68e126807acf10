"""Anchors: where each comment's quoted phrase is in its block's text (comments.anchor_*).

quote_start stays the position in the text the comment was written on (block_rev);
anchor_start is the position in the text at anchor_rev, NULL when the phrase is gone.
"""

from __future__ import annotations

from sqlite_utils import Database

# A comment not yet re-anchored (anchor_state NULL, e.g. sent before the block's first
# revision) is where it was written: quote_start in the text at block_rev.
_ANCHOR = (
    "case when c.anchor_state is null then c.quote_start else c.anchor_start end as anchor_start, "
    "coalesce(c.anchor_rev, c.block_rev, 0) as anchor_rev, coalesce(c.anchor_state, 'ok') as anchor_state"
)

# What the editors' lists show of a comment and its block (never the contact: not needed here).
_LISTED = (
    "select c.id, c.block_id, c.block_rev, c.kind, c.source, c.name, c.body, c.quote, c.quote_start, "
    "c.status, c.disposition, c.created_at, c.anchor_start, c.anchor_rev, c.anchor_state, b.text as block_text, "
    "b.rev as block_current_rev, b.label as block_label, b.kind as block_kind, b.deleted as block_deleted "
    "from comments c join blocks b on b.id = c.block_id "
)


def quoted_on_block(db: Database, cid: int, block_id: int) -> list[dict]:
    """The comments on a block that quote a phrase, with their current anchor."""
    return list(db.query(
        f"select c.id, c.quote, c.quote_start, c.block_rev, {_ANCHOR} from comments c "
        "where c.consultation_id = ? and c.block_id = ? and c.quote is not null and c.quote != ''",
        [cid, block_id],
    ))


def set_anchor(db: Database, comment_ids: list[int], state: str, start: int | None, rev: int) -> None:
    """Record where the quotes of these comments are in revision `rev` (inside its transaction)."""
    db.conn.executemany(
        "update comments set anchor_state = ?, anchor_start = ?, anchor_rev = ? where id = ?",
        [(state, start, rev, comment_id) for comment_id in comment_ids],
    )


def orphaned(db: Database, cid: int) -> list[dict]:
    """Comments whose quoted words are no longer in their block's text, in document order."""
    return list(db.query(
        _LISTED + "where c.consultation_id = ? and c.anchor_state = 'orphaned' order by b.position, c.id", [cid]
    ))


def on_deleted_blocks(db: Database, cid: int) -> list[dict]:
    """Comments on deleted blocks (they stay with the block and its last text), orphaned ones left out."""
    return list(db.query(
        _LISTED + "where c.consultation_id = ? and b.deleted = 1 and coalesce(c.anchor_state, '') != 'orphaned' "
        "order by b.position, c.id", [cid]
    ))
