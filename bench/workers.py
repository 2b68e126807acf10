"""Comment POST and public page throughput with 1 and 2 uvicorn workers (issue #15).

    .venv/bin/python bench/workers.py [--seconds 10] [--connections 32] [--workers 1,2]

For each worker count: a fresh data folder with the default draft, `server.py serve --workers N`
(rate limits off, access log off: it would measure the terminal), then wrk on the public draft
page (gzip, as browsers ask) and wrk POSTing comments, each with its own session and one-time
form token (bench/wrk/post_comment.lua, the lines written as bench/scale.py writes them).
Prints one line per case and a WORKERSJSON line. The machine's load is printed too: on a shared
two-core machine the ratio between 1 and 2 workers means more than the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from scale import (BROWSER_HEADERS, ROOT, Writer, describe, free_port, post_requests,  # noqa: E402
                   run_wrk, seed_phrases, seed_text, wait_until_up)

from revise.security import Signer, load_or_create_secret  # noqa: E402

SLUG = "nanchong-2022"


def start(data: Path, port: int, workers: int, **env: str) -> subprocess.Popen:
    """server.py serve --workers N on `data`, rate limits and access log off."""
    environment = dict(os.environ, REVISE_DATA=str(data), REVISE_COMMENTS_PER_MINUTE="1000000000",
                       REVISE_PREVIEWS_PER_MINUTE="1000000000", REVISE_ACCESS_LOG="0", **env)
    process = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "serve", "--port", str(port),
                                "--workers", str(workers)], env=environment, cwd=ROOT,
                               stdout=subprocess.DEVNULL, start_new_session=True)
    wait_until_up(f"http://127.0.0.1:{port}/")
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def comment_lines(data: Path, folder: Path, n: int, name: str = "posts.tsv", slug: str = SLUG) -> Path:
    """n comment POSTs (path, cookie, form) for post_comment.lua, valid for this data folder."""
    db = sqlite3.connect(data / "revise.db")
    db.row_factory = sqlite3.Row
    blocks = [dict(r) for r in db.execute(
        "select b.id, b.text, b.kind from blocks b join consultations c on c.id = b.consultation_id "
        "where c.slug = ? and b.kind = 'paragraph'", [slug])]
    db.close()
    rng = random.Random(15)
    writer = Writer(rng, seed_phrases(seed_text(), random.Random(11)))
    file = folder / name
    post_requests(file, n, slug, blocks, Signer(load_or_create_secret(data)), rng, writer)
    return file


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the servers started here are stopped
    results = {"load_before": load(), "cpus": os.cpu_count()}
    for workers in [int(w) for w in args.workers.split(",")]:
        with tempfile.TemporaryDirectory(prefix="revise-workers-") as tmp:
            folder = Path(tmp)
            data, port = folder / "data", free_port()
            server = start(data, port, workers)
            try:
                url = f"http://127.0.0.1:{port}"
                page = run_wrk(url, "get.lua", [f"/c/{SLUG}"], args.connections, args.seconds, BROWSER_HEADERS)
                posts = comment_lines(data, folder, 20_000)
                post = run_wrk(url, "post_comment.lua", [str(posts), "2"], args.connections, args.seconds)
            finally:
                stop(server)
        results[f"page_{workers}"] = page
        results[f"post_{workers}"] = post
        print(f"{workers} worker(s): public page {describe(page)}; comment POST {describe(post)}", flush=True)
    results["load_after"] = load()
    print(f"load average before {results['load_before']}, after {results['load_after']} ({os.cpu_count()} CPUs)")
    print("WORKERSJSON " + json.dumps({k: ({m: v[m] for m in ('rate', 'p50', 'p99', 'statuses')} if isinstance(v, dict) else v)
                                       for k, v in results.items()}))


if __name__ == "__main__":
    main()
