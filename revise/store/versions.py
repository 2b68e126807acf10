"""Published versions of a draft and rounds of consultation (issue #12): the SQL.

A version is a frozen copy of every block's text (`version_blocks`); the public reads the
consultation's `version_id`. A round is one period of comment on one version, with its window
and roster; `consultations.round_id` is the current one. Every function runs inside the
caller's transaction unless it says otherwise (revise.versions opens them).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from revise.store import first, insert

# The columns of a version's block, in store.blocks.of_consultation's shape: what the blocks
# table holds, with the text, cells, label, title, revision and deletion of that version.
_BLOCK_COLUMNS = (
    "b.id, b.consultation_id, b.position, b.kind, b.level, vb.label, vb.title, vb.text, vb.cells, b.table_no, "
    "b.style, b.locator, b.outline, vb.rev, b.original_text, b.original_cells, vb.deleted, vb.version_id"
)


def create_initial(db: Database, cid: int, label: str, at: str) -> int:
    """Version 1 and round 1 of a consultation whose blocks were just imported; the version's id."""
    vid = snapshot(db, cid, label, None, at)
    rid = db.execute("insert into rounds (consultation_id, number, version_id, opens_at, closes_at, created_at) "
                     "select id, 1, ?, opens_at, closes_at, ? from consultations where id = ?", [vid, at, cid]).lastrowid
    db.execute("update consultations set version_id = ?, round_id = ? where id = ?", [vid, rid, cid])
    return vid


def snapshot(db: Database, cid: int, label: str, actor: str | None, at: str) -> int:
    """Freeze every block's current text (deleted ones marked) as the consultation's next version; its id."""
    number = db.execute("select coalesce(max(number), 0) + 1 from versions where consultation_id = ?",
                        [cid]).fetchone()[0]
    vid = insert(db, "versions", {"consultation_id": cid, "number": number, "label": label,
                                  "created_by": actor, "created_at": at})
    db.execute("insert into version_blocks (version_id, block_id, rev, deleted, text, cells, label, title) "
               "select ?, id, rev, deleted, text, cells, label, title from blocks where consultation_id = ?",
               [vid, cid])
    return vid


def set_published(db: Database, cid: int, vid: int) -> None:
    """The version the public reads from now on."""
    db.execute("update consultations set version_id = ? where id = ?", [vid, cid])


def get(db: Database, vid: int) -> dict | None:
    return first(db, "select * from versions where id = ?", [vid])


def published(db: Database, cid: int) -> dict | None:
    """The version the public reads (None for a consultation stored without one)."""
    return first(db, "select v.* from versions v join consultations c on c.version_id = v.id where c.id = ?", [cid])


def of_consultation(db: Database, cid: int) -> list[dict]:
    """Every version of a consultation, oldest first."""
    return list(db.query("select * from versions where consultation_id = ? order by number", [cid]))


def blocks(db: Database, vid: int, include_deleted: bool = False) -> list[dict]:
    """The version's blocks in document order, decoded like store.blocks rows."""
    where = "" if include_deleted else " and vb.deleted = 0"
    rows = db.query(f"select {_BLOCK_COLUMNS} from version_blocks vb join blocks b on b.id = vb.block_id "
                    f"where vb.version_id = ?{where} order by b.position", [vid])
    return [_decode(r) for r in rows]


def block(db: Database, vid: int, block_id: int) -> dict | None:
    """One block as the version shows it (deleted there too), or None when the version does not have it."""
    row = first(db, f"select {_BLOCK_COLUMNS} from version_blocks vb join blocks b on b.id = vb.block_id "
                    "where vb.version_id = ? and vb.block_id = ?", [vid, block_id])
    return _decode(row) if row else None


def changed_since(db: Database, vid: int, cid: int) -> int:
    """How many blocks the editors' text differs in from the version (inserted, edited, deleted)."""
    return db.execute(
        "select count(*) from blocks b left join version_blocks vb on vb.block_id = b.id and vb.version_id = ? "
        "where b.consultation_id = ? and (vb.block_id is null and b.deleted = 0 or vb.block_id is not null "
        "and (vb.deleted != b.deleted or vb.text is not b.text or vb.cells is not b.cells))", [vid, cid],
    ).fetchone()[0]


# --- rounds -------------------------------------------------------------------------------


def add_round(db: Database, row: dict) -> int:
    """A new round (number, version, window, notice, who opened it); its id."""
    return insert(db, "rounds", row)


def set_current_round(db: Database, cid: int, rid: int, opens_at: str, closes_at: str,
                      notice: str | None) -> None:
    """Make a round current: the consultation's window becomes the round's (and its notice, when given)."""
    db.execute("update consultations set round_id = ?, opens_at = ?, closes_at = ? where id = ?",
               [rid, opens_at, closes_at, cid])
    if notice is not None:
        db.execute("update consultations set notice = ? where id = ?", [notice, cid])


def close_round(db: Database, rid: int, opens_at: str, closes_at: str) -> None:
    """Keep the window a round ended with (the consultation's window moves on to the next round)."""
    db.execute("update rounds set opens_at = ?, closes_at = ? where id = ?", [opens_at, closes_at, rid])


def get_round(db: Database, rid: int) -> dict | None:
    return first(db, "select * from rounds where id = ?", [rid])


def round_by_number(db: Database, cid: int, number: int) -> dict | None:
    return first(db, "select * from rounds where consultation_id = ? and number = ?", [cid, number])


def rounds(db: Database, cid: int, with_comments: bool = False) -> list[dict]:
    """Every round, oldest first, with its version's number and label and its published public comments
    (kept counts); with_comments also counts every comment of each round, which reads an index range
    as long as the round (55 ms at 1,000,000 comments: the editors' rounds page only, never the queue)."""
    comments = ("(select count(*) from comments c where c.round_id = r.id)" if with_comments else "null")
    return list(db.query(
        "select r.*, v.number as version_number, v.label as version_label, "
        "(select coalesce(sum(n), 0) from round_counts rc where rc.round_id = r.id) as published, "
        f"{comments} as comments "
        "from rounds r join versions v on v.id = r.version_id where r.consultation_id = ? order by r.number",
        [cid]))


def round_counts(db: Database, rid: int) -> dict[int | None, int]:
    """Published public comments per block in one round (None: the whole draft); zeros left out."""
    rows = db.execute("select block_id, n from round_counts where round_id = ? and n > 0", [rid])
    return {(block_id or None): n for block_id, n in rows}


def published_in_round(db: Database, rid: int, block_id: int | None, columns: str) -> list[dict]:
    """Published public comments of a round on a block (None: the whole draft), oldest first."""
    where = "block_id is ?" if block_id is None else "block_id = ?"
    return list(db.query(f"select {columns} from comments where round_id = ? and source = 'public' "
                         f"and status = 'published' and {where} order by id", [rid, block_id]))


def published_page(db: Database, rid: int, columns: str, after: int = 0, limit: int = 50) -> list[dict]:
    """A page of a round's published public comments in order of arrival (keyset on id)."""
    return list(db.query(f"select {columns} from comments where round_id = ? and source = 'public' "
                         "and status = 'published' and id > ? order by id limit ?", [rid, after, limit]))


def keep_roster(db: Database, rid: int, cid: int) -> None:
    """Record, as a round ends, each department's 无修改意见 in it (those left out keep their mark)."""
    db.execute("insert into round_departments (round_id, department_id, no_comment_at) "
               "select ?, id, no_comment_at from departments where consultation_id = ? and true "
               "on conflict (round_id, department_id) do update set no_comment_at = excluded.no_comment_at",
               [rid, cid])


def start_roster(db: Database, rid: int, cid: int, department_ids: list[int]) -> None:
    """A new round's roster: the chosen departments, none of them having replied yet; the others left out."""
    db.execute("update departments set no_comment_at = null where consultation_id = ?", [cid])
    chosen = set(department_ids)
    for (department_id,) in db.execute("select id from departments where consultation_id = ?", [cid]).fetchall():
        if department_id not in chosen:
            db.execute("insert into round_departments (round_id, department_id, left_out) values (?, ?, 1)",
                       [rid, department_id])


def on_roster(db: Database, rid: int | None, department_id: int) -> bool:
    """Whether a department is on a round's roster (every department is, but those left out of it)."""
    return rid is None or db.execute("select 1 from round_departments where round_id = ? and department_id = ? "
                                     "and left_out = 1", [rid, department_id]).fetchone() is None


def roster(db: Database, rid: int, cid: int) -> list[dict]:
    """A round's roster by name, with each department's 无修改意见 then and its comments in that round."""
    return list(db.query(
        "select d.id, d.name, coalesce(rd.no_comment_at, case when c.round_id = ? then d.no_comment_at end) "
        "as no_comment_at, (select count(*) from comments x where x.round_id = ? and x.department_id = d.id) "
        "as comments from departments d join consultations c on c.id = d.consultation_id "
        "left join round_departments rd on rd.round_id = ? and rd.department_id = d.id "
        "where d.consultation_id = ? and coalesce(rd.left_out, 0) = 0 "
        "and (c.round_id = ? or rd.department_id is not null) order by d.name", [rid, rid, rid, cid, rid]))


def _decode(row: dict) -> dict:
    row["cells"] = json.loads(row["cells"]) if row["cells"] else []
    row["original_cells"] = json.loads(row["original_cells"]) if row["original_cells"] else []
    row["outline"] = json.loads(row["outline"]) if row["outline"] else []
    return row
