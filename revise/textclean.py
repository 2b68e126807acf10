"""One text boundary: every string a person types or uploads is cleaned here before it is stored.

Issue #10: one anonymous comment holding U+FFFE, or an editor's edit holding the vertical tab
Word puts on the clipboard for a soft line break, made every export fail from then on (XML 1.0
forbids them, and python-docx, lxml and openpyxl refuse them). So the domain layer passes every
stored string through clean_text (or clean_name for what names someone or something):

- line ends become "\\n": CR LF, CR, NEL, the line and paragraph separators, and the vertical
  tab and form feed (a soft line break and a page break typed by hand are still a line break);
- other C0 and C1 control characters, lone surrogates and the 66 noncharacters (U+FDD0–U+FDEF
  and the last two code points of every plane, U+FFFE and U+FFFF among them) are dropped, and
  so is U+FEFF (a byte order mark pasted at the start, never meant as text);
- then NFC, so the same words typed on two systems are the same string.

Names (of commenters, accounts, departments, files; titles) also lose the bidirectional
controls and zero-width characters: there they only serve to disguise, e.g. a file named
"gpj.exe" shown as "exe.jpg", or two names that look alike but differ.

xml_legal is the second line of defence, used where text is written into XML: it drops what
XML 1.0 forbids, so that text which reached the database past clean_text still exports.
"""

from __future__ import annotations

import re
import unicodedata

_PLANES = "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(1, 17))
# Line breaks other than "\n": what a person meant as a new line.
_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# Dropped from all text: controls but tab and newline, surrogates, noncharacters, U+FEFF.
_DROP = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufeff\ufffe\uffff"
    + _PLANES + "]"
)
# Any character the two above could concern (every astral one too): most text has none, and
# one search is much faster than the two substitutions (which walk a long character class).
_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufdd0-\ufdef\ufeff\ufffe\uffff"
                      "\U00010000-\U0010ffff]")
# Dropped from names besides: bidi marks, embeddings, overrides and isolates; zero-width
# characters and the other invisible format characters of U+2060–U+206F; soft hyphen.
_DISGUISE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f]")
# What XML 1.0 allows: tab, LF, CR and U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF.
_XML_BREAKS = re.compile("\r\n|[\r\x0b\x0c]")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(value: object, *, multiline: bool = True, strip: bool = True) -> str:
    """Text as it may be stored: line ends as "\\n", no control characters but tab and newline,
    no noncharacters or lone surrogates, NFC. Not a string: "".

    multiline=False: a one-line field (a title, an issuer), where a line break or tab is a space.
    strip: trim outer white space (an editor's text keeps it: an empty first cell is a tab).
    """
    if not isinstance(value, str):
        return ""
    text = _DROP.sub("", _BREAKS.sub("\n", value)) if _SUSPECT.search(value) else value
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text.strip() if strip else text


def clean_name(value: object) -> str:
    """A name (of a person, a department, an account, a file) or a title: one line, clean, without
    the invisible characters that disguise text, white space runs as one space."""
    text = _DISGUISE.sub("", clean_text(value, multiline=False, strip=False))
    return " ".join(text.split())


def xml_legal(value: object) -> str:
    """The text without the characters XML 1.0 forbids (for text written into .docx / .xlsx)."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    return _XML_ILLEGAL.sub("", value)


def xml_text(value: object) -> str:
    """Text for a part of a .docx or .xlsx: a vertical tab or form feed (or CR) as the line break
    it stands for, and nothing that XML 1.0 forbids."""
    return xml_legal(_XML_BREAKS.sub("\n", value) if isinstance(value, str) else value)


def is_xml_legal(value: str) -> bool:
    """Whether the text can be written into XML as it is."""
    return _XML_ILLEGAL.search(value) is None
