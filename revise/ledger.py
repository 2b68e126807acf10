"""Every channel in one ledger: comments that arrived by letter, the 12345 hotline, a meeting or
e-mail, entered by an editor and then triaged, reported and exported like those from the web.

validate() cleans the entry form into (values, errors) like comment_form.validate, whose rules
for the kind, body, proposed wording, name and contact it reuses; enter_comment() records one.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from sqlite_utils import Database

from revise import comment_form, grouping
from revise.attachments import Attachment
from revise.i18n import N_
from revise.store import attachments as attachment_store
from revise.store import audit as audit_store
from revise.store import comments as comment_store
from revise.textclean import clean_name, clean_text
from revise.timeutil import SHANGHAI, from_text, to_text, utc_now

WEB = "web"
# The channels an editor enters comments from, in the order the form offers them.
ENTERED = {
    "letter": N_("Letter"),
    "hotline": N_("12345 hotline"),
    "meeting": N_("Meeting"),
    "email": N_("E-mail"),
    "other": N_("Other channel"),
}
CHANNELS = {WEB: N_("Website"), **ENTERED}
REASON_MAX = 500
BLOCKS_MAX = 50  # one letter about more paragraphs than this is about the draft as a whole


def window_days(consultation: dict) -> tuple[date, date]:
    """The first and last calendar day (Beijing time) of the comment window; closes_at is exclusive."""
    opens = from_text(consultation["opens_at"]).astimezone(SHANGHAI).date()
    last = (from_text(consultation["closes_at"]) - timedelta(seconds=1)).astimezone(SHANGHAI).date()
    return opens, last


def validate(form: dict, consultation: dict, blocks: list[dict], roster: list[dict],
             today: date | None = None) -> tuple[dict, dict]:
    """Clean the entry form; errors map a field to a msgid (or (msgid, params)) shown next to it.

    `form["blocks"]` is the list of chosen block ids; `blocks` the draft's current blocks and
    `roster` its departments, to check the choices against.
    """
    today = today or utc_now().astimezone(SHANGHAI).date()
    errors: dict[str, object] = {}
    channel = clean_text(form.get("channel"), multiline=False)
    if channel not in ENTERED:
        errors["channel"] = N_("Choose how the comment arrived.")
    chosen, blocks_error = _blocks(form.get("blocks") or [], blocks)
    if blocks_error:
        errors["blocks"] = blocks_error
    department, name = _sender(form, roster, errors)
    first = chosen[0] if chosen else None
    values, form_errors = comment_form.validate(
        {"kind": form.get("kind"), "name": name, "contact": form.get("contact"), "body": form.get("body"),
         "suggestion": form.get("suggestion"), "quote": ""}, first)
    if not chosen and "kind" in form_errors and form.get("kind") in comment_form.KINDS:
        # A change without a paragraph: the paragraph is missing (or wrongly chosen), not the kind.
        values["kind"] = form["kind"]
        del form_errors["kind"]
        if not blocks_error:
            form_errors["kind"] = N_("Choose the paragraph it concerns: only a general remark can be about the draft as a whole.")
    errors.update(form_errors)
    received_on, late_reason = _received(form, consultation, today, errors)
    values.update(channel=channel, blocks=chosen, block_ids=[b["id"] for b in chosen], department=department,
                  department_id=department["id"] if department else None, received_on=received_on,
                  late_reason=late_reason, sender_name=clean_name(form.get("name")))
    return values, errors


def _blocks(raw: list, blocks: list[dict]) -> tuple[list[dict], str | None]:
    """The chosen blocks in the draft's order (the first is the comment's own block)."""
    by_id = {str(b["id"]): b for b in blocks}
    picked = [v for v in dict.fromkeys(raw) if isinstance(v, str) and v]
    if len(picked) > BLOCKS_MAX:
        return [], N_("Choose at most 50 paragraphs, or none for the draft as a whole.")
    if any(v not in by_id for v in picked):
        return [], N_("A chosen paragraph is not part of the draft.")
    return sorted((by_id[v] for v in picked), key=lambda b: b["position"]), None


def _sender(form: dict, roster: list[dict], errors: dict) -> tuple[dict | None, str]:
    """A department on the roster (chosen, or typed by its exact name), else the typed name."""
    picked = clean_text(form.get("department"), multiline=False)
    name = clean_name(form.get("name"))
    by_id = {str(d["id"]): d for d in roster}
    if picked:
        if picked not in by_id:
            errors["department"] = N_("This department is not on the roster.")
            return None, name
        if name and name != by_id[picked]["name"]:
            errors["name"] = N_("Choose a department from the roster or type a name, not both.")
        return by_id[picked], ""
    by_name = {d["name"]: d for d in roster}
    if name in by_name:  # typed rather than chosen: it is still the roster's department
        return by_name[name], ""
    return None, name


def _received(form: dict, consultation: dict, today: date, errors: dict) -> tuple[str, str | None]:
    """The date received (YYYY-MM-DD) and, when it is outside the window, the required reason."""
    text = clean_text(form.get("received_on"), multiline=False)
    reason = clean_text(form.get("late_reason"))
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors["received_on"] = N_("Enter the date it was received, e.g. 2024-03-01.")
        return text, reason or None
    if day > today:
        errors["received_on"] = N_("The date received cannot be in the future.")
    opens, last = window_days(consultation)
    if opens <= day <= last:
        return day.isoformat(), None  # inside the window: no reason to record
    if not reason:
        errors["late_reason"] = (N_("It was received outside the comment period (%(opens)s to %(closes)s): give the reason it is taken."),
                                 {"opens": opens.isoformat(), "closes": last.isoformat()})
    elif len(reason) > REASON_MAX:
        errors["late_reason"] = N_("The reason is too long (at most 500 characters).")
    return day.isoformat(), reason or None


def enter_comment(db: Database, consultation: dict, values: dict, attachment: Attachment | None, actor: str,
                  *, form_token: str | None = None, now: datetime | None = None) -> tuple[dict, bool]:
    """Record a validated entry with its blocks, attachment and audit event in one transaction.

    It waits for moderation (status pending) like a department's comment: a letter is not put on
    the public page until an editor publishes it. A reused form token returns the first entry.
    """
    at = to_text(now or utc_now())
    department, chosen = values["department"], values["blocks"]
    first = chosen[0] if chosen else None
    row = {
        "consultation_id": consultation["id"],
        "block_id": first["id"] if first else None,
        "block_rev": first["rev"] if first else None,
        "kind": values["kind"],
        "source": "department" if department else "public",
        "department_id": department["id"] if department else None,
        "name": department["name"] if department else values["name"],
        "contact": values["contact"],
        "body": values["body"],
        "suggestion": values["suggestion"],
        "quote": None,
        "quote_start": None,
        "form_token": form_token or secrets.token_urlsafe(24),
        "status": "pending",
        "created_at": at,
        "channel": values["channel"],
        "received_on": values["received_on"],
        "late_reason": values["late_reason"],
        "entered_by": actor,
    }
    place = grouping.placer(row)
    audit = audit_store.event(actor, "comment.enter", consultation["id"], at=at, after={
        "channel": values["channel"], "received_on": values["received_on"], "late_reason": values["late_reason"],
        "attachment": attachment.sha256 if attachment else None})

    def with_the_rest(db: Database, comment: dict) -> None:
        attachment_store.link_blocks(db, comment["id"], [b["id"] for b in chosen[1:]])
        if attachment is not None:
            attachment_store.add(db, comment["id"], attachment.row(), at)
        db.table("audit").insert(dict(audit, subject=f"comment:{comment['id']}"))
        place(db, comment)

    return comment_store.insert_once(db, row, then=with_the_rest)
