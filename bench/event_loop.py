"""Nothing holds the event loop: a static file stays fast while the server is under attack (issue #10).

    .venv/bin/python bench/event_loop.py [--seconds 10] [--previewers 20] [--lock-seconds 5]

Starts revise as a user would (server.py → uvicorn, one worker, a fresh data folder), then
measures GET /static/site.css with wrk (1 connection, --latency) twice in the same run:
  1. on the idle server (the floor);
  2. while --previewers clients send maximum-size previews (a 7,000-character suggestion: the
     64 KB form limit, urlencoded, each a fresh random text so nothing is cached), a few clients send comments,
     and another process holds SQLite's write lock for --lock-seconds.
Prints p50/p99 of both and their ratio, how the previews and comments were answered (200 / 429 /
503), and checks that every acknowledged comment is stored exactly once. The preview limit is
raised for the run (REVISE_PREVIEWS_PER_MINUTE) so the diffs really run: the worst case, not
the limiter's.

wrk corrects its latencies for coordinated omission (a response that took longer than the
mean interval adds the requests that would have been sent meanwhile): one stall of half a
second fills the top percent on its own, so p99 here means "no stall at all", not "rare stalls".
BENCH_SERVER_LOG=FILE keeps the server's log (its access log has each request's own time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from load import free_port, wait_until_up  # noqa: E402

WORDS = ("创新型城市", "科技成果转化", "高新技术企业", "孵化器", "众创空间", "研发投入", "产业园区",
         "人才引进", "知识产权", "数字经济", "营商环境", "嘉陵江", "成渝地区", "双城经济圈", "南充")
HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def wrk_latency(url: str, seconds: float) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of GET url with one connection."""
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds:.0f}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, ms("50%"), ms("99%")


async def attack(base: str, block_id: int, seconds: float, previewers: int, commenters: int, tally: dict,
                 preview_chars: int = 7000) -> None:
    deadline = time.monotonic() + seconds
    rng = random.Random(1)

    async def one(kind: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            fields = {}
            while time.monotonic() < deadline:
                if kind == "comment" or not fields:  # a preview does not use up its form token
                    html = (await client.get(f"/c/nanchong-2022/b/{block_id}")).text
                    fields = dict(re.findall(r'name="(csrf|form_token)" value="([^"]+)"', html))
                if kind == "preview":
                    # As large as the form limit allows: a browser sends it urlencoded, 9 bytes a
                    # Chinese character, so 64 KB hold about 7,000 of them.
                    text = "".join(rng.choice(WORDS) for _ in range(2000))[:preview_chars]
                    data = {**fields, "kind": "edit", "suggestion": text, "body": "", "action": "preview"}
                else:
                    data = {**fields, "kind": "remark", "body": "建议补充研发投入的分年度目标。" + str(rng.random()),
                            "action": "submit"}
                try:
                    response = await client.post(f"/c/nanchong-2022/b/{block_id}/comments", data=data,
                                                 follow_redirects=False)
                except httpx.HTTPError as error:
                    tally[f"{kind} {type(error).__name__}"] = tally.get(f"{kind} {type(error).__name__}", 0) + 1
                    continue
                key = f"{kind} {response.status_code}"
                tally[key] = tally.get(key, 0) + 1
                if response.status_code == 303:
                    tally.setdefault("receipts", []).append(response.headers["location"].split("receipt=")[1].split("#")[0])

    await asyncio.gather(*([one("preview") for _ in range(previewers)] + [one("comment") for _ in range(commenters)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--previewers", type=int, default=20)
    parser.add_argument("--commenters", type=int, default=4)
    parser.add_argument("--lock-seconds", type=float, default=5)
    parser.add_argument("--preview-chars", type=int, default=7000, help="length of each suggestion previewed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        env = dict(os.environ, REVISE_DATA=data, REVISE_COMMENTS_PER_MINUTE="1000000",
                   REVISE_PREVIEWS_PER_MINUTE="1000000")
        server = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "--port", str(port)], env=env,
                                  cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "w"))
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/")
            static = base + "/static/site.css"
            idle = wrk_latency(static, args.seconds)
            db = sqlite3.connect(Path(data) / "revise.db")
            block_id = db.execute("select id from blocks where kind = 'paragraph' order by position limit 1 offset 5").fetchone()[0]
            tally: dict = {}
            loader = threading.Thread(target=lambda: asyncio.run(
                attack(base, block_id, args.seconds + 2, args.previewers, args.commenters, tally,
                       args.preview_chars)))
            loader.start()
            time.sleep(1)  # the attack is under way
            holder = subprocess.Popen([sys.executable, "-c", HOLD, str(Path(data) / "revise.db"), str(args.lock_seconds)],
                                      stdout=subprocess.PIPE, text=True)
            holder.stdout.readline()
            busy = wrk_latency(static, args.seconds)
            holder.wait(60)
            loader.join()
            receipts = tally.pop("receipts", [])
            stored = [r[0] for r in db.execute("select receipt from comments")]
            print(f"GET /static/site.css, idle:         {idle[0]:7.0f}/s  p50 {idle[1]:6.1f} ms  p99 {idle[2]:6.1f} ms")
            print(f"GET /static/site.css, under attack: {busy[0]:7.0f}/s  p50 {busy[1]:6.1f} ms  p99 {busy[2]:6.1f} ms"
                  f"  (target p99 < 100 ms)")
            print(f"ratio p99 under attack / idle: {busy[2] / idle[2]:.1f}×")
            print("answers during the attack:", dict(sorted(tally.items())))
            print(f"comments acknowledged {len(receipts)}, stored {len(set(stored) & set(receipts))}, "
                  f"missing {len(set(receipts) - set(stored))}, duplicated {len(stored) - len(set(stored))}")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
