"""No request holds the event loop (issue #10): a locked database, hostile previews and grouping
never stall the other visitors, and a comment that had to wait is never lost or stored twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from starlette.testclient import TestClient
from test_comments import block_with, open_form

from revise import diffing
from revise.app import create_app
from revise.settings import Settings
from revise.store import connect
from revise.store import consultations as consultation_store

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()  # hold the write lock until told to let go
conn.execute("COMMIT")
print("released", flush=True)
"""


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def app_settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", base_url="http://testserver", write_wait=4.0,
                    previews_per_minute=3)


@pytest.fixture
def app_client(app_settings):
    app = create_app(app_settings)
    with TestClient(app) as client:
        yield app, client


class LockHolder:
    """Another process that holds SQLite's write lock until released."""

    def __init__(self, path):
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "locked"

    def release(self):
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "released"
        self.process.wait(10)


def _form(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    action, hidden, _ = open_form(client, f"/c/nanchong-2022/b/{block['id']}")
    return action, {**hidden, "kind": "remark", "body": "建议补充具体措施。", "action": "submit"}


def test_a_comment_waiting_on_another_process_lock_gets_503_while_others_are_served(app_client, app_settings):
    app, client = app_client
    db = connect(app_settings.db_path)
    action, data = _form(client, db)
    holder = LockHolder(app_settings.db_path)
    answers = {}

    def send():
        answers["post"] = client.post(action, data=data, follow_redirects=False)

    poster = threading.Thread(target=send)
    poster.start()
    try:
        # While the comment waits for the lock, static files and pages are served: the wait is
        # the writer thread's, not the event loop's.
        served = 0
        while poster.is_alive() and served < 5:
            assert client.get("/static/site.css").status_code == 200
            served += 1
        assert served == 5 and poster.is_alive(), "the event loop was held while the comment waited"
        poster.join(60)
        response = answers["post"]
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        assert "服务器正忙" in response.text  # the message in the visitor's language (zh-CN)
    finally:
        holder.release()
    # The same form sent again (the button pressed once more) records it once.
    first = client.post(action, data=data, follow_redirects=False)
    again = client.post(action, data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    rows = db.execute("select count(*) from comments where form_token = ?", [data["form_token"]]).fetchone()[0]
    assert rows == 1


def test_a_sign_in_that_stays_locked_out_of_the_database_is_answered_503_not_500(app_client, app_settings):
    """Routes that write from a worker thread wait there, bounded; then the answer is 503."""
    app, client = app_client
    page = client.get("/editor/sign-in")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    holder = LockHolder(app_settings.db_path)
    try:
        response = client.post("/editor/sign-in", data={"username": "nobody", "password": "x" * 12,
                                                         "csrf": csrf, "next": "/editor"}, follow_redirects=False)
    finally:
        holder.release()
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0


def test_previews_are_rate_limited_per_client(app_client, app_settings):
    app, client = app_client
    db = connect(app_settings.db_path)
    action, data = _form(client, db)
    block = block_with(db, "南充历史底蕴深厚")
    preview = {**data, "kind": "edit", "suggestion": block["text"] + "补充。", "action": "preview"}
    codes = [client.post(action, data=preview, follow_redirects=False).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    # Sending the comment itself is limited separately.
    assert client.post(action, data=data, follow_redirects=False).status_code == 303


def test_a_preview_of_the_largest_suggestion_is_still_an_exact_diff():
    rng = random.Random(7)
    alphabet = "南充创新型城市建设方案科技产业园区孵化器众创空间"
    old = "".join(rng.choice(alphabet) for _ in range(40_000))
    new = "".join(rng.choice(alphabet) for _ in range(30_000))
    for a, b in ((old, new), (old[:7000], new[:7000])):
        ops = diffing.diff(a, b)
        assert "".join(t for op, t in ops if op != diffing.INSERT) == a
        assert "".join(t for op, t in ops if op != diffing.DELETE) == b


def test_similar_comments_are_grouped_in_the_background(app_client, app_settings):
    app, client = app_client
    db = connect(app_settings.db_path)
    letter = "我们坚决支持在嘉陵江沿岸保留滨江步道和黄葛树,不要为拓宽车道砍伐沿江树木,并增设无障碍设施。"
    receipts = []
    for i in range(4):
        action, data = _form(client, db)
        response = client.post(action, data={**data, "body": letter + f"居民{i}"}, follow_redirects=False)
        assert response.status_code == 303
        receipts.append(response.headers["location"].split("receipt=")[1].split("#")[0])
    marks = ",".join("?" * len(receipts))

    def grouped():
        rows = db.execute(f"select group_id from comments where receipt in ({marks})", receipts).fetchall()
        return len({r[0] for r in rows}) == 1 and rows[0][0] is not None

    assert wait_for(grouped), "the four copies of one letter were not grouped"
    assert db.execute("select count(*) from grouping_queue").fetchone()[0] == 0


def test_comments_queued_for_grouping_are_placed_after_a_restart(app_settings):
    app = create_app(app_settings)
    with TestClient(app) as client:
        db = connect(app_settings.db_path)
        action, data = _form(client, db)
        app.state.writer.group = False  # the server stops before grouping them
        for i in range(3):
            _, data = _form(client, db)
            client.post(action, data={**data, "body": "同一封信的内容,支持保留滨江步道和沿江的黄葛树。"},
                        follow_redirects=False)
    assert db.execute("select count(*) from grouping_queue").fetchone()[0] == 3
    with TestClient(create_app(app_settings)):
        assert wait_for(lambda: db.execute("select count(*) from grouping_queue").fetchone()[0] == 0)
    c = consultation_store.by_slug(db, "nanchong-2022")
    groups = db.execute("select count(distinct group_id) from comments where consultation_id = ? and group_id is not null",
                        [c["id"]]).fetchone()[0]
    assert groups == 1


def test_a_form_from_the_configured_site_behind_a_tls_proxy_is_accepted(tmp_path):
    """The browser says Origin https://…, the unconfigured proxy makes the request look like http."""
    settings = Settings(data_dir=tmp_path / "data", base_url="https://testserver")
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        db = connect(settings.db_path)
        action, data = _form(client, db)
        ok = client.post(action, data=data, headers={"origin": "https://testserver"}, follow_redirects=False)
        assert ok.status_code == 303
        _, data = _form(client, db)
        other = client.post(action, data=data, headers={"origin": "https://evil.example"}, follow_redirects=False)
        assert other.status_code == 403


def test_the_search_index_is_merged_when_the_writer_is_idle_and_finds_every_comment(app_client, app_settings):
    app, client = app_client
    db = connect(app_settings.db_path)
    # FTS5 merges a little after each write (m021), and the writer merges more when idle.
    assert db.execute("select v from comments_fts_config where k = 'automerge'").fetchone()[0] == 4
    words = ["孵化器扩容", "研发投入强度", "知识产权保护"]
    for word in words:
        action, data = _form(client, db)
        assert client.post(action, data={**data, "body": f"建议补充{word}的年度目标。"},
                           follow_redirects=False).status_code == 303
    assert app.state.writer.wait_idle(60)
    db.execute("insert into comments_fts (comments_fts) values ('integrity-check')")
    for word in words:
        hits = db.execute("select count(*) from comments_fts where comments_fts match ?", [f'"{word}"']).fetchone()[0]
        assert hits == 1, word


def test_a_preview_is_diffed_in_another_process_and_survives_that_process_dying(app_client, app_settings):
    """The diff of a suggestion runs in a separate process (the event loop's interpreter stays
    free); if that process is killed, the next preview still answers with the exact change."""
    app, client = app_client
    db = connect(app_settings.db_path)
    action, data = _form(client, db)
    block = block_with(db, "南充历史底蕴深厚")
    preview = {**data, "kind": "edit", "suggestion": block["text"].replace("南充", "南充市", 1), "action": "preview"}
    first = client.post(action, data=preview, follow_redirects=False)
    assert first.status_code == 200 and "<ins>市</ins>" in first.text
    child = app.state.cpu.child
    assert child is not None and child.pid not in (None, os.getpid()), "the diff did not go to another process"
    os.kill(child.pid, signal.SIGKILL)
    again = client.post(action, data=preview, follow_redirects=False)
    assert again.status_code == 200 and "<ins>市</ins>" in again.text


def test_pages_render_a_few_at_a_time_and_a_full_queue_is_told_to_come_back(app_client, app_settings):
    """Plain GET pages go through a small render gate (the event loop keeps the interpreter);
    when too many already wait, the answer is 503 + Retry-After at once, and static files and
    the cached draft page are not held up by it."""
    from revise.offload import CpuGate

    app, client = app_client
    db = connect(app_settings.db_path)
    block = block_with(db, "南充历史底蕴深厚")
    assert client.get(f"/c/nanchong-2022/b/{block['id']}").status_code == 200
    app.state.renders = CpuGate(workers=1, max_waiting=0, processes=False)  # a queue that is always full
    refused = client.get(f"/c/nanchong-2022/b/{block['id']}")
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
    assert client.get("/static/site.css").status_code == 200
    assert client.get("/c/nanchong-2022").status_code == 200
