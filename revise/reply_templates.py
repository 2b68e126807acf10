"""常用答复: reasons editors reuse when deciding comments, kept per consultation (issue #13).

A template belongs to one disposition; its text may ask for the paragraph's section with a
placeholder ({章节} or {section}), replaced by the section heading's label and title (一、发展基础)
when the template is offered for a comment. Every change is audited. No HTTP here.
"""

from __future__ import annotations

from sqlite_utils import Database

from revise.i18n import DEFAULT_LOCALE, N_, gettext
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import reply_templates as store
from revise.textclean import clean_text
from revise.timeutil import utc_now_text
from revise.triage import DISPOSITIONS, PENDING, REASON_MAX

KINDS = [d for d in DISPOSITIONS if d != PENDING]  # a template answers a decision, never "to be decided"
PLACEHOLDERS = ("{章节}", "{section}")
TITLE_MAX = 40

# Offered when a consultation has none yet (msgids in English, stored in the office's language).
DEFAULTS = {
    "adopted": [N_("Adopted: {section} has been revised accordingly."),
                N_("Adopted.")],
    "partly": [N_("Partly adopted: the wording of {section} has been adjusted; the rest is kept so that the plan "
                  "stays consistent as a whole."),
               N_("Partly adopted: the specific targets will be set out in the implementation rules.")],
    "rejected": [N_("Not adopted: the suggestion goes beyond the scope of this plan."),
                 N_("Not adopted: it does not agree with the higher-level plan."),
                 N_("Not adopted: the matter is already governed by other rules.")],
    "reflected": [N_("Already reflected in {section}."),
                  N_("Already reflected elsewhere in the plan.")],
}


class TemplateError(Exception):
    """A template that cannot be saved; .field names the form field, .message is a msgid."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def of_consultation(db: Database, cid: int) -> dict[str, list[dict]]:
    """The templates by disposition, in their order (every decided disposition has a list)."""
    found: dict[str, list[dict]] = {k: [] for k in KINDS}
    for row in store.of_consultation(db, cid):
        found.setdefault(row["disposition"], []).append(row)
    return found


def fill(body: str, section: str) -> str:
    """The template's text with the section put where it asks for it."""
    for mark in PLACEHOLDERS:
        body = body.replace(mark, section)
    return body


def section_label(db: Database, cid: int, block: dict | None, locale: str = DEFAULT_LOCALE) -> str:
    """The paragraph's section as a reader names it: its nearest heading's label and title
    (一、发展基础); a heading is its own section; the draft as a whole is "the plan"."""
    if block is None:
        return gettext("the plan", locale)
    heading = block if block["kind"] == "heading" else None
    if heading is None and block.get("outline"):
        heading = block_store.get(db, cid, block["outline"][-1])
    if heading is None:
        return gettext("the plan", locale)
    return (heading["label"] or "") + (heading["title"] or heading["text"] or "")


def _values(form: dict) -> dict:
    disposition = form.get("disposition") if isinstance(form.get("disposition"), str) else ""
    if disposition not in KINDS:
        raise TemplateError("disposition", N_("Choose the disposition this reply is for."))
    body = clean_text(form.get("body") or "") if isinstance(form.get("body"), str) else ""
    if not body.strip():
        raise TemplateError("body", N_("Write the reply's text."))
    if len(body) > REASON_MAX:
        raise TemplateError("body", N_("The reason is too long (at most 2,000 characters)."))
    title = clean_text(form.get("title") or "", multiline=False) if isinstance(form.get("title"), str) else ""
    if len(title) > TITLE_MAX:
        raise TemplateError("title", N_("The short name is too long (at most 40 characters)."))
    raw = form.get("position")
    position = int(raw) if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 4 else None
    if raw not in (None, "") and position is None:
        raise TemplateError("position", N_("The order is a whole number from 0 to 999."))
    return {"disposition": disposition, "title": title.strip(), "body": body.strip(), "position": position}


def create(db: Database, consultation: dict, form: dict, actor: str) -> int:
    values = _values(form)
    if values["position"] is None:  # after the others of its disposition
        values["position"] = len(of_consultation(db, consultation["id"]).get(values["disposition"], [])) + 1
    return _insert(db, consultation, [values], actor)[0]


def _insert(db: Database, consultation: dict, rows: list[dict], actor: str) -> list[int]:
    at = utc_now_text()
    full = [{"consultation_id": consultation["id"], **row, "created_by": actor, "created_at": at, "updated_at": at}
            for row in rows]
    audits = [audit_store.event(actor, "reply_template.create", consultation["id"], None,
                                {k: row[k] for k in ("disposition", "title", "body")}, at=at) for row in rows]
    return store.create(db, full, audits)


def update(db: Database, consultation: dict, template_id: int, form: dict, actor: str) -> bool:
    before = store.get(db, consultation["id"], template_id)
    if before is None:
        return False
    values = _values(form)
    if values["position"] is None:
        values["position"] = before["position"]
    at = utc_now_text()
    audit = audit_store.event(actor, "reply_template.update", consultation["id"],
                              {k: before[k] for k in ("disposition", "title", "body")},
                              {k: values[k] for k in ("disposition", "title", "body")}, at=at)
    return store.update(db, consultation["id"], template_id, {**values, "updated_at": at}, audit)


def delete(db: Database, consultation: dict, template_id: int, actor: str) -> bool:
    before = store.get(db, consultation["id"], template_id)
    if before is None:
        return False
    audit = audit_store.event(actor, "reply_template.delete", consultation["id"],
                              {k: before[k] for k in ("disposition", "title", "body")}, None, at=utc_now_text())
    return store.delete(db, consultation["id"], template_id, audit)


def add_defaults(db: Database, consultation: dict, actor: str, locale: str = DEFAULT_LOCALE) -> int:
    """Add the suggested replies (in the editor's language); only when the consultation has none."""
    if store.count(db, consultation["id"]):
        return 0
    rows = []
    for disposition, bodies in DEFAULTS.items():
        for n, body in enumerate(bodies, start=1):
            text = gettext(body, locale)
            rows.append({"disposition": disposition, "title": "", "body": text, "position": n})
    return len(_insert(db, consultation, rows, actor))
