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


@migrations()
def m003_revisions_and_dispositions(db: Database) -> None:
    # The text as imported stays on the block (revision 0); revisions 1, 2, ... are rows below.
    db["blocks"].add_column("original_text", str)
    db["blocks"].add_column("original_cells", str)
    db["blocks"].add_column("deleted", int, not_null_default=0)
    db.execute("update blocks set original_text = text, original_cells = cells")
    # Append-only: a revision is never updated or deleted; revert is a new revision.
    db["revisions"].create(
        {
            "id": int,
            "consultation_id": int,
            "block_id": int,
            "number": int,  # 1, 2, ... per block (0 is the imported text)
            "action": str,  # edit | insert | delete | revert
            "text": str,  # the block's full text after this revision
            "cells": str,  # JSON cells after this revision (table rows)
            "patch": str,  # diff-match-patch patch text from the previous text
            "base_number": int,  # the revision the editor was looking at when saving
            "reason": str,
            "author_id": int,
            "author_name": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("consultation_id", "consultations", "id"), ("block_id", "blocks", "id")],
        not_null={"consultation_id", "block_id", "number", "action", "text", "created_at"},
    )
    db["revisions"].create_index(["block_id", "number"], unique=True)
    db["revisions"].create_index(["consultation_id", "created_at"])
    db["revision_comments"].create(
        {"revision_id": int, "comment_id": int},
        pk=("revision_id", "comment_id"),
        foreign_keys=[("revision_id", "revisions", "id"), ("comment_id", "comments", "id")],
    )
    db["comments"].add_column("disposition", str, not_null_default="pending")
    db["comments"].add_column("disposition_reason", str)
    db["comments"].add_column("disposition_revision_id", int)
    db["comments"].add_column("decided_by", str)
    db["comments"].add_column("decided_at", str)
    db["comments"].create_index(["consultation_id", "disposition"])
    db["consultations"].add_column("outcome_published_at", str)
    # Whether the 意见采纳情况表 names members of the public who gave a name (default: 公众 only).
    db["consultations"].add_column("report_public_names", int, not_null_default=0)
    # Full-text search that works for Chinese without word segmentation: FTS5 trigram.
    db["comments"].enable_fts(["body", "suggestion", "name"], tokenize="trigram", create_triggers=True)


@migrations()
def m004_accounts(db: Database) -> None:
    # Editors and administrators; the password is stored only as an Argon2 hash.
    db["accounts"].create(
        {
            "id": int,
            "username": str,
            "display_name": str,
            "role": str,  # editor | admin
            "password_hash": str,
            "created_at": str,
            "disabled_at": str,  # NULL while the account may sign in
        },
        pk="id",
        not_null={"username", "display_name", "role", "password_hash", "created_at"},
    )
    db["accounts"].create_index(["username"], unique=True)
    # Only the SHA-256 of a session's token is stored, like department links.
    db["editor_sessions"].create(
        {
            "token_hash": str,
            "account_id": int,
            "created_at": str,
            "expires_at": str,
            "signed_out_at": str,
            "client": str,
        },
        pk="token_hash",
        foreign_keys=[("account_id", "accounts", "id")],
        not_null={"account_id", "created_at", "expires_at"},
    )
    db["editor_sessions"].create_index(["account_id"])
    # Every sign-in attempt, so the throttle survives restarts (ok: NULL while checking, 0, 1).
    db["signin_attempts"].create(
        {"id": int, "at": str, "username": str, "client": str, "ok": int},
        pk="id",
        not_null={"at", "username", "client"},
    )
    db["signin_attempts"].create_index(["username", "at"])
    db["signin_attempts"].create_index(["client", "at"])


@migrations()
def m005_anchors_groups_channels(db: Database) -> None:
    # Comments follow the text: where the quoted phrase is in the block's current text.
    # quote_start stays the position at block_rev (the text the comment was written on).
    db["comments"].add_column("anchor_start", int)  # position in the text at anchor_rev; NULL: not placed
    db["comments"].add_column("anchor_rev", int)
    db["comments"].add_column("anchor_state", str)  # ok | moved | orphaned (原文已修改); NULL: no quote
    db.execute("update comments set anchor_start = quote_start, anchor_rev = block_rev, anchor_state = 'ok' where quote is not null")
    # Form letters and near-duplicates: a comment's group (NULL: alone).
    db["comments"].add_column("group_id", int)
    db["comments"].create_index(["consultation_id", "group_id"])
    # The queue's default order (newest first within a consultation) straight from an index:
    # without it SQLite sorted all rows of the consultation for every page (140 ms at 100,000).
    db["comments"].create_index(["consultation_id", "id"])
    db["comment_groups"].create(
        {"id": int, "consultation_id": int, "created_at": str},
        pk="id",
        foreign_keys=[("consultation_id", "consultations", "id")],
    )
    # MinHash signatures and their LSH band keys (so placing a new comment is a few index lookups).
    db["comment_signatures"].create(
        {"comment_id": int, "consultation_id": int, "signature": bytes},
        pk="comment_id",
        foreign_keys=[("comment_id", "comments", "id")],
    )
    db["comment_bands"].create(
        {"consultation_id": int, "band": int, "key": int, "comment_id": int},
        foreign_keys=[("comment_id", "comments", "id")],
    )
    db["comment_bands"].create_index(["consultation_id", "band", "key"])
    # Every channel in one ledger: comments entered by staff from letters, the 12345 hotline,
    # meetings, e-mail; web comments are channel "web".
    db["comments"].add_column("channel", str, not_null_default="web")
    db["comments"].add_column("received_on", str)  # the date it arrived (YYYY-MM-DD), staff-entered
    db["comments"].add_column("late_reason", str)  # why one received outside the window is taken
    db["comments"].add_column("entered_by", str)
    db["comment_blocks"].create(  # further blocks a staff-entered comment concerns
        {"comment_id": int, "block_id": int},
        pk=("comment_id", "block_id"),
        foreign_keys=[("comment_id", "comments", "id"), ("block_id", "blocks", "id")],
    )
    db["attachments"].create(
        {"id": int, "comment_id": int, "filename": str, "media_type": str, "size": int,
         "sha256": str, "data": bytes, "created_at": str},
        pk="id",
        foreign_keys=[("comment_id", "comments", "id")],
        not_null={"comment_id", "media_type", "size", "sha256", "data", "created_at"},
    )
    db["attachments"].create_index(["comment_id"])
    db["consultations"].add_column("public_attachments", int, not_null_default=0)


@migrations()
def m007_signin_throttle(db: Database) -> None:
    # The sign-in throttle (issue #10): failures counted per bucket instead of an account lockout.
    # key: "account+client:NAME\x1fCLIENT", "client:CLIENT" or "account+device:NAME\x1fDEVICE";
    # failures since the bucket's last success (an attempt counts as soon as it starts), last_at
    # the latest of them. A bucket idle for a day is forgotten.
    db["signin_throttle"].create(
        {"key": str, "failures": int, "last_at": str},
        pk="key",
        not_null={"failures", "last_at"},
    )
    db["signin_throttle"].create_index(["last_at"])
    # Tries refused by the throttle are recorded too (ok = 0, throttled = 1: no password checked);
    # device: the SHA-256 of the device cookie's id when the try carried a valid one.
    db["signin_attempts"].add_column("throttled", int, not_null_default=0)
    db["signin_attempts"].add_column("device", str)


@migrations()
def m006_clean_stored_text(db: Database) -> None:
    # Issue #10: text stored before the one text boundary (revise/textclean.py) could hold what
    # XML forbids (U+FFFE, a vertical tab, NUL), and then every export failed. Clean it as it is
    # cleaned today on its way in; positions of quoted phrases follow (revise/store/stored_text.py).
    from revise.store.stored_text import clean_stored_text

    clean_stored_text(db)


@migrations()
def m008_grouping_queue(db: Database) -> None:
    # Grouping leaves the request path (issue #11): every comment taken over the web is queued
    # here in its own transaction, and the writer thread places queued comments when idle. The
    # queue is durable, so grouping survives restarts; comments never placed so far are queued
    # once here to catch up.
    db["grouping_queue"].create(
        {"comment_id": int, "consultation_id": int},
        pk="comment_id",
        foreign_keys=[("comment_id", "comments", "id")],
    )
    db.execute(
        "insert or ignore into grouping_queue (comment_id, consultation_id) select c.id, c.consultation_id "
        "from comments c where not exists (select 1 from comment_signatures s where s.comment_id = c.id)"
    )


@migrations()
def m009_mail_and_returns(db: Database) -> None:
    # Issue #14: comments taken from the mailbox keep their Message-ID (a message imported twice
    # is skipped), and a draft sent back as a Word file is remembered by its SHA-256 (the same
    # file uploaded twice creates nothing new).
    db["comments"].add_column("message_id", str)
    db["comments"].create_index(["consultation_id", "message_id"], unique=True)
    db["returned_files"].create(
        {"id": int, "consultation_id": int, "sha256": str, "filename": str, "sender": str,
         "department_id": int, "uploaded_by": str, "comments": int, "created_at": str},
        pk="id",
        foreign_keys=[("consultation_id", "consultations", "id"), ("department_id", "departments", "id")],
        not_null={"consultation_id", "sha256", "created_at"},
    )
    db["returned_files"].create_index(["consultation_id", "sha256"], unique=True)


# Issue #11. Full-text indexing is redone only when the indexed text changes: sqlite-utils'
# update trigger fired on every UPDATE of a comment, so each disposition or moderation
# deleted and re-inserted the comment's trigram index entries. And the public page's counts:
# published public comments per block (block 0: the draft as a whole) and two serials per
# consultation that change whenever the public page would (revise/store/counts.py), kept by
# triggers in the same transaction as the change, on every path that writes comments or blocks.
_PUBLISHED = "{row}.source = 'public' and {row}.status = 'published'"
_BUMP_COMMENTS = ("insert into public_versions (consultation_id, blocks, comments) values ({cid}, 0, 1) "
                  "on conflict (consultation_id) do update set comments = comments + 1;")
_BUMP_BLOCKS = ("insert into public_versions (consultation_id, blocks, comments) values ({cid}, 1, 0) "
                "on conflict (consultation_id) do update set blocks = blocks + 1;")


@migrations()
def m010_fts_and_counts(db: Database) -> None:
    from revise.store.counts import recount

    db.execute("drop trigger if exists comments_au")
    db.execute(
        'create trigger comments_au after update of body, suggestion, name on comments begin '
        'insert into comments_fts (comments_fts, rowid, body, suggestion, name) '
        "values ('delete', old.rowid, old.body, old.suggestion, old.name); "
        "insert into comments_fts (rowid, body, suggestion, name) values (new.rowid, new.body, new.suggestion, new.name); "
        "end")
    db.execute("create table published_counts (consultation_id integer not null, block_id integer not null, "
               "n integer not null, primary key (consultation_id, block_id)) without rowid")
    db.execute("create table public_versions (consultation_id integer primary key, blocks integer not null, "
               "comments integer not null)")
    old, new = _PUBLISHED.format(row="old"), _PUBLISHED.format(row="new")
    db.execute(
        f"create trigger published_counts_insert after insert on comments when {new} begin "
        "insert into published_counts (consultation_id, block_id, n) values (new.consultation_id, "
        "coalesce(new.block_id, 0), 1) on conflict (consultation_id, block_id) do update set n = n + 1; "
        f"{_BUMP_COMMENTS.format(cid='new.consultation_id')} end")
    db.execute(
        f"create trigger published_counts_delete after delete on comments when {old} begin "
        "update published_counts set n = n - 1 where consultation_id = old.consultation_id "
        "and block_id = coalesce(old.block_id, 0); "
        f"{_BUMP_COMMENTS.format(cid='old.consultation_id')} end")
    # Published or not changed, or a published comment moved: take it off its old block, add
    # it to its new one (each statement does nothing when its side is not published).
    db.execute(
        "create trigger published_counts_update after update of status, source, block_id, consultation_id "
        f"on comments when ({old}) is not ({new}) or (({old}) and (old.block_id is not new.block_id "
        "or old.consultation_id is not new.consultation_id)) begin "
        f"update published_counts set n = n - 1 where {old} and consultation_id = old.consultation_id "
        "and block_id = coalesce(old.block_id, 0); "
        "insert into published_counts (consultation_id, block_id, n) select new.consultation_id, "
        f"coalesce(new.block_id, 0), 1 where {new} "
        "on conflict (consultation_id, block_id) do update set n = n + 1; "
        f"{_BUMP_COMMENTS.format(cid='new.consultation_id')} "
        "insert into public_versions (consultation_id, blocks, comments) select old.consultation_id, 0, 1 "
        "where old.consultation_id is not new.consultation_id "
        "on conflict (consultation_id) do update set comments = comments + 1; end")
    for event, row in (("insert", "new"), ("update", "new"), ("delete", "old")):
        db.execute(f"create trigger public_versions_blocks_{event} after {event} on blocks begin "
                   f"{_BUMP_BLOCKS.format(cid=f'{row}.consultation_id')} end")
    recount(db)


@migrations()
def m012_rate_limits(db: Database) -> None:
    # Issue #15: comment and preview rate limits counted in the database, shared by every worker
    # process of the data folder (revise/store/limits.py): one row per allowed event.
    db.execute("create table rate_events (bucket text not null, key text not null, at real not null)")
    db.execute("create index rate_events_key on rate_events (bucket, key, at)")


# The overview's counts (issue #11): every comment counted by status, source, disposition,
# block ('' = the draft as a whole) and department, kept by triggers in the writing
# transaction, so the overview reads a few dozen rows instead of scanning a million comments
# (0.93 s at 1,000,000). A trigger fires on every path that writes comments (the web, the
# ledger, triage, the bulk loader), so no Python code has to remember the counts.
EDITOR_COUNT_DIMS = {"status": "status", "source": "source", "disposition": "disposition",
                     "block": "coalesce(block_id, '')", "department": "coalesce(department_id, '')"}


def _editor_count_sql(dim: str, expr: str, row: str, delta: int) -> str:
    value = expr.replace("block_id", f"{row}.block_id").replace("department_id", f"{row}.department_id")
    if dim in ("status", "source", "disposition"):
        value = f"{row}.{dim}"
    return (f"insert into editor_counts (consultation_id, dim, key, n) values ({row}.consultation_id, '{dim}', "
            f"{value}, {delta}) on conflict (consultation_id, dim, key) do update set n = n + ({delta});")


@migrations()
def m011_editor_counts(db: Database) -> None:
    db.execute("create table editor_counts (consultation_id integer not null, dim text not null, "
               "key text not null, n integer not null, primary key (consultation_id, dim, key)) without rowid")
    for dim, expr in EDITOR_COUNT_DIMS.items():
        db.execute(f"insert into editor_counts (consultation_id, dim, key, n) select consultation_id, '{dim}', "
                   f"{expr}, count(*) from comments group by consultation_id, {expr}")
    added = "".join(_editor_count_sql(d, e, "new", 1) for d, e in EDITOR_COUNT_DIMS.items())
    removed = "".join(_editor_count_sql(d, e, "old", -1) for d, e in EDITOR_COUNT_DIMS.items())
    db.execute(f"create trigger editor_counts_insert after insert on comments begin {added} end")
    db.execute(f"create trigger editor_counts_delete after delete on comments begin {removed} end")
    for dim, expr in EDITOR_COUNT_DIMS.items():
        column = "block_id" if dim == "block" else "department_id" if dim == "department" else dim
        db.execute(f"create trigger editor_counts_{dim} after update of {column}, consultation_id on comments "
                   f"when old.{column} is not new.{column} or old.consultation_id != new.consultation_id begin "
                   f"{_editor_count_sql(dim, expr, 'old', -1)}{_editor_count_sql(dim, expr, 'new', 1)} end")


@migrations()
def m013_fts_merge_when_idle(db: Database) -> None:
    # Issue #11: FTS5's automatic merging ran inside every comment's transaction (a third of a
    # trigram insert's cost, measured 2.07 → 1.41 ms a comment). Merging is now done by the
    # writer thread when no comment waits (store.comments.merge_search_index); FTS5's own
    # crisis merge still bounds the segments if the writer never goes idle.
    db.execute("insert into comments_fts (comments_fts, rank) values ('automerge', 0)")


# Issue #12: the text under consultation stays as published. A version is a frozen copy of
# every block's text (the public reads the consultation's `version_id`, never the blocks the
# editors revise); a round is one period of comment on one version, with its own window and
# roster (`round_id`: the current one). Each comment carries the round and the version it was
# written on. revise/store/versions.py holds the SQL, revise/versions.py the rules.
_ROUND_COUNTED = "{row}.round_id is not null and {row}.source = 'public' and {row}.status = 'published'"


@migrations()
def m014_versions_and_rounds(db: Database) -> None:
    db.execute("create table versions (id integer primary key, consultation_id integer not null "
               "references consultations(id), number integer not null, label text not null, "
               "created_by text, created_at text not null, unique (consultation_id, number))")
    # Each block as that version shows it (copied, so a version never depends on later edits);
    # a block inserted after the version was frozen has no row.
    db.execute("create table version_blocks (version_id integer not null references versions(id), "
               "block_id integer not null references blocks(id), rev integer not null, "
               "deleted integer not null default 0, text text not null, cells text, label text, title text, "
               "primary key (version_id, block_id)) without rowid")
    db.execute("create table rounds (id integer primary key, consultation_id integer not null "
               "references consultations(id), number integer not null, version_id integer not null "
               "references versions(id), opens_at text not null, closes_at text not null, notice text, "
               "opened_by text, created_at text not null, unique (consultation_id, number))")
    # A round's roster: every department of the consultation but those left out of it; when
    # the round ends, when each replied 无修改意见 in it.
    db.execute("create table round_departments (round_id integer not null references rounds(id), "
               "department_id integer not null references departments(id), no_comment_at text, "
               "left_out integer not null default 0, primary key (round_id, department_id)) without rowid")
    db.execute("create table round_counts (round_id integer not null, block_id integer not null, "
               "n integer not null, primary key (round_id, block_id)) without rowid")
    db["consultations"].add_column("version_id", int)  # the version the public reads
    db["consultations"].add_column("round_id", int)  # the current round
    db["comments"].add_column("round_id", int)
    db["comments"].add_column("version_id", int)
    db.execute("create index comments_round on comments (round_id, id)")
    # Existing consultations: version 1 is the text as imported (revision 0), round 1 its window.
    for c in list(db.query("select id, opens_at, closes_at, created_at from consultations")):
        vid = db.execute("insert into versions (consultation_id, number, label, created_at) values (?, 1, ?, ?)",
                         [c["id"], "征求意见稿", c["created_at"]]).lastrowid
        db.execute("insert into version_blocks (version_id, block_id, rev, deleted, text, cells, label, title) "
                   "select ?, id, 0, 0, original_text, original_cells, label, title from blocks "
                   "where consultation_id = ? and original_text is not null", [vid, c["id"]])
        rid = db.execute("insert into rounds (consultation_id, number, version_id, opens_at, closes_at, created_at) "
                         "values (?, 1, ?, ?, ?, ?)", [c["id"], vid, c["opens_at"], c["closes_at"],
                                                        c["created_at"]]).lastrowid
        db.execute("update consultations set version_id = ?, round_id = ? where id = ?", [vid, rid, c["id"]])
        db.execute("update comments set round_id = ?, version_id = ? where consultation_id = ?", [rid, vid, c["id"]])
    db.execute("insert into round_counts (round_id, block_id, n) select round_id, coalesce(block_id, 0), count(*) "
               f"from comments c where {_ROUND_COUNTED.format(row='c')} group by 1, 2")
    # A comment stored without its round (the ledger, mail, returned files, the bulk loader)
    # belongs to the consultation's current round and the version the public reads.
    db.execute("create trigger comments_round_default after insert on comments when new.round_id is null begin "
               "update comments set round_id = (select round_id from consultations where id = new.consultation_id), "
               "version_id = coalesce(new.version_id, (select version_id from consultations "
               "where id = new.consultation_id)) where id = new.id; end")
    old, new = _ROUND_COUNTED.format(row="old"), _ROUND_COUNTED.format(row="new")
    db.execute(f"create trigger round_counts_insert after insert on comments when {new} begin "
               "insert into round_counts (round_id, block_id, n) values (new.round_id, coalesce(new.block_id, 0), 1) "
               "on conflict (round_id, block_id) do update set n = n + 1; end")
    db.execute(f"create trigger round_counts_delete after delete on comments when {old} begin "
               "update round_counts set n = n - 1 where round_id = old.round_id "
               "and block_id = coalesce(old.block_id, 0); end")
    db.execute("create trigger round_counts_update after update of status, source, block_id, round_id on comments "
               f"when ({old}) is not ({new}) or (({old}) and (old.block_id is not new.block_id "
               "or old.round_id is not new.round_id)) begin "
               f"update round_counts set n = n - 1 where {old} and round_id = old.round_id "
               "and block_id = coalesce(old.block_id, 0); "
               "insert into round_counts (round_id, block_id, n) select new.round_id, coalesce(new.block_id, 0), 1 "
               f"where {new} on conflict (round_id, block_id) do update set n = n + 1; end")
    # The public page no longer shows the blocks editors revise, only the published version:
    # a revision must not invalidate its cache. Only a consultation without a version (none
    # is made so since this migration) still reads the blocks and needs their serial.
    for event, row in (("insert", "new"), ("update", "new"), ("delete", "old")):
        db.execute(f"drop trigger if exists public_versions_blocks_{event}")
        db.execute(f"create trigger public_versions_blocks_{event} after {event} on blocks "
                   f"when (select version_id from consultations where id = {row}.consultation_id) is null begin "
                   f"{_BUMP_BLOCKS.format(cid=f'{row}.consultation_id')} end")


# Issue #12: how to comment is data of the consultation (revise/notice.py), not a sentence in its
# notice: besides this site, an e-mail address, a postal address, a fax number, a contact person
# and phone, the office that takes comments. The comment window is never typed
# into the notice: the page and the printable notice show it from opens_at/closes_at. A
# department's comment carries its 经办人 and 联系电话 (officer_name, officer_phone): editors
# and their report see them, the public never does.
NOTICE_CHANNELS = ("email", "postal_address", "fax", "contact_person", "contact_phone",
                   "office")
# The embedded default's notice as docs/notice.json had it (with the October 2022 deadline), and
# without that sentence: an unedited copy of it is corrected in place.
_OLD_DEFAULT_NOTICE_END = ("因工作实际需要,征求意见时间为2022年10月8日至2022年10月14日,在此期间请将修改意见通过"
                           "电子邮箱反馈至市科技局成果管理与科普科。")


@migrations()
def m016_notice_channels_and_department_contacts(db: Database) -> None:
    import re

    for column in NOTICE_CHANNELS:
        db["consultations"].add_column(column, str, not_null_default="")
    db["comments"].add_column("officer_name", str)
    db["comments"].add_column("officer_phone", str)
    # What the free-text contact line said, as structured data (an address, a phone number, a name
    # after 联系人): the page shows the channels from now on.
    email_re = re.compile(r"[^@\s::,,;;]{1,64}@[^@\s,,;;]+\.[A-Za-z]{2,}")
    phone_re = re.compile(r"(?:\+?86[ -]?)?(?:1[3-9]\d{9}|0\d{2,3}[ \-—–]?\d{7,8})")
    person_re = re.compile(r"联系人(?:及电话)?[::]\s*([\u4e00-\u9fff·]{2,8})")
    for row in db.execute("select id, coalesce(contact, ''), coalesce(notice, '') from consultations").fetchall():
        cid, contact, notice = row
        email, phone, person = email_re.search(contact), phone_re.search(contact), person_re.search(contact)
        values = {"email": email.group() if email else "", "contact_phone": phone.group() if phone else "",
                  "contact_person": person.group(1) if person else ""}
        if notice.endswith(_OLD_DEFAULT_NOTICE_END):
            values["notice"] = notice[: -len(_OLD_DEFAULT_NOTICE_END)].rstrip()
            values["office"] = "市科技局成果管理与科普科"
        sets = ", ".join(f"{k} = ?" for k in values)
        db.execute(f"update consultations set {sets} where id = ?", [*values.values(), cid])


# Issue #13, sharing the work. Administrators assign sections (a heading and every block under
# it) or single comments to editors. `comments.assigned_to` is the comment's effective assignee
# (its own assignment when `assigned_singly`, else that of the nearest assigned heading above its
# block), kept so "my queue" is one index range at 1,000,000 comments: revise/store/assignments.py
# rewrites it when a section's assignee changes; a new comment, or one moved to another block,
# gets it from the triggers below. Themes (主题) are labels editors keep per consultation and put
# on comments. The overview's progress and charts read four more kinds of count kept in
# editor_counts by triggers (m011): per assignee, per assignee decided, per block decided, and
# per day received (Beijing date; a staff-entered comment's `received_on`).
_NEAREST_ASSIGNEE = (
    "(select s.account_id from section_assignments s join (select {row}.block_id as hid, 1000000 as depth "
    "union all select j.value, j.key from blocks b, json_each(b.outline) j where b.id = {row}.block_id) h "
    "on s.block_id = h.hid order by h.depth desc limit 1)")
PROGRESS_COUNT_DIMS = {  # dim: (key, counted when, the columns it depends on)
    "assignee": ("coalesce({row}.assigned_to, '')", "1", ("assigned_to",)),
    "assignee_decided": ("coalesce({row}.assigned_to, '')", "{row}.disposition != 'pending'",
                         ("assigned_to", "disposition")),
    "block_decided": ("coalesce({row}.block_id, '')", "{row}.disposition != 'pending'", ("block_id", "disposition")),
    "day": ("coalesce({row}.received_on, date({row}.created_at, '+8 hours'))", "1", ("created_at", "received_on")),
}


def _progress_count_sql(dim: str, row: str, delta: int) -> str:
    key, when, _ = PROGRESS_COUNT_DIMS[dim]
    return (f"insert into editor_counts (consultation_id, dim, key, n) select {row}.consultation_id, '{dim}', "
            f"{key.format(row=row)}, {delta} where {when.format(row=row)} "
            f"on conflict (consultation_id, dim, key) do update set n = n + ({delta});")


@migrations()
def m018_assignments_and_themes(db: Database) -> None:
    db.execute("create table section_assignments (block_id integer primary key references blocks(id), "
               "consultation_id integer not null references consultations(id), "
               "account_id integer not null references accounts(id), assigned_by text, assigned_at text not null)")
    db.execute("create index section_assignments_consultation on section_assignments (consultation_id)")
    db["comments"].add_column("assigned_to", int)  # the effective assignee (an account id); NULL: nobody
    db["comments"].add_column("assigned_singly", int, not_null_default=0)  # 1: its own, over its section's
    db.execute("create index comments_assigned on comments (consultation_id, assigned_to, id)")
    db.execute("create table themes (id integer primary key, consultation_id integer not null "
               "references consultations(id), name text not null, created_by text, created_at text not null, "
               "unique (consultation_id, name))")
    db.execute("create table comment_themes (theme_id integer not null references themes(id), "
               "comment_id integer not null references comments(id), primary key (theme_id, comment_id)) "
               "without rowid")
    db.execute("create index comment_themes_comment on comment_themes (comment_id)")
    for dim, (key, when, _) in PROGRESS_COUNT_DIMS.items():
        db.execute(f"insert into editor_counts (consultation_id, dim, key, n) select consultation_id, '{dim}', "
                   f"{key.format(row='comments')}, count(*) from comments where {when.format(row='comments')} "
                   "group by 1, 3")
    db.execute("create trigger progress_counts_insert after insert on comments begin "
               + "".join(_progress_count_sql(d, "new", 1) for d in PROGRESS_COUNT_DIMS) + " end")
    db.execute("create trigger progress_counts_delete after delete on comments begin "
               + "".join(_progress_count_sql(d, "old", -1) for d in PROGRESS_COUNT_DIMS) + " end")
    for dim, (key, when, columns) in PROGRESS_COUNT_DIMS.items():
        changed = " or ".join(f"old.{c} is not new.{c}" for c in (*columns, "consultation_id"))
        db.execute(f"create trigger progress_counts_{dim} after update of {', '.join(columns)}, consultation_id "
                   f"on comments when {changed} begin {_progress_count_sql(dim, 'old', -1)}"
                   f"{_progress_count_sql(dim, 'new', 1)} end")
    # A new comment, or one moved to another block, takes its section's assignee (unless it has
    # its own); nothing is looked up while the consultation has no assignment.
    db.execute("create trigger comments_assign_insert after insert on comments when new.block_id is not null "
               "and new.assigned_to is null and exists (select 1 from section_assignments s "
               "where s.consultation_id = new.consultation_id) begin update comments set assigned_to = "
               f"{_NEAREST_ASSIGNEE.format(row='new')} where id = new.id; end")
    db.execute("create trigger comments_assign_move after update of block_id on comments "
               "when new.assigned_singly = 0 and old.block_id is not new.block_id begin "
               f"update comments set assigned_to = {_NEAREST_ASSIGNEE.format(row='new')} where id = new.id; end")


@migrations()
def m017_reply_templates(db: Database) -> None:
    # Issue #13: 常用答复, the reasons editors reuse, kept per consultation and per disposition;
    # `position` orders them (the triage view's number keys pick them in this order).
    db.execute("create table reply_templates (id integer primary key, consultation_id integer not null "
               "references consultations(id), disposition text not null, title text not null default '', "
               "body text not null, position integer not null default 0, created_by text, created_at text not null, "
               "updated_at text not null)")
    db.execute("create index reply_templates_order on reply_templates (consultation_id, disposition, position, id)")
    # The triage view and the queue walk a paragraph's comments to be decided in id order (the
    # draft's order: store.queue._ids_by_block). Without this index the planner took the round's
    # index and read every comment of the round: 5 s for one "next" at 1,000,000 comments; 0.05 ms with it.
    db.execute("create index if not exists comments_block_disposition on comments (consultation_id, block_id, disposition)")


# Issue #12: the outcome is published on purpose, by an administrator, and can be withdrawn;
# each publication is a row (who, when, the override reason if the window was still open, the
# options chosen, the version published) and a withdrawal fills in its withdrawn_* columns.
# And the public page's totals (参与人数, 意见条数, how many were adopted …) kept by triggers
# (revise/store/counts.py), so the page never counts the comments: `published_senders` holds
# one row per distinct sender of published comments (a department; a person by name and
# contact; an anonymous comment alone), `published_totals` the counts.
_SENDER = ("case when {row}.source = 'department' then 'd:' || coalesce({row}.department_id, {row}.name, '') "
           "when trim(coalesce({row}.name, '')) = '' and trim(coalesce({row}.contact, '')) = '' "
           "then 'c:' || {row}.id else 'p:' || lower(trim(coalesce({row}.name, ''))) || char(31) || "
           "lower(trim(coalesce({row}.contact, ''))) end")


def _published_totals_sql(row: str, delta: int) -> str:
    """Statements adding (+1) or taking away (-1) one published comment of `row` (new/old)."""
    cid, who = f"{row}.consultation_id", _SENDER.format(row=row)
    sender = f"(select n from published_senders where consultation_id = {cid} and who = {who})"
    total = ("insert into published_totals (consultation_id, key, n) select {cid}, {key}, {delta} where {cond} "
             "on conflict (consultation_id, key) do update set n = n + ({delta});")
    if delta > 0:
        return (f"insert into published_senders (consultation_id, who, n) values ({cid}, {who}, 1) "
                "on conflict (consultation_id, who) do update set n = n + 1; "
                + total.format(cid=cid, key="'participants'", delta=1, cond=f"{sender} = 1")
                + total.format(cid=cid, key="'comments'", delta=1, cond="true")
                + total.format(cid=cid, key=f"'d:' || {row}.disposition", delta=1, cond="true"))
    return (f"update published_senders set n = n - 1 where consultation_id = {cid} and who = {who}; "
            + total.format(cid=cid, key="'participants'", delta=-1, cond=f"{sender} = 0")
            + f"delete from published_senders where consultation_id = {cid} and who = {who} and n <= 0; "
            + total.format(cid=cid, key="'comments'", delta=-1, cond="true")
            + total.format(cid=cid, key=f"'d:' || {row}.disposition", delta=-1, cond="true"))


@migrations()
def m015_outcome_publications(db: Database) -> None:
    db.execute("create table outcome_publications (id integer primary key, consultation_id integer not null "
               "references consultations(id), published_at text not null, published_by text not null, "
               "override_reason text, options text not null default '{}', version_id integer, "
               "counts text, withdrawn_at text, withdrawn_by text, withdraw_reason text)")
    db.execute("create index outcome_publications_of on outcome_publications (consultation_id, id)")
    # Whether the public 意见采纳情况表 names the department of a department's comment (else 有关部门).
    db["consultations"].add_column("report_department_names", int, not_null_default=1)
    # An outcome published before this migration (no record of who chose what) keeps its date.
    db.execute("insert into outcome_publications (consultation_id, published_at, published_by, options) "
               "select id, outcome_published_at, '', '{}' from consultations where outcome_published_at is not null")
    db.execute("create table published_senders (consultation_id integer not null, who text not null, "
               "n integer not null, primary key (consultation_id, who)) without rowid")
    db.execute("create table published_totals (consultation_id integer not null, key text not null, "
               "n integer not null, primary key (consultation_id, key)) without rowid")
    new, old = "new.status = 'published'", "old.status = 'published'"
    db.execute(f"create trigger published_totals_insert after insert on comments when {new} begin "
               f"{_published_totals_sql('new', 1)} end")
    db.execute(f"create trigger published_totals_delete after delete on comments when {old} begin "
               f"{_published_totals_sql('old', -1)} end")
    changed = " or ".join(f"old.{c} is not new.{c}" for c in ("status", "disposition", "source", "department_id",
                                                              "name", "contact", "consultation_id"))
    columns = "status, disposition, source, department_id, name, contact, consultation_id"
    # A decision changed on a published comment changes the page's counts: its serial moves too.
    db.execute(f"create trigger published_totals_update_old after update of {columns} on comments "
               f"when {old} and ({changed}) begin {_published_totals_sql('old', -1)} "
               f"{_BUMP_COMMENTS.format(cid='old.consultation_id')} end")
    db.execute(f"create trigger published_totals_update_new after update of {columns} on comments "
               f"when {new} and ({changed}) begin {_published_totals_sql('new', 1)} "
               f"{_BUMP_COMMENTS.format(cid='new.consultation_id')} end")
    from revise.store.counts import recount_totals

    recount_totals(db)

@migrations()
def m020_round_indexes(db: Database) -> None:
    # Rounds (m014) put `round_id = ?` into the roster's and the draft-order queue's queries, and
    # the planner then took comments_round (round_id, id) and read every comment of the round:
    # the overview's roster took 30-60 s and one paragraph of the draft-order queue 1.9 s at
    # 1,000,000 comments. With these, each is an index range: about a millisecond.
    db.execute("create index if not exists comments_department_round on comments (department_id, round_id, id)")
    db.execute("create index if not exists comments_round_block on comments (consultation_id, round_id, block_id, id)")


# Issue #11, comment POST. Indexing a comment's trigram entries row by row cost the writer
# thread 470 µs of its 680 µs a comment (bench: 4,000 comments in batches of 32 into the 100k
# case): FTS5 flushes its pending entries at every statement's savepoint, one tiny segment per
# comment, and with automatic merging off (m013) the segments were merged by FTS5's crisis
# merge, all at once, inside whichever transaction reached sixteen: single commits of 0.7 s.
# Now a writer that inserts many comments one statement each holds the trigger back (a row in
# search_index_held, only ever inside its own uncommitted transaction) and indexes them in one
# INSERT ... SELECT before it commits (store.comments.indexing_afterwards): ~100 µs a comment in
# batches of 32. (Many comments in one INSERT feed the trigger as cheaply: one flush.) And
# FTS5's incremental merging is back at its default (4): with a batch per statement its work is
# proportional to what was written, and the longest commit in 20,000 comments was 123 ms
# instead of 739 ms.
@migrations()
def m021_search_index_by_batch(db: Database) -> None:
    db.execute("create table search_index_held (held integer not null)")
    db.execute("drop trigger if exists comments_ai")
    db.execute("create trigger comments_ai after insert on comments "
               "when not exists (select 1 from search_index_held) begin "
               "insert into comments_fts (rowid, body, suggestion, name) "
               "values (new.rowid, new.body, new.suggestion, new.name); end")
    db.execute("insert into comments_fts (comments_fts, rank) values ('automerge', 4)")


# Issue #11, comment POST and flash crowd. Each POST read the consultation by its slug and the
# block from the published version (a sixth of the event loop's time under 32 connections), and
# the public page's memo of the consultation was keyed on PRAGMA data_version, which every commit
# of the comment writer moves: under load it never held. Two more serials per consultation, kept
# by triggers like the others: `settings` moves with any change to the consultation's row,
# `drafting` with any change to one of its blocks (an editor's revision renumbers positions).
# A view or a POST reads the four serials in one query and keeps the rows it read under them
# (store.counts.page_state, store.versions.block).
@migrations()
def m022_settings_and_drafting_serials(db: Database) -> None:
    db.execute("alter table public_versions add column settings integer not null default 0")
    db.execute("alter table public_versions add column drafting integer not null default 0")
    bump = ("insert into public_versions (consultation_id, blocks, comments, {column}) values ({cid}, 0, 0, 1) "
            "on conflict (consultation_id) do update set {column} = {column} + 1;")
    for event, row in (("insert", "new"), ("update", "new"), ("delete", "old")):
        db.execute(f"create trigger public_versions_settings_{event} after {event} on consultations begin "
                   f"{bump.format(column='settings', cid=f'{row}.id')} end")
        db.execute(f"create trigger public_versions_drafting_{event} after {event} on blocks begin "
                   f"{bump.format(column='drafting', cid=f'{row}.consultation_id')} end")
    db.execute("create trigger public_versions_settings_moved after update of id on consultations "
               f"when old.id is not new.id begin {bump.format(column='settings', cid='old.id')} end")
