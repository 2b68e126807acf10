"""`server.py serve --workers N` (issue #15): several processes on one data folder agree.

A real server with two uvicorn workers is started as an operator starts it; the access log
(one line per request, with the worker's process id) shows both workers answered. Then: a
client sending more comments than its per-minute limit over many connections gets exactly the
limit through, as with one worker; and comments queued for grouping are placed once each, the
copies of one letter in one group, whichever worker's writer drained them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest

from conftest import ROOT, eventually, free_port, parse_html
from revise.serving import ENVIRONMENT, environment
from revise.settings import Settings
from revise.store import connect

LIMIT = 4
ACCESS = re.compile(r'\[(\d+)\] (\S+) "(\w+) (\S+)" (\d+|-) ')


class Workers:
    """server.py serve --workers 2, its stderr kept in a file."""

    def __init__(self, data_dir, log_path, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "serve", "--workers", "2", "--port", str(self.port)],
            env=dict(os.environ, REVISE_DATA=str(data_dir), **env), cwd=ROOT,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.text()
            try:
                httpx.get(self.url + "/", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start: " + self.text())

    def text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def access(self) -> list[tuple[str, ...]]:
        return ACCESS.findall(self.text())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


@pytest.fixture
def workers(tmp_path):
    server = Workers(tmp_path / "data", tmp_path / "server.log", REVISE_COMMENTS_PER_MINUTE=str(LIMIT))
    yield server
    server.stop()


def both_workers_answering(server: Workers) -> set[str]:
    """Concurrent requests until the access log shows two process ids (bounded)."""
    with ThreadPoolExecutor(8) as pool:
        for _ in range(40):
            pids = {pid for pid, *_ in server.access()}
            if len(pids) >= 2:
                return pids
            list(pool.map(lambda _: httpx.get(server.url + "/", timeout=30).status_code, range(16)))
            time.sleep(0.2)  # the log lines are written after the answers
    return {pid for pid, *_ in server.access()}


def comment(url: str, body: str) -> int:
    """One visitor (own connection, own session) comments on the draft as a whole."""
    with httpx.Client(base_url=url, timeout=60) as browser:
        page = parse_html(browser.get("/c/nanchong-2022/remarks").text)
        (form,) = page.xpath("//form[contains(@class,'comment-form')]")
        data = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
        data.update(kind="remark", body=body, action="submit")
        return browser.post(form.get("action"), data=data).status_code


def test_the_settings_go_to_the_workers_through_the_environment_whole(tmp_path):
    fields = {f.name for f in dataclasses.fields(Settings)} - {"default_locale", "timezone"}
    assert set(ENVIRONMENT) == fields
    chosen = Settings(data_dir=tmp_path / "d", host="0.0.0.0", port=8123, seed_default=False, comments_per_minute=3,
                      previews_per_minute=7, write_wait=2.5, base_url="https://consult.example.gov.cn",
                      allowed_hosts=("a.example", "b.example"), trusted_proxies=("127.0.0.1", "10.0.0.0/8"),
                      body_timeout=12.0, max_connections=77, max_form_bytes=1234, max_attachment_bytes=5678,
                      max_docx_bytes=999, max_docx_inflated=9999)
    code = ("import dataclasses, json; from revise.settings import Settings; "
            "print(json.dumps(dataclasses.asdict(Settings()), default=str))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REVISE_")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **environment(chosen)}, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == json.loads(json.dumps(dataclasses.asdict(chosen.with_(data_dir=chosen.data_dir.resolve())),
                                                    default=str))


def test_the_comment_limit_holds_across_two_workers_and_grouping_places_each_comment_once(workers):
    pids = both_workers_answering(workers)
    assert len(pids) == 2, "both worker processes answer requests"
    bodies = ["我们小区全体居民联名建议:保留老城区的历史街巷,不要拆除,并增加公共停车位。"] * (3 * LIMIT)
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda body: comment(workers.url, body), bodies))
    assert sorted(statuses) == [303] * LIMIT + [429] * (2 * LIMIT), statuses
    def posts():
        return [(pid, status) for pid, _client, method, path, status in workers.access() if method == "POST"]

    eventually(lambda: len(posts()) >= 3 * LIMIT)  # the access log is written in batches, at most 0.5 s late
    assert len(posts()) == 3 * LIMIT and all(status in ("303", "429") for _, status in posts())

    db = connect(workers.log_path.parent / "data" / "revise.db")
    try:
        deadline = time.monotonic() + 60
        while db.execute("select count(*) from grouping_queue").fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert db.execute("select count(*) from grouping_queue").fetchone()[0] == 0
        rows = db.execute("select c.id, c.body, c.group_id, (select count(*) from comment_signatures s "
                          "where s.comment_id = c.id) from comments c where c.source = 'public'").fetchall()
    finally:
        db.close()
    assert len(rows) == LIMIT and all(placed == 1 for *_, placed in rows)
    groups = {group for _id, _body, group, _placed in rows}
    assert len(groups) == 1 and None not in groups  # the copies of one letter: one group
