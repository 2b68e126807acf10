"""The triage view (issue #13): one comment at a time beside its paragraph, in the queue's
filter and order; decide it with a reason taken from the 常用答复, accept its suggestion, skip
it or go back. No HTTP here: revise/web/triage_view.py is the routes.

Decisions go through revise.triage.decide (the same rules and audit as the queue and the
comment page); accepting goes through revise.revising.accept_suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from revise import diffing, reply_templates, revising, triage
from revise.i18n import DEFAULT_LOCALE, N_
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import queue as queue_store
from revise.store import reply_templates as template_store
from revise.store import triage_next

SUGGESTION_KINDS = ("edit", "insert", "delete")


@dataclass
class Item:
    """Everything the panel shows for one comment."""

    comment: dict
    block: dict | None
    section: str  # the paragraph's section heading (label and title)
    written_on: str | None  # the paragraph's text at the revision the comment was written on
    diff: object | None  # the suggestion as a diff against `written_on` (safe HTML)
    others: list[dict]
    others_total: int
    members: list[dict]
    templates: dict[str, list[dict]]  # by disposition, each with its text filled in ("filled")
    can_accept: bool = False
    notes: list = field(default_factory=list)


def load(db: Database, consultation: dict, comment_id: int, locale: str = DEFAULT_LOCALE) -> Item | None:
    """The comment and what is shown beside it (None: not a comment of this consultation)."""
    cid = consultation["id"]
    comment = triage_next.comment(db, cid, comment_id)
    if comment is None:
        return None
    block = block_store.get(db, cid, comment["block_id"]) if comment["block_id"] else None
    section = reply_templates.section_label(db, cid, block, locale)
    written_on, diff = suggestion_diff(db, block, comment)
    others, others_total = triage_next.others_on_block(db, cid, comment["block_id"], comment["id"])
    members = triage_next.group_members(db, cid, comment["group_id"], comment["id"]) if (comment["group_size"] or 0) > 1 else []
    templates = reply_templates.of_consultation(db, cid)
    for rows in templates.values():
        for row in rows:
            row["filled"] = reply_templates.fill(row["body"], section)
    can_accept = (comment["kind"] in SUGGESTION_KINDS and comment["disposition"] == triage.PENDING
                  and block is not None and not block["deleted"]
                  and (comment["kind"] == "delete" or bool((comment["suggestion"] or "").strip())))
    return Item(comment, block, section, written_on, diff, others, others_total, members, templates, can_accept)


def target(db: Database, consultation: dict, comment_id: int) -> tuple[dict, dict | None] | None:
    """The comment to decide and its paragraph (less than load(): nothing is shown)."""
    comment = comment_store.get(db, consultation["id"], comment_id)
    if comment is None:
        return None
    block = block_store.get(db, consultation["id"], comment["block_id"]) if comment["block_id"] else None
    return comment, block


def suggestion_diff(db: Database, block: dict | None, comment: dict) -> tuple[str | None, object | None]:
    """The text the comment was written on and its suggestion as a tracked diff against it
    (not against today's text: a paragraph revised since would show the wrong change)."""
    if block is None:
        return None, None
    rev = comment["block_rev"] or 0
    written_on = revising.text_at_revision(db, block, rev) if 0 <= rev <= block["rev"] else block["text"]
    if comment["kind"] == "edit" and comment["suggestion"]:
        return written_on, diffing.diff_html(written_on, comment["suggestion"])
    if comment["kind"] == "insert" and comment["suggestion"]:
        return written_on, diffing.diff_html("", comment["suggestion"])
    if comment["kind"] == "delete":
        return written_on, diffing.diff_html(written_on, "")
    return written_on, None


def reason_from(db: Database, consultation: dict, block: dict | None, form: dict, locale: str = DEFAULT_LOCALE) -> str:
    """The reason typed; when none was typed, the chosen template's text with the section filled in
    (how a form without JavaScript uses a template)."""
    reason = form.get("reason") if isinstance(form.get("reason"), str) else ""
    if reason.strip():
        return reason
    raw = form.get("template")
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 12:
        found = template_store.get(db, consultation["id"], int(raw))
        if found is not None:
            section = reply_templates.section_label(db, consultation["id"], block, locale)
            return reply_templates.fill(found["body"], section)
    return reason


def decide(db: Database, consultation: dict, comment: dict, block: dict | None, form: dict, actor: str,
           locale: str = DEFAULT_LOCALE) -> int:
    """Record the decision on the comment (and on its group's pending members when asked);
    return how many comments were decided. Raises triage.TriageError."""
    ids = [comment["id"]]
    if form.get("group") == "1" and comment["group_id"] is not None:
        ids += triage_next.pending_ids_of_group(db, consultation["id"], comment["group_id"], comment["id"])
    reason = reason_from(db, consultation, block, form, locale)
    disposition = form.get("disposition") if isinstance(form.get("disposition"), str) else ""
    if disposition == triage.PENDING:
        raise triage.TriageError("disposition", N_("Choose how the comment was handled."))
    return triage.decide(db, consultation, ids, disposition, reason, actor, comment["disposition_revision_id"])


def accept(db: Database, consultation: dict, comment: dict, block: dict | None, form: dict, author: dict,
           locale: str = DEFAULT_LOCALE) -> dict:
    """Adopt the suggestion into the paragraph's current text (a new revision; the comment
    becomes "adopted"). Raises revising.RevisionError, Conflict or RebaseFailed."""
    if block is None:
        raise revising.RevisionError(N_("Only a suggested change, insertion or deletion of a block can be accepted."))
    reason = reason_from(db, consultation, block, form, locale)
    return revising.accept_suggestion(db, consultation, comment["id"], base_number=block["rev"], author=author,
                                      reason=reason)


def neighbour(db: Database, consultation: dict, filters: queue_store.Filters, comment_id: int | None,
              direction: str = "after") -> int | None:
    """The next (or previous) comment in the queue's filter and order."""
    return triage_next.neighbour(db, consultation["id"], filters, comment_id, direction)
