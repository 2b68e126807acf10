"""Comment submissions under load: the real server against a bare Starlette floor, same run.

    .venv/bin/python bench/comment_load.py [--seconds 10] [--clients 32]

Starts revise as a user would (uvicorn, one worker, a fresh data folder, loopback only) and
drives concurrent clients that POST comments for a bounded time; then does the same against a
bare Starlette endpoint that parses the same form and inserts one row into SQLite (WAL,
synchronous=FULL, like revise). Prints comments/s, p50/p99 latency, errors and the ratio, and
checks that every receipt a client was given is in the database exactly once.
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


async def drive(base: str, path: str, seconds: float, clients: int, prepare) -> dict:
    """`clients` concurrent loops POSTing for `seconds`; returns latencies, errors, receipts."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    receipts: list[str] = []
    deadline = time.monotonic() + seconds

    async def one_client(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            fields = await prepare(client)
            i = 0
            while time.monotonic() < deadline:
                i += 1
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
    return {"latencies": latencies, "errors": errors, "receipts": receipts, "elapsed": elapsed}


def summary(name: str, result: dict) -> float:
    lat = sorted(result["latencies"])
    rate = len(result["receipts"]) / result["elapsed"]
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")  # noqa: E731
    print(f"{name}: {len(result['receipts'])} acknowledged in {result['elapsed']:.1f}s = {rate:.0f}/s, "
          f"p50 {p(0.50):.1f} ms, p95 {p(0.95):.1f} ms, p99 {p(0.99):.1f} ms, errors {result['errors'] or 0}")
    return rate


def run_revise(seconds: float, clients: int) -> float:
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

            result = asyncio.run(drive(base, page + "/comments", seconds, clients, prepare))
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


def run_bare(seconds: float, clients: int) -> float:
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

            result = asyncio.run(drive(base, "/", seconds, clients, prepare))
            return summary("bare    Starlette form + one SQLite insert", result)
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    bare = run_bare(args.seconds, args.clients)
    ours = run_revise(args.seconds, args.clients)
    print(f"ratio revise / bare floor: {ours / bare:.2f}× (target ≥ 0.6×)")


if __name__ == "__main__":
    main()
