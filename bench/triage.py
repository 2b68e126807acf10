"""The triage view at scale (issue #13): the server time of one decision plus loading the next
comment, against a floor measured in the same run.

    .venv/bin/python bench/triage.py DATA [--decisions 300] [--warmup 20]

DATA is a folder built by bench/bigcase.py (e.g. `bench/bigcase.py /tmp/triage1m --comments
1000000`); its bigcase.json names the consultation and the editor. Each decision is what the
editor's Enter sends with htmx: one POST to /editor/c/SLUG/triage/ID (disposition "not adopted",
a common reply chosen, the queue's filter) whose answer is the next comment's panel — the
decision (triage.decide: the update and its audit row, one fsync'd transaction) and the next
comment found by the queue's keyset query, loaded and rendered. Timed in-process through the
whole app (Starlette TestClient: middleware, session, CSRF, thread pool; the time is taken at the
ASGI boundary, from the request entering the app to its last byte; the CPU column is this whole
process, test client included), one request at a time, in three filters: the queue's default
order (newest first, groups once) on comments to be decided; the draft's order within one
section; and the busiest paragraph. Every tenth step also times a skip (j): the next comment
without a decision.

Figures are wall times, so they include waiting for a CPU: the load average of the machine is
printed with them, and the floor, measured in the same run, shows how much the machine inflates
even a bare step.

The floor is the least any implementation must do for the same step on the same file: a bare
sqlite3 connection (same pragmas: WAL, synchronous=FULL) running the keyset select of the next
pending comment and an update of one comment's disposition in one committed transaction.

Decisions are really stored: each run decides `--decisions` more pending comments of DATA.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from revise import reply_templates  # noqa: E402
from revise.app import create_app  # noqa: E402
from revise.settings import Settings  # noqa: E402
from revise.store import connect  # noqa: E402
from revise.store import consultations as consultation_store  # noqa: E402

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
COMMENT = re.compile(r'data-comment="(\d+)"')


class ServerClock:
    """ASGI wrapper: the time from the request entering the app to its last byte sent (the server's
    own time, without the test client's work on either side)."""

    def __init__(self, app):
        self.app, self.last = app, 0.0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.perf_counter() - start


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def describe(name: str, samples: list[float], cpu: list[float] | None = None) -> str:
    ms = [s * 1000 for s in samples]
    line = (f"{name:<50} n={len(ms):<4} p50 {statistics.median(ms):6.1f} ms  p95 {pct(ms, 95):6.1f} ms  "
            f"max {max(ms):6.1f} ms")
    if cpu:
        line += f"  | CPU p50 {statistics.median(cpu) * 1000:5.1f} ms p95 {pct(cpu, 95) * 1000:5.1f} ms"
    return line


def sign_in(client: TestClient, username: str, password: str) -> str:
    csrf = CSRF.search(client.get("/editor/sign-in").text).group(1)
    response = client.post("/editor/sign-in", data={"username": username, "password": password, "csrf": csrf,
                                                     "next": "/editor"}, follow_redirects=False)
    if response.status_code != 303:
        raise SystemExit(f"sign-in failed: {response.status_code}")
    return CSRF.search(client.get("/editor").text).group(1)


def walk(client: TestClient, clock: ServerClock, slug: str, csrf: str, query: str, template_id: int,
         decisions: int, warmup: int) -> tuple[list[float], list[float], list[float], int]:
    """Decide `decisions` comments one after the other in a filter:
    (decision+next times, their CPU times in this process, skip times, decided)."""
    hx = {"HX-Request": "true"}
    first = client.get(f"/editor/c/{slug}/triage?{query}", headers=hx)
    found = COMMENT.search(first.text)
    if not found:
        raise SystemExit(f"no comment in the filter {query!r}")
    current = int(found.group(1))
    timed, cpu, skips, decided = [], [], [], 0
    for n in range(decisions + warmup):
        form = {"csrf": csrf, "query": query, "disposition": "rejected", "template": str(template_id),
                "action": "decide"}
        start_cpu = time.process_time()
        response = client.post(f"/editor/c/{slug}/triage/{current}", data=form, headers=hx)
        elapsed, used = clock.last, time.process_time() - start_cpu
        if response.status_code != 200:
            raise SystemExit(f"decision on #{current}: {response.status_code} {response.text[:300]}")
        decided += 1
        if n >= warmup:
            timed.append(elapsed)
            cpu.append(used)
        found = COMMENT.search(response.text)
        if not found:
            break
        current = int(found.group(1))
        if n % 10 == 5:  # now and then a skip (j): the next comment without a decision
            response = client.get(f"/editor/c/{slug}/triage?{query}&after={current}", headers=hx)
            skips.append(clock.last)
            found = COMMENT.search(response.text)
            if not found:
                break
            current = int(found.group(1))
    return timed, cpu, skips, decided


def floor(db_path: Path, cid: int, runs: int) -> tuple[list[float], list[float]]:
    """A bare keyset select of the next pending comment + one committed update, same file and pragmas."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("pragma journal_mode=wal")
    conn.execute("pragma synchronous=full")
    current = conn.execute("select max(id) from comments where consultation_id = ?", [cid]).fetchone()[0] + 1
    samples, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        conn.execute("begin immediate")
        row = conn.execute("select id from comments where consultation_id = ? and disposition = 'pending' "
                           "and id < ? order by id desc limit 1", [cid, current]).fetchone()
        if row is None:
            conn.execute("commit")
            break
        current = row[0]
        conn.execute("update comments set disposition = 'rejected', disposition_reason = 'floor', "
                     "decided_at = '2024-01-01T00:00:00Z' where id = ?", [current])
        conn.execute("commit")
        samples.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    conn.close()
    return samples, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    info = json.loads((args.data / "bigcase.json").read_text())
    settings = Settings(data_dir=args.data, base_url="http://testserver")
    clock = ServerClock(create_app(settings))
    with TestClient(clock) as client:
        db = connect(settings.db_path)
        c = consultation_store.by_slug(db, info["slug"])
        reply_templates.add_defaults(db, c, "bench")
        template_id = reply_templates.of_consultation(db, c["id"])["rejected"][0]["id"]
        total = db.execute("select count(*) from comments where consultation_id = ?", [c["id"]]).fetchone()[0]
        pending = db.execute("select n from editor_counts where consultation_id = ? and dim = 'disposition' "
                             "and key = 'pending'", [c["id"]]).fetchone()[0]
        busiest_block = db.execute("select key from editor_counts where consultation_id = ? and dim = 'block' "
                                   "and key != '' order by n desc limit 1", [c["id"]]).fetchone()[0]
        section = db.execute("select id from blocks where consultation_id = ? and kind = 'heading' and level = 1 "
                             "order by position limit 1 offset 1", [c["id"]]).fetchone()[0]
        csrf = sign_in(client, info["editor"], info["password"])
        print(f"{total:,} comments, {pending:,} to be decided; {args.decisions} decisions per filter "
              f"after {args.warmup} not timed")
        filters = [
            ("queue default (newest first, groups once)", "disposition=pending"),
            ("one section, in the draft's order", f"disposition=pending&sort=block&section={section}"),
            ("the busiest paragraph", f"disposition=pending&block={busiest_block}"),
        ]
        everything, everything_cpu = [], []
        for name, query in filters:
            timed, cpu, skips, decided = walk(client, clock, info["slug"], csrf, query, template_id, args.decisions,
                                              args.warmup)
            everything += timed
            everything_cpu += cpu
            print(describe(f"decide + next: {name}", timed, cpu))
            if skips:
                print(describe(f"skip (j) to the next: {name}", skips))
        print(describe("decide + next: all filters", everything, everything_cpu))
        print(describe("floor: bare keyset select + update + commit", *floor(settings.db_path, c["id"], 300)))
        print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        db.close()


if __name__ == "__main__":
    main()
