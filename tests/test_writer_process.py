"""Served, comments are committed by a process of its own (revise/writer_process.py, issue #11):
what a commenter sees is the same, and the process never outlives the server or takes data with it."""

import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import LiveServer, eventually, parse_html
from starlette.testclient import TestClient

from revise.app import create_app
from revise.store import connect
from revise.writer_process import WriterProcess


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that ended but was not waited for yet is a zombie: gone as far as anyone can see.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _form(client, block_id: int) -> tuple[str, dict]:
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block_id}").text)
    (form,) = page.xpath("//form[contains(@class,'comment-form')]")
    return form.get("action"), {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}


@pytest.fixture
def served(settings):
    with TestClient(create_app(replace(settings, comment_writer="process", comments_per_minute=3))) as client:
        yield client


@pytest.fixture
def block_id(served, settings):
    db = connect(settings.db_path)
    try:
        return db.execute("select id from blocks where kind = 'paragraph' order by position limit 1").fetchone()[0]
    finally:
        db.close()


def _stored(settings, sql: str, params=()):
    db = connect(settings.db_path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def test_a_comment_is_committed_by_the_writers_own_process_and_acknowledged_once(served, settings, block_id):
    writer = served.app.state.writer
    assert isinstance(writer, WriterProcess) and writer.pid not in (None, os.getpid())
    action, hidden = _form(served, block_id)
    fields = {**hidden, "kind": "remark", "action": "submit", "body": "建议补充科技成果转化的具体措施。"}
    first = served.post(action, data=fields, follow_redirects=False)
    again = served.post(action, data=fields, follow_redirects=False)  # the same form sent twice
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]  # the same receipt
    receipt = first.headers["location"].split("receipt=")[1].split("#")[0]
    rows = _stored(settings, "select receipt, body from comments where form_token = ?", [hidden["form_token"]])
    assert rows == [(receipt, "建议补充科技成果转化的具体措施。")]
    # found by the search, and grouped (the writer's idle work, in its process)
    assert writer.wait_idle(30)
    assert _stored(settings, "select count(*) from comments_fts where comments_fts match ?", ["成果转化"]) == [(1,)]
    assert _stored(settings, "select count(*) from grouping_queue") == [(0,)]
    shown = parse_html(served.get(first.headers["location"]).text)
    assert shown.xpath(f"//*[contains(text(), '{receipt}')]")


def test_the_rate_limit_is_counted_in_the_writers_process(served, settings, block_id):
    answers = []
    for i in range(5):
        action, hidden = _form(served, block_id)
        answers.append(served.post(action, data={**hidden, "kind": "remark", "action": "submit",
                                                 "body": f"第{i}条:建议明确完成时限。"}, follow_redirects=False).status_code)
    assert answers == [303, 303, 303, 429, 429]  # three a minute from one address
    assert _stored(settings, "select count(*) from comments where body like '%建议明确完成时限%'") == [(3,)]


def test_a_writer_process_that_dies_is_replaced_and_comments_are_taken_again(served, settings, block_id):
    writer = served.app.state.writer
    dead = writer.pid
    os.kill(dead, signal.SIGKILL)
    assert eventually(lambda: writer.pid not in (None, dead) and not _alive(dead))
    action, hidden = _form(served, block_id)
    response = served.post(action, data={**hidden, "kind": "remark", "action": "submit",
                                         "body": "进程重启后再提交的意见。"}, follow_redirects=False)
    # Either taken by the new process, or (had it been sent while the old one died) a 503 whose
    # form, sent again, is stored once.
    if response.status_code == 503:
        response = served.post(action, data={**hidden, "kind": "remark", "action": "submit",
                                             "body": "进程重启后再提交的意见。"}, follow_redirects=False)
    assert response.status_code == 303
    assert _stored(settings, "select count(*) from comments where form_token = ?", [hidden["form_token"]]) == [(1,)]


def test_stopping_the_server_stops_its_writer_process(settings):
    with TestClient(create_app(replace(settings, comment_writer="process"))) as client:
        pid = client.app.state.writer.pid
        assert _alive(pid)
    assert not _alive(pid)


def test_a_killed_server_leaves_no_writer_process_behind_and_nothing_acknowledged_is_lost(tmp_path):
    server = LiveServer(tmp_path / "data")
    try:
        children = {int(p) for task in Path(f"/proc/{server.process.pid}/task").iterdir()
                    for p in (task / "children").read_text().split()}
        assert children  # the writer's process
        import httpx2 as httpx

        with httpx.Client(base_url=server.url) as http:
            db = connect(tmp_path / "data" / "revise.db")
            block = db.execute("select id from blocks where kind = 'paragraph' order by position limit 1").fetchone()[0]
            db.close()
            action, hidden = _form(http, block)
            response = http.post(action, data={**hidden, "kind": "remark", "action": "submit",
                                               "body": "服务器被强行终止前提交的意见。"})
            assert response.status_code == 303
        server.kill()
        assert eventually(lambda: not any(_alive(pid) for pid in children))
        assert _stored_at(tmp_path / "data" / "revise.db", hidden["form_token"]) == 1
    finally:
        server.stop()


def _stored_at(path: Path, token: str) -> int:
    db = connect(path)
    try:
        return db.execute("select count(*) from comments where form_token = ?", [token]).fetchone()[0]
    finally:
        db.close()


def test_an_unknown_comment_writer_is_one_clear_message_and_exit_status_2(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    done = subprocess.run([sys.executable, str(ROOT / "server.py"), "serve", "--port", "0"],
                          env=dict(os.environ, REVISE_DATA=str(tmp_path / "data"), REVISE_COMMENT_WRITER="fork"),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == "REVISE_COMMENT_WRITER 只能是 thread 或 process,而不是 fork"
    assert "Traceback" not in done.stdout + done.stderr


def test_a_comment_with_an_attachment_crosses_to_the_writers_process_with_its_bytes(served, settings, block_id):
    import hashlib

    import server

    from revise.store import attachments as attachment_store

    assert server.main(["--data", str(settings.data_dir), "moderate", "nanchong-2022", "--attachments", "on",
                        "--by", "test"]) == 0
    scan = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 4000 + b"\n%%EOF\n"
    action, hidden = _form(served, block_id)
    response = served.post(action, data={**hidden, "kind": "remark", "body": "附上扫描件。", "action": "submit"},
                           files={"attachment": ("letter.pdf", scan, "application/pdf")}, follow_redirects=False)
    assert response.status_code == 303
    db = connect(settings.db_path)
    try:
        (comment_id,) = db.execute("select id from comments where form_token = ?", [hidden["form_token"]]).fetchone()
        (stored,) = attachment_store.of_comment(db, comment_id)
        assert stored["sha256"] == hashlib.sha256(scan).hexdigest()
    finally:
        db.close()
