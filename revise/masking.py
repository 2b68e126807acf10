"""Personal data inside a published comment's text is masked: phone numbers, e-mails, ID numbers."""

from __future__ import annotations

import re

# 18-digit resident ID (last may be X), 15-digit old form: keep region prefix and last digit.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8,11}([0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}[ \-—–]?)\d{3,4}(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*(@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})")


def mask(text: str | None) -> str:
    """The text as it may be published, with personal numbers and addresses masked.

    The same for a commenter's name as for the body: people type their phone number or e-mail
    into the name field too.
    """
    if not text:
        return ""
    text = _ID_CARD.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 7) + m.group(2), text)
    text = _MOBILE.sub(r"\1****\2", text)
    text = _LANDLINE.sub(r"\1****\2", text)
    return _EMAIL.sub(r"\1***\2", text)
