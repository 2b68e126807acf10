"""Migration m006 (issue #10): what earlier versions stored, cleaned as textclean cleans it today.

Before the one text boundary, a comment or an editor's edit could store characters that XML 1.0
forbids (U+FFFE, a vertical tab, NUL…), and every export failed from then on. Each stored
string is cleaned here the way the same field is cleaned today on its way in; rows whose text
does not change are not written. The draft's own text (revision 0, as imported from Word) keeps
what Word allows: only what XML forbids would go, and the XML parser never let that in.

Cleaning can drop characters before a quoted phrase, so the comments' positions in a cleaned
text (quote_start at block_rev, anchor_start at anchor_rev) are carried onto it through the
character diff, as a revision carries them. Updates to comments go through the FTS triggers,
which keep comments_fts in step. The audit log is left as it was: it records what happened.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from revise.textclean import clean_name, clean_text, xml_legal


def _text(value):
    """An editor's or commenter's long text: outer white space kept (a row's empty cells are tabs)."""
    return value if value is None else clean_text(value, strip=False)


def _name(value):
    return value if value is None else clean_name(value)


def _cells(value, clean):
    """A cells column (JSON list of {text, span, vmerge}) with each cell's text cleaned."""
    if not value:
        return value
    try:
        cells = json.loads(value)
    except ValueError:
        return value
    if not isinstance(cells, list):
        return value
    changed = False
    for cell in cells:
        if isinstance(cell, dict) and isinstance(cell.get("text"), str):
            text = clean(cell["text"])
            changed |= text != cell["text"]
            cell["text"] = text
    return json.dumps(cells, ensure_ascii=False) if changed else value


def _update(db: Database, table: str, row: dict, cleaners: dict) -> dict:
    """Clean the given columns of a row; write (and return) only those that changed."""
    changes = {}
    for column, clean in cleaners.items():
        value = row[column]
        if isinstance(value, str):
            new = clean(value)
            if new != value:
                changes[column] = new
    if changes:
        db.table(table).update(row["id"], changes)
    return changes


def clean_stored_text(db: Database) -> None:
    """Clean every stored string that people typed or uploaded (see the module's docstring)."""
    from revise.anchoring import map_position  # lazily: anchoring imports the store package
    from revise.attachments import clean_name as clean_file_name
    from revise.diffing import patch_text

    for row in list(db.query("select id, title, issuer, notice, contact from consultations")):
        _update(db, "consultations", row, {"title": clean_name, "issuer": clean_name,
                                           "notice": clean_text, "contact": clean_text})
    for row in list(db.query("select id, filename from documents")):
        _update(db, "documents", row, {"filename": lambda v: clean_file_name(v) or "draft.docx"})
    for row in list(db.query("select id, filename from attachments")):
        _update(db, "attachments", row, {"filename": clean_file_name})
    for row in list(db.query("select id, username, display_name from accounts")):
        _update(db, "accounts", row, {"display_name": lambda v, u=row["username"]: clean_name(v) or u})
    _departments(db)

    # Revisions block by block, in order: each patch is remade from the cleaned text before it.
    texts: dict[tuple[int, int], tuple[str, str]] = {}  # (block, number) → (old, new) if changed
    blocks = {b["id"]: b for b in db.query(
        "select id, rev, text, cells, original_text, original_cells, label, title from blocks")}
    previous: dict[int, tuple[str, bool]] = {}  # block → (its cleaned text so far, whether it changed)
    for row in list(db.query("select id, block_id, number, text, cells, reason, author_name "
                             "from revisions order by block_id, number")):
        block = blocks.get(row["block_id"])
        original = None if block is None else block["original_text"]
        before, before_changed = previous.get(row["block_id"]) or (
            ("", False) if original is None else (xml_legal(original), xml_legal(original) != original))
        _update(db, "revisions", row, {"cells": lambda v: _cells(v, _text), "reason": clean_text,
                                       "author_name": clean_name})
        text = _text(row["text"])
        if text != row["text"] or before_changed:
            db.table("revisions").update(row["id"], {"text": text, "patch": patch_text(before, text)})
        if text != row["text"]:
            texts[(row["block_id"], row["number"])] = (row["text"], text)
        previous[row["block_id"]] = (text, text != row["text"])
    for block in blocks.values():
        # The current text is the latest revision's (cleaned like it) or, never revised, Word's.
        current = _text if block["rev"] else xml_legal
        _update(db, "blocks", block, {
            "text": current, "cells": lambda v, c=current: _cells(v, c), "original_text": xml_legal,
            "original_cells": lambda v: _cells(v, xml_legal), "label": xml_legal, "title": xml_legal})
        if block["original_text"] is not None and xml_legal(block["original_text"]) != block["original_text"]:
            texts[(block["id"], 0)] = (block["original_text"], xml_legal(block["original_text"]))

    for row in list(db.query(
            "select id, block_id, block_rev, quote, quote_start, anchor_start, anchor_rev, name, contact, body, "
            "suggestion, disposition_reason, late_reason, decided_by, entered_by from comments")):
        _update(db, "comments", row, {
            "name": clean_name, "contact": clean_name, "body": clean_text, "suggestion": _text,
            "quote": _text, "disposition_reason": clean_text, "late_reason": clean_text,
            "decided_by": clean_name, "entered_by": clean_name})
        moved = {}
        for start, rev in (("quote_start", "block_rev"), ("anchor_start", "anchor_rev")):
            pair = texts.get((row["block_id"], row[rev]))
            if pair and row[start] is not None:
                moved[start] = map_position(pair[0], pair[1], row[start])
        if moved:
            db.table("comments").update(row["id"], moved)


def _departments(db: Database) -> None:
    """Department names cleaned; two that become the same name stay apart ("name (2)")."""
    rows = list(db.query("select id, consultation_id, name from departments order by id"))
    taken = {(r["consultation_id"], r["name"]) for r in rows}
    for row in rows:
        name = clean_name(row["name"]) or "?"
        if name == row["name"]:
            continue
        candidate, n = name, 1
        while (row["consultation_id"], candidate) in taken:
            n += 1
            candidate = f"{name} ({n})"
        taken.discard((row["consultation_id"], row["name"]))
        taken.add((row["consultation_id"], candidate))
        db.table("departments").update(row["id"], {"name": candidate})
