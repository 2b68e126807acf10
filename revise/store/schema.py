"""The schema, as sqlite-utils migrations: later slices append migrations, never edit old ones."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("revise")


@migrations()
def m001_consultations_and_blocks(db: Database) -> None:
    db["consultations"].create(
        {
            "id": int,
            "slug": str,
            "title": str,
            "issuer": str,
            "notice": str,
            "contact": str,
            "published_on": str,  # the notice's date, YYYY-MM-DD
            "opens_at": str,  # UTC instant, YYYY-MM-DDTHH:MM:SSZ
            "closes_at": str,
            "created_at": str,
        },
        pk="id",
        not_null={"slug", "title", "opens_at", "closes_at", "created_at"},
    )
    db["consultations"].create_index(["slug"], unique=True)
    # The original .docx, never modified: exports are computed from it plus revisions.
    db["documents"].create(
        {
            "id": int,
            "consultation_id": int,
            "filename": str,
            "sha256": str,
            "size": int,
            "data": bytes,
            "imported_at": str,
        },
        pk="id",
        foreign_keys=[("consultation_id", "consultations", "id")],
        not_null={"consultation_id", "data"},
    )
    db["blocks"].create(
        {
            "id": int,  # stable identity: never reused, survives edits and reordering
            "consultation_id": int,
            "position": int,  # order key, spaced so blocks can be inserted between others
            "kind": str,  # heading | paragraph | list_item | table_row
            "level": int,
            "label": str,
            "title": str,
            "text": str,
            "cells": str,  # JSON list of {text, span, vmerge} for table rows
            "table_no": int,
            "style": str,
            "locator": str,  # path into the original document.xml; NULL for inserted blocks
            "outline": str,  # JSON list of the ids of the headings above the block
        },
        pk="id",
        foreign_keys=[("consultation_id", "consultations", "id")],
        not_null={"consultation_id", "position", "kind", "text"},
    )
    db["blocks"].create_index(["consultation_id", "position"], unique=True)



@migrations()
def m002_comments_departments_audit(db: Database) -> None:
    # The revision of a block's text that comments are written against (0 = as imported).
    db["blocks"].add_column("rev", int, not_null_default=0)
    # Publish public comments at once instead of after review (a per-consultation setting).
    db["consultations"].add_column("publish_immediately", int, not_null_default=0)
    db["departments"].create(
        {
            "id": int,
            "consultation_id": int,
            "name": str,
            "token_hash": str,  # sha256 of the private link's token; the token itself is never stored
            "created_at": str,
            "no_comment_at": str,  # when it filed 无修改意见 for the whole draft
        },
        pk="id",
        foreign_keys=[("consultation_id", "consultations", "id")],
        not_null={"consultation_id", "name", "token_hash", "created_at"},
    )
    db["departments"].create_index(["token_hash"], unique=True)
    db["departments"].create_index(["consultation_id", "name"], unique=True)
    db["comments"].create(
        {
            "id": int,
            "consultation_id": int,
            "block_id": int,  # NULL: a remark on the draft as a whole
            "block_rev": int,  # the revision of the block's text it was written against
            "kind": str,  # edit | delete | insert | remark
            "source": str,  # public | department
            "department_id": int,
            "name": str,
            "contact": str,  # private: on no public page, in no export
            "body": str,
            "suggestion": str,  # proposed wording for edit / insert
            "quote": str,
            "quote_start": int,  # character offset of the quote in the block's text at block_rev
            "receipt": str,
            "form_token": str,  # the one-time token of the form that sent it (unique)
            "status": str,  # pending | published | hidden
            "created_at": str,
        },
        pk="id",
        foreign_keys=[
            ("consultation_id", "consultations", "id"),
            ("block_id", "blocks", "id"),
            ("department_id", "departments", "id"),
        ],
        not_null={"consultation_id", "kind", "source", "body", "receipt", "status", "created_at"},
    )
    db["comments"].create_index(["receipt"], unique=True)
    # A form submitted twice (double click, network retry) makes one comment.
    db["comments"].create_index(["form_token"], unique=True)
    db["comments"].create_index(["consultation_id", "block_id", "status"])
    db["comments"].create_index(["department_id"])
    db["audit"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "consultation_id": int,
            "subject": str,
            "before": str,  # JSON
            "after": str,  # JSON
        },
        pk="id",
        not_null={"at", "actor", "action"},
    )
    db["audit"].create_index(["consultation_id", "at"])
