"""Pages per 100 comments of the 意见采纳情况表 (.docx), as LibreOffice lays it out (issue #12).

    .venv/bin/python bench/report_pages.py [--comments 100] [--keep DIR]

The Nanchong default draft with a realistic set of comments: most propose new wording for a
paragraph (a few words changed, a number corrected, a phrase added or cut), some add or delete
a paragraph, some are remarks; about half are adopted through the workspace (so the reason
column says what was changed), some are not adopted with a reason, the rest still pending. The
report .docx is converted with `soffice --headless --convert-to pdf` and its pages counted
(pypdf if installed, else the PDF's "/Type /Page" objects). Run by hand; never a test.

To measure the code of another commit, run this file with that commit's tree first on the
path: `git archive COMMIT | tar -x -C /tmp/before && PYTHONPATH=/tmp/before python bench/report_pages.py`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))

from revise import commenting, departments, drafts, report, revising, triage  # noqa: E402
from revise.security import Signer  # noqa: E402
from revise.settings import Settings  # noqa: E402
from revise.store import connect  # noqa: E402
from revise.store import consultations as consultation_store  # noqa: E402
from revise.store.schema import migrations  # noqa: E402
from revise.window import Window  # noqa: E402

EDITOR = {"id": 1, "display_name": "张编辑"}
SWAPS = [("加快", "加速"), ("推进", "推动"), ("提升", "提高"), ("建设", "打造"), ("加强", "强化"),
         ("支持", "鼓励"), ("完善", "健全"), ("积极", "大力"), ("培育", "扶持"), ("引导", "推动")]
ADDS = ["进一步", "积极", "全面", "着力", "(含县级)", "、数字经济", "和科技服务业"]
REASONS = ["与上位规划表述一致,建议保留原文。", "该项已在第三部分作出安排。", "超出本方案范围,另行研究。"]
BODIES = ["建议修改表述,使之与省级指引一致。", "表述不够准确,建议调整。", "建议按最新统计数据修改。",
          "文字可更简练。", "建议补充相关内容,增强可操作性。"]


def propose(text: str, rng: random.Random) -> str | None:
    """New wording a commenter might propose for a paragraph: a small, realistic change."""
    numbers = [m for m in re.finditer(r"\d+", text)]
    swaps = [(a, b) for a, b in SWAPS if a in text]
    choice = rng.random()
    if numbers and choice < 0.25:
        m = rng.choice(numbers)
        value = str(int(m.group()) + rng.choice((1, 2, 5, 10, 50, 100)))
        return text[:m.start()] + value + text[m.end():]
    if swaps and choice < 0.6:
        a, b = rng.choice(swaps)
        return text.replace(a, b, 1)
    if choice < 0.85:
        at = rng.randrange(1, max(2, len(text) - 1))
        return text[:at] + rng.choice(ADDS) + text[at:]
    stops = [m.end() for m in re.finditer(r"[,;,;]", text)]
    if len(stops) >= 2:
        a, b = sorted(rng.sample(stops, 2))
        return text[:a] + text[b:]
    return None


def build(db, n: int, seed: int = 12) -> dict:
    """The default consultation with n comments decided like a real office would."""
    now = datetime.now(timezone.utc)
    settings = Settings(data_dir=Path(tempfile.gettempdir()), base_url="http://localhost")
    drafts.ensure_default(db, settings, Window(now - timedelta(days=1), now + timedelta(days=30)))
    c = consultation_store.by_slug(db, "nanchong-2022")
    rng = random.Random(seed)
    paragraphs = [b for b in db.query("select * from blocks where consultation_id = ? and kind = 'paragraph' "
                                      "order by position", [c["id"]]) if len(b["text"]) > 30]
    signer = Signer(b"bench")
    dept_ids = []
    for name in ("市发展改革委", "市经济和信息化局", "市财政局", "市教育局"):
        dept_ids.append(departments.add(db, c, name, "bench")[0])
    made = []
    for i in range(n):
        block = rng.choice(paragraphs)
        block = db.table("blocks").get(block["id"])
        kind = rng.choices(("edit", "insert", "delete", "remark"), (70, 10, 5, 15))[0]
        suggestion = ""
        if kind == "edit":
            suggestion = propose(block["text"], rng)
            if not suggestion or suggestion == block["text"]:
                kind, suggestion = "remark", ""
        elif kind == "insert":
            suggestion = "建议新增:" + rng.choice(("支持建设省级以上重点实验室和工程技术研究中心。",
                                               "完善科技成果转化激励机制,落实科研人员成果转化收益分配政策。"))
        values = {"kind": kind, "body": rng.choice(BODIES), "suggestion": suggestion, "quote": "",
                  "quote_start": None, "name": f"市民{i}", "contact": ""}
        department = db.table("departments").get(dept_ids[i % 4]) if i % 5 == 0 else None
        comment, _ = commenting.submit(db, c, block, values, form_token=signer.form_token(), department=department)
        made.append((comment, block))
    for k, (comment, block) in enumerate(made):
        if k % 2 == 0 and comment["kind"] in ("edit", "insert", "delete"):
            fresh = db.table("blocks").get(block["id"])
            if fresh["deleted"]:
                continue
            try:
                revising.accept_suggestion(db, c, comment["id"], base_number=fresh["rev"], author=EDITOR)
            except Exception:  # the paragraph moved on since the comment: decided without a revision
                triage.decide(db, c, [comment["id"]], "reflected", "已在修改稿中体现。", "张编辑")
        elif k % 3 == 0:
            triage.decide(db, c, [comment["id"]], "rejected", rng.choice(REASONS), "张编辑")
    return c


def pdf_pages(pdf: bytes) -> int:
    try:
        from pypdf import PdfReader
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    import io

    return len(PdfReader(io.BytesIO(pdf)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="keep the .docx and .pdf in this folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="report-pages-"))
    try:
        db = connect(work / "revise.db")
        migrations.apply(db)
        c = build(db, args.comments)
        made = report.build_report(db, c)
        (work / "report.docx").write_bytes(report.report_docx(made))
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{work}/lo", "--convert-to", "pdf",
                        "--outdir", str(work), str(work / "report.docx")], check=True, capture_output=True, timeout=600)
        pages = pdf_pages((work / "report.pdf").read_bytes())
        rows = len(made.rows)
        print(f"{args.comments} comments, {rows} rows: {pages} pages, {pages * 100 / args.comments:.1f} pages per 100 comments")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("report.docx", "report.pdf"):
                shutil.copy(work / name, args.keep / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
