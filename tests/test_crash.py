"""A crash mid-load loses nothing that was acknowledged (SQLite WAL, synchronous=FULL)."""

import asyncio
import sqlite3
import threading
import time

import httpx2 as httpx  # the HTTP client Starlette 1.x tests with (httpx2 keeps the httpx API)

from revise.security import Signer


TARGET = 60  # comments acknowledged before the kill: the load is surely running by then
BOUND = 120  # seconds the whole load may take, however slow the machine


async def _submit_until(url: str, block_id: int, signer: Signer, deadline: float, acknowledged: list, errors: list):
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        html = (await client.get(f"/c/nanchong-2022/b/{block_id}")).text
        csrf = html.split('name="csrf" value="')[1].split('"')[0]
        i = 0
        while time.monotonic() < deadline:
            i += 1
            data = {"csrf": csrf, "form_token": signer.form_token(), "kind": "remark", "body": f"压力测试意见{i}", "action": "submit"}
            try:
                response = await client.post(f"/c/nanchong-2022/b/{block_id}/comments", data=data)
            except httpx.HTTPError:
                errors.append(i)  # the server died under us: this one was never acknowledged
                return
            if response.status_code == 303:
                acknowledged.append(response.headers["location"].split("receipt=")[1].split("#")[0])


def test_every_acknowledged_comment_survives_a_sigkill(tmp_path):
    from conftest import LiveServer

    server = LiveServer(tmp_path / "data", REVISE_COMMENTS_PER_MINUTE="1000000")
    try:
        db_path = tmp_path / "data" / "revise.db"
        block_id = sqlite3.connect(db_path).execute("select id from blocks order by position limit 1 offset 10").fetchone()[0]
        signer = Signer((tmp_path / "data" / "secret.key").read_bytes())
        acknowledged: list[str] = []
        errors: list[int] = []

        async def load_then_kill():
            # Killed once TARGET comments were acknowledged, not after a fixed time: on a slow or
            # loaded machine the load is then still running, on a fast one it is not over yet.
            deadline = time.monotonic() + BOUND
            clients = [asyncio.create_task(_submit_until(server.url, block_id, signer, deadline, acknowledged, errors))
                       for _ in range(8)]
            while len(acknowledged) < TARGET and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            server.kill()  # mid-load
            await asyncio.gather(*clients)

        # Its own thread: Playwright's sync API may have left an event loop running on this one.
        runner = threading.Thread(target=lambda: asyncio.run(load_then_kill()))
        runner.start()
        runner.join()
        assert len(acknowledged) >= TARGET, "the load was running when the server was killed"
        assert errors, "the clients were still sending when the server died"
        server.start()  # the same data folder
        check = sqlite3.connect(db_path)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in check.execute("select receipt from comments")}
        assert set(acknowledged) <= stored
        assert httpx.get(server.url + "/c/nanchong-2022").status_code == 200
        assert httpx.get(server.url + f"/r/{acknowledged[-1]}").status_code == 200
    finally:
        server.stop()
