"""Issue #11, the editor's side: queue, deep page, filters, short-word search and overview under wrk.

    .venv/bin/python bench/editor_scale.py DATA [--seconds 10] [--tree DIR] [--json out.json]

DATA is a data folder built by bench/bigcase.py (read only here). Starts revise on it
(`server.py --data DATA serve`, one uvicorn worker unless `--workers N`; `--tree` runs another checkout, e.g.
`git archive <commit> | tar -x -C /tmp/before` for the figures before a change), signs the bench
editor in once through the sign-in form (sign-in is throttled per client: the session cookie is
reused for every request), and for each page:

- fetches it once as sent (the deep page: `?page=N` is followed to where revise sends it, the
  keyset page `?after=ID`; an older revise answers page=N itself);
- times it alone (median of sequential requests);
- runs wrk (Debian's wrk 4.1, bench/wrk/get.lua) with 4 connections against revise, then
  against a bare Starlette endpoint answering the very same bytes and headers (the floor, in the
  same run), and prints rate, p50, p99 and the ratio of rates.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import httpx2 as httpx  # noqa: E402
from load import free_port  # noqa: E402
from scale import (  # noqa: E402
    BROWSER_HEADERS, FLOOR_PAGES, alone, capture, cpu_note, describe, fmt_ms, memory, run_wrk, sign_in,
    start_revise, wait_until_up,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--seconds", type=float, default=10, help="each wrk run")
    parser.add_argument("--alone-runs", type=int, default=5)
    parser.add_argument("--deep", type=int, default=1000, help="the deep page's old-style number")
    parser.add_argument("--search", default="偏高", help="the 1-2 character word searched")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (serve --workers N)")
    args = parser.parse_args()
    data = args.data.resolve()
    info = json.loads((data / "bigcase.json").read_text(encoding="utf-8"))
    slug = info["slug"]
    import sqlite3

    db = sqlite3.connect(data / "revise.db")
    section = db.execute("select id from blocks where consultation_id = ? and kind = 'heading' and level = 1 "
                         "order by position limit 1 offset 1", [info["consultation_id"]]).fetchone()[0]
    comments = db.execute("select count(*) from comments").fetchone()[0]
    db.close()
    port, floor_port = free_port(), free_port()
    base, floor = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"
    work = Path(tempfile.mkdtemp(prefix="editor-scale-"))
    server = start_revise(data, port, tree=args.tree.resolve(), workers=args.workers)
    procs = [server]
    results: dict = {"comments": comments, "tree": str(args.tree), "pages": {}}
    rows = []
    try:
        wait_until_up(base + "/", 900)
        cookie = sign_in(base, info["editor"], info["password"])  # once: sign-in is throttled per client
        headers = {"Cookie": cookie, **BROWSER_HEADERS}
        client = httpx.Client(base_url=base, timeout=300)
        queue = f"/editor/c/{slug}/comments"
        deep = client.get(f"{queue}?page={args.deep}", headers=headers, follow_redirects=False)
        deep_path = deep.headers["location"] if deep.status_code in (301, 302, 303, 307) else f"{queue}?page={args.deep}"
        paths = {
            "queue, default": queue,
            f"queue, page {args.deep} ({deep_path.split('?', 1)[-1]})": deep_path,
            "queue, section + status, draft order": f"{queue}?section={section}&status=pending&sort=block",
            f"queue search “{args.search}”": f"{queue}?" + urlencode({"q": args.search}),
            "overview": f"/editor/c/{slug}",
        }
        pages: list[dict] = []
        index = {name: capture(client, path, headers, work, pages) for name, path in paths.items()}
        (work / "pages.json").write_text(json.dumps(pages))
        procs.append(subprocess.Popen([sys.executable, "-c", FLOOR_PAGES, str(floor_port), str(work / "pages.json")]))
        wait_until_up(f"{floor}/p/0")
        for name, path in paths.items():
            single = alone(client, path, headers, args.alone_runs) * 1000
            r = run_wrk(base, "get.lua", [path], 4, args.seconds, headers, server.pid)
            f = run_wrk(floor, "get.lua", [f"/p/{index[name]}"], 4, args.seconds)
            results["pages"][name] = {"path": path, "alone_ms": single, "revise": r, "floor": f}
            rows.append((name, f"{describe(r)}; alone {fmt_ms(single)}", describe(f), f"{r['rate'] / f['rate']:.3f}×"))
            print(f"{name}: revise {describe(r)}, alone {fmt_ms(single)} | floor {describe(f)} | {cpu_note(r)}",
                  flush=True)
        results["memory_mb"] = memory(server.pid)
        client.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    print()
    workers = "one uvicorn worker" if args.workers == 1 else (
        f"{args.workers} uvicorn workers (server CPU and memory are then the supervisor's only)")
    print(f"At {comments} comments, wrk {args.seconds:.0f}s per run, 4 connections, {workers} "
          f"(tree {args.tree}); floor: bare Starlette sending the same bytes, same run:")
    print("| page | revise | floor | ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"server memory at the end: {results['memory_mb']}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
