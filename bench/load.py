"""A deadline-day surge: the real server under concurrent readers and commenters, loopback only.

    .venv/bin/python bench/load.py [--seconds 10] [--clients 32] [--read-every 4] [--max-requests 200000]

Starts revise as a user would (python server.py → uvicorn, one worker, a fresh data folder)
and drives concurrent clients that read the draft page (every --read-every submissions) and
POST comments, bounded in time and count. Then the same clients against a bare Starlette
endpoint that parses the same form and inserts one row into SQLite (WAL, synchronous=FULL,
like revise), measured in the same run. Prints throughput, p50/p95/p99 latency and error
counts for reads and submissions, the ratio to the floor, and checks that every receipt a
client was given is in the database exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx  # the HTTP client Starlette 1.x tests with (httpx2 keeps the httpx API)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BODY = "建议将“高坪机场年旅客吞吐量突破100万人次”更新为2022年最新数据,并补充航线发展目标。"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


async def drive(base: str, path: str, seconds: float, clients: int, prepare, read: str | None = None,
                read_every: int = 4, max_requests: int = 200_000) -> dict:
    """`clients` concurrent loops POSTing (and reading `read` every `read_every` posts) for `seconds`."""
    latencies: list[float] = []
    reads: list[float] = []
    errors: dict[str, int] = {}
    receipts: list[str] = []
    deadline = time.monotonic() + seconds
    budget = [max_requests]

    async def one_client(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            fields = await prepare(client)
            i = 0
            while time.monotonic() < deadline and budget[0] > 0:
                i += 1
                budget[0] -= 1
                if read and read_every and i % read_every == 0:
                    start = time.perf_counter()
                    try:
                        page = await client.get(read)
                        reads.append(time.perf_counter() - start)
                        if page.status_code != 200:
                            errors[f"read {page.status_code}"] = errors.get(f"read {page.status_code}", 0) + 1
                    except httpx.HTTPError as error:
                        errors[f"read {type(error).__name__}"] = errors.get(f"read {type(error).__name__}", 0) + 1
                data = {**fields(), "kind": "remark", "body": f"{BODY}({n}-{i})", "action": "submit"}
                start = time.perf_counter()
                try:
                    response = await client.post(path, data=data, follow_redirects=False)
                except httpx.HTTPError as error:
                    errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                    continue
                latencies.append(time.perf_counter() - start)
                if response.status_code == 303 and "receipt=" in response.headers.get("location", ""):
                    receipts.append(response.headers["location"].split("receipt=")[1].split("#")[0])
                elif response.status_code == 200 and response.text.startswith("ok "):
                    receipts.append(response.text[3:])
                else:
                    errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1

    started = time.monotonic()
    await asyncio.gather(*(one_client(n) for n in range(clients)))
    elapsed = time.monotonic() - started
    return {"latencies": latencies, "reads": reads, "errors": errors, "receipts": receipts, "elapsed": elapsed}


def _percentiles(samples: list[float]) -> str:
    lat = sorted(samples)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")  # noqa: E731
    return f"p50 {p(0.50):.1f} ms, p95 {p(0.95):.1f} ms, p99 {p(0.99):.1f} ms"


def summary(name: str, result: dict) -> float:
    rate = len(result["receipts"]) / result["elapsed"]
    print(f"{name}: {len(result['receipts'])} comments acknowledged in {result['elapsed']:.1f}s = {rate:.0f}/s, "
          f"{_percentiles(result['latencies'])}, errors {result['errors'] or 0}")
    if result["reads"]:
        print(f"  and {len(result['reads'])} reads of the draft page "
              f"({len(result['reads']) / result['elapsed']:.0f}/s), {_percentiles(result['reads'])}")
    return rate


def run_revise(seconds: float, clients: int, read_every: int, max_requests: int) -> float:
    from revise.security import Signer

    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        env = dict(os.environ, REVISE_DATA=data, REVISE_COMMENTS_PER_MINUTE="1000000000")
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "--port", str(port)], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/")
            db = sqlite3.connect(Path(data) / "revise.db")
            block_id = db.execute("select id from blocks where kind = 'paragraph' order by position limit 1 offset 5").fetchone()[0]
            signer = Signer((Path(data) / "secret.key").read_bytes())
            page = f"/c/nanchong-2022/b/{block_id}"

            async def prepare(client):
                html = (await client.get(page)).text
                csrf = html.split('name="csrf" value="')[1].split('"')[0]
                # A real visitor gets a fresh one-time token with each form it loads; minting it
                # here with the instance's key measures the POST alone, like the floor.
                return lambda: {"csrf": csrf, "form_token": signer.form_token()}

            result = asyncio.run(drive(base, page + "/comments", seconds, clients, prepare,
                                       read="/c/nanchong-2022", read_every=read_every, max_requests=max_requests))
            rate = summary("revise  POST /c/nanchong-2022/b/{id}/comments", result)
            stored = [r[0] for r in db.execute("select receipt from comments")]
            missing = set(result["receipts"]) - set(stored)
            dupes = len(stored) - len(set(stored))
            print(f"  receipts given {len(result['receipts'])}, in the database {len(stored)}, "
                  f"missing {len(missing)}, duplicated {dupes}")
            return rate
        finally:
            server.terminate()
            server.wait(10)


BARE_APP = '''
import sqlite3, secrets, sys
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
import uvicorn
db = sqlite3.connect(sys.argv[2], isolation_level=None, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("create table if not exists comments (id integer primary key, body text, receipt text)")
async def post(request):
    form = await request.form()
    receipt = secrets.token_hex(5)
    db.execute("insert into comments (body, receipt) values (?, ?)", [form["body"], receipt])
    return PlainTextResponse("ok " + receipt)
uvicorn.run(Starlette(routes=[Route("/", post, methods=["POST"])]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''


def run_bare(seconds: float, clients: int, max_requests: int) -> float:
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        server = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port), str(Path(data) / "bare.db")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.post(base + "/", data={"body": "warm-up"}, timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise SystemExit("bare server did not start") from None
                    time.sleep(0.1)

            async def prepare(client):
                return lambda: {}

            result = asyncio.run(drive(base, "/", seconds, clients, prepare, max_requests=max_requests))
            return summary("bare    Starlette form + one SQLite insert", result)
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--read-every", type=int, default=4, help="read the draft page every N submissions (0: never)")
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args()
    bare = run_bare(args.seconds, args.clients, args.max_requests)
    posts_only = run_revise(args.seconds, args.clients, 0, args.max_requests)
    print(f"ratio revise / bare floor, submissions only: {posts_only / bare:.2f}× (target ≥ 0.6×)")
    run_revise(args.seconds, args.clients, args.read_every, args.max_requests)


if __name__ == "__main__":
    main()
