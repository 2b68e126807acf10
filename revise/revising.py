"""Revising the text: edits, insertions, deletions, reverts and adopted suggestions. No HTTP here.

Each change is a new revision of one block (revisions are never updated), written in one
transaction with the block's new state and an audit event. A save based on a revision that
is no longer current raises Conflict: nothing is overwritten silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from markupsafe import Markup, escape
from sqlite_utils import Database

from revise import anchoring, diffing
from revise.diffing import Hunk, Rebase
from revise.i18n import N_
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import insert, writing
from revise.store import revisions as revision_store
from revise.textclean import clean_text
from revise.timeutil import to_text, utc_now

SUGGESTION_KINDS = ("edit", "delete", "insert")


class RevisionError(Exception):
    """A change that cannot be made; .message is a msgid, .params fill it in."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class Conflict(Exception):
    """The block changed since the editor loaded it: both versions and a proposed merge."""

    def __init__(self, block_id: int, base_number: int, current_number: int, base_text: str,
                 mine: str, theirs: str, proposed: Rebase):
        super().__init__(f"block {block_id}: saved on revision {base_number}, current is {current_number}")
        self.block_id, self.base_number, self.current_number = block_id, base_number, current_number
        self.base_text, self.mine, self.theirs, self.proposed = base_text, mine, theirs, proposed


class RebaseFailed(Exception):
    """A suggestion written on an earlier text no longer fits the current one; .rebase says where."""

    def __init__(self, comment_id: int, rebase: Rebase):
        super().__init__(f"comment {comment_id}: {len(rebase.failed)} part(s) could not be applied")
        self.comment_id, self.rebase = comment_id, rebase


def edit_block(db: Database, consultation: dict, block_id: int, new_text: str, *, base_number: int,
               author: dict, reason: str = "", comment_ids: Iterable[int] = (), now: datetime | None = None) -> dict:
    """Save a new text for a block (a table row's text is its cells joined by tabs)."""
    with writing(db):
        block = _block(db, consultation, block_id, live=True)
        return _change_text(db, consultation, block, new_text, base_number=base_number, author=author,
                            reason=reason, comment_ids=comment_ids, at=_at(now))


def edit_row(db: Database, consultation: dict, block_id: int, cells_texts: list[str], *, base_number: int,
             author: dict, reason: str = "", comment_ids: Iterable[int] = (), now: datetime | None = None) -> dict:
    """Save new cell texts for a table row; spans and vertical merges stay as they are."""
    with writing(db):
        block = _block(db, consultation, block_id, live=True)
        if block["kind"] != "table_row":
            raise RevisionError(N_("This block is not a table row."))
        # The cells travel as a list, so a cell may hold tabs (issue #14).
        texts = [_clean(t) for t in cells_texts]
        if len(cells_texts) != len(block["cells"]):
            raise RevisionError(N_("A row of this table has %(n)s cells: give a text for each."), n=len(block["cells"]))
        return _change_text(db, consultation, block, "\t".join(texts), base_number=base_number, author=author,
                            reason=reason, comment_ids=comment_ids, at=_at(now), cells_texts=texts)


def insert_after(db: Database, consultation: dict, block_id: int, text: str, *, author: dict, reason: str = "",
                 comment_ids: Iterable[int] = (), now: datetime | None = None) -> dict:
    """Insert a new paragraph (or, after a table row, a new row of that table) after a block."""
    with writing(db):
        after = _block(db, consultation, block_id)
        return _insert(db, consultation, after, text, author=author, reason=reason,
                       comment_ids=comment_ids, at=_at(now))


def delete_block(db: Database, consultation: dict, block_id: int, *, base_number: int, author: dict,
                 reason: str = "", comment_ids: Iterable[int] = (), now: datetime | None = None) -> dict:
    """Delete a block: a revision that keeps its last text; the row and its comments stay."""
    with writing(db):
        block = _block(db, consultation, block_id, live=True)
        return _delete(db, consultation, block, base_number=base_number, author=author, reason=reason,
                       comment_ids=comment_ids, at=_at(now))


def revert(db: Database, consultation: dict, block_id: int, to_number: int, *, base_number: int, author: dict,
           reason: str = "", now: datetime | None = None) -> dict:
    """Bring back the text of an earlier revision (0: as imported), as a new revision."""
    with writing(db):
        block = _block(db, consultation, block_id)
        target = _state(db, block, to_number)
        # Back to a deleted state (or to revision 0 of an inserted block, which was not in the
        # draft) is recorded as a deletion, so "delete" alone marks a deleted state in history.
        deleted = target is None or target["action"] == "delete"
        text = block["text"] if target is None else target["text"]
        cells = block["cells"] if target is None else target["cells"]
        if (text, cells or [], deleted) == (block["text"], block["cells"] or [], bool(block["deleted"])):
            raise RevisionError(N_("Nothing changed: the text is the same as in the current revision."))
        _check_base(db, block, base_number, "" if deleted else text)
        return _record(db, consultation, block, action="delete" if deleted else "revert", text=text, cells=cells,
                       deleted=deleted, base_number=base_number, author=author, reason=reason, comment_ids=(),
                       at=_at(now), audit_action="revision.revert", extra={"to_number": to_number})


def accept_suggestion(db: Database, consultation: dict, comment_id: int, *, base_number: int, author: dict,
                      adjusted_text: str | None = None, reason: str = "", now: datetime | None = None) -> dict:
    """Adopt a comment's suggested edit, deletion or insertion, and record its disposition.

    An edit written on an earlier revision is rebased onto the current text; if part of it no
    longer fits, RebaseFailed is raised and nothing changes. `adjusted_text` is the block's
    whole new text as the editor reworded it, on revision `base_number` (→ "partly adopted").
    """
    at = _at(now)
    adjusted_text = None if adjusted_text is None else _clean(adjusted_text)
    reason = clean_text(reason)
    with writing(db):
        comment = comment_store.get(db, consultation["id"], comment_id)
        if comment is None or comment["block_id"] is None or comment["kind"] not in SUGGESTION_KINDS:
            raise RevisionError(N_("Only a suggested change, insertion or deletion of a block can be accepted."))
        if comment["disposition"] != "pending":
            raise RevisionError(N_("This comment has already been decided: set it back to “To be decided” first."))
        adopted = comment["suggestion"] or ""  # for an edit: carried onto the current text below
        if comment["kind"] != "delete" and not (adjusted_text or adopted).strip():
            raise RevisionError(N_("The comment has no suggested wording to adopt."))
        wording = adjusted_text if adjusted_text is not None else adopted
        if comment["kind"] == "insert":
            after = _block(db, consultation, comment["block_id"])
            revision = _insert(db, consultation, after, wording, author=author, reason=reason,
                               comment_ids=[comment_id], at=at)
        elif comment["kind"] == "delete":
            block = _block(db, consultation, comment["block_id"], live=True)
            revision = _delete(db, consultation, block, base_number=base_number, author=author, reason=reason,
                               comment_ids=[comment_id], at=at)
        else:
            block = _block(db, consultation, comment["block_id"], live=True)
            try:
                adopted = _adopted_text(db, block, comment)
            except RebaseFailed:
                if adjusted_text is None:
                    raise
                adopted = None  # the editor's own wording replaces what no longer fits
            revision = _change_text(db, consultation, block, adjusted_text if adjusted_text is not None else adopted,
                                    base_number=base_number, author=author, reason=reason,
                                    comment_ids=[comment_id], at=at)
        partly = comment["kind"] != "delete" and adjusted_text is not None and adjusted_text != adopted
        if partly and not reason.strip():
            # The same rule as triage.decide: "partly adopted" always says why.
            raise RevisionError(N_("Give the reason: it is required for “partly adopted” and “not adopted”."))
        decision = {"disposition": "partly" if partly else "adopted", "disposition_reason": reason.strip() or None,
                    "disposition_revision_id": revision["id"], "decided_by": author["display_name"], "decided_at": at}
        before = revision_store.adopt_comment(db, comment_id, decision)
        _audit(db, consultation, author, "comment.disposition", f"comment:{comment_id}", before,
               {k: decision[k] for k in ("disposition", "disposition_reason", "disposition_revision_id")}, at)
        return revision


def _adopted_text(db: Database, block: dict, comment: dict) -> str:
    """The suggested edit carried onto the current text (raises RebaseFailed if it does not fit)."""
    written_on = comment["block_rev"] or 0
    if written_on == block["rev"]:
        return comment["suggestion"]
    if not 0 <= written_on <= block["rev"]:
        raise RevisionError(N_("There is no revision %(number)s of this block."), number=written_on)
    result = diffing.rebase(text_at_revision(db, block, written_on), comment["suggestion"], block["text"])
    if not result.clean:
        raise RebaseFailed(comment["id"], result)
    return result.text


def history(db: Database, block_id: int) -> list[dict]:
    """Every revision of a block from 0 (as imported), each with the diff from the one before."""
    block = revision_store.block_by_id(db, block_id)
    if block is None:
        raise RevisionError(N_("This paragraph is not part of the draft."))
    steps, shown = [], ""
    original = revision_store.original(block)
    for step in ([original] if original else []) + revision_store.of_block(db, block_id):
        step = dict(step)
        visible = _visible(step) or ""
        step["diff"] = Markup(escape(visible)) if step["number"] == 0 else diffing.diff_html(shown, visible)
        steps.append(step)
        shown = visible
    return steps


def compare(db: Database, block_id: int, a: int, b: int) -> Markup:
    """The change from revision a to revision b of a block, as HTML."""
    block = revision_store.block_by_id(db, block_id)
    if block is None:
        raise RevisionError(N_("This paragraph is not part of the draft."))
    return diffing.diff_html(_visible(_state(db, block, a)) or "", _visible(_state(db, block, b)) or "")


def text_at_revision(db: Database, block: dict, number: int) -> str:
    """The text of a block at a revision (a deleted block keeps its last text; "" before an insert)."""
    state = _state(db, block, number)
    return state["text"] if state else ""


def redline(db: Database, consultation: dict, since: str | None = None, until: str | None = None) -> list[dict]:
    """Every block in document order with its text then (original or at `since`) and now (or at `until`).

    Deleted and inserted blocks are included; a block that exists at neither instant is left out.
    """
    cid = consultation["id"]
    old_states = revision_store.states_at(db, cid, since) if since else {}
    new_states = revision_store.states_at(db, cid, until) if until else None
    rows = []
    for block in block_store.of_consultation(db, cid, include_deleted=True):
        old_state = old_states.get(block["id"]) or revision_store.original(block)
        if new_states is None:
            new_state = {"action": "delete" if block["deleted"] else "edit", "text": block["text"]}
        else:
            new_state = new_states.get(block["id"]) or revision_store.original(block)
        if _visible(old_state) is None and _visible(new_state) is None:
            continue  # deleted (or not yet inserted) at both instants: in neither text
        old, new = _visible(old_state) or "", _visible(new_state) or ""
        rows.append({"block": block, "old": old, "new": new, "changed": old != new,
                     "diff": diffing.diff_html(old, new) if old != new else Markup(escape(new))})
    return rows


# --- inside the transaction ---------------------------------------------------------------


def _change_text(db: Database, consultation: dict, block: dict, new_text: str, *, base_number: int,
                 author: dict, reason: str, comment_ids: Iterable[int], at: str,
                 cells_texts: list[str] | None = None) -> dict:
    new_text = _clean(new_text)
    cells = None
    if block["kind"] == "table_row":
        texts = new_text.split("\t") if cells_texts is None else cells_texts
        if len(texts) != len(block["cells"]):
            raise RevisionError(N_("A row of this table has %(n)s cells: give a text for each."), n=len(block["cells"]))
        if not any(t.strip() for t in texts):
            raise RevisionError(N_("The row is empty: to remove it, delete it instead."))
        cells = [dict(cell, text=t) for cell, t in zip(block["cells"], texts)]
    elif not new_text.strip():
        raise RevisionError(N_("The new text is empty: to remove the paragraph, delete it instead."))
    if new_text == block["text"]:
        raise RevisionError(N_("Nothing changed: the text is the same as in the current revision."))
    _check_base(db, block, base_number, new_text)
    return _record(db, consultation, block, action="edit", text=new_text, cells=cells, deleted=False,
                   base_number=base_number, author=author, reason=reason, comment_ids=comment_ids, at=at)


def _delete(db: Database, consultation: dict, block: dict, *, base_number: int, author: dict, reason: str,
            comment_ids: Iterable[int], at: str) -> dict:
    _check_base(db, block, base_number, "")
    return _record(db, consultation, block, action="delete", text=block["text"], cells=block["cells"],
                   deleted=True, base_number=base_number, author=author, reason=reason,
                   comment_ids=comment_ids, at=at)


def _insert(db: Database, consultation: dict, after: dict, text: str, *, author: dict, reason: str,
            comment_ids: Iterable[int], at: str) -> dict:
    text = _clean(text)
    if not text.strip():
        raise RevisionError(N_("The new paragraph is empty."))
    row = {"kind": "paragraph", "level": None, "label": "", "title": "", "table_no": None, "locator": None,
           "style": after["style"] if after["kind"] == "paragraph" else "Normal", "cells": None,
           "original_text": None, "original_cells": None, "rev": 0, "deleted": 0,
           # Under the same headings as the block it follows (under it, if that is a heading).
           "outline": after["outline"] + ([after["id"]] if after["kind"] == "heading" else []), "text": text}
    if after["kind"] == "table_row":
        row.update(kind="table_row", table_no=after["table_no"], style=after["style"])
        row["cells"] = _new_row_cells(db, after, text.split("\t"))
        text = "\t".join(cell["text"] for cell in row["cells"])
        row["text"] = text
    new_id = revision_store.insert_block(db, row, after)
    block = revision_store.block_by_id(db, new_id)
    block["text"] = ""  # revision 0 of an inserted block is "nothing": its patch starts from ""
    return _record(db, consultation, block, action="insert", text=text, cells=row["cells"], deleted=False,
                   base_number=0, author=author, reason=reason, comment_ids=comment_ids, at=at,
                   extra={"after": after["id"]})


def _new_row_cells(db: Database, after: dict, texts: list[str]) -> list[dict]:
    """Cells for a row inserted after `after`: same spans; inside a vertical merge, it continues."""
    if len(texts) > len(after["cells"]):
        raise RevisionError(N_("The new row has more cells than the table (%(n)s)."), n=len(after["cells"]))
    texts = texts + [""] * (len(after["cells"]) - len(texts))
    below = revision_store.next_block(db, after)
    same_table = below is not None and below["kind"] == "table_row" and below["table_no"] == after["table_no"]
    continues = {column for column, cell in _columns(below["cells"] if same_table else []) if cell.get("vmerge") == "continue"}
    return [{"text": text, "span": cell.get("span", 1),
             "vmerge": "continue" if cell.get("vmerge") in ("restart", "continue") and column in continues else None}
            for (column, cell), text in zip(_columns(after["cells"]), texts)]


def _columns(cells: list[dict]) -> list[tuple[int, dict]]:
    """Each cell with the grid column it starts at (a cell spanning two columns counts two)."""
    out, column = [], 0
    for cell in cells:
        out.append((column, cell))
        column += max(1, int(cell.get("span") or 1))
    return out


def _record(db: Database, consultation: dict, block: dict, *, action: str, text: str, cells, deleted: bool,
            base_number: int, author: dict, reason: str, comment_ids: Iterable[int], at: str, audit_action: str = "",
            extra: dict | None = None) -> dict:
    """Append the revision, make it current, and write its audit event."""
    comment_ids = list(comment_ids)
    if len(revision_store.comments_of(db, consultation["id"], comment_ids)) != len(set(comment_ids)):
        raise RevisionError(N_("This comment is not part of the consultation."))
    number = block["rev"] + 1
    revision = {
        "consultation_id": consultation["id"], "block_id": block["id"], "number": number, "action": action,
        "text": text, "cells": cells or [], "patch": diffing.patch_text(block["text"], text),
        "base_number": base_number, "reason": clean_text(reason) or None, "author_id": author.get("id"),
        "author_name": author["display_name"], "created_at": at,
    }
    revision["id"] = revision_store.add(db, revision, comment_ids)
    revision_store.set_current(db, block["id"], text, cells, number, deleted)
    # Quoted phrases follow the text in the same transaction: no comment points at words
    # that a committed revision has moved (a deletion keeps the text, so its quotes stay).
    anchoring.follow(db, block, text, number, lambda n: text_at_revision(db, block, n))
    # The audit keeps a summary; the revisions themselves keep the full texts.
    before = {"rev": block["rev"], "text": block["text"][:80], "deleted": bool(block["deleted"])}
    after = {"rev": number, "text": text[:80], "deleted": deleted, "reason": revision["reason"],
             "comments": comment_ids, **(extra or {})}
    _audit(db, consultation, author, audit_action or f"revision.{action}", f"block:{block['id']}", before, after, at)
    return revision


def _check_base(db: Database, block: dict, base_number: int, mine: str) -> None:
    """Raise Conflict when the editor's starting revision is no longer the current one."""
    if base_number == block["rev"]:
        return
    base_text = text_at_revision(db, block, base_number)
    theirs = "" if block["deleted"] else block["text"]
    if mine or not theirs:
        proposed = diffing.merge(base_text, mine, theirs)
    else:  # a deletion is not merged into a colleague's new text: theirs stays, to be looked at
        proposed = Rebase(theirs, [False], [Hunk(base_text, "")])
    raise Conflict(block["id"], base_number, block["rev"], base_text, mine, theirs, proposed)


def _state(db: Database, block: dict, number: int) -> dict | None:
    """Revision `number` of a block (0: the original); None for 0 of an inserted block."""
    if not isinstance(number, int) or not 0 <= number <= block["rev"]:
        raise RevisionError(N_("There is no revision %(number)s of this block."), number=number)
    if number == 0:
        return revision_store.original(block)
    return revision_store.get(db, block["id"], number)


def _visible(state: dict | None) -> str | None:
    """The text a reader sees in a state; None when deleted or not yet inserted."""
    return None if state is None or state["action"] == "delete" else state["text"]


def _block(db: Database, consultation: dict, block_id: int, live: bool = False) -> dict:
    """The consultation's block; with live=True, refused if it has been deleted."""
    block = block_store.get(db, consultation["id"], block_id)
    if block is None:
        raise RevisionError(N_("This paragraph is not part of the draft."))
    if live and block["deleted"]:
        raise RevisionError(N_("This block has been deleted: revert it to an earlier revision to change it."))
    return block


def _audit(db: Database, consultation: dict, author: dict, action: str, subject: str, before, after, at: str) -> None:
    event = audit_store.event(author["display_name"], action, consultation["id"], before, after, at=at)
    insert(db, "audit", dict(event, subject=subject))


def _clean(text: object) -> str:
    """An editor's text through the one text boundary (textclean): a vertical tab (Word's soft
    line break on the clipboard) becomes a newline, control characters and noncharacters go.
    Outer white space stays: an empty first or last cell of a row is a leading or trailing tab."""
    return clean_text(text, strip=False)


def _at(now: datetime | None) -> str:
    return to_text(now or utc_now())
