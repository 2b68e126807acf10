"""Publishing the outcome on purpose (issue #12): what becomes public, the rules for publishing
and withdrawing it, and the 修改对照表 (the changed clauses, original | revised, with reasons).

Only an administrator publishes, and only once the comment period has closed unless they give
a reason (kept in the publication and the audit log). The confirmation shows what becomes public
as counts: comments decided, undecided, and withheld (hidden or never reviewed — counted, never
quoted anywhere public). A publication may be withdrawn with a reason; the public outcome is
then gone. No HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup, escape
from sqlite_utils import Database

from revise import revising, versions
from revise.diffing import DELETE, EQUAL, INSERT, diff
from revise.i18n import N_
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import counts as count_store
from revise.store import outcomes as outcome_store
from revise.store import writing
from revise.textclean import clean_text
from revise.timeutil import to_text, utc_now_text
from revise.window import CLOSED, Window

REASON_MAX = 2000
DECIDED = ("adopted", "partly", "rejected", "reflected")


class OutcomeError(Exception):
    """A publication or withdrawal that cannot be made: .field names the form field, .message is a
    msgid, .status the HTTP status (422: fix the form; 409: the outcome's state does not allow it)."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


@dataclass
class Preview:
    """What publishing would make public, as counts (nothing withheld is ever quoted)."""

    total: int  # every comment received
    published: int  # reviewed and published: they appear in the public 意见采纳情况表
    decided: int  # published and decided (adopted, partly, not adopted, already reflected)
    undecided: int  # published, still to be decided
    withheld: int  # hidden by a moderator or never reviewed: counted, never shown
    by_disposition: dict[str, int]
    window_state: str
    needs_reason: bool  # the period has not closed: publishing now needs an override reason
    current: dict | None  # the publication in force, if any


def preview(db: Database, consultation: dict, now: datetime | None = None) -> Preview:
    """The counts the confirmation step shows, from the counts kept by triggers (no scan)."""
    cid = consultation["id"]
    statuses = outcome_store.status_counts(db, cid)
    totals = count_store.public_totals(db, cid)
    decided = sum(totals[d] for d in DECIDED)
    state = Window.of(consultation).state(now)
    return Preview(
        total=statuses["total"], published=totals["comments"], decided=decided,
        undecided=totals["comments"] - decided, withheld=statuses["total"] - statuses["published"],
        by_disposition={d: totals[d] for d in DECIDED}, window_state=state, needs_reason=state != CLOSED,
        current=outcome_store.current(db, cid),
    )


def publish(db: Database, consultation: dict, actor: str, *, override_reason: str = "",
            department_names: bool = True, now: datetime | None = None) -> int:
    """Publish the outcome: the revised text, the 意见采纳情况表 and the 修改对照表; return the publication's id.

    Before the period has closed an override reason is required. The editors' current text is
    frozen as the published revised version (versions.publish_revised) in the same transaction.
    """
    reason = clean_text(override_reason or "").strip()
    if len(reason) > REASON_MAX:
        raise OutcomeError("override_reason", N_("The reason is too long (at most 2,000 characters)."))
    at = utc_now_text() if now is None else to_text(now)
    with writing(db):  # the checks and the publication under one write lock: two clicks publish once
        consultation = consultation_store.by_id(db, consultation["id"])  # its window as stored now
        seen = preview(db, consultation, now)
        if seen.current is not None or outcome_store.published_at(db, consultation["id"]):
            raise OutcomeError("publish", N_("The outcome is already published: withdraw it first to publish "
                                             "it again."), 409)
        if seen.needs_reason and not reason:
            raise OutcomeError("override_reason", N_("The comment period has not closed: to publish the outcome "
                                                     "now, give the reason (it is recorded in the audit log)."))
        options = {"department_names": bool(department_names)}
        commented = versions.current_round(db, consultation)  # the version the comments were written on
        options["from_version_id"] = commented["version_id"] if commented else None
        if consultation.get("version_id") and not versions.pending_changes(db, consultation):
            version_id = consultation["version_id"]  # the text published already is the revised text
        else:
            version_id = versions.publish_revised(db, consultation["id"], actor=actor, now=now)
        counts = {"decided": seen.decided, "undecided": seen.undecided, "withheld": seen.withheld,
                  "window": seen.window_state}
        row = {"consultation_id": consultation["id"], "published_at": at, "published_by": actor,
               "override_reason": reason or None, "options": options, "version_id": version_id, "counts": counts}
        audit = audit_store.event(actor, "outcome.publish", consultation["id"], None,
                                  {"published_at": at, "override_reason": reason or None, "options": options,
                                   "version_id": version_id, "counts": counts}, at=at)
        return outcome_store.publish(db, row, audit)


def withdraw(db: Database, consultation: dict, actor: str, reason: str) -> None:
    """Take the published outcome down, with the reason (audited); the public outcome is gone."""
    reason = clean_text(reason or "").strip()
    if not reason:
        raise OutcomeError("withdraw_reason", N_("Give the reason for withdrawing the outcome."))
    if len(reason) > REASON_MAX:
        raise OutcomeError("withdraw_reason", N_("The reason is too long (at most 2,000 characters)."))
    at = utc_now_text()
    with writing(db):
        current = outcome_store.current(db, consultation["id"])
        published_at = outcome_store.published_at(db, consultation["id"])
        if current is None and not published_at:
            raise OutcomeError("withdraw_reason", N_("The outcome is not published."), 409)
        audit = audit_store.event(actor, "outcome.withdraw", consultation["id"], {"published_at": published_at},
                                  {"reason": reason}, at=at)
        outcome_store.withdraw(db, consultation["id"], current["id"] if current else None, at, actor, reason, audit)


def current(db: Database, consultation: dict) -> dict | None:
    """The publication in force, or None."""
    return outcome_store.current(db, consultation["id"])


def history(db: Database, consultation: dict) -> list[dict]:
    """Every publication of the outcome, newest first, with its withdrawal if any."""
    return outcome_store.history(db, consultation["id"])


# --- the 修改对照表 -------------------------------------------------------------------------


@dataclass
class ComparisonRow:
    """One changed clause: where it is, its text before and after (with the changes marked), why."""

    number: int
    block_id: int
    where: str
    old: str
    new: str
    # The diff as (op, text) pieces: the 原文 column shows EQUAL and DELETE, 修改后 EQUAL and INSERT.
    pieces: list[tuple[int, str]]
    reasons: list[str] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    comment_numbers: list[int] = field(default_factory=list)  # their rows in the 意见采纳情况表

    @property
    def old_html(self) -> Markup:
        return _marked(self.pieces, DELETE, "del")

    @property
    def new_html(self) -> Markup:
        return _marked(self.pieces, INSERT, "ins")


def _marked(pieces: list[tuple[int, str]], shown: int, tag: str) -> Markup:
    out = []
    for op, text in pieces:
        if op == EQUAL:
            out.append(escape(text))
        elif op == shown:
            out.append(Markup(f"<{tag}>%s</{tag}>") % text)
    return Markup("").join(out)


def _shown(block: dict, text: str) -> str:
    """A clause as a reader sees it: its label (一、) before the text, a table row's cells with |."""
    text = text.replace("\t", " | ")
    label = (block.get("label") or "").strip()
    return f"{label}{text}" if label and text and not text.startswith(label) else text


def texts(db: Database, consultation: dict, publication: dict | None = None) -> list[dict]:
    """Every block in document order with its text as put out for comment (`old`) and as published
    (`new`; before a publication, the editors' text now), and whether it `changed`.

    With versions (revise.versions) the old text is the version the comments were written on and
    the new one the version frozen with the outcome; otherwise revision 0 against the text at
    the publication's instant (revising.redline).
    """
    base = _commented_version(db, consultation, publication)
    if base is None or (publication and not publication.get("version_id")):
        return revising.redline(db, consultation, until=publication["published_at"] if publication else None)
    old = {b["id"]: b for b in versions.version_blocks(db, base, include_deleted=True)}
    if publication:
        new = versions.version_blocks(db, publication["version_id"], include_deleted=True)
    else:
        new = block_store.of_consultation(db, consultation["id"], include_deleted=True)
    rows = []
    for block in new:
        before = old.get(block["id"])
        old_text = before["text"] if before is not None and not before["deleted"] else None
        new_text = None if block["deleted"] else block["text"]
        if old_text is None and new_text is None:
            continue
        rows.append({"block": block, "old": old_text or "", "new": new_text or "",
                     "changed": (old_text or "") != (new_text or "") or (old_text is None) != (new_text is None)})
    return rows


def published_blocks(db: Database, publication: dict | None) -> list[dict] | None:
    """The blocks of the version frozen with the outcome, as the plan's exporter takes them
    (docx_export.export_docx), or None when the publication froze no version."""
    if not publication or not publication.get("version_id"):
        return None
    blocks = versions.version_blocks(db, publication["version_id"], include_deleted=True)
    for block in blocks:
        block.update(deleted=bool(block["deleted"]), author=None, date=None)
    return blocks


def _commented_version(db: Database, consultation: dict, publication: dict | None) -> int | None:
    """The version the comments were written on (recorded with the publication; else the current
    round's), or None (a publication from before versions existed)."""
    base = publication["options"].get("from_version_id") if publication else None
    if base is None and consultation.get("round_id"):
        found = versions.current_round(db, consultation)
        base = found["version_id"] if found else None
    return base


def _since(db: Database, consultation: dict, publication: dict | None) -> str | None:
    """Revisions from this instant on count for the 修改对照表: the version commented on was frozen then."""
    base = _commented_version(db, consultation, publication)
    return outcome_store.version_created_at(db, base) if base else None


def comparison(db: Database, consultation: dict, publication: dict | None = None,
               numbers: dict[int, int] | None = None, lines: list[dict] | None = None) -> list[ComparisonRow]:
    """The changed clauses only, in the draft's order: the text put out for comment against the
    text published (at the publication's instant; now, before one), each with the reasons given
    for its revisions and for the decisions on the published comments that led to them.
    `lines` is texts()'s answer for the same publication, when the caller has it already."""
    cid = consultation["id"]
    until = publication["published_at"] if publication else None
    if lines is None:
        lines = texts(db, consultation, publication)
    headings = {r["block"]["id"]: r["new"] or r["old"] for r in lines if r["block"]["kind"] == "heading"}
    revisions: dict[int, list[dict]] = {}
    since = _since(db, consultation, publication)
    for r in outcome_store.revisions_until(db, cid, since, until):
        revisions.setdefault(r["block_id"], []).append(r)
    answered: dict[int, list[dict]] = {}
    for link in outcome_store.published_comments_of_revisions(db, cid, since, until):
        answered.setdefault(link["revision_id"], []).append(link)
    rows = []
    for line in lines:
        if not line["changed"]:
            continue
        block = line["block"]
        old, new = _shown(block, line["old"]), _shown(block, line["new"])
        reasons, ids = [], []
        for revision in revisions.get(block["id"], []):
            if (revision["reason"] or "").strip():
                reasons.append(revision["reason"].strip())
            for link in answered.get(revision["id"], []):
                ids.append(link["comment_id"])
                if (link["disposition_reason"] or "").strip():
                    reasons.append(link["disposition_reason"].strip())
        ids = list(dict.fromkeys(ids))
        where = " › ".join(headings[h] for h in block.get("outline") or [] if h in headings)
        rows.append(ComparisonRow(
            number=len(rows) + 1, block_id=block["id"], where=where, old=old, new=new, pieces=diff(old, new),
            reasons=list(dict.fromkeys(reasons)), comment_ids=ids,
            comment_numbers=sorted({numbers[i] for i in ids if numbers and i in numbers}),
        ))
    return rows


def report_numbers(report) -> dict[int, int]:
    """{comment id: its row number in the 意见采纳情况表} (a folded row stands for all its members)."""
    return {i: row.number for row in report.each_row() for i in (row.comment_ids or [])}
