"""The roster of departments asked to reply, each with its own private link. No HTTP here."""

from __future__ import annotations

from sqlite_utils import Database

from revise.i18n import N_
from revise.security import new_link_token, token_hash
from revise.store import audit as audit_store
from revise.store import departments as department_store
from revise.textclean import clean_name
from revise.timeutil import to_text, utc_now, utc_now_text

REPLIED = "replied"
NO_CHANGES = "no_changes"
NOT_REPLIED = "not_replied"
STATUS_NAMES = {REPLIED: N_("replied with comments"), NO_CHANGES: N_("replied: no changes proposed"), NOT_REPLIED: N_("not replied")}


class RosterError(Exception):
    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


def add(db: Database, consultation: dict, name: str, actor: str) -> tuple[int, str]:
    """Put a department on the roster; return its id and the link token (shown once, never stored)."""
    name = clean_name(name)
    if not name or len(name) > 100:
        raise RosterError(N_("Give the department's name (at most 100 characters)."))
    if department_store.by_name(db, consultation["id"], name):
        raise RosterError(N_("“%(name)s” is already on the roster."), name=name)
    token = new_link_token()
    at = utc_now_text()
    audit = audit_store.event(actor, "department.add", consultation["id"], after={"name": name}, at=at)
    department_id = department_store.add(db, consultation["id"], name, token_hash(token), at, audit)
    return department_id, token


def add_all(db: Database, consultation: dict, names: list[str], actor: str) -> list[tuple[str, str]]:
    """Put several departments on the roster, all or none: every name is checked first, then all
    are added in one transaction (issue #15). Return (name, link token) for each."""
    cleaned = [clean_name(name) for name in names]
    for name in cleaned:
        if not name or len(name) > 100:
            raise RosterError(N_("Give the department's name (at most 100 characters)."))
        if cleaned.count(name) > 1:
            raise RosterError(N_("“%(name)s” is named more than once."), name=name)
        if department_store.by_name(db, consultation["id"], name):
            raise RosterError(N_("“%(name)s” is already on the roster."), name=name)
    at = utc_now_text()
    tokens = [new_link_token() for _name in cleaned]
    entries = [(name, token_hash(token), audit_store.event(actor, "department.add", consultation["id"],
                                                           after={"name": name}, at=at))
               for name, token in zip(cleaned, tokens)]
    department_store.add_all(db, consultation["id"], entries, at)
    return list(zip(cleaned, tokens))


def new_link(db: Database, consultation: dict, name: str, actor: str) -> str:
    """Replace a department's private link (e.g. if it leaked); return the new token."""
    name = clean_name(name)
    department = department_store.by_name(db, consultation["id"], name)
    if department is None:
        raise RosterError(N_("“%(name)s” is not on the roster."), name=name)
    token = new_link_token()
    audit = audit_store.event(actor, "department.new_link", consultation["id"], after={"name": name}, at=utc_now_text())
    department_store.replace_token(db, department["id"], token_hash(token), audit)
    return token


def reply_state(row: dict) -> dict:
    """A department's reply as the roster and its own page both say it (issue #12: they never
    disagree): `status` (comments win over 无修改意见, which is refused after comments anyway)
    and `replied_at`. `row` has `comments`, `last_comment_at` and `no_comment_at`."""
    if row["comments"]:
        row["status"], row["replied_at"] = REPLIED, row["last_comment_at"]
    elif row["no_comment_at"]:
        row["status"], row["replied_at"] = NO_CHANGES, row["no_comment_at"]
    else:
        row["status"], row["replied_at"] = NOT_REPLIED, None
    return row


def status(db: Database, consultation: dict) -> list[dict]:
    """Every department with its reply status and when it replied."""
    return [reply_state(row) for row in department_store.roster(db, consultation["id"])]


def reply_of(db: Database, department: dict) -> dict:
    """One department's reply state (for its own page), computed as on the roster."""
    return reply_state(department_store.reply(db, department["id"]))


# --- a department's own comments (issue #12): read, correct, withdraw until the window closes ---

def own_comments(db: Database, department: dict) -> list[dict]:
    """The department's comments in this round, newest first, with its 经办人 and phone."""
    return department_store.own_comments(db, department["id"])


def _changeable(db: Database, consultation: dict, department: dict, comment_id: int, now=None) -> dict:
    """The department's own comment, if it may still be changed; else Refused with the reason."""
    from revise.commenting import Refused, require_open

    comment = department_store.own_comment(db, department["id"], comment_id)
    if comment is None or comment["consultation_id"] != consultation["id"]:
        raise Refused(404, N_("This is not one of your department's comments."))
    try:
        require_open(consultation, now or utc_now())
    except Refused:
        raise Refused(403, N_("The comment period has ended: comments can no longer be corrected or withdrawn.")) from None
    if comment["round_id"] != consultation.get("round_id"):
        raise Refused(403, N_("This comment belongs to an earlier round of consultation: it can no longer be changed."))
    if comment["disposition"] not in (None, "pending"):
        raise Refused(409, N_("The drafting office has already decided on this comment: it can no longer be "
                              "changed here. Contact the office if it must be."))
    return comment


def own_comment(db: Database, consultation: dict, department: dict, comment_id: int) -> tuple[dict, str | None]:
    """(the comment, None) while it may be corrected or withdrawn, else (the comment, why not: a
    msgid); commenting.Refused (404) when it is not the department's."""
    from revise.commenting import Refused

    try:
        return _changeable(db, consultation, department, comment_id), None
    except Refused as refused:
        if refused.status == 404:
            raise
        return department_store.own_comment(db, department["id"], comment_id), refused.message


def correct(db: Database, consultation: dict, department: dict, comment_id: int, values: dict, block: dict | None,
            now=None) -> dict:
    """Store the corrected comment (values from comment_form.validate(..., department=True)); audited
    with the text before and after. Raises commenting.Refused when it may no longer be changed."""
    comment = _changeable(db, consultation, department, comment_id, now)
    fields = ("kind", "body", "suggestion", "quote", "quote_start", "officer_name", "officer_phone")
    changed = {k: (values[k] or None) if k == "quote" else values[k] for k in fields
               if ((values[k] or None) if k == "quote" else values[k]) != comment[k]}
    if changed.keys() & {"quote", "quote_start"}:  # a new quote is anchored where it was written
        quote = changed.get("quote", comment["quote"])
        changed.update(anchor_start=values["quote_start"] if quote else None,
                       anchor_rev=comment["block_rev"] if quote else None,
                       anchor_state="ok" if quote and values["quote_start"] is not None else None)
    if changed:
        at = to_text(now or utc_now())
        audit = audit_store.event(f"department:{department['id']}", "comment.correct", consultation["id"],
                                  {k: comment.get(k) for k in changed if k in comment},
                                  {k: v for k, v in changed.items() if k in comment}, at=at)
        department_store.correct_comment(db, comment_id, changed, audit)
    return dict(comment, **changed)


def withdraw(db: Database, consultation: dict, department: dict, comment_id: int, now=None) -> None:
    """Withdraw one of the department's comments (it is deleted; the audit event keeps what it said)."""
    comment = _changeable(db, consultation, department, comment_id, now)
    department_store.withdraw_comments(db, department["id"], [comment_id],
                                       [_withdrawal(consultation, department, comment, now)])


def _withdrawal(consultation: dict, department: dict, comment: dict, now=None) -> dict:
    kept = {k: comment[k] for k in ("id", "block_id", "kind", "body", "suggestion", "receipt", "created_at")}
    event = audit_store.event(f"department:{department['id']}", "comment.withdraw", consultation["id"], kept,
                              at=to_text(now or utc_now()))
    return dict(event, subject=f"comment:{comment['id']}")


def file_no_changes(db: Database, consultation: dict, department: dict, *, withdraw_comments: bool = False,
                    now=None) -> bool:
    """Reply 无修改意见 (inside the window). After comments it is refused with the reason, unless
    the department confirmed that its comments of this round are withdrawn with it (one
    transaction). False if it was already filed."""
    from revise.commenting import Refused, require_open

    now = now or utc_now()
    require_open(consultation, now)
    own = department_store.own_comments(db, department["id"])
    if own and not withdraw_comments:
        raise Refused(409, N_("Your department has already sent comments, so it cannot also reply “no changes "
                              "proposed”. To reply that instead, withdraw them: tick the box to confirm."))
    decided = [c for c in own if c["disposition"] not in (None, "pending")]
    if decided:
        raise Refused(409, N_("The drafting office has already decided on some of your comments, so they cannot "
                              "be withdrawn and “no changes proposed” cannot be filed. Contact the office."))
    at = to_text(now)
    audit = audit_store.event(f"department:{department['id']}", "department.no_comment", consultation["id"],
                              after={"withdrawn": len(own)} if own else None, at=at)
    events = [_withdrawal(consultation, department, c, now) for c in own]
    return department_store.file_no_comment(db, department["id"], at, audit, ([c["id"] for c in own], events))
