"""The server's CPU per request, revise against its floors (issue #11): a figure the machine's load moves less.

    nice -n -10 .venv/bin/python bench/request_cpu.py DATA [--seconds 10] [--tree DIR] [--json out.json]

On a shared machine wrk's requests per second move with everyone else's load; the CPU time the
server process spends per request (utime + stime from /proc/PID/stat, all its threads, over a wrk
run, divided by the requests answered) moves much less. For each case revise and its floor are
run in turn under wrk and this prints CPU µs/request for both and their ratio (floor CPU / revise
CPU: the throughput ratio one core would give, 1.0 = as cheap as the floor):

- public draft page, 8 connections, Accept-Encoding: gzip, br (as a browser: the compressed page);
- comment POST, 32 connections, varied bodies, each its own one-time form token and visitor
  (bench/scale.py's post_requests) — floor: bare Starlette form + one SQLite insert (WAL, FULL);
- a static file (/static/site.css), 8 connections.

The page and static floors are a bare Starlette endpoint sending the very bytes revise sent
(bench/scale.py's FLOOR_PAGES). DATA is a data folder from bench/bigcase.py (the POST runs add
comments to it). `--tree DIR` runs another checkout's revise (e.g. `git archive HEAD | tar -x -C
/tmp/before`) to measure before and after against the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx2 as httpx  # noqa: E402
from scale import (  # noqa: E402
    BROWSER_HEADERS, FLOOR_PAGES, TREE, Wrk, capture, cpu_seconds, post_requests, start_revise, wait_idle,
    wait_until_up,
)
from bigcase import Writer, seed_phrases, seed_text  # noqa: E402
from load import BARE_APP, free_port  # noqa: E402

from revise.security import Signer, load_or_create_secret  # noqa: E402


def user_system(pid: int) -> tuple[float, float]:
    """utime and stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def measured(url: str, script: str, args: list[str], connections: int, seconds: float, pid: int) -> dict:
    """One wrk run; the server's CPU over it per request answered."""
    wait_idle(pid, limit=60)
    before, (user0, system0) = cpu_seconds(pid), user_system(pid)
    r = Wrk(url, script, args, connections, seconds).result()
    cpu = cpu_seconds(pid) - before
    user1, system1 = user_system(pid)
    ok = sum(v for k, v in r["statuses"].items() if k.startswith(("2", "3")))
    return {"requests": r["requests"], "ok": ok, "rate": r["rate"], "p99_ms": r["p99"] / 1000,
            "server_cpu_s": cpu, "cpu_us": 1e6 * cpu / max(r["requests"], 1), "errors": r["error_total"],
            "user_us": 1e6 * (user1 - user0) / max(r["requests"], 1),
            "system_us": 1e6 * (system1 - system0) / max(r["requests"], 1),
            "bad": r["requests"] - ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--seconds", type=float, default=10, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each case (the lowest CPU per request is kept)")
    parser.add_argument("--post-lines", type=int, default=40_000)
    parser.add_argument("--only", default="page,post,static")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--tree", type=Path, default=TREE)
    args = parser.parse_args()
    only = set(args.only.split(","))
    data = args.data.resolve()
    info = json.loads((data / "bigcase.json").read_text(encoding="utf-8"))
    slug, cid = info["slug"], info["consultation_id"]
    db = sqlite3.connect(data / "revise.db")
    db.row_factory = sqlite3.Row
    blocks = [dict(r) for r in db.execute("select id, kind, text from blocks where consultation_id = ? and deleted = 0 "
                                          "order by position", [cid])]
    db.close()
    signer = Signer(load_or_create_secret(data))
    rng = random.Random(2025)
    writer = Writer(rng, seed_phrases(seed_text(), random.Random(11)))

    work = Path(tempfile.mkdtemp(prefix="request-cpu-"))
    port, floor_port, bare_port = free_port(), free_port(), free_port()
    base, floor, bare = (f"http://127.0.0.1:{p}" for p in (port, floor_port, bare_port))
    server = start_revise(data, port, tree=args.tree)
    procs = [server]
    results: dict = {"tree": str(args.tree), "seconds": args.seconds}
    try:
        wait_until_up(base + "/")
        client = httpx.Client(base_url=base, timeout=300)
        pages: list[dict] = []
        page_path, static_path = f"/c/{slug}", "/static/site.css"
        idx = {"page": capture(client, page_path, BROWSER_HEADERS, work, pages),
               "static": capture(client, static_path, BROWSER_HEADERS, work, pages)}
        (work / "pages.json").write_text(json.dumps(pages))
        procs.append(floor_proc := subprocess.Popen([sys.executable, "-c", FLOOR_PAGES, str(floor_port),
                                                     str(work / "pages.json")]))
        procs.append(bare_proc := subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port), str(work / "bare.db")]))
        wait_until_up(f"{floor}/p/0")
        for _ in range(100):
            try:
                httpx.post(bare + "/", data={"body": "warm-up"}, timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        cases = []
        if "page" in only:
            cases.append(("public page (gzip), 8 conn", "page",
                          (base, "get.lua", [page_path], 8, server.pid),
                          (floor, "get.lua", [f"/p/{idx['page']}"], 8, floor_proc.pid)))
        if "post" in only:
            lines = args.post_lines * args.rounds
            post_requests(work / "post.txt", lines, slug, blocks, signer, rng, writer)
            post_requests(work / "bare.txt", lines, slug, blocks, signer, rng, writer)
            (work / "bare-post.txt").write_text("".join("/\t" + line.split("\t", 1)[1] for line in (work / "bare.txt").open()))
            cases.append(("comment POST, 32 conn", "post",
                          (base, "post_comment.lua", [str(work / "post.txt"), "2"], 32, server.pid),
                          (bare, "post_comment.lua", [str(work / "bare-post.txt"), "2"], 32, bare_proc.pid)))
        if "static" in only:
            cases.append(("static file (site.css), 8 conn", "static",
                          (base, "get.lua", [static_path], 8, server.pid),
                          (floor, "get.lua", [f"/p/{idx['static']}"], 8, floor_proc.pid)))
        rows = []
        for what, key, rev, flo in cases:
            runs = []
            for _ in range(args.rounds):
                r = measured(rev[0], rev[1], rev[2], rev[3], args.seconds, rev[4])
                f = measured(flo[0], flo[1], flo[2], flo[3], args.seconds, flo[4])
                runs.append((r, f))
                print(f"{what}: revise {r['cpu_us']:.0f} µs CPU/request (user {r['user_us']:.0f}, system {r['system_us']:.0f}; {r['rate']:.0f}/s, p99 {r['p99_ms']:.0f} ms, "
                      f"{r['bad']} not 2xx/3xx, {r['errors']} socket errors) | floor {f['cpu_us']:.0f} µs (user {f['user_us']:.0f}, system {f['system_us']:.0f}; {f['rate']:.0f}/s)",
                      flush=True)
            r = min((x[0] for x in runs), key=lambda x: x["cpu_us"])
            f = min((x[1] for x in runs), key=lambda x: x["cpu_us"])
            results[key] = {"revise": r, "floor": f, "ratio": f["cpu_us"] / r["cpu_us"]}
            rows.append((what, r, f))
        print("\n| what | revise CPU µs/request | floor CPU µs/request | ratio (floor/revise) | revise, floor req/s |")
        print("|---|---|---|---|---|")
        for what, r, f in rows:
            print(f"| {what} | {r['cpu_us']:.0f} | {f['cpu_us']:.0f} | {f['cpu_us'] / r['cpu_us']:.2f}× | "
                  f"{r['rate']:.0f}, {f['rate']:.0f} |")
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
