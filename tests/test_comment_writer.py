"""The comment writer keeps grouping out of a burst of comments, but never lets it fall far behind (issue #11)."""

import time

from conftest import parse_html

from revise import writer


def _post(client, db, n):
    block_id = db.execute("select id from blocks where kind = 'paragraph' order by position limit 1").fetchone()[0]
    for i in range(n):
        page = parse_html(client.get(f"/c/nanchong-2022/b/{block_id}").text)
        (form,) = page.xpath("//form[contains(@class,'comment-form')]")
        hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
        response = client.post(form.get("action"), data={**hidden, "kind": "remark", "action": "submit",
                                                          "body": f"第{i}条意见:建议补充具体措施和完成时限。"},
                               follow_redirects=False)
        assert response.status_code == 303  # acknowledged: committed


def _queued(db) -> int:
    return db.execute("select count(*) from grouping_queue").fetchone()[0]


def _wait(condition, seconds=20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_during_a_burst_comments_are_committed_without_waiting_for_grouping(client, db, monkeypatch):
    """While comments keep coming the writer only commits them: grouping (a transaction and an
    fsync of its own) waits until the stream pauses."""
    client.app.state.writer.wait_idle()
    monkeypatch.setattr(writer, "GROUPING_AFTER_IDLE", 3600.0)  # the stream never pauses that long
    monkeypatch.setattr(writer, "GROUPING_AT_LEAST_EVERY", 3600.0)
    _post(client, db, 4)
    assert _queued(db) == 4  # every comment stored and acknowledged, none grouped yet


def test_under_sustained_load_grouping_still_runs_at_least_every_few_seconds(client, db, monkeypatch):
    client.app.state.writer.wait_idle()
    monkeypatch.setattr(writer, "GROUPING_AFTER_IDLE", 3600.0)
    monkeypatch.setattr(writer, "GROUPING_AT_LEAST_EVERY", 0.0)  # after every batch
    _post(client, db, 4)
    assert _wait(lambda: _queued(db) == 0)  # grouped without the writer ever going idle


def test_when_the_stream_pauses_grouping_catches_up(client, db):
    _post(client, db, 3)
    assert client.app.state.writer.wait_idle()
    assert _queued(db) == 0
