"""The mailbox becomes comments (issue #14): .eml files or an .mbox, each message one comment.

Each message is a ledger comment on channel "email": the sender's name (contact: the address,
never published), the day it was received (its Date header, in Beijing time), the subject and
the body as text. HTML-only mail is reduced to its text (scripts and styles dropped, nothing of
its markup kept). It waits for moderation and concerns the draft as a whole until an editor
places it on a block; suggest_block() proposes the block sharing the longest run of text with
the message (a reply usually quotes the words it means).

A message is known by its Message-ID (a hash of the message when it has none): importing it
again skips it. Chinese mail is decoded as labelled, except that gb2312 and gbk are read as
gb18030 and big5 as big5hkscs, their supersets: Python's gb2312 codec refuses the characters
that real "gb2312" mail (written by GBK software) carries. Attachments: PDF and images are kept
under attachments.check's rules; a .docx goes through returned_docx when it is the draft;
anything else is listed and refused with its reason.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import hashlib
import mailbox
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from email.message import EmailMessage

import lxml.html
from sqlite_utils import Database

from revise import attachments, comment_form, grouping
from revise.i18n import N_, gettext
from revise.ledger import window_days
from revise.store import attachments as attachment_store
from revise.store import audit as audit_store
from revise.store import comments as comment_store
from revise.store import mail as mail_store
from revise.textclean import clean_name, clean_text
from revise.timeutil import SHANGHAI, to_text, utc_now

CHANNEL = "email"
MAX_MESSAGES = 2000  # one upload; a bigger mailbox is split first
# Labels whose codec is narrower than what mail so labelled really holds.
SUPERSETS = {"gb2312": "gb18030", "gb_2312-80": "gb18030", "euc-cn": "gb18030", "gbk": "gb18030",
             "x-gbk": "gb18030", "cp936": "gb18030", "big5": "big5hkscs", "x-big5": "big5hkscs",
             "cn-big5": "big5hkscs", "cp950": "big5hkscs"}
DROPPED_HTML = ("script", "style", "head", "title", "noscript", "template", "object", "iframe")
BLOCK_HTML = ("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
              "table", "ul", "ol", "section", "article")
MIN_COMMON = 6  # characters a message must share with a block for it to be suggested

REFUSALS = {
    "empty": N_("The message has neither a subject nor any text."),
    "not_mail": N_("The file is not an e-mail message (.eml) or a mailbox (.mbox)."),
    "too_many": N_("The mailbox holds more than %(n)s messages: split it and import the parts."),
    "other_file": N_("Only PDF, PNG or JPEG files are kept with an e-mail; this file was not taken."),
    "docx_later": N_("A Word file is not taken from an e-mail: upload it as a returned draft."),
    "docx_taken": N_("Taken as the returned draft: %(n)s comments created."),
}


class MailRefused(Exception):
    """The upload as a whole cannot be read; .message is a msgid, .params its values."""

    def __init__(self, code: str, **params: object):
        super().__init__(code)
        self.code, self.message, self.params = code, REFUSALS[code], params


@dataclass
class FileOutcome:
    """One attachment of a message: kept, sent on as a returned draft, or refused with a reason."""

    filename: str
    taken: bool
    reason: str = ""  # msgid
    params: dict = field(default_factory=dict)


@dataclass
class MessageOutcome:
    """What became of one message: created (a comment), skipped (seen before) or refused."""

    status: str  # created | skipped | refused
    subject: str
    sender: str
    message_id: str
    received_on: str = ""
    comment: dict | None = None
    reason: str = ""
    suggested_block: dict | None = None
    files: list[FileOutcome] = field(default_factory=list)


# --- reading messages ---

def read_messages(data: bytes, filename: str = "") -> list[EmailMessage]:
    """The messages of an .eml file or an .mbox (told apart by the mbox "From " line)."""
    if not data.strip():
        raise MailRefused("not_mail")
    if data.startswith(b"From ") or filename.lower().endswith(".mbox"):
        messages = _mbox(data)
    else:
        messages = [email.message_from_bytes(data, policy=email.policy.default)]
    messages = [m for m in messages if m.keys()]
    if not messages:
        raise MailRefused("not_mail")
    if len(messages) > MAX_MESSAGES:
        raise MailRefused("too_many", n=MAX_MESSAGES)
    return messages


def _mbox(data: bytes) -> list[EmailMessage]:
    handle, path = tempfile.mkstemp(suffix=".mbox")  # mailbox reads files only
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        box = mailbox.mbox(path, factory=None, create=False)
        try:
            return [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
                    for key in box.keys()]
        finally:
            box.close()
    finally:
        os.unlink(path)


def _codec(charset: str | None) -> str:
    name = (charset or "utf-8").strip().lower()
    name = SUPERSETS.get(name, name)
    try:
        "".encode(name)
    except LookupError:
        return "utf-8"
    return name


def decode_header(raw: str | None) -> str:
    """An RFC 2047 header as text, with the Chinese supersets above."""
    if not raw:
        return ""
    raw = re.sub(r"\r?\n[ \t]", " ", str(raw))  # unfolded
    if re.search("[\udc80-\udcff]", raw):  # raw 8-bit text, against the RFC: UTF-8, else GB
        octets = raw.encode("utf-8", "surrogateescape")
        try:
            raw = octets.decode("utf-8")
        except UnicodeDecodeError:
            raw = octets.decode("gb18030", errors="replace")
    parts = []
    for chunk, charset in email.header.decode_header(str(raw)):
        if isinstance(chunk, bytes):
            parts.append(chunk.decode(_codec(charset), errors="replace"))
        else:
            parts.append(chunk)
    return "".join(parts)


def _raw(message: EmailMessage, name: str) -> str | None:
    """A header as it was written (policy.default would decode gb2312 strictly)."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def part_text(part: EmailMessage) -> str:
    """A text part's content, decoded by its (superset) charset."""
    payload = part.get_payload(decode=True) or b""
    return payload.decode(_codec(part.get_content_charset()), errors="replace")


def html_text(html: str) -> str:
    """The text a reader sees in an HTML mail: no script, style or markup, lines kept."""
    if not html.strip():
        return ""
    try:
        doc = lxml.html.document_fromstring(html)
    except Exception:  # lxml refuses some broken documents: then the tags are simply removed
        return re.sub(r"<[^>]*>", " ", html)
    for el in list(doc.iter(*DROPPED_HTML)):
        el.drop_tree()
    for el in doc.iter("br"):
        el.tail = "\n" + (el.tail or "")
    for el in doc.iter(*BLOCK_HTML):
        el.tail = "\n" + (el.tail or "")
    return doc.text_content()


def body_text(message: EmailMessage) -> str:
    """The message's text: its plain part, else its HTML part reduced to text."""
    plain = html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part_text(part)
        elif kind == "text/html" and html is None:
            html = part_text(part)
    text = plain if plain is not None and plain.strip() else html_text(html or "")
    lines = [line.rstrip() for line in clean_text(text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def message_id(message: EmailMessage) -> str:
    """The Message-ID, or a stand-in made from the message's bytes when it has none."""
    found = (_raw(message, "Message-ID") or "").strip()
    if found:
        return clean_name(found)[:300]
    return "<sha256:" + hashlib.sha256(message.as_bytes()).hexdigest() + ">"


def sender(message: EmailMessage) -> tuple[str, str]:
    """(display name, address) of the From header."""
    name, address = email.utils.parseaddr(_raw(message, "From") or "")
    name = clean_name(decode_header(name))
    return name[:comment_form.NAME_MAX], clean_name(address)[:comment_form.CONTACT_MAX]


def received(message: EmailMessage) -> datetime:
    """When it was sent by its Date header (the import time when it has none)."""
    try:
        when = email.utils.parsedate_to_datetime(_raw(message, "Date") or "")
    except (TypeError, ValueError, IndexError):
        return utc_now()
    if when is None:
        return utc_now()
    if when.tzinfo is None:  # no zone written: mail to a Chinese office is in Beijing time
        when = when.replace(tzinfo=SHANGHAI)
    return when


def suggest_block(text: str, blocks: list[dict]) -> dict | None:
    """The block sharing the longest run of characters with the message, if long enough."""
    best, best_size = None, MIN_COMMON - 1
    text = text[:20000]
    for block in blocks:
        own = block.get("text") or ""
        if len(own) <= best_size:
            continue
        match = SequenceMatcher(None, own, text, autojunk=False).find_longest_match(
            0, len(own), 0, len(text))
        if match.size > best_size:
            best, best_size = block, match.size
    return best


# --- storing them ---

def import_mail(db: Database, consultation: dict, data: bytes, filename: str, actor: str, *,
                blocks: list[dict], attachment_limit: int, locale: str = "zh_CN",
                returned=None) -> list[MessageOutcome]:
    """Each message of the upload as a comment (or skipped, or refused), in the file's order.

    returned(filename, data, sender) is called for a .docx attachment; it answers
    (taken, msgid, params). Without it a Word file is listed as not taken.
    """
    outcomes = []
    for message in read_messages(data, filename):
        outcomes.append(_one(db, consultation, message, actor, blocks, attachment_limit, locale,
                             returned))
    return outcomes


def _one(db: Database, consultation: dict, message: EmailMessage, actor: str, blocks: list[dict],
         limit: int, locale: str, returned) -> MessageOutcome:
    subject = clean_text(decode_header(_raw(message, "Subject")), multiline=False)
    name, address = sender(message)
    mid = message_id(message)
    day = received(message).astimezone(SHANGHAI).date()
    outcome = MessageOutcome("created", subject, name or address, mid, day.isoformat())
    if mail_store.seen(db, consultation["id"], mid):
        outcome.status = "skipped"
        return outcome
    text = body_text(message)
    kept, docs = [], []
    for part in message.iter_attachments():
        _attachment(part, limit, outcome, kept, docs)
    if not subject and not text and not kept:
        outcome.status, outcome.reason = "refused", REFUSALS["empty"]
        return outcome
    body = "\n\n".join(t for t in (subject, text) if t)
    if len(body) > comment_form.SUGGESTION_MAX:  # a very long message is kept to a generous length
        body = body[:comment_form.SUGGESTION_MAX] + "…"
    outcome.suggested_block = suggest_block(text, blocks)
    opens, last = window_days(consultation)
    late = None if opens <= day <= last else gettext(
        N_("Imported from the mailbox: received outside the comment period."), locale)
    at = to_text(utc_now())
    row = {
        "consultation_id": consultation["id"], "block_id": None, "block_rev": None,
        "kind": "remark", "source": "public", "department_id": None,
        "name": name, "contact": address, "body": body or subject, "suggestion": "",
        "quote": None, "quote_start": None, "status": "pending", "created_at": at,
        "form_token": "mail:" + hashlib.sha256(f"{consultation['id']}\n{mid}".encode()).hexdigest(),
        "channel": CHANNEL, "received_on": day.isoformat(), "late_reason": late,
        "entered_by": actor, "message_id": mid,
    }
    place = grouping.placer(row)
    audit = audit_store.event(actor, "comment.mail", consultation["id"], at=at, after={
        "message_id": mid, "received_on": day.isoformat(),
        "attachments": [a.sha256 for a in kept],
        "refused": [f.filename for f in outcome.files if not f.taken]})

    def with_the_rest(db: Database, comment: dict) -> None:
        for attachment in kept:
            attachment_store.add(db, comment["id"], attachment.row(), at)
        db.table("audit").insert(dict(audit, subject=f"comment:{comment['id']}"))
        place(db, comment)

    comment, created = comment_store.insert_once(db, row, then=with_the_rest)
    outcome.comment = comment
    if not created:
        outcome.status = "skipped"
        return outcome
    for docx_name, docx_data in docs:
        _returned(docx_name, docx_data, name or address, outcome, returned)
    return outcome


def returned_drafts(db: Database, consultation: dict, actor: str):
    """The returned(filename, data, sender) for import_mail: a .docx that is the draft becomes
    comments through returned_docx (all of them: the editor drops any later, in the queue)."""
    from revise import returned_docx
    from revise.docx_import import ImportRefused
    from revise.store import blocks as block_store

    def take(filename: str, data: bytes, who: str) -> tuple[bool, str, dict]:
        blocks = block_store.of_consultation(db, consultation["id"], include_deleted=True)
        try:
            result = returned_docx.propose(data, filename, blocks, sender=who)
        except (ImportRefused, returned_docx.ReturnRefused) as refused:
            return False, refused.message, getattr(refused, "params", {})
        created, new = returned_docx.store(db, consultation, result, set(), actor, channel=CHANNEL)
        if not new:
            return False, returned_docx.REFUSALS["seen"], {}
        return True, REFUSALS["docx_taken"], {"n": len(created)}

    return take


def _attachment(part: EmailMessage, limit: int, outcome: MessageOutcome, kept: list,
                docs: list) -> None:
    filename = attachments.clean_name(decode_header(part.get_filename() or "")) or "?"
    data = part.get_payload(decode=True) or b""
    if filename.lower().endswith(".docx") or (data.startswith(b"PK") and b"word/" in data[:4096]):
        docs.append((filename, data))
        return
    if attachments.sniff(data) is None:
        outcome.files.append(FileOutcome(filename, False, REFUSALS["other_file"]))
        return
    try:
        kept.append(attachments.check(filename, data, limit))
        outcome.files.append(FileOutcome(filename, True))
    except attachments.AttachmentRefused as refused:
        outcome.files.append(FileOutcome(filename, False, refused.message, refused.params))


def _returned(filename: str, data: bytes, who: str, outcome: MessageOutcome, returned) -> None:
    if returned is None:
        outcome.files.append(FileOutcome(filename, False, REFUSALS["docx_later"]))
        return
    taken, reason, params = returned(filename, data, who)
    outcome.files.append(FileOutcome(filename, taken, reason, params or {}))
