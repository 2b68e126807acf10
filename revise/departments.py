"""The roster of departments asked to reply, each with its own private link. No HTTP here."""

from __future__ import annotations

from sqlite_utils import Database

from revise.i18n import N_
from revise.security import new_link_token, token_hash
from revise.store import audit as audit_store
from revise.store import departments as department_store
from revise.textclean import clean_name
from revise.timeutil import utc_now_text

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


def status(db: Database, consultation: dict) -> list[dict]:
    """Every department with its reply status and when it replied."""
    rows = department_store.roster(db, consultation["id"])
    for row in rows:
        if row["comments"]:
            row["status"], row["replied_at"] = REPLIED, row["last_comment_at"]
        elif row["no_comment_at"]:
            row["status"], row["replied_at"] = NO_CHANGES, row["no_comment_at"]
        else:
            row["status"], row["replied_at"] = NOT_REPLIED, None
    return rows
