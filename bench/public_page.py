"""Issue #11, the public side: the draft page, the comment POST, a flash crowd and memory, with floors.

    .venv/bin/python bench/public_page.py DATA [DATA ...] [--seconds 10] [--rounds 3] [--parts page,plain,post,crowd]
                                          [--clients many|one] [--writer thread|process] [--profile DIR]
                                          [--json out.json]

Each DATA is a data folder built by bench/bigcase.py (written to: the POSTs add comments). For
each, revise is started as `server.py --data DATA serve` (one uvicorn worker, the comment rate
limit off) and, in the same run, the floors of bench/scale.py: a bare Starlette endpoint
answering the very bytes revise answered (same Content-Type and Content-Encoding), and a bare
Starlette form POST + one SQLite insert (WAL, synchronous=FULL). wrk (Debian's wrk 4.1; the Lua
scripts in bench/wrk give each POST its own one-time form token and CSRF-bound visitor id)
drives each; wrk's and the server's CPU are printed so one can see the load generator is not
the bottleneck. Parts:

- page:  the public draft page, 8 connections, as a browser asks (Accept-Encoding: gzip, br);
         target ≥ 0.5× the floor, p99 < 50 ms; then the same with If-None-Match (the 304 a
         repeat view costs), and the page alone (median of sequential requests);
- plain: the same page uncompressed (Accept-Encoding: identity), against the same bytes;
- post:  comment POST, 32 connections, varied bodies; target ≥ 0.6× the floor, p99 < 100 ms,
         0 errors; then every acknowledged receipt is looked up (stored exactly once);
- decide: an editor deciding comments one after another through the triage form (a write
         transaction each), alone and then while comment POSTs run at 32 connections: the
         comment writer must not starve the editors' writes (not in the default parts);
- crowd: 200 readers of the page and 32 commenters at once; target POST p99 < 250 ms, 0 errors.

The server's CPU and memory include the processes it has running (the comment writer's own,
revise/writer_process.py, unless --writer thread); each thread's and process's share of the CPU
is in the notes.

The page runs alternate revise and the floor --rounds times and keep each side's median run:
other work on the machine moves throughput from one run to the next. Next to the throughput
ratio each row gives the ratio of server CPU seconds per request (floor / revise), which that
other load does not move. Each page part starts once the server is idle (its writer groups the
comments of earlier POST runs and merges the full-text index first; the wait is in the notes).
POSTs come, by default, from a distinct visitor address each, through
127.0.0.1 as a trusted proxy (X-Forwarded-For), with the production comment limit; --clients one
sends them all from 127.0.0.1 with the limit lifted (the limit is counted in SQLite since issue
#15, and one key with a huge limit makes that count, not the comment, the cost).

At the end: the server's resident memory (target < 300 MB at 1,000,000 comments) and a check
that the counts table equals a count over the comments. --profile DIR records each part with
py-spy (if installed: pip install py-spy) into DIR/<part>.raw and prints the heaviest frames.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import httpx2 as httpx  # noqa: E402
from scale import (  # noqa: E402
    BARE_APP,
    BROWSER_HEADERS,
    FLOOR_PAGES,
    ROOT,
    Wrk,
    Writer,
    alone,
    capture,
    check_receipts,
    cpu_note,
    cpu_seconds,
    describe,
    free_port,
    memory,
    post_requests,
    run_wrk,
    seed_phrases,
    seed_text,
    sign_in,
    wait_until_up,
)

sys.path.insert(0, str(ROOT))
from revise.security import Signer, load_or_create_secret  # noqa: E402

PLAIN_HEADERS = {**BROWSER_HEADERS, "Accept-Encoding": "identity"}


class Profiler:
    """py-spy recording the server during one part (nothing when --profile is not given)."""

    def __init__(self, folder: Path | None, pid: int):
        self.folder, self.pid = folder, pid
        self.spy = shutil.which("py-spy") or str(Path(sys.prefix) / "bin" / "py-spy")
        if folder and not Path(self.spy).exists():
            print("py-spy is not installed: no profiles", flush=True)
            self.folder = None

    def start(self, name: str, seconds: float):
        if not self.folder:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        out = self.folder / f"{name}.raw"
        return out, subprocess.Popen([self.spy, "record", "-p", str(self.pid), "-d", str(int(seconds)), "-r", "200",
                                      "-f", "raw", "--threads", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @staticmethod
    def report(handle, top: int = 12) -> list[str]:
        if not handle:
            return []
        out, proc = handle
        proc.wait()
        own, threads, total = Counter(), Counter(), 0
        for line in out.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if stack and n.isdigit():
                total += int(n)
                frames = stack.split(";")
                threads[frames[0]] += int(n)  # recorded with --threads: the first frame names the thread
                own[frames[-1]] += int(n)
        if not total:
            return []
        return ([f"{100 * n / total:5.1f}% in {thread}" for thread, n in threads.most_common(4)]
                + [f"{100 * n / total:5.1f}% {frame}" for frame, n in own.most_common(top)])


def server_env(args) -> dict:
    """--clients many: behind a proxy (127.0.0.1 trusted), each POST from its own visitor address,
    the production comment limit (10 a minute per address) in force. --clients one: every POST
    from 127.0.0.1 with the limit lifted (as bench/scale.py)."""
    chosen = {"REVISE_COMMENT_WRITER": args.writer} if args.writer else {}
    if args.clients == "many":
        return {"REVISE_TRUSTED_PROXIES": "127.0.0.1", **chosen}
    return {"REVISE_COMMENTS_PER_MINUTE": "1000000000", **chosen}


def decisions(base: str, slug: str, info: dict, ids: list[int], until: float | None = None) -> list[float]:
    """An editor deciding comments one after another through the triage form (a write
    transaction each, in one of the server's worker threads): the ms of each decision's POST,
    until the ids run out or `until` (time.monotonic()) has passed."""
    cookie = sign_in(base, info["editor"], info["password"])
    spent = []
    with httpx.Client(base_url=base, timeout=120, headers={"Cookie": cookie}) as editor:
        page = editor.get(f"/editor/c/{slug}/triage/{ids[0]}").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        for comment_id in ids:
            if until is not None and time.monotonic() > until:
                break
            started = time.perf_counter()
            response = editor.post(f"/editor/c/{slug}/triage/{comment_id}", data={
                "csrf": csrf, "query": "", "disposition": "adopted", "reason": "已吸收到规划相关章节。",
                "action": "decide"})
            spent.append((time.perf_counter() - started) * 1000)
            if response.status_code != 303:
                raise SystemExit(f"a decision was answered {response.status_code}")
    return spent


def describe_ms(spent: list[float]) -> str:
    spent = sorted(spent)
    return (f"{len(spent)} decisions, p50 {spent[len(spent) // 2]:.0f} ms, "
            f"p99 {spent[min(len(spent) - 1, int(len(spent) * 0.99))]:.0f} ms, max {spent[-1]:.0f} ms")


def with_clients(file: Path, args) -> None:
    """Give each POST line its own visitor address (X-Forwarded-For) when --clients many."""
    if args.clients != "many":
        return
    lines = file.read_text().splitlines()
    file.write_text("".join(f"{line}\t10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n" for i, line in enumerate(lines)))


def cpu_ratio(r: dict, f: dict) -> float:
    """The floor's server CPU per request over revise's: what the throughput ratio would be if both
    had the CPU to themselves (the machine's other load moves throughput, not CPU per request)."""
    return (f["server_cpu"] / max(f["requests"], 1)) / max(r["server_cpu"] / max(r["requests"], 1), 1e-9)


def median_run(runs: list[dict]) -> dict:
    """The run with the median rate (its own latencies kept with it)."""
    return sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]


def settle(pid: int, notes: list, part: str, quiet: float = 0.05, limit: float = 180) -> None:
    """Wait until the server is idle (under 5 % of a core over half a second; at most `limit` s).
    After earlier POSTs its writer groups the new comments and merges the full-text index, work
    that would otherwise be counted as the page's. How long that took goes into the notes."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < quiet * 0.5:
            break
    notes.append(f"{part}: server idle after {time.monotonic() - started:.1f} s (catch-up work of earlier POSTs)")


def run_case(data: Path, args, parts: set[str]) -> tuple[list, list, dict]:
    info = json.loads((data / "bigcase.json").read_text(encoding="utf-8"))
    slug, cid, db_path = info["slug"], info["consultation_id"], data / "revise.db"
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    blocks = [dict(r) for r in db.execute("select id, kind, text from blocks where consultation_id = ? and deleted = 0 "
                                          "order by position", [cid])]
    total = db.execute("select count(*) from comments").fetchone()[0]
    db.close()
    signer = Signer(load_or_create_secret(data))
    rng = random.Random(2024)
    writer = Writer(rng, seed_phrases(seed_text(), random.Random(11)))
    rows, notes, results = [], [], {"comments": total}
    work = Path(tempfile.mkdtemp(prefix="public-page-"))
    port, floor_port, bare_port = free_port(), free_port(), free_port()
    base, floor, bare = (f"http://127.0.0.1:{p}" for p in (port, floor_port, bare_port))
    started = time.perf_counter()
    # As scale.start_revise (server.py serve, one worker, the comment limit off), with the
    # server's stderr (its access log: one line a request) kept in a file instead of the output.
    log = (work / "server.log").open("w")
    server = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "--data", str(data), "serve", "--port",
                               str(port), "--no-default"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                              env=dict(os.environ, **server_env(args)))
    procs = [server]
    page = f"/c/{slug}"
    try:
        wait_until_up(base + "/")
        results["start_s"] = time.perf_counter() - started
        client = httpx.Client(base_url=base, timeout=120)
        first = time.perf_counter()
        client.get(page, headers=BROWSER_HEADERS)
        results["first_view_ms"] = (time.perf_counter() - first) * 1000
        published = sum(n for (n,) in sqlite3.connect(db_path).execute(
            "select n from published_counts where consultation_id = ?", [cid]))
        print(f"{data}: {total} comments ({published} published public); revise up in {results['start_s']:.1f}s, "
              f"first view {results['first_view_ms']:.0f} ms", flush=True)
        pages: list[dict] = []
        gz_index = capture(client, page, BROWSER_HEADERS, work, pages)
        plain_index = capture(client, page, PLAIN_HEADERS, work, pages)
        (work / "pages.json").write_text(json.dumps(pages))
        procs.append(subprocess.Popen([sys.executable, "-c", FLOOR_PAGES, str(floor_port), str(work / "pages.json")]))
        procs.append(subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port), str(work / "bare.db")]))
        wait_until_up(f"{floor}/p/0")
        for _ in range(100):
            try:
                httpx.post(bare + "/", data={"body": "warm-up"}, timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        profiler = Profiler(args.profile and args.profile / data.name, server.pid)
        label = f"{total:,} comments"

        def page_run(name, headers, index):
            settle(server.pid, notes, name)
            kb = pages[index]["bytes"] / 1024
            single = alone(client, page, headers, args.alone_runs) * 1000
            spy = profiler.start(name, args.seconds * args.rounds)
            # revise and the floor in turn, --rounds times: the machine's load (other work on its
            # two cores) changes from one run to the next; the median run of each side is kept.
            revise_runs, floor_runs = [], []
            for _ in range(args.rounds):
                revise_runs.append(run_wrk(base, "get.lua", [page], 8, args.seconds, headers, server.pid))
                floor_runs.append(run_wrk(floor, "get.lua", [f"/p/{index}"], 8, args.seconds, server_pid=procs[1].pid))
            hot = profiler.report(spy)
            r, f = median_run(revise_runs), median_run(floor_runs)
            ratio = r["rate"] / f["rate"]
            ok = ratio >= 0.5 and r["p99"] < 50_000 and not r["error_total"]
            results[name] = {"revise": r, "floor": f, "alone_ms": single, "kb": kb, "cpu_ratio": cpu_ratio(r, f)}
            rows.append((f"{label}: public page {name} ({kb:.0f} KB), 8 conn", describe(r) + f"; alone {single:.0f} ms",
                         describe(f), f"{ratio:.2f}× {'ok' if ok else 'MISSED'} (CPU a request: {cpu_ratio(r, f):.2f}×)"))
            notes.append(f"{name}: revise {cpu_note(r)}; floor {cpu_note(f)}")
            notes.extend(f"  {name} profile: {line}" for line in hot)
            print(rows[-1], flush=True)
            return r

        if "page" in parts:
            page_run("gzip", BROWSER_HEADERS, gz_index)
            etag = client.get(page, headers=BROWSER_HEADERS).headers.get("etag", "")
            r = run_wrk(base, "get.lua", [page], 8, args.seconds, {**BROWSER_HEADERS, "If-None-Match": etag}, server.pid)
            results["revalidate"] = r
            rows.append((f"{label}: repeat view (If-None-Match → 304), 8 conn", describe(r), "", ""))
            print(rows[-1], flush=True)
        if "plain" in parts:
            page_run("plain", PLAIN_HEADERS, plain_index)

        if "post" in parts:
            tokens = post_requests(work / "post.txt", args.post_lines, slug, blocks, signer, rng, writer)
            with_clients(work / "post.txt", args)
            post_requests(work / "bare.txt", args.post_lines, slug, blocks, signer, rng, writer)
            bare_lines = work / "bare-post.txt"
            bare_lines.write_text("".join("/\t" + line.split("\t", 1)[1] for line in (work / "bare.txt").open()))
            spy = profiler.start("post", args.seconds)
            r = run_wrk(base, "post_comment.lua", [str(work / "post.txt"), "2", str(work / "receipts")], 32,
                        args.seconds, server_pid=server.pid)
            hot = profiler.report(spy)
            f = run_wrk(bare, "post_comment.lua", [str(bare_lines), "2", str(work / "bare-receipts")], 32, args.seconds,
                        server_pid=procs[2].pid)
            check = check_receipts(db_path, str(work / "receipts"), tokens)
            ratio = r["rate"] / f["rate"]
            bad = {k: v for k, v in r["statuses"].items() if k != "303"}
            ok = ratio >= 0.6 and r["p99"] < 100_000 and not r["error_total"] and not bad \
                and check["missing"] == 0 and check["duplicated"] == 0
            results["post"] = {"revise": r, "floor": f, "receipts": check}
            rows.append((f"{label}: comment POST, 32 conn", describe(r), describe(f) + " (bare form + 1 insert)",
                         f"{ratio:.2f}× {'ok' if ok else 'MISSED'} (CPU a request: {cpu_ratio(r, f):.2f}×)"))
            notes.append(f"post: revise {cpu_note(r)}; floor {cpu_note(f)}; receipts {check}")
            notes.extend(f"  post profile: {line}" for line in hot)
            print(rows[-1], check, flush=True)

        if "decide" in parts:
            # An editor's writes while comments stream in: the comment writer (a thread of the
            # server, or a process of its own) must not starve the editors' transactions.
            ids = [r[0] for r in sqlite3.connect(db_path).execute(
                "select id from comments where consultation_id = ? and disposition = 'pending' and source = 'public' "
                "order by id desc limit 3000", [cid])]
            quiet = decisions(base, slug, info, ids[:40])
            tokens = post_requests(work / "decide.txt", args.post_lines, slug, blocks, signer, rng, writer)
            with_clients(work / "decide.txt", args)
            posts = Wrk(base, "post_comment.lua", [str(work / "decide.txt"), "2", str(work / "decide-receipts")], 32,
                        args.seconds)
            time.sleep(1)  # wrk has connected
            loaded = decisions(base, slug, info, ids[40:], until=time.monotonic() + args.seconds - 2)
            w = posts.result()
            check = check_receipts(db_path, str(work / "decide-receipts"), tokens)
            results["decide"] = {"quiet_ms": quiet, "loaded_ms": loaded, "posts": w, "receipts": check}
            rows.append((f"{label}: an editor deciding comments, alone", describe_ms(quiet), "", ""))
            rows.append((f"{label}: the same during comment POSTs at 32 conn", describe_ms(loaded), describe(w), ""))
            print(rows[-2], rows[-1], check, flush=True)

        if "crowd" in parts:
            tokens = post_requests(work / "crowd.txt", args.post_lines, slug, blocks, signer, rng, writer)
            with_clients(work / "crowd.txt", args)
            before = cpu_seconds(server.pid)
            spy = profiler.start("crowd", args.seconds)
            readers = Wrk(base, "get.lua", [page], 200, args.seconds, BROWSER_HEADERS)
            writers = Wrk(base, "post_comment.lua", [str(work / "crowd.txt"), "2", str(work / "crowd-receipts")], 32,
                          args.seconds)
            w, rd = writers.result(), readers.result()
            hot = profiler.report(spy)
            server_cpu = cpu_seconds(server.pid) - before
            check = check_receipts(db_path, str(work / "crowd-receipts"), tokens)
            bad = {k: v for k, v in w["statuses"].items() if k != "303"}
            ok = w["p99"] < 250_000 and not w["error_total"] and not bad and not rd["error_total"] \
                and check["missing"] == 0 and check["duplicated"] == 0
            results["crowd"] = {"posts": w, "reads": rd, "receipts": check, "server_cpu": server_cpu}
            rows.append((f"{label}: flash crowd, 32 commenters", describe(w), "", "ok" if ok else "MISSED"))
            rows.append((f"{label}: flash crowd, 200 readers", describe(rd), "", ""))
            notes.append(f"crowd: wrk CPU {w['wrk_cpu'] + rd['wrk_cpu']:.1f}s, server CPU "
                         f"{100 * server_cpu / args.seconds:.0f}%; receipts {check}")
            notes.extend(f"  crowd profile: {line}" for line in hot)
            print(rows[-2], rows[-1], check, flush=True)

        mem = memory(server.pid)
        results["memory_mb"] = mem
        rows.append((f"{label}: server memory at the end", f"RSS {mem['VmRSS']} MB (peak {mem['VmHWM']} MB)", "",
                     "ok" if mem["VmRSS"] < 300 else "MISSED"))
        client.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    check_db = sqlite3.connect(db_path)
    kept = dict(check_db.execute("select block_id, n from published_counts where consultation_id = ? and n > 0", [cid]))
    scanned = dict(check_db.execute("select coalesce(block_id, 0), count(*) from comments where consultation_id = ? "
                                    "and source = 'public' and status = 'published' group by 1", [cid]))
    check_db.close()
    results["counts_match"] = kept == scanned
    notes.append(f"counts table equals a count over the comments: {kept == scanned}")
    return rows, notes, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, nargs="+")
    parser.add_argument("--seconds", type=float, default=10, help="each wrk run")
    parser.add_argument("--alone-runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="page runs of revise and the floor, in turn")
    parser.add_argument("--post-lines", type=int, default=60_000, help="one-time tokens minted per POST run")
    parser.add_argument("--parts", default="page,plain,post,crowd", help="of page,plain,post,decide,crowd")
    parser.add_argument("--writer", choices=("thread", "process"),
                        help="REVISE_COMMENT_WRITER for the server (default: serve's own, a process)")
    parser.add_argument("--clients", choices=("many", "one"), default="many",
                        help="POSTs from many visitor addresses through a trusted proxy (default), or all from one")
    parser.add_argument("--profile", type=Path, help="py-spy profiles of each part into this folder")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    all_rows, all_notes, all_results = [], [], {}
    for data in args.data:
        rows, notes, results = run_case(data.resolve(), args, parts)
        all_rows += rows
        all_notes += notes
        all_results[str(data)] = results
    print(f"\nwrk {args.seconds:.0f}s per run, one uvicorn worker, floors in the same run:")
    print("| what | revise | floor | ratio |\n|---|---|---|---|")
    for row in all_rows:
        print("| " + " | ".join(row) + " |")
    print()
    for note in all_notes:
        print("- " + note)
    if args.json:
        args.json.write_text(json.dumps(all_results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
