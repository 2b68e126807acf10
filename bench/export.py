"""Export timings against python-docx opening and saving the same file, in the same run.

    .venv/bin/python bench/export.py [--runs 5]

docs/draft.docx with 100 revisions, and a generated ~1,000-page document with 1,000
revisions (edits inside sentences, a few inserts and deletes), exported clean and with
tracked changes. Run by hand; never a timed assertion in the tests.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import docx  # noqa: E402
from _timing import timed  # noqa: E402
from draft_import import big_document  # noqa: E402

from revise.docx_export import export_docx  # noqa: E402
from revise.docx_import import import_docx  # noqa: E402


def blocks_with_revisions(data: bytes, n: int, seed: int = 3) -> list[dict]:
    """The importer's blocks as export input, with n of them revised (edits, a few inserts/deletes)."""
    imported = import_docx(data, max_bytes=200 * 1024 * 1024).blocks
    blocks = []
    for i, b in enumerate(imported):
        cells = [{"text": c.text, "span": c.span, "vmerge": c.vmerge} for c in b.cells]
        blocks.append({"id": i + 1, "kind": b.kind, "locator": b.locator, "original_text": b.text,
                       "original_cells": cells, "text": b.text, "cells": [dict(c) for c in cells],
                       "deleted": False, "rev": 0, "author": None, "date": None})
    rng = random.Random(seed)
    candidates = [b for b in blocks if len(b["text"]) > 6]
    chosen = rng.sample(candidates, min(n, len(candidates)))
    extra = []
    for k, b in enumerate(chosen):
        b.update(rev=1, author="张编辑", date="2024-03-10T08:00:00Z")
        if b["kind"] == "table_row":
            b["cells"][-1]["text"] = b["cells"][-1]["text"] + "0"
            b["text"] = "\t".join(c["text"] for c in b["cells"])
        elif k % 20 == 19:
            b["deleted"] = True
        elif k % 20 == 18:
            extra.append((b, {"id": 10**6 + k, "kind": "paragraph", "locator": None, "original_text": None,
                              "original_cells": [], "text": "新增段落:加强科技创新。", "cells": [], "deleted": False,
                              "rev": 1, "author": "张编辑", "date": "2024-03-10T08:00:00Z"}))
        else:
            at = rng.randrange(2, len(b["text"]) - 2)
            b["text"] = b["text"][:at] + "进一步" + b["text"][at + 2:]
    for after, new in extra:
        blocks.insert(blocks.index(after) + 1, new)
    return blocks




def open_and_save(data: bytes) -> None:
    out = io.BytesIO()
    docx.Document(io.BytesIO(data)).save(out)


def bench(name: str, data: bytes, revisions: int, runs: int) -> None:
    blocks = blocks_with_revisions(data, revisions)
    revised = sum(1 for b in blocks if b["rev"])
    floor = timed(lambda: open_and_save(data), runs)
    clean = timed(lambda: export_docx(data, blocks), runs)
    tracked = timed(lambda: export_docx(data, blocks, tracked=True), runs)
    print(f"{name}, {revised} revised blocks: python-docx open+save {floor * 1000:.1f} ms; "
          f"clean export {clean * 1000:.1f} ms ({clean / floor:.2f}×); tracked {tracked * 1000:.1f} ms ({tracked / floor:.2f}×)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench("docs/draft.docx", (ROOT / "docs" / "draft.docx").read_bytes(), 100, args.runs)
    bench("generated 1000 pages", big_document(1000), 1000, max(1, args.runs // 2))


if __name__ == "__main__":
    main()
