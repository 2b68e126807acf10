"""Import and render timings, each against a floor measured in the same run.

    .venv/bin/python bench/draft_import.py [--runs 5]

Prints, for docs/draft.docx and a generated ~1,000-page document with tables:
  import time (revise.docx_import.import_docx) / python-docx merely opening the same file;
and the time to render /c/nanchong-2022 / a bare Starlette endpoint answering the same bytes.
Run by hand; never a timed assertion in the tests.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402
from _timing import timed  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import HTMLResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from revise.app import create_app  # noqa: E402
from revise.docx_import import import_docx  # noqa: E402
from revise.settings import Settings  # noqa: E402

SENTENCE = "加快推进临江新区建设,整合科教资源优势,推进产教融合发展,打造川东北经济区产业核心技术研发地和国家产城融合示范区。"


def big_document(pages: int = 1000) -> bytes:
    """About `pages` A4 pages at 三号: headings, long paragraphs and a 12-row table every 10 pages."""
    document = docx.Document()
    for page in range(pages):
        if page % 10 == 0:
            document.add_heading(f"{page // 10 + 1}.第{page // 10 + 1}部分", level=1)
        document.add_heading(f"({page % 10 + 1})第{page + 1}页小节", level=2)
        for _ in range(3):
            document.add_paragraph(SENTENCE * 3)
        if page % 10 == 5:
            table = document.add_table(rows=12, cols=5)
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row.cells):
                    cell.text = f"{r}-{c} 指标"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()




def read_all_text(data: bytes) -> int:
    """A second floor: python-docx opening the file and reading every paragraph and cell."""
    document = docx.Document(io.BytesIO(data))
    n = sum(len(p.text) for p in document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            n += sum(len(c.text) for c in row.cells)
    return n


def bench_import(name: str, data: bytes, runs: int) -> None:
    floor = timed(lambda: docx.Document(io.BytesIO(data)), runs)
    floor_text = timed(lambda: read_all_text(data), runs)
    ours = timed(lambda: import_docx(data, max_bytes=100 * 1024 * 1024), runs)
    blocks = len(import_docx(data, max_bytes=100 * 1024 * 1024).blocks)
    print(
        f"import {name}: {len(data) / 1024:.0f} KiB, {blocks} blocks — "
        f"python-docx open {floor * 1000:.1f} ms, revise import {ours * 1000:.1f} ms, "
        f"ratio {ours / floor:.2f}× (python-docx open + read all text {floor_text * 1000:.1f} ms, "
        f"ratio {ours / floor_text:.2f}×)"
    )


def bench_render(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with TestClient(create_app(Settings(data_dir=Path(tmp)))) as client:
            body = client.get("/c/nanchong-2022").content
            ours = timed(lambda: client.get("/c/nanchong-2022"), runs * 4)
        bare = Starlette(routes=[Route("/", lambda request: HTMLResponse(body))])
        with TestClient(bare) as client:
            floor = timed(lambda: client.get("/"), runs * 4)
    print(
        f"render /c/nanchong-2022: {len(body) / 1024:.0f} KiB — bare Starlette same bytes "
        f"{floor * 1000:.2f} ms, revise {ours * 1000:.2f} ms, ratio {ours / floor:.1f}×"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args()
    bench_import("docs/draft.docx", (ROOT / "docs" / "draft.docx").read_bytes(), args.runs)
    bench_import(f"generated {args.pages} pages", big_document(args.pages), max(1, args.runs // 2))
    bench_render(args.runs)


if __name__ == "__main__":
    main()
