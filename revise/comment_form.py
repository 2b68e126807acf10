"""The comment form: one function that cleans and validates it, returning (values, errors).

The cleaning itself is textclean's, the one text boundary of revise (issue #10).
"""

from __future__ import annotations

import re

from revise.i18n import N_
from revise.table_cards import row_texts
from revise.textclean import clean_name, clean_text

KINDS = {
    "edit": N_("Change the wording"),
    "delete": N_("Delete this"),
    "insert": N_("Add a paragraph after this"),
    "remark": N_("General remark"),
}
KIND_SHORT = {"edit": N_("edit"), "delete": N_("delete"), "insert": N_("add"), "remark": N_("remark")}
BODY_MAX = 5000
NAME_MAX = 50
CONTACT_MAX = 100
SUGGESTION_MAX = 20000
QUOTE_MAX = 500

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# Mobile 13800138000 (+86 allowed), or a landline with area code: 0817-2223280, 0817—2223280.
PHONE_RE = re.compile(r"^(?:\+?86[ -]?)?(?:1[3-9]\d{9}|0\d{2,3}[ \-—–]?\d{7,8}(?:[ \-—–]?\d{1,5})?)$")


def validate(form: dict, block: dict | None, *, department: bool = False) -> tuple[dict, dict]:
    """Clean the submitted fields; errors map a field name to a msgid shown next to it.

    `block` is the block commented on (None for a remark on the whole draft). A department's
    reply (`department`) names its 经办人 and 联系电话 (issue #12): editors see them, the public never.
    """
    table_row = block is not None and block["kind"] == "table_row"
    values = {
        "kind": clean_text(form.get("kind")) or ("remark" if block is None else "edit"),  # one of KINDS
        "name": clean_name(form.get("name")),
        "contact": clean_name(form.get("contact")),
        "body": clean_text(form.get("body")),
        # A row's text is its cells joined by tabs: an empty first or last cell is a leading or
        # trailing tab that must survive the trimming.
        "suggestion": clean_text(form.get("suggestion"), strip=False).strip(" \n\u3000" if table_row else None),
        "quote": clean_text(form.get("quote")),
    }
    if table_row and "cell-0" in form:  # one input per cell (issue #16): stored as the cells joined by tabs
        # (a cell's own line breaks stay: a multi-line cell has a textarea; a tab would split the cell)
        cells = [clean_text(form.get(f"cell-{i}")).replace("\t", " ") for i in range(len(row_texts(block)))]
        values["suggestion"] = "\t".join(cells)
    errors: dict[str, str] = {}
    if values["kind"] not in KINDS or (block is None and values["kind"] != "remark"):
        errors["kind"] = N_("Choose what kind of comment this is.")
        values["kind"] = "remark" if block is None else "edit"
    if len(values["name"]) > NAME_MAX:
        errors["name"] = N_("The name is too long (at most 50 characters).")
    contact = values["contact"]
    if contact and not (
        len(contact) <= CONTACT_MAX and (EMAIL_RE.match(contact) or PHONE_RE.match(contact))
    ):
        errors["contact"] = N_("Enter a phone number (e.g. 13800138000 or 0817-2223280) or an e-mail address, or leave it empty.")
    if department:
        values["officer_name"] = clean_name(form.get("officer_name"))
        values["officer_phone"] = clean_name(form.get("officer_phone"))
        if not values["officer_name"]:
            errors["officer_name"] = N_("Name the officer handling this reply (经办人).")
        elif len(values["officer_name"]) > NAME_MAX:
            errors["officer_name"] = N_("The name is too long (at most 50 characters).")
        if not values["officer_phone"]:
            errors["officer_phone"] = N_("Give the officer's phone number (联系电话), e.g. 0817-2223280.")
        elif not PHONE_RE.match(values["officer_phone"]):  # (the pattern bounds its length)
            errors["officer_phone"] = N_("Enter a phone number, e.g. 0817-2223280 or 13800138000.")
    if not values["body"]:
        errors["body"] = N_("Write your comment.")
    elif len(values["body"]) > BODY_MAX:
        errors["body"] = N_("The comment is too long (at most 5,000 characters).")
    if "kind" in errors:
        pass  # which other fields are needed depends on the kind: ask for the kind first
    elif values["kind"] in ("edit", "insert"):
        if not values["suggestion"]:
            errors["suggestion"] = N_("Write the wording you propose.")
        elif len(values["suggestion"]) > SUGGESTION_MAX:
            errors["suggestion"] = N_("The proposed wording is too long.")
        elif block and values["suggestion"] == block["text"]:
            errors["suggestion"] = N_("The proposed wording is the same as the current text.")
    else:
        values["suggestion"] = ""
    values["quote_start"] = None
    if values["quote"]:
        where = block["text"].find(values["quote"]) if block else -1
        if len(values["quote"]) > QUOTE_MAX:
            errors["quote"] = N_("The quoted phrase is too long (at most 500 characters).")
        elif where < 0:
            errors["quote"] = N_("The quoted words are not in this paragraph: copy them exactly, or leave the field empty.")
        else:
            values["quote_start"] = where
    return values, errors
