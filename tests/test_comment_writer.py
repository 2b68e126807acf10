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


def _one_batch(settings, submissions):
    """Each (row, then, admit) submitted before the writer starts, so that it takes them all as
    one batch; the answers (or exceptions) in order."""
    import asyncio

    paused = writer.CommentWriter(settings.db_path, group=False)

    async def all_at_once():
        jobs = [asyncio.ensure_future(paused.submit(*submission)) for submission in submissions]
        await asyncio.sleep(0)  # all queued before the writer starts: one batch
        paused.start()
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        return in_own_loop(all_at_once())
    finally:
        paused.stop()


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

    answers = _one_batch(settings, [(row(word), then) for word in words])
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


def _web_rows(c, words):
    from revise import commenting

    return [commenting.prepare(c, None, {"kind": "remark", "name": "", "contact": "", "body": f"建议把{w}列入年度计划。",
                                         "suggestion": "", "quote": "", "quote_start": None}, form_token=f"web-{w}")
            for w in words]


def test_web_comments_stored_together_are_what_they_would_be_one_by_one(settings, client, db, tmp_path):
    """The writer stores a batch of web comments in a few statements (commenting.store_together):
    the same outcome as one by one: a form sent again gets its first comment (also when both are
    in the batch), the rate limit refuses the same ones, and the same rows are stored and queued
    for grouping."""
    from revise import commenting
    from revise.offload import Limited
    from revise.store import comments as comment_store
    from revise.store import connect, consultations, writing
    from revise.store.limits import SharedRateLimiter

    c = consultations.by_slug(db, "nanchong-2022")
    client.app.state.writer.wait_idle()
    (earlier,) = _web_rows(c, ["旧片区"])
    comment_store.insert_once(db, earlier, commenting.then_web(earlier))
    copies = []
    for name in ("one", "together"):
        target = connect(tmp_path / f"{name}.db")
        db.conn.backup(target.conn)
        copies.append(target)
    rows = _web_rows(c, ["甲区", "乙区", "旧片区", "丙区", "甲区", "丁区", "戊区"])
    keys = ["203.0.113.9", "203.0.113.9", "198.51.100.7", "203.0.113.9", "198.51.100.7", "dept:4", "198.51.100.7"]

    def stored(d):
        return (d.execute("select form_token, body, status, source, round_id, version_id from comments "
                          "order by form_token").fetchall(),
                d.execute("select count(*) from grouping_queue").fetchone()[0],
                d.execute("select key from rate_events order by key").fetchall())

    one, together = copies
    limiter_one = SharedRateLimiter(tmp_path / "one.db", "comment", 2, period=60)
    limiter_together = SharedRateLimiter(tmp_path / "together.db", "comment", 2, period=60)
    singly = []
    with writing(one):
        for row, key in zip(rows, keys):
            try:
                singly.append(comment_store.insert_once_in(one, dict(row), commenting.then_web(row),
                                                           limiter_one.admitter(key)))
            except Limited as refused:
                singly.append(refused)
    with writing(together), comment_store.indexing_afterwards(together) as ids:
        at_once = commenting.store_together(together, [dict(r) for r in rows],
                                            [limiter_together.admitter(k) for k in keys])
        ids.extend(r[0]["id"] for r in at_once if not isinstance(r, Exception) and r[1])
    kinds = [("limited" if isinstance(r, Limited) else "new" if r[1] else "again") for r in at_once]
    assert kinds == [("limited" if isinstance(r, Limited) else "new" if r[1] else "again") for r in singly]
    assert kinds == ["new", "new", "again", "limited", "again", "new", "new"]
    assert at_once[4][0]["id"] == at_once[0][0]["id"]  # the same form twice in one batch: one comment
    assert stored(together) == stored(one)
    receipts = [r[0]["receipt"] for r in at_once if not isinstance(r, Exception) and r[1]]
    assert len(set(receipts)) == 4
    for r in at_once:
        if not isinstance(r, Exception):
            assert comment_store.by_receipt(together, r[0]["receipt"])["id"] == r[0]["id"]


def test_a_batch_of_web_comments_is_acknowledged_searchable_and_queued_for_grouping(settings, client, db):
    """Several web submissions that reach the writer together: each answered with its stored
    comment, found by the editors' search, waiting in the grouping queue; the one over its
    address's limit is refused (429 on the web) and stores nothing."""

    from revise import commenting
    from revise.offload import Limited
    from revise.store import consultations
    from revise.store.limits import SharedRateLimiter

    c = consultations.by_slug(db, "nanchong-2022")
    words = ["子区一号", "子区二号", "子区三号", "子区四号"]
    rows = _web_rows(c, words)
    limiter = SharedRateLimiter(settings.db_path, "comment", 2, period=60)
    keys = ["203.0.113.1", "203.0.113.2", "203.0.113.1", "203.0.113.1"]
    answers = _one_batch(settings, [(row, commenting.then_web(row), limiter.admitter(key)) for row, key in zip(rows, keys)])
    assert [type(a).__name__ if isinstance(a, Exception) else a[1] for a in answers] == [True, True, True, "Limited"]
    assert isinstance(answers[3], Limited)
    for word, answer in zip(words[:3], answers):
        (found,) = db.execute("select rowid from comments_fts where comments_fts match ?", [f'"{word}"']).fetchall()
        assert found[0] == answer[0]["id"]
        assert db.execute("select count(*) from grouping_queue where comment_id = ?", [answer[0]["id"]]).fetchone()[0] == 1
    assert db.execute("select count(*) from comments where body like ?", [f"%{words[3]}%"]).fetchone()[0] == 0


def test_what_the_writer_commits_reaches_the_database_file_itself_soon_after(settings, client, db, tmp_path):
    """The writer's commits only append to the WAL; its checkpointer thread copies them into the
    database file within a moment (a PASSIVE checkpoint that waits for nobody), so the WAL does
    not grow for the whole consultation and the file alone holds the comments."""
    import shutil
    import sqlite3

    _post(client, db, 3)

    def in_file_alone() -> int:
        copy = tmp_path / "file-alone.db"
        shutil.copyfile(settings.db_path, copy)  # the file without its -wal
        try:
            con = sqlite3.connect(copy)
            return con.execute("select count(*) from comments where body like '第_条意见%'").fetchone()[0]
        finally:
            con.close()

    assert eventually(lambda: in_file_alone() == 3)


def test_a_batch_that_fails_together_is_undone_and_stored_one_by_one(settings, client, db, monkeypatch):
    """If storing the batch together fails after writing part of it (a receipt code drawn twice
    raises IntegrityError), all of it is undone and each comment is stored alone: every one
    acknowledged, none twice, each found once by the search."""
    import sqlite3

    from revise import commenting
    from revise.store import consultations

    real = commenting.store_together

    def fails_after_writing(db_, rows, admissions):
        real(db_, rows, admissions)
        raise sqlite3.IntegrityError("UNIQUE constraint failed: comments.receipt")

    monkeypatch.setattr(commenting, "store_together", fails_after_writing)
    c = consultations.by_slug(db, "nanchong-2022")
    words = ["回退区一", "回退区二", "回退区三"]
    rows = _web_rows(c, words)
    answers = _one_batch(settings, [(row, commenting.then_web(row)) for row in rows])
    assert [a[1] for a in answers] == [True, True, True]
    for word, answer in zip(words, answers):
        assert db.execute("select id from comments where body like ?", [f"%{word}%"]).fetchall() == [(answer[0]["id"],)]
        assert db.execute("select rowid from comments_fts where comments_fts match ?",
                          [f'"{word}"']).fetchall() == [(answer[0]["id"],)]


def _wal_frames_of_writes(path, n: int) -> None:
    """n small transactions by a connection that leaves checkpoints to others, as the writer does."""
    from revise.store import checkpoint_in_background, connect, writing

    w = connect(path)
    checkpoint_in_background(w)
    w.execute("create table if not exists stream (n integer, pad text)")
    for i in range(n):
        with writing(w):
            w.execute("insert into stream values (?, ?)", [i, "长" * 1500])
    w.close()


def test_under_a_steady_stream_the_checkpointer_starts_the_wal_over_instead_of_letting_it_grow(tmp_path):
    """PASSIVE copies never reach the end of a WAL that a writer appends to all the time; past a
    threshold the checkpointer restarts it, and the next commits are written from its beginning:
    the file stops growing and the database file alone holds everything."""
    import sqlite3

    from revise.store import connect, open_database

    path = tmp_path / "revise.db"
    open_database(path).close()
    keeper = connect(path)  # a connection held open, as the server's are: the WAL is not removed
    wal = tmp_path / "revise.db-wal"
    checkpointer = writer.CommentWriter(path)
    _wal_frames_of_writes(path, 200)
    grown, frames = wal.stat().st_size, copy_frames(keeper)
    assert checkpointer.checkpoint(keeper, restart_at=100) == writer.WAL_RESTART_FRAMES  # restarted
    _wal_frames_of_writes(path, 50)
    assert wal.stat().st_size == grown  # written over from the start, not appended
    assert copy_frames(keeper) < frames / 2  # the 50 transactions' frames alone
    plain = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert plain.execute("select count(*) from stream").fetchone()[0] == 250
    plain.close()
    keeper.close()


def copy_frames(db) -> int:
    from revise.store import copy_wal

    return copy_wal(db)[1]


def test_a_reader_that_outlasts_the_restart_delays_it_without_holding_the_writer_up(tmp_path):
    """A long read (an export) keeps its frames: the restart gives up after a short wait, tries
    again only once the WAL has doubled, and the writer's next commit goes through at once."""
    import time

    from revise.store import connect, open_database, writing

    path = tmp_path / "revise.db"
    open_database(path).close()
    checkpointer = writer.CommentWriter(path)
    keeper = connect(path, busy_timeout=writer.RESTART_WAITS_FOR_READERS)
    _wal_frames_of_writes(path, 120)
    reader = connect(path)
    reader.execute("begin")
    reader.execute("select count(*) from stream").fetchone()  # a snapshot on the WAL's frames
    _wal_frames_of_writes(path, 20)
    frames = copy_frames(keeper)
    assert checkpointer.checkpoint(keeper, restart_at=100) == 2 * frames  # not now: later
    w = connect(path, busy_timeout=1)
    started = time.monotonic()
    with writing(w):
        w.execute("insert into stream values (0, '')")
    assert time.monotonic() - started < 1  # no lock left behind
    reader.execute("commit")
    for db in (w, reader, keeper):
        db.close()


def test_the_write_lock_is_shared_by_the_processes_on_one_database(tmp_path):
    """store.WriteLock: held in one process, another process's writer waits for it (queued by the
    kernel, not polling SQLite's busy handler), and gets it as soon as it is let go."""
    import subprocess
    import sys

    from revise.store import WriteLock

    path = tmp_path / "revise.db"
    lock = WriteLock(path)
    script = ("import sys, time; from revise.store import WriteLock\n"
              "lock = WriteLock(sys.argv[1]); print('waiting', flush=True)\n"
              "with lock: print('got it', flush=True)\n")
    with lock:
        other = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
        assert other.stdout.readline().strip() == "waiting"
        assert not eventually(lambda: other.poll() is not None, seconds=1)  # it waits for us
    assert other.stdout.readline().strip() == "got it"
    assert other.wait(30) == 0
    lock.close()
