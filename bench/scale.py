"""Issue #11 measured from outside: revise on the big case under wrk, against floors in the same run.

    .venv/bin/python bench/scale.py DATA [--seconds 15] [--json out.json] [--only page,post,...]

DATA is a data folder built by bench/bigcase.py (it is written to: the POST runs add comments).
Starts revise as `server.py --data DATA serve` (one uvicorn worker, rate limit off) and, in the
same run, two floor servers: a bare Starlette endpoint answering the very bytes revise answered
(same Content-Type and Content-Encoding), and a bare Starlette form POST + one SQLite insert
(WAL, synchronous=FULL; bench/load.py's BARE_APP). Drives each with wrk (Debian's wrk 4.1,
bench/wrk/*.lua print latency percentiles as JSON) and prints one table:

- public draft page, 8 connections (Accept-Encoding: gzip, br, as a browser sends);
- comment POST, 32 connections, varied bodies, each request its own one-time form token and a
  visitor cookie with its CSRF token (minted with the instance's key from DATA/secret.key);
  then every acknowledged receipt is looked up: stored exactly once, none missing;
- editor queue at 4 connections (default order, a deep page, section + status filter in turn),
  a queue search for a 2-character word, and the overview, signed in as the bench editor
  through the sign-in form; also each page alone (median of sequential requests);
- a flash crowd: 200 readers of the public page and 32 commenters at once (two wrk processes);
- the server's resident memory (VmRSS, and its peak VmHWM) at the end.

For each wrk run it also prints the CPU wrk itself used and the server's CPU over the run: the
load generator is not the bottleneck when the server is near one full core and wrk is not.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# --tree DIR: that checkout's revise is the one run and the one whose tokens are minted here.
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]).resolve() if "--tree" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(TREE))

import httpx2 as httpx  # noqa: E402
from bigcase import Writer, _edited, seed_phrases, seed_text  # noqa: E402
from load import BARE_APP, free_port  # noqa: E402

from revise.security import Signer, load_or_create_secret  # noqa: E402

WRK = "wrk"
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br", "Accept-Language": "zh-CN,zh;q=0.9"}

# A bare Starlette endpoint answering, for /p/N, the N-th captured response's bytes and headers.
FLOOR_PAGES = '''
import json, sys
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
import uvicorn
pages = []
for meta in json.load(open(sys.argv[2])):
    pages.append((open(meta["file"], "rb").read(), meta["headers"]))
async def page(request):
    body, headers = pages[int(request.path_params["n"])]
    return Response(body, headers=headers)
uvicorn.run(Starlette(routes=[Route("/p/{n:int}", page)]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''


# --- processes ---

def wait_until_up(url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=60).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


FACTORY = """
import sys
sys.path.insert(0, sys.argv[3])
import uvicorn
from pathlib import Path
from revise.app import create_app
from revise.settings import Settings
uvicorn.run(create_app(Settings(data_dir=Path(sys.argv[1]))), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def start_revise(data: Path, port: int, factory: bool = False, tree: Path = ROOT, workers: int = 1) -> subprocess.Popen:
    """revise as `server.py --data DATA serve` (or uvicorn on create_app directly), rate limit off.

    `tree` is the checkout to run (e.g. `git archive HEAD | tar -x -C /tmp/before` to measure a
    commit while the work tree changes): its own server.py and revise package come first on the path.
    """
    env = dict(os.environ, REVISE_COMMENTS_PER_MINUTE="1000000000")
    if factory:
        cmd = [sys.executable, "-c", FACTORY, str(data), str(port), str(tree)]
    else:
        cmd = [sys.executable, str(tree / "server.py"), "--data", str(data), "serve", "--port", str(port), "--no-default"]
        cmd += ["--workers", str(workers)] if workers > 1 else []
    return subprocess.Popen(cmd, env=env, cwd=tree, stdout=subprocess.DEVNULL)


def _stat_ticks(stat: Path, fields: slice = slice(11, 13)) -> int:
    """Clock ticks from a /proc stat file: utime + stime by default (11:15 adds the waited-for children)."""
    return sum(int(x) for x in stat.read_text().rsplit(")", 1)[1].split()[fields])


def running_children(pid: int) -> list[int]:
    """The processes a process has running (the comment writer's own, revise/writer_process.py; the
    diff child), from /proc/PID/task/*/children."""
    return [int(child) for children in Path(f"/proc/{pid}/task").glob("*/children")
            for child in children.read_text().split()]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, its waited-for children and the children it has running, from
    /proc, in seconds."""
    ticks = _stat_ticks(Path(f"/proc/{pid}/stat"), slice(11, 15))
    for child in running_children(pid):
        try:
            ticks += _stat_ticks(Path(f"/proc/{child}/stat"))
        except OSError:  # it ended meanwhile
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[str, float]:
    """utime + stime of each of a process's threads (/proc/PID/task), in seconds: which thread is
    saturated (the event loop's, the comment writer's) and which waits. Python does not name its
    threads for the OS: the main thread (the event loop's) is "main", the others their thread id;
    a process the server started is counted whole ("process PID")."""
    spent: dict[str, float] = {}
    places = [("main" if task.name == str(pid) else f"thread {task.name}", task / "stat")
              for task in Path(f"/proc/{pid}/task").iterdir()]
    places += [(f"process {child}", Path(f"/proc/{child}/stat")) for child in running_children(pid)]
    for name, stat in places:
        try:
            spent[name] = _stat_ticks(stat) / os.sysconf("SC_CLK_TCK")
        except OSError:  # it ended meanwhile
            continue
    return spent


def memory(pid: int) -> dict:
    """The server's resident memory (now and peak) in MB, with that of the processes it has running
    added in."""
    def of(one: int) -> dict:
        status = Path(f"/proc/{one}/status").read_text()
        return {k: int(re.search(rf"{k}:\s+(\d+) kB", status).group(1)) // 1024 for k in ("VmRSS", "VmHWM")}

    total = of(pid)
    for child in running_children(pid):
        try:
            part = of(child)
        except (OSError, AttributeError):
            continue
        total = {k: total[k] + part[k] for k in total}
    return total


class Wrk:
    """One wrk process; .result() waits for it and returns its WRKJSON, its own CPU time and rate."""

    def __init__(self, url: str, script: str, script_args: list[str], connections: int, seconds: float,
                 headers: dict | None = None, threads: int = 2):
        self.out = tempfile.TemporaryFile("w+")
        cmd = [WRK, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s",
               "-s", str(BENCH / "wrk" / script)]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        self.proc = subprocess.Popen([*cmd, url, "--", *script_args], stdout=self.out, stderr=subprocess.STDOUT)

    def result(self) -> dict:
        _pid, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.out.seek(0)
        text = self.out.read()
        found = re.search(r"^WRKJSON (.*)$", text, re.MULTILINE)
        if not found:
            raise SystemExit(f"wrk gave no result:\n{text}")
        r = json.loads(found.group(1))
        r["rate"] = r["requests"] / (r["duration_us"] / 1e6)
        r["wrk_cpu"] = usage.ru_utime + usage.ru_stime
        r["error_total"] = sum(r["errors"].values())
        return r


def run_wrk(url, script, args, connections, seconds, headers=None, server_pid=None, threads=2) -> dict:
    if server_pid:
        wait_idle(server_pid)
    before = cpu_seconds(server_pid) if server_pid else None
    threads_before = thread_cpu(server_pid) if server_pid else {}
    r = Wrk(url, script, args, connections, seconds, headers, threads).result()
    if server_pid:
        r["server_cpu"] = cpu_seconds(server_pid) - before
        r["thread_cpu"] = {name: spent - threads_before.get(name, 0.0)
                           for name, spent in thread_cpu(server_pid).items()}
    return r


def fmt_ms(ms: float) -> str:
    return "timed out" if ms == float("inf") else f"{ms:.0f} ms"


def describe(r: dict) -> str:
    errors = {k: v for k, v in r["errors"].items() if v}
    bad = {k: v for k, v in r["statuses"].items() if not k.startswith(("2", "3"))}
    if r["requests"] == 0:
        text = f"no answer within the {r['duration_us'] / 1e6:.0f}s run"
    else:
        text = f"{r['rate']:.1f}/s, p50 {r['p50'] / 1000:.1f} ms, p99 {r['p99'] / 1000:.1f} ms"
    if errors or bad:
        text += f", errors {errors or ''}{bad or ''}"
    return text


def cpu_note(r: dict) -> str:
    secs = r["duration_us"] / 1e6
    note = f"wrk CPU {r['wrk_cpu']:.1f}s of {secs:.0f}s ({100 * r['wrk_cpu'] / secs:.0f}%)"
    if "server_cpu" in r:
        note += f", server CPU {100 * r['server_cpu'] / secs:.0f}%"
    busy = sorted(((spent, name) for name, spent in r.get("thread_cpu", {}).items() if spent / secs >= 0.01),
                  reverse=True)
    if len(busy) > 1:
        note += " (" + ", ".join(f"{name} {100 * spent / secs:.0f}%" for spent, name in busy) + ")"
    return note


# --- requests ---

def capture(client: httpx.Client, path: str, headers: dict, folder: Path, pages: list) -> int | None:
    """Fetch a page as sent (raw bytes, undecoded) for the floor server; its index (None: timed out)."""
    try:
        with client.stream("GET", path, headers=headers) as response:
            body = b"".join(response.iter_raw())
    except httpx.TimeoutException:
        print(f"GET {path} took longer than --request-timeout: no floor for it", flush=True)
        return None
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code}")
    kept = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "content-encoding")}
    file = folder / f"page{len(pages)}"
    file.write_bytes(body)
    pages.append({"file": str(file), "headers": kept, "path": path, "bytes": len(body)})
    return len(pages) - 1


def alone(client: httpx.Client, path: str, headers: dict, runs: int, cap: float = 30) -> float:
    """Median seconds of `runs` sequential requests after one warm-up; when one takes over `cap`
    seconds, that one is the figure (and inf when it timed out)."""
    samples = []
    for i in range(runs + 1):
        start = time.perf_counter()
        try:
            response = client.get(path, headers=headers)
        except httpx.TimeoutException:
            return float("inf")
        took = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code}")
        if took > cap:
            return took
        if i:
            samples.append(took)
    return statistics.median(samples)


def wait_idle(pid: int, limit: float = 300) -> None:
    """Wait until the server has finished what an earlier run left in flight (CPU quiet for a second)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1)
        if cpu_seconds(pid) - before < 0.05:
            return


def new_sid(signer: Signer) -> str:
    """A visitor session id as the server issues it (VisitorSession.issue when it signs ids)."""
    from revise.web import middleware

    issue = getattr(middleware.VisitorSession, "issue", None)
    return issue(signer.secret) if issue else secrets.token_urlsafe(24)


def post_requests(file: Path, n: int, slug: str, blocks: list[dict], signer: Signer, rng: random.Random,
                  writer: Writer) -> list[str]:
    """n POST lines (path, cookie, body), each a new visitor with a fresh form token; returns the tokens."""
    tokens = []
    with file.open("w") as out:
        for i in range(n):
            sid = new_sid(signer)
            token = signer.form_token()
            tokens.append(token)
            block = rng.choice(blocks) if rng.random() > 0.05 else None
            kind = "remark" if block is None else rng.choices(("edit", "remark", "delete", "insert"), (35, 40, 10, 15))[0]
            fields = {"csrf": signer.csrf_token(sid), "form_token": token, "kind": kind, "body": writer.body(),
                      "name": writer.name() if rng.random() < 0.4 else "", "action": "submit"}
            if kind == "edit":
                fields["suggestion"] = _edited(block, writer, rng) or block["text"] + "。"
            elif kind == "insert":
                fields["suggestion"] = writer.sentence()
            path = f"/c/{slug}/b/{block['id']}/comments" if block else f"/c/{slug}/remarks"
            out.write(f"{path}\tsid={sid}\t{urlencode(fields)}\n")
    return tokens


def check_receipts(db_path: Path, prefix: str, tokens: list[str]) -> dict:
    """Every acknowledged receipt stored exactly once: receipts from wrk vs rows with the bench's tokens."""
    acked = []
    for f in Path(prefix).parent.glob(Path(prefix).name + ".*"):
        acked += f.read_text().split()
    db = sqlite3.connect(db_path)
    rows = db.execute("select receipt, form_token from comments where form_token in (select value from json_each(?))",
                      [json.dumps(tokens)]).fetchall()
    db.close()
    stored = [r[0] for r in rows]
    stored_set = set(stored)
    return {"acknowledged": len(acked), "acknowledged_distinct": len(set(acked)), "stored": len(stored),
            "missing": len(set(acked) - stored_set), "duplicated": len(stored) - len(stored_set),
            "duplicated_tokens": len(rows) - len({r[1] for r in rows}),
            "stored_not_acknowledged": len(stored_set - set(acked))}


def sign_in(base: str, username: str, password: str) -> str:
    """The Cookie header of a signed-in editor (visitor sid + editor session), through the sign-in form."""
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/editor/sign-in").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        response = client.post("/editor/sign-in", data={"username": username, "password": password, "csrf": csrf,
                                                        "next": "/editor"})
        if response.status_code not in (200, 303) or "ed" not in client.cookies:
            raise SystemExit(f"sign-in failed: {response.status_code}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


# --- the run ---

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--seconds", type=float, default=15, help="each wrk run")
    parser.add_argument("--alone-runs", type=int, default=5)
    parser.add_argument("--request-timeout", type=float, default=300, help="for single requests (alone, captures)")
    parser.add_argument("--post-lines", type=int, default=60_000, help="one-time tokens minted per POST run")
    parser.add_argument("--search", default="创新", help="the 1-2 character word searched")
    parser.add_argument("--only", default="page,post,editor,crowd", help="which parts to run")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the revise checkout to run (default: this one)")
    parser.add_argument("--page-seconds", type=float, help="the public page's wrk runs (default: --seconds)")
    parser.add_argument("--factory", action="store_true",
                        help="run uvicorn on revise.app.create_app directly instead of server.py serve")
    args = parser.parse_args()
    only = set(args.only.split(","))
    data = args.data.resolve()
    info = json.loads((data / "bigcase.json").read_text(encoding="utf-8"))
    slug = info["slug"]
    db_path = data / "revise.db"
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    cid = info["consultation_id"]
    blocks = [dict(r) for r in db.execute("select id, kind, text from blocks where consultation_id = ? and deleted = 0 "
                                          "order by position", [cid])]
    section = db.execute("select id from blocks where consultation_id = ? and kind = 'heading' and level = 1 "
                         "order by position limit 1 offset 1", [cid]).fetchone()[0]
    comments_before = db.execute("select count(*) from comments").fetchone()[0]
    db.close()
    signer = Signer(load_or_create_secret(data))
    rng = random.Random(2024)
    writer = Writer(rng, seed_phrases(seed_text(), random.Random(11)))
    results: dict = {"comments": comments_before, "seconds": args.seconds, "tree": str(TREE)}
    rows: list[tuple[str, str, str, str]] = []
    notes: list[str] = []

    work = Path(tempfile.mkdtemp(prefix="scale-"))
    port, floor_port, bare_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    floor = f"http://127.0.0.1:{floor_port}"
    print(f"{comments_before} comments in {data}; starting revise on {base}", flush=True)
    started = time.perf_counter()
    server = start_revise(data, port, args.factory, TREE)
    procs = [server]
    try:
        wait_until_up(base + "/")
        print(f"revise up in {time.perf_counter() - started:.1f}s", flush=True)
        pages: list[dict] = []
        page_path = f"/c/{slug}"
        client = httpx.Client(base_url=base, timeout=args.request_timeout)
        editor_cookie = sign_in(base, info["editor"], info["password"])
        editor_headers = {"Cookie": editor_cookie, **BROWSER_HEADERS}
        total_rows = info["comments"]
        deep = max(2, min(1000, total_rows // 100))
        queue_paths = [f"/editor/c/{slug}/comments", f"/editor/c/{slug}/comments?page={deep}",
                       f"/editor/c/{slug}/comments?section={section}&status=pending&sort=block"]
        if "editor" in only:  # the deep page where its Next links lead (revise redirects page=N to ?after=ID)
            moved = client.get(queue_paths[1], headers=editor_headers)
            queue_paths[1] = moved.headers["location"] if moved.is_redirect else queue_paths[1]
        search_path = f"/editor/c/{slug}/comments?" + urlencode({"q": args.search})
        overview_path = f"/editor/c/{slug}"
        idx = {"page": capture(client, page_path, BROWSER_HEADERS, work, pages)}
        if "editor" in only:
            for n, p in enumerate(queue_paths):
                idx[f"queue{n}"] = capture(client, p, editor_headers, work, pages)
            idx["search"] = capture(client, search_path, editor_headers, work, pages)
            idx["overview"] = capture(client, overview_path, editor_headers, work, pages)
        (work / "pages.json").write_text(json.dumps(pages))
        procs.append(subprocess.Popen([sys.executable, "-c", FLOOR_PAGES, str(floor_port), str(work / "pages.json")]))
        procs.append(subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port), str(work / "bare.db")]))
        wait_until_up(f"{floor}/p/0")
        for _ in range(100):
            try:
                httpx.post(f"http://127.0.0.1:{bare_port}/", data={"body": "warm-up"}, timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        page_kb = pages[idx["page"]]["bytes"] / 1024
        single = alone(client, page_path, BROWSER_HEADERS, args.alone_runs)
        print(f"public page {page_path}: {page_kb:.0f} KB as sent, {fmt_ms(single * 1000)} alone", flush=True)
        results["page_alone_ms"] = single * 1000

        def compare(name, key, paths_revise, paths_floor, connections, headers, alone_ms=None, seconds=args.seconds):
            r = run_wrk(base, "get.lua", paths_revise, connections, seconds, headers, server.pid)
            f = run_wrk(floor, "get.lua", paths_floor, connections, seconds) if "/p/None" not in paths_floor else None
            results[key] = {"revise": r, "floor": f, "alone_ms": alone_ms}
            what = f"{name}, {connections} conn"
            revise_text = describe(r) + (f"; alone {fmt_ms(alone_ms)}" if alone_ms is not None else "")
            rows.append((what, revise_text, describe(f) if f else "(no floor: capture timed out)",
                         f"{r['rate'] / f['rate']:.3f}×" if f else ""))
            notes.append(f"{what}: revise {cpu_note(r)}" + (f"; floor {cpu_note(f)}" if f else ""))
            print(f"{what}: revise {describe(r)} | floor {describe(f) if f else '-'} | {cpu_note(r)}", flush=True)

        if "page" in only:
            compare(f"public draft page ({page_kb:.0f} KB)", "page", [page_path], [f"/p/{idx['page']}"], 8,
                    BROWSER_HEADERS, single * 1000, args.page_seconds or args.seconds)

        if "post" in only:
            tokens = post_requests(work / "post.txt", args.post_lines, slug, blocks, signer, rng, writer)
            post_requests(work / "bare.txt", args.post_lines, slug, blocks, signer, rng, writer)
            bare_lines = work / "bare-post.txt"
            bare_lines.write_text("".join("/\t" + line.split("\t", 1)[1] for line in (work / "bare.txt").open()))
            r = run_wrk(base, "post_comment.lua", [str(work / "post.txt"), "2", str(work / "receipts")], 32,
                        args.seconds, server_pid=server.pid)
            f = run_wrk(f"http://127.0.0.1:{bare_port}", "post_comment.lua", [str(bare_lines), "2", str(work / "bare-receipts")],
                        32, args.seconds)
            check = check_receipts(db_path, str(work / "receipts"), tokens)
            results["post"] = {"revise": r, "floor": f, "receipts": check}
            rows.append(("comment POST, 32 conn", describe(r), describe(f) + " (bare form + 1 insert)",
                         f"{r['rate'] / f['rate']:.2f}×"))
            notes.append(f"comment POST: revise {cpu_note(r)}; floor {cpu_note(f)}")
            notes.append(f"receipts: {check} (tokens reused after running out: {r['reused']})")
            print(f"POST: revise {describe(r)} | floor {describe(f)} | {cpu_note(r)}\n  receipts {check}", flush=True)

        if "editor" in only:
            wait_idle(server.pid)
            queue_alone = [alone(client, p, editor_headers, args.alone_runs) * 1000 for p in queue_paths]
            results["queue_alone_ms"] = queue_alone
            compare(f"editor queue (default / page {deep} / section+status)", "queue", queue_paths,
                    [f"/p/{idx[f'queue{n}']}" for n in range(3)], 4, editor_headers, max(queue_alone))
            notes.append("queue alone: " + ", ".join(f"{p.split('comments', 1)[1] or 'default'} {fmt_ms(t)}"
                                                        for p, t in zip(queue_paths, queue_alone)))
            wait_idle(server.pid)
            search_alone = alone(client, search_path, editor_headers, args.alone_runs) * 1000
            compare(f"queue search “{args.search}”", "search", [search_path], [f"/p/{idx['search']}"], 4,
                    editor_headers, search_alone)
            wait_idle(server.pid)
            overview_alone = alone(client, overview_path, editor_headers, args.alone_runs) * 1000
            compare("editor overview", "overview", [overview_path], [f"/p/{idx['overview']}"], 4, editor_headers,
                    overview_alone)

        if "crowd" in only:
            tokens = post_requests(work / "crowd.txt", args.post_lines, slug, blocks, signer, rng, writer)
            wait_idle(server.pid)
            before, crowd_started = cpu_seconds(server.pid), time.monotonic()
            readers = Wrk(base, "get.lua", [page_path], 200, args.seconds, BROWSER_HEADERS)
            writers = Wrk(base, "post_comment.lua", [str(work / "crowd.txt"), "2", str(work / "crowd-receipts")], 32,
                          args.seconds)
            w, rd = writers.result(), readers.result()
            server_cpu = cpu_seconds(server.pid) - before
            crowd_seconds = time.monotonic() - crowd_started
            check = check_receipts(db_path, str(work / "crowd-receipts"), tokens)
            results["crowd"] = {"posts": w, "reads": rd, "receipts": check, "server_cpu": server_cpu}
            rows.append(("flash crowd: 32 commenters", describe(w), "", ""))
            rows.append(("flash crowd: 200 readers", describe(rd), "", ""))
            notes.append(f"flash crowd: wrk CPU {w['wrk_cpu'] + rd['wrk_cpu']:.1f}s, server CPU "
                         f"{100 * server_cpu / crowd_seconds:.0f}% of one core over {crowd_seconds:.0f}s; receipts {check}")
            print(f"crowd: POST {describe(w)} | reads {describe(rd)}\n  receipts {check}", flush=True)

        mem = memory(server.pid)
        results["memory_mb"] = mem
        rows.append(("server memory at the end", f"RSS {mem['VmRSS']} MB (peak {mem['VmHWM']} MB)", "", ""))
        client.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()

    load = os.getloadavg()
    results["loadavg_end"] = load
    print()
    print(f"Machine load average at the end (1/5/15 min): {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on "
          f"{os.cpu_count()} cores: a server CPU share well under 100% means it was waiting for a core.")
    print(f"At {comments_before} comments ({info['published_public']} published public), wrk {args.seconds:.0f}s per run, "
          f"one uvicorn worker, floors in the same run:")
    print("| what | revise | floor | ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for note in notes:
        print("- " + note)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
