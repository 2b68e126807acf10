"""The editors' queue and dashboard on 100,000 comments, against a bare SELECT of the same page.

    .venv/bin/python bench/editor_pages.py [--comments 100000] [--runs 20]

Builds a fresh database with the Nanchong draft and N generated comments spread over its
blocks (public and department, all kinds, statuses and dispositions), signs an editor in and
times, per page: the full request through the app (filters, full-text search, rendering) and
a bare `SELECT` of the same 50 rows in the same run. Prints milliseconds and the ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _timing import timed  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from revise import accounts, drafts  # noqa: E402
from revise.app import create_app  # noqa: E402
from revise.settings import Settings  # noqa: E402
from revise.store import open_database  # noqa: E402

SENTENCES = [
    "建议将研发投入强度目标提高到2%。", "高新技术企业数量目标偏低,建议调整。", "请补充临江新区建设的具体时间表。",
    "科技成果转化平台建设需要明确牵头单位。", "建议增加对中小企业创新券的支持力度。", "人才引进政策应与住房保障衔接。",
    "嘉陵江流域生态保护应纳入科技创新行动。", "数字经济产业高地的提法过于笼统。", "孵化器数量统计口径需说明。",
    "建议补充知识产权保护的具体措施。", "进度安排中2023年任务不够具体。", "建议明确考核监督的责任主体。",
]


def build(data: Path, n: int) -> None:
    settings = Settings(data_dir=data)
    db = open_database(settings.db_path)
    drafts.ensure_default(db, settings)
    cid = db.execute("select id from consultations").fetchone()[0]
    blocks = [r[0] for r in db.execute("select id from blocks where consultation_id = ?", [cid])]
    departments = []
    for i in range(20):
        db["departments"].insert({"consultation_id": cid, "name": f"部门{i}", "token_hash": f"h{i}", "created_at": "2024-01-01T00:00:00Z"})
        departments.append(db["departments"].last_pk)
    rng = random.Random(1)
    rows = []
    for i in range(n):
        dept = rng.random() < 0.1
        rows.append({
            "consultation_id": cid, "block_id": rng.choice(blocks) if rng.random() > 0.05 else None, "block_rev": 0,
            "kind": rng.choice(["edit", "delete", "insert", "remark"]), "source": "department" if dept else "public",
            "department_id": rng.choice(departments) if dept else None, "name": f"居民{i}", "contact": "",
            "body": "".join(rng.sample(SENTENCES, 3)) + f"(编号{i})", "suggestion": "", "quote": None,
            "quote_start": None, "receipt": f"R{i:09d}", "form_token": f"t{i}",
            "status": rng.choice(["pending", "published", "hidden"]),
            "created_at": f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "disposition": rng.choice(["pending", "adopted", "partly", "rejected", "reflected"]),
        })
    with db.atomic():
        db["comments"].insert_all(rows, batch_size=2000)
    accounts.create_account(db, "bench", "测试", "editor", "bench-password-123", "bench")
    db.close()




def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        start = time.perf_counter()
        build(data, args.comments)
        print(f"generated {args.comments} comments in {time.perf_counter() - start:.1f}s")
        app = create_app(Settings(data_dir=data))
        with TestClient(app) as client:
            page = client.get("/editor/sign-in").text
            csrf = page.split('name="csrf" value="')[1].split('"')[0]
            client.post("/editor/sign-in", data={"username": "bench", "password": "bench-password-123", "csrf": csrf})
            db = app.state.connections.get()
            cid = db.execute("select id from consultations").fetchone()[0]
            section = db.execute("select id from blocks where kind = 'heading' and level = 1 limit 1 offset 3").fetchone()[0]
            cases = [
                ("queue, newest first", "/editor/c/nanchong-2022/comments",
                 "select * from comments where consultation_id = ? order by id desc limit 50", [cid]),
                ("queue, page 1000", "/editor/c/nanchong-2022/comments?page=1000",
                 "select * from comments where consultation_id = ? order by id desc limit 50 offset 49950", [cid]),
                ("queue, section + status, block order", f"/editor/c/nanchong-2022/comments?section={section}&status=pending&sort=block",
                 "select c.* from comments c join blocks b on b.id = c.block_id where c.consultation_id = ? and c.status = 'pending' order by b.position, c.id limit 50", [cid]),
                ("queue, search 研发投入", "/editor/c/nanchong-2022/comments?q=研发投入",
                 "select * from comments where consultation_id = ? and id in (select rowid from comments_fts where comments_fts match '\"研发投入\"') order by id desc limit 50", [cid]),
                ("dashboard", "/editor/c/nanchong-2022",
                 "select * from comments where consultation_id = ? order by id desc limit 50", [cid]),
            ]
            for name, path, sql, params in cases:
                assert client.get(path).status_code == 200, path
                ours = timed(lambda: client.get(path), args.runs)
                bare = timed(lambda: list(db.execute(sql, params)), args.runs)
                print(f"{name}: revise {ours * 1000:.1f} ms, bare SELECT {bare * 1000:.2f} ms, ratio {ours / bare:.1f}×")


if __name__ == "__main__":
    main()
