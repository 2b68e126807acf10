"""The notice belongs to the consultation (issue #12): its text and how to comment, as data.

How to comment is structured: on this site (always: its address is the page's), an e-mail
address, a postal address, a fax number, a contact person and phone, the office that takes the
comments. The
comment window is never part of it: the page and the printable notice show the window from
`opens_at`/`closes_at`, so nothing typed here can contradict it — a notice text naming a date
is refused. Administrators edit it (audited). No HTTP here.
"""

from __future__ import annotations

import re

from sqlite_utils import Database

from revise.comment_form import EMAIL_RE, PHONE_RE
from revise.i18n import N_
from revise.store import audit as audit_store
from revise.store import consultations as consultation_store
from revise.textclean import clean_name, clean_text
from revise.timeutil import utc_now_text

# field → (its label, the longest value taken)
FIELDS = {
    "email": (N_("E-mail"), 100),
    "postal_address": (N_("Postal address"), 200),
    "fax": (N_("Fax"), 40),
    "contact_person": (N_("Contact person"), 50),
    "contact_phone": (N_("Phone"), 40),
    "office": (N_("Office taking the comments"), 100),
}
NOTICE_MAX = 5000
# A full date typed into the notice (2022年10月14日, 2022-10-14, 2022/10/14, 10月14日): the window says when.
DATE_RE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*日")
_PERSON_RE = re.compile(r"联系人(?:及电话)?[::]\s*([\u4e00-\u9fff·]{2,8})")
_EMAIL_IN = re.compile(r"[^@\s::,,;;]{1,64}@[^@\s,,;;]+\.[A-Za-z]{2,}")
_PHONE_IN = re.compile(r"(?:\+?86[ -]?)?(?:1[3-9]\d{9}|0\d{2,3}[ \-—–]?\d{7,8})")


class NoticeError(Exception):
    """The notice could not be saved; .errors maps a field to (msgid, params)."""

    def __init__(self, errors: dict):
        super().__init__(", ".join(errors))
        self.errors = errors


def channels(c: dict) -> dict:
    """How to comment on this consultation, as the templates read it: every field, '' when not given."""
    return {field: (c.get(field) or "").strip() for field in FIELDS}


def from_contact(text: str) -> dict:
    """A free-text contact line (联系人及电话:张馨丹 0817—2223280 / 邮箱:…) as fields, where they can be told."""
    email, phone, person = _EMAIL_IN.search(text or ""), _PHONE_IN.search(text or ""), _PERSON_RE.search(text or "")
    return {"email": email.group() if email else "", "contact_phone": phone.group() if phone else "",
            "contact_person": person.group(1) if person else ""}


def contact_line(values: dict) -> str:
    """The one-line contact the footer shows, made from the fields (never typed separately)."""
    return "  ".join(v for v in (values.get("contact_person"), values.get("contact_phone"), values.get("email")) if v)


def validate(form: dict) -> tuple[dict, dict]:
    """Clean the notice form; (values, errors) with errors as field → (msgid, params)."""
    values = {"notice": clean_text(form.get("notice"))[:NOTICE_MAX + 1]}
    for field, (_label, limit) in FIELDS.items():
        values[field] = (clean_text(form.get(field), multiline=False) if field == "postal_address"
                         else clean_name(form.get(field)))
    errors: dict[str, tuple[str, dict]] = {}
    if len(values["notice"]) > NOTICE_MAX:
        errors["notice"] = (N_("The notice is too long (at most 5,000 characters)."), {})
    elif (date := DATE_RE.search(values["notice"])):
        errors["notice"] = (N_("The notice names a date (“%(date)s”). The comment period is shown beside the notice "
                               "from the window itself, so a date typed here could contradict it: take the date out "
                               "and change the period under “Comment period”."), {"date": date.group()})
    for field, (_label, limit) in FIELDS.items():
        if len(values[field]) > limit:
            errors[field] = (N_("Too long: at most %(n)s characters."), {"n": limit})
    if values["email"] and "email" not in errors and not EMAIL_RE.match(values["email"]):
        errors["email"] = (N_("Not an e-mail address (e.g. kjj@example.gov.cn)."), {})
    for field in ("contact_phone", "fax"):
        if values[field] and field not in errors and not PHONE_RE.match(values[field]):
            errors[field] = (N_("Not a phone number (e.g. 0817-2223280 or 13800138000)."), {})
    return values, errors


def save(db: Database, consultation: dict, form: dict, actor: str) -> dict:
    """Validate and store the notice and its channels with an audit event (before and after);
    the saved values. Raises NoticeError with every problem at once."""
    values, errors = validate(form)
    if errors:
        raise NoticeError(errors)
    values["contact"] = contact_line(values)
    before = {k: consultation.get(k) for k in values}
    changed = {k: v for k, v in values.items() if before[k] != v}
    if not changed:
        return values
    audit = audit_store.event(actor, "notice.change", consultation["id"], {k: before[k] for k in changed}, changed,
                              at=utc_now_text())
    consultation_store.set_notice(db, consultation["id"], changed, audit)
    return values
