"""Deciding comments: dispositions with reasons, moderation, publishing the outcome. No HTTP here."""

from __future__ import annotations

from sqlite_utils import Database

from revise.i18n import N_
from revise.store import audit as audit_store
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.textclean import clean_text
from revise.timeutil import utc_now_text

PENDING = "pending"
DISPOSITIONS = {
    "adopted": N_("Adopted"),  # 采纳
    "partly": N_("Partly adopted"),  # 部分采纳
    "rejected": N_("Not adopted"),  # 不予采纳
    "reflected": N_("Already reflected"),  # 已有体现
    PENDING: N_("To be decided"),  # 待处理
}
REASON_REQUIRED = ("partly", "rejected")
REASON_MAX = 2000


class TriageError(Exception):
    """A decision that cannot be recorded; .field names the form field, .message is a msgid."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def decide(
    db: Database,
    consultation: dict,
    comment_ids: list[int],
    disposition: str,
    reason: str,
    actor: str,
    revision_id: int | None = None,
) -> int:
    """Record one disposition and reason for the given comments; return how many changed.

    The earlier decision of each comment is kept in the audit log.
    """
    reason = clean_text(reason)
    if disposition not in DISPOSITIONS:
        raise TriageError("disposition", N_("Choose how the comment was handled."))
    if disposition in REASON_REQUIRED and not reason:
        raise TriageError("reason", N_("Give the reason: it is required for “partly adopted” and “not adopted”."))
    if len(reason) > REASON_MAX:
        raise TriageError("reason", N_("The reason is too long (at most 2,000 characters)."))
    if not comment_ids:
        raise TriageError("ids", N_("Select at least one comment."))
    at = utc_now_text()
    audit = audit_store.event(actor, "comment.disposition", consultation["id"], at=at)
    decision = {
        "disposition": disposition,
        "disposition_reason": reason or None,
        "disposition_revision_id": revision_id,
        "decided_by": actor if disposition != PENDING else None,
        "decided_at": at if disposition != PENDING else None,
    }
    return comment_store.set_disposition(db, consultation["id"], comment_ids, decision, audit)


def publish_outcome(db: Database, consultation: dict, actor: str, publish: bool = True) -> None:
    """Make (or stop making) each comment's disposition and reason visible on receipts."""
    at = utc_now_text() if publish else None
    audit = audit_store.event(actor, "consultation.outcome", consultation["id"],
                              consultation.get("outcome_published_at"), at, at=utc_now_text())
    consultation_store.set_outcome_published(db, consultation["id"], at, audit)
