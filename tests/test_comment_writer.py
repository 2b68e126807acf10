"""The comment writer keeps grouping out of a burst of comments, but never lets it fall far behind (issue #11)."""

from conftest import eventually, in_own_loop, parse_html

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
    assert eventually(lambda: _queued(db) == 0)  # grouped without the writer ever going idle


def test_when_the_stream_pauses_grouping_catches_up(client, db):
    _post(client, db, 3)
    assert client.app.state.writer.wait_idle()
    assert _queued(db) == 0


def test_a_writer_that_stops_answering_is_answered_busy_not_awaited_for_ever(settings, client):
    """The writer answers Busy itself past a job's deadline; if it has stopped altogether (never
    started here), the request still gets Busy (503 + Retry-After) a second after the deadline."""
    import pytest

    from revise.offload import Busy

    silent = writer.CommentWriter(settings.db_path, wait=0.05)  # its thread is never started

    async def submit():
        await silent.submit({"form_token": "never-written"})

    with pytest.raises(Busy):
        in_own_loop(submit())


def test_a_job_cancelled_before_the_writer_takes_it_is_not_stored(settings, client, db):
    """The server shutting down cancels a request still waiting: nothing was answered, so nothing
    is stored either (the writer skips the cancelled job); the one beside it is stored."""
    import asyncio

    from revise import commenting
    from revise.store import consultations

    c = consultations.by_slug(db, "nanchong-2022")
    values = {"kind": "remark", "name": "", "contact": "", "body": "建议增加停车位。", "suggestion": "",
              "quote": "", "quote_start": None}
    paused = writer.CommentWriter(settings.db_path)

    async def one_cancelled_one_kept():
        cancelled = asyncio.ensure_future(paused.submit(commenting.prepare(c, None, values, form_token="cancelled")))
        kept = asyncio.ensure_future(paused.submit(commenting.prepare(c, None, values, form_token="kept")))
        await asyncio.sleep(0)  # both jobs are queued; the writer has not started
        cancelled.cancel()
        paused.start()
        await asyncio.gather(cancelled, kept, return_exceptions=True)

    try:
        in_own_loop(one_cancelled_one_kept())
    finally:
        paused.stop()
    stored = [t for (t,) in db.execute("select form_token from comments where form_token in ('cancelled', 'kept')")]
    assert stored == ["kept"]


def test_a_batch_of_comments_is_searchable_as_soon_as_it_is_acknowledged_and_a_failed_one_is_not(settings, client, db):
    """Comments committed together are put in the full-text index together (issue #11): each
    one acknowledged is found by the editors' search at once, one that failed inside the batch
    is neither stored nor found, and nothing is left holding the index back."""
    import asyncio

    from revise import commenting
    from revise.store import consultations

    c = consultations.by_slug(db, "nanchong-2022")
    words = [f"试点片区{n}号" for n in ("甲", "乙", "丙", "丁", "戊", "己")]
    failing = words[3]

    def then(db_, comment):
        if failing in comment["body"]:
            raise RuntimeError("this one fails alone")

    def row(word):
        values = {"kind": "remark", "name": "", "contact": "", "body": f"建议把{word}列入年度计划。",
                  "suggestion": "", "quote": "", "quote_start": None}
        return commenting.prepare(c, None, values, form_token=f"batch-{word}")

    paused = writer.CommentWriter(settings.db_path, group=False)

    async def all_at_once():
        jobs = [asyncio.ensure_future(paused.submit(row(word), then)) for word in words]
        await asyncio.sleep(0)  # all queued before the writer starts: one batch
        paused.start()
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        answers = in_own_loop(all_at_once())
    finally:
        paused.stop()
    assert [isinstance(a, RuntimeError) for a in answers] == [w == failing for w in words]

    def found(word):
        return db.execute("select count(*) from comments where id in (select rowid from comments_fts "
                          "where comments_fts match ?)", [f'"{word}"']).fetchone()[0]

    assert {w: found(w) for w in words} == {w: 0 if w == failing else 1 for w in words}
    assert db.execute("select count(*) from comments where form_token = ?", [f"batch-{failing}"]).fetchone()[0] == 0
    assert db.execute("select count(*) from search_index_held").fetchone()[0] == 0
    # A comment stored any other way (the ledger, the CLI) is indexed by the trigger as before.
    commenting.submit(db, c, None, {"kind": "remark", "name": "", "contact": "", "body": "建议新增试点片区庚号。",
                                    "suggestion": "", "quote": "", "quote_start": None}, form_token="alone")
    assert found("试点片区庚号") == 1
