"""Taking comments: the rules (window, block, source) between a validated form and the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from revise import grouping, versions
from revise.attachments import Attachment
from revise.i18n import N_
from revise.offload import Limited
from revise.store import attachments as attachment_store
from revise.store import audit as audit_store
from revise.store import comments as comment_store
from revise.store import groups as group_store
from revise.store import limits as limit_store
from revise.timeutil import to_text, utc_now
from revise.window import NOT_YET_OPEN, OPEN, Window


class Refused(Exception):
    """The action is not allowed now; .status is the HTTP status, .message a msgid."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def require_open(consultation: dict, now: datetime) -> None:
    """Refuse any comment outside the window: the domain says no, not only the page."""
    state = Window.of(consultation).state(now)
    if state == NOT_YET_OPEN:
        raise Refused(403, N_("Commenting has not opened yet: no comment was recorded."))
    if state != OPEN:
        raise Refused(403, N_("Commenting has ended: no comment was recorded."))


def submit(
    db: Database,
    consultation: dict,
    block: dict | None,
    values: dict,
    *,
    form_token: str,
    department: dict | None = None,
    now: datetime | None = None,
    attachment: Attachment | None = None,
) -> tuple[dict, bool]:
    """Record a validated comment now, grouped at once; return (comment, created).

    A reused form token returns the first comment. The web takes comments through
    revise.writer instead (prepare() + then_web()), which groups them in the background.
    """
    row = prepare(consultation, block, values, form_token=form_token, department=department, now=now)
    # Grouped with similar comments in the same transaction; a failure there is logged and
    # undone alone, the comment is recorded either way.
    place = _catching_up(grouping.placer(row))
    return comment_store.insert_once(db, row, then=_with_attachment(place, attachment, row["created_at"]))


def prepare(consultation: dict, block: dict | None, values: dict, *, form_token: str,
            department: dict | None = None, now: datetime | None = None) -> dict:
    """The row of a validated comment, after the rules: the window is open, the block is the draft's."""
    now = now or utc_now()
    require_open(consultation, now)
    if block is not None and (block["consultation_id"] != consultation["id"] or block.get("deleted")):
        raise Refused(404, N_("This paragraph is not part of the draft."))
    if department is None:
        source, status = "public", "published" if consultation["publish_immediately"] else "pending"
    else:
        _require_on_roster(department)
        source, status = "department", "pending"
    # No audit event: the comment row itself records who sent what and when.
    return {
        "consultation_id": consultation["id"],
        "block_id": block["id"] if block else None,
        "block_rev": block["rev"] if block else None,
        "kind": values["kind"],
        "source": source,
        "department_id": department["id"] if department else None,
        "name": department["name"] if department else values["name"],
        "contact": values["contact"] if department is None else "",
        # A department's 经办人 and 联系电话: editors and their report only (issue #12).
        "officer_name": values.get("officer_name") if department is not None else None,
        "officer_phone": values.get("officer_phone") if department is not None else None,
        "body": values["body"],
        "suggestion": values["suggestion"],
        "quote": values["quote"] or None,
        "quote_start": values["quote_start"],
        # A quote is anchored where it was written; revising.follow moves it with later revisions.
        "anchor_start": values["quote_start"] if values["quote"] else None,
        "anchor_rev": block["rev"] if block and values["quote"] else None,
        "anchor_state": "ok" if values["quote"] and values["quote_start"] is not None else None,
        "form_token": form_token,
        "status": status,
        "created_at": to_text(now),
        # The round it belongs to and the version it was written on (issue #12): `block` is the
        # block as the published version shows it, so block_rev is its revision there.
        "round_id": consultation.get("round_id"),
        "version_id": (block or {}).get("version_id") or consultation.get("version_id"),
    }


def _require_on_roster(department: dict) -> None:
    """A department left out of the current round's roster (revise.versions.open_round) cannot reply in it."""
    if department.get("left_out"):
        raise Refused(403, N_("Your department is not on the roster of this round of consultation: nothing was recorded."))


@dataclass(frozen=True)
class AfterWeb:
    """What the writer does after inserting a web comment: its attachment, its quote caught up
    with the editors' text, and a place in the grouping queue. Called for one comment; comments
    without an attachment can be stored together (store_together)."""

    attachment: Attachment | None
    created_at: str

    def __call__(self, db: Database, comment: dict) -> None:
        _with_attachment(_catching_up(group_store.enqueue), self.attachment, self.created_at)(db, comment)


def then_web(row: dict, attachment: Attachment | None = None) -> AfterWeb:
    """What the writer does after inserting a web comment (AfterWeb)."""
    return AfterWeb(attachment, row["created_at"])


def store_together(db: Database, rows: list[dict], admissions: list) -> list[tuple[dict, bool] | Exception]:
    """Web comments without attachments stored in a few statements for the batch (the comment
    writer's common case, inside its transaction), with the outcome of each as
    store.comments.insert_once_in gives it one by one: (comment, created), the earlier comment
    of a form sent again (also twice in the batch), or Limited when its rate limit refused it.
    """
    earlier = comment_store.by_form_tokens(db, [row["form_token"] for row in rows])
    fresh, seen = [], set(earlier)
    for i, row in enumerate(rows):
        if row["form_token"] not in seen:
            seen.add(row["form_token"])
            fresh.append(i)
    allowed = limit_store.admit_many(db, [admissions[i] for i in fresh])
    admitted = [i for i, ok in zip(fresh, allowed) if ok]
    stored = dict(zip(admitted, comment_store.insert_many(db, [rows[i] for i in admitted])))
    for comment in stored.values():
        versions.catch_up_anchor(db, comment)
    group_store.enqueue_many(db, list(stored.values()))
    by_token = {**earlier, **{c["form_token"]: c for c in stored.values()}}
    outcomes: list[tuple[dict, bool] | Exception] = []
    for i, row in enumerate(rows):
        if i in stored:
            outcomes.append((stored[i], True))
        elif row["form_token"] in by_token:
            outcomes.append((by_token[row["form_token"]], False))
        else:
            outcomes.append(Limited())
    return outcomes


def _catching_up(then: Callable[[Database, dict], None]) -> Callable[[Database, dict], None]:
    """`then`, after placing the quote in the editors' text if they revised the block since the
    published version the comment was written on (issue #12)."""

    def both(db: Database, comment: dict) -> None:
        versions.catch_up_anchor(db, comment)
        then(db, comment)

    return both


def _with_attachment(then: Callable[[Database, dict], None], attachment: Attachment | None,
                     at: str) -> Callable[[Database, dict], None]:
    if attachment is None:
        return then

    def both(db: Database, comment: dict) -> None:
        attachment_store.add(db, comment["id"], attachment.row(), at)
        then(db, comment)

    return both


def file_no_comment(db: Database, consultation: dict, department: dict, now: datetime | None = None,
                    *, withdraw_comments: bool = False) -> bool:
    """A department replies 无修改意见 for the whole draft (inside the window); refused after its
    comments unless it confirmed they are withdrawn with it (revise.departments.file_no_changes)."""
    from revise import departments

    _require_on_roster(department)
    return departments.file_no_changes(db, consultation, department, withdraw_comments=withdraw_comments, now=now)


def moderate(db: Database, consultation: dict, comment_ids: list[int], publish: bool, actor: str) -> int:
    """Publish or withhold public comments; return how many changed."""
    status = "published" if publish else "hidden"
    audit = audit_store.event(actor, "comment.moderate", consultation["id"], at=to_text(utc_now()))
    return comment_store.set_status(db, comment_ids, status, audit)
