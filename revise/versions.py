"""The text under consultation stays as published (issue #12): versions and rounds. No HTTP.

- A **version** is a frozen copy of the draft's text. Version 1 (征求意见稿) is made when the
  draft is imported (`create_initial`); the public pages, department pages, block threads and
  receipts read the consultation's published version (`public_blocks`, `public_block`),
  whatever the editors revise meanwhile. Editors' revisions build the next text on the blocks
  themselves (workspace, redline, exports) until an administrator publishes it
  (`publish_revised`), e.g. with the outcome, or opens a new round on it.
- A **round** is one period of comment on one version (第一次征求意见, 第二次征求意见 …) with
  its own window, roster and optionally its own notice. The consultation's window is the
  current round's; a round that ends keeps the window it ended with. Every comment carries the
  round and the version it was written on (`comments.round_id`, `comments.version_id`), and
  `block_rev` is the block's revision in that version, so re-anchoring works against the text
  the comment was written on.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from revise import anchoring, revising
from revise.i18n import N_, gettext
from revise.store import anchors as anchor_store
from revise.store import audit as audit_store
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.store import counts as count_store
from revise.store import insert, kept_under, writing
from revise.store import versions as version_store
from revise.textclean import clean_text
from revise.timeutil import to_text, utc_now
from revise.window import NOT_YET_OPEN, OPEN, Window

FIRST_LABEL = "征求意见稿"
REVISED_LABEL = "修改稿"
# Chinese ordinals for round names (第二次征求意见); beyond ten the number itself.
_ORDINALS = "一二三四五六七八九十"


class VersionError(Exception):
    """An action on versions or rounds that is not allowed now; .message is a msgid, .params fill it in."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


def create_initial(db: Database, cid: int, at: str | None = None) -> int:
    """Version 1 (征求意见稿) and round 1 of a consultation just imported; the version's id.

    store.blocks.insert_imported does this in the import's transaction."""
    return version_store.create_initial(db, cid, FIRST_LABEL, at or to_text(utc_now()))


def publish_revised(db: Database, consultation_id: int, *, actor: str | dict, label: str = REVISED_LABEL,
                    now: datetime | None = None) -> int:
    """Freeze the editors' current text as a new published version the public then reads; its id.

    Audited ("version.publish"). Runs in its own write transaction, or inside the caller's
    when one is open (e.g. publishing the outcome with it). Comments already written keep
    their round and version; later ones are written on this version.
    """
    if db.conn.in_transaction:
        return _publish(db, consultation_id, _name(actor), label, now)
    with writing(db):
        return _publish(db, consultation_id, _name(actor), label, now)


def _publish(db: Database, cid: int, actor: str, label: str, now: datetime | None) -> int:
    at = to_text(now or utc_now())
    label = clean_text(label, multiline=False)[:60] or REVISED_LABEL
    before = version_store.published(db, cid)
    vid = version_store.snapshot(db, cid, label, actor, at)
    version_store.set_published(db, cid, vid)
    version = version_store.get(db, vid)
    _audit(db, actor, "version.publish", cid, f"version:{vid}",
           {"version": before["number"] if before else None},
           {"version": version["number"], "label": label}, at)
    return vid


def published_version(db: Database, consultation_id: int) -> dict | None:
    """The version the public reads: id, consultation_id, number, label, created_by, created_at."""
    return version_store.published(db, consultation_id)


def version_blocks(db: Database, version_id: int, include_deleted: bool = False) -> list[dict]:
    """The blocks as a version shows them, in document order: the keys of store.blocks.of_consultation
    rows, with text, cells, title, label, rev and deleted of that version (and `version_id`)."""
    return version_store.blocks(db, version_id, include_deleted)


def public_blocks(db: Database, consultation: dict) -> list[dict]:
    """What the public reads: the published version's blocks (a consultation without one: its blocks)."""
    if consultation.get("version_id"):
        return version_store.blocks(db, consultation["version_id"])
    return block_store.of_consultation(db, consultation["id"])


def public_block(db: Database, consultation: dict, block_id: int, drafting: int | None = None) -> dict | None:
    """One block as the public reads it (deleted in that version: still returned, marked), or None.

    With the consultation's `drafting` serial (store.counts.page_state) the row is kept on the
    connection until a block of the consultation changes: a comment POST then reads no block."""
    vid = consultation.get("version_id")

    def read() -> dict | None:
        return version_store.block(db, vid, block_id) if vid else block_store.get(db, consultation["id"], block_id)

    if drafting is None:
        return read()
    return kept_under(db, ("public_block", consultation["id"], vid, block_id), drafting, read)


def published_on_block(db: Database, consultation: dict, block_id: int | None) -> list[dict]:
    """Published public comments on a block (None: the whole draft) in the current round, oldest first."""
    if consultation.get("round_id"):
        return version_store.published_in_round(db, consultation["round_id"], block_id, comment_store.PUBLIC_COLUMNS)
    return comment_store.published_on_block(db, consultation["id"], block_id)


def public_counts(db: Database, consultation: dict) -> dict[int | None, int]:
    """Published public comments per block in the current round (None: the whole draft)."""
    if consultation.get("round_id"):
        return version_store.round_counts(db, consultation["round_id"])
    return count_store.published_counts(db, consultation["id"])


def comment_block(db: Database, comment: dict) -> dict | None:
    """The block a comment is about, as the version it was written on shows it (its receipt)."""
    if comment.get("block_id") is None:
        return None
    if comment.get("version_id"):
        found = version_store.block(db, comment["version_id"], comment["block_id"])
        if found is not None:
            return found
    return block_store.get(db, comment["consultation_id"], comment["block_id"])


def pending_changes(db: Database, consultation: dict) -> int:
    """How many blocks the editors' text differs in from the published version."""
    if not consultation.get("version_id"):
        return 0
    return version_store.changed_since(db, consultation["version_id"], consultation["id"])


def catch_up_anchor(db: Database, comment: dict) -> None:
    """Place a new comment's quote in the editors' text when they have revised the block since the
    version it was written on (inside the comment's transaction), so the orphans view and the next
    revision start from where the words are now. Nothing to do for most comments: no quote, or a
    block not revised since it was published."""
    if not comment.get("quote") or comment.get("block_id") is None or comment.get("anchor_rev") is None:
        return
    block = block_store.get(db, comment["consultation_id"], comment["block_id"])
    if block is None or block["rev"] <= comment["anchor_rev"]:
        return
    old = revising.text_at_revision(db, block, comment["anchor_rev"])
    state, start = anchoring.relocate(old, block["text"], comment["quote"], comment.get("anchor_start"),
                                      hint=comment.get("quote_start"))
    anchor_store.set_anchor(db, [comment["id"]], state, start, block["rev"])


# --- rounds -------------------------------------------------------------------------------


def round_name(number: int) -> tuple[str, dict]:
    """A round's name as a msgid and its parameters (第二次征求意见)."""
    ordinal = _ORDINALS[number - 1] if 1 <= number <= len(_ORDINALS) else str(number)
    return N_("Round %(number)s of consultation"), {"ordinal": ordinal, "number": number}


def rounds(db: Database, consultation: dict, with_comments: bool = False) -> list[dict]:
    """Every round, oldest first: number, window (the current one's from the consultation),
    version number and label, published comments (and with_comments, all its comments), and
    whether it is current."""
    found = version_store.rounds(db, consultation["id"], with_comments)
    for r in found:
        r["ordinal"] = round_name(r["number"])[1]["ordinal"]
        r["current"] = r["id"] == consultation.get("round_id")
        if r["current"]:
            r["opens_at"], r["closes_at"] = consultation["opens_at"], consultation["closes_at"]
        r["state"] = Window.of(r).state()
    return found


def round_now(db: Database, consultation: dict) -> dict | None:
    """The current round with its ordinal and its version's label (for the public page's banner)."""
    found = current_round(db, consultation)
    if found is None:
        return None
    version = version_store.get(db, found["version_id"])
    return dict(found, ordinal=round_name(found["number"])[1]["ordinal"], version_label=version["label"])


def current_round(db: Database, consultation: dict) -> dict | None:
    rid = consultation.get("round_id")
    return version_store.get_round(db, rid) if rid else None


def round_of(db: Database, consultation: dict, number: int | None) -> dict | None:
    """A round by its number (None: the current round); None when there is no such round."""
    if number is None:
        return current_round(db, consultation)
    return version_store.round_by_number(db, consultation["id"], number)


def open_round(db: Database, consultation_id: int, *, opens_at: datetime, closes_at: datetime, actor: str | dict,
               department_ids: list[int] | None = None, notice: str | None = None,
               label: str | None = None, now: datetime | None = None) -> dict:
    """Open the next round on the editors' current text: it is published as a new version
    (征求意见稿 of that round), the consultation's window becomes the round's, the roster is the
    departments chosen (None: all of them, none having replied yet), and the notice is replaced
    when one is given. The current round must have ended. Audited ("round.open"). Returns the round.
    """
    now = now or utc_now()
    at = to_text(now)
    actor = _name(actor)
    if closes_at <= opens_at:
        raise VersionError(N_("The comment window must close after it opens."))
    if closes_at <= now:
        raise VersionError(N_("The new round's window must close in the future."))
    notice = clean_text(notice).strip() if notice is not None else None
    with writing(db):
        c = consultation_store.by_id(db, consultation_id)
        state = Window.of(c).state(now)
        if state == OPEN:
            raise VersionError(N_("The current round is still open for comment: close its window before opening the next round."))
        if state == NOT_YET_OPEN:
            raise VersionError(N_("The current round has not opened yet: change its comment period instead of opening another round."))
        current = version_store.get_round(db, c["round_id"]) if c.get("round_id") else None
        number = (current["number"] if current else 0) + 1
        if current is not None:
            version_store.close_round(db, current["id"], c["opens_at"], c["closes_at"])
            version_store.keep_roster(db, current["id"], c["id"])
        name, params = round_name(number)
        vid = version_store.snapshot(db, c["id"], clean_text(label or "", multiline=False)[:60] or
                                     f"{FIRST_LABEL}(第{params['ordinal']}次)", actor, at)
        version_store.set_published(db, c["id"], vid)
        opens, closes = to_text(opens_at), to_text(closes_at)
        rid = version_store.add_round(db, {"consultation_id": c["id"], "number": number, "version_id": vid,
                                           "opens_at": opens, "closes_at": closes, "notice": notice or None,
                                           "opened_by": actor, "created_at": at})
        version_store.set_current_round(db, c["id"], rid, opens, closes, notice or None)
        all_departments = [d["id"] for d in db.query("select id from departments where consultation_id = ?", [c["id"]])]
        chosen = all_departments if department_ids is None else [d for d in department_ids if d in all_departments]
        version_store.start_roster(db, rid, c["id"], chosen)
        _audit(db, actor, "round.open", c["id"], f"round:{rid}",
               {"round": current["number"] if current else None, "opens_at": c["opens_at"], "closes_at": c["closes_at"]},
               {"round": number, "version": version_store.get(db, vid)["number"], "opens_at": opens,
                "closes_at": closes, "departments": chosen, "notice": bool(notice)}, at)
        return version_store.get_round(db, rid)


def report_round(db: Database, consultation: dict, value: str | None, locale: str) -> dict:
    """Which round a report covers, from a `round` parameter (a number; "all": every round; none:
    the current one) as download()'s keywords. A consultation of one round needs no filter."""
    found = rounds(db, consultation)
    if len(found) < 2 or value == "all":
        return {}
    number = int(value) if value and value.isdigit() and len(value) < 6 else None
    chosen = next((r for r in found if r["number"] == number), None) if number else None
    chosen = chosen or next((r for r in found if r["current"]), found[-1])
    message, params = round_name(chosen["number"])
    return {"round_id": chosen["id"], "round_name": gettext(message, locale, **params)}


def on_roster(db: Database, consultation: dict, department: dict) -> bool:
    """Whether a department may reply in the current round (every department but those left out of it)."""
    return version_store.on_roster(db, consultation.get("round_id"), department["id"])


def _name(actor: str | dict) -> str:
    if isinstance(actor, dict):
        return actor.get("display_name") or actor.get("username") or ""
    return str(actor)


def _audit(db: Database, actor: str, action: str, cid: int, subject: str, before, after, at: str) -> None:
    insert(db, "audit", dict(audit_store.event(actor, action, cid, before, after, at=at), subject=subject))
