"""Blocks: the addressable paragraphs, headings, list items and table rows of a draft."""

from __future__ import annotations

import json

from sqlite_utils import Database

from revise.store import first
from revise.store import versions as version_store

# Gap between order keys at import, so a block can later be inserted between two others.
POSITION_STEP = 1024


def insert_imported(db: Database, cid: int, blocks: list[dict]) -> list[int]:
    """Insert the imported blocks in order; return their new ids in the same order.

    Each dict has the importer's fields; ``outline`` holds indices into ``blocks`` and is
    stored as the ids of those heading blocks.
    """
    ids: list[int] = []
    table = db.table("blocks")
    for i, block in enumerate(blocks):
        row = {
            "consultation_id": cid,
            "position": (i + 1) * POSITION_STEP,
            "kind": block["kind"],
            "level": block.get("level"),
            "label": block.get("label", ""),
            "title": block.get("title", ""),
            "text": block["text"],
            "cells": json.dumps(block["cells"], ensure_ascii=False) if block.get("cells") else None,
            "original_text": block["text"],
            "original_cells": json.dumps(block["cells"], ensure_ascii=False) if block.get("cells") else None,
            "table_no": block.get("table"),
            "style": block.get("style", ""),
            "locator": block.get("locator"),
            "outline": json.dumps([ids[j] for j in block.get("outline", ())]),
        }
        table.insert(row)
        ids.append(table.last_pk)
    # The text as imported is version 1, the one the public reads in round 1 (issue #12).
    version_store.create_initial(db, cid, "征求意见稿", first(db, "select created_at from consultations where id = ?",
                                                              [cid])["created_at"])
    return ids


def of_consultation(db: Database, cid: int, include_deleted: bool = False) -> list[dict]:
    """The consultation's blocks in document order, cells and outline decoded."""
    where = "consultation_id = ?" if include_deleted else "consultation_id = ? and deleted = 0"
    rows = db.table("blocks").rows_where(where, [cid], order_by="position")
    return [_decode(r) for r in rows]


def get(db: Database, cid: int, block_id: int) -> dict | None:
    """One block of the consultation, or None."""
    row = first(db, "select * from blocks where consultation_id = ? and id = ?", [cid, block_id])
    return _decode(row) if row else None


def _decode(row: dict) -> dict:
    row["cells"] = json.loads(row["cells"]) if row["cells"] else []
    if "original_cells" in row:
        row["original_cells"] = json.loads(row["original_cells"]) if row["original_cells"] else []
    row["outline"] = json.loads(row["outline"]) if row["outline"] else []
    return row

