"""Putting a draft out for comment: import a .docx as a new consultation. No HTTP here."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

from sqlite_utils import Database

from revise import docx_import, docx_sanitize
from revise import notice as notice_rules
from revise.attachments import clean_name as clean_file_name
from revise.i18n import N_
from revise.settings import DEFAULT_DRAFT, DEFAULT_NOTICE, Settings
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import writing
from revise.textclean import clean_name, clean_text, xml_legal
from revise.timeutil import to_text, utc_now_text
from revise.window import Window, default_window

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class DraftError(Exception):
    """A draft could not be put out for comment; .message is a msgid, .params fill it in."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


def import_draft(
    db: Database,
    data: bytes,
    *,
    filename: str,
    slug: str,
    window: Window,
    settings: Settings,
    title: str = "",
    issuer: str = "",
    notice: str = "",
    contact: str = "",
    published_on: str = "",
    channels: dict | None = None,
) -> int:
    """Import a .docx as a new consultation with its blocks; return its id.

    `channels` is how to comment (revise.notice.FIELDS); without it the fields
    that can be told are read from the contact line.

    Raises DraftError for a bad slug or window, docx_import.ImportRefused for a bad file.
    """
    if not SLUG_RE.match(slug):
        raise DraftError(
            N_("The short name “%(slug)s” may only use lower-case letters, digits and hyphens."),
            slug=slug,
        )
    if window.closes_at <= window.opens_at:
        raise DraftError(N_("The comment window must close after it opens."))
    if consultation_store.slug_taken(db, slug):
        raise DraftError(N_("A consultation named “%(slug)s” already exists."), slug=slug)
    document = docx_import.import_docx(
        data, max_bytes=settings.max_docx_bytes, max_inflated=settings.max_docx_inflated
    )
    # What people typed passes the one text boundary (textclean); the draft's own text keeps
    # what Word allows, which is what XML allows (the parser refuses anything else).
    filename = clean_file_name(filename) or "draft.docx"
    consultation = {
        "slug": slug,
        "title": clean_name(title) or clean_name(document.title) or clean_name(Path(filename).stem),
        "issuer": clean_name(issuer),
        "notice": clean_text(notice),
        "contact": clean_text(contact),
        "published_on": clean_text(published_on, multiline=False),
        "opens_at": to_text(window.opens_at),
        "closes_at": to_text(window.closes_at),
    }
    given = notice_rules.from_contact(consultation["contact"]) if channels is None else channels
    for name in notice_rules.FIELDS:
        consultation[name] = clean_name(given.get(name)) if name != "postal_address" else clean_text(
            given.get(name), multiline=False)
    # BEGIN IMMEDIATE, not db.atomic()'s deferred BEGIN: sqlite-utils reads the schema before its
    # first insert, and a read transaction that then wants to write fails at once ("database is
    # locked", no busy wait) when the comment writer committed in between.
    with writing(db):
        cid = consultation_store.create(db, consultation, filename=filename, data=document.data)
        if document.removed:  # the file as stored lacks what docx_sanitize took out: say what
            before, after = docx_sanitize.audit_values(data, document.removed)
            event = audit_store.event("revise", "document.sanitize", cid, before, after, at=utc_now_text())
            db.table("audit").insert(dict(event, subject=f"consultation:{cid}"))
        block_store.insert_imported(db, cid, [_xml_text(asdict(b)) for b in document.blocks])
    return cid


def _xml_text(block: dict) -> dict:
    """An imported block whose strings hold only what XML allows (they came from XML; this
    guards against a parser that ever let something else through)."""
    for key, value in block.items():
        if isinstance(value, str):
            block[key] = xml_legal(value)
    for cell in block.get("cells") or []:
        if isinstance(cell, dict) and isinstance(cell.get("text"), str):
            cell["text"] = xml_legal(cell["text"])
    return block


def ensure_default(db: Database, settings: Settings, window: Window | None = None) -> int | None:
    """On first start with an empty database, import docs/draft.docx as nanchong-2022.

    Returns the new consultation's id, or None when the database already has consultations.
    """
    if not settings.seed_default or consultation_store.count(db):
        return None
    notice = json.loads(DEFAULT_NOTICE.read_text(encoding="utf-8"))
    return import_draft(
        db,
        DEFAULT_DRAFT.read_bytes(),
        filename=DEFAULT_DRAFT.name,
        slug=notice["slug"],
        window=window or default_window(),
        settings=settings,
        title=notice["title"],
        issuer=notice["issuer"],
        notice=notice["notice"],
        contact=notice["contact"],
        published_on=notice["published_on"],
        channels=notice.get("channels"),
    )


def change_window(db: Database, consultation: dict, window: Window, actor: str) -> None:
    """Set a new comment window; the audit log keeps who, when, and the old and new values."""
    if window.closes_at <= window.opens_at:
        raise DraftError(N_("The comment window must close after it opens."))
    before = {"opens_at": consultation["opens_at"], "closes_at": consultation["closes_at"]}
    after = {"opens_at": to_text(window.opens_at), "closes_at": to_text(window.closes_at)}
    audit = audit_store.event(actor, "window.change", consultation["id"], before, after, at=utc_now_text())
    consultation_store.set_window(db, consultation["id"], after["opens_at"], after["closes_at"], audit)
