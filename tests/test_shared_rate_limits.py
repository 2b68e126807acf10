"""The per-minute limits every worker process counts alike (revise.store.limits, issue #15): a
sliding log of allowed events per bucket and key in SQLite. Stated on a real data file, with the
events' times given (no waiting)."""

import asyncio
import threading

import pytest

from revise.offload import Limited
from revise.store import open_database, writing
from revise.store import limits
from revise.store.limits import SharedRateLimiter


@pytest.fixture
def path(tmp_path):
    open_database(tmp_path / "revise.db").close()  # the schema, rate_events included
    return tmp_path / "revise.db"


def rows(path):
    db = open_database(path)
    try:
        return sorted(db.execute("select bucket, key, at from rate_events").fetchall())
    finally:
        db.close()


def test_a_key_gets_its_limit_in_the_period_and_no_more(path):
    limiter = SharedRateLimiter(path, "comment", 3, period=60)
    assert [limiter.allow("203.0.113.9", now=t) for t in (0, 10, 20, 30, 59.9)] == [True, True, True, False, False]
    assert rows(path) == [("comment", "203.0.113.9", 0.0), ("comment", "203.0.113.9", 10.0),
                          ("comment", "203.0.113.9", 20.0)]  # a refused try records nothing


def test_the_period_slides_an_event_leaves_it_at_exactly_one_period(path):
    limiter = SharedRateLimiter(path, "comment", 2, period=60)
    assert [limiter.allow("k", now=t) for t in (0, 30)] == [True, True]
    assert limiter.allow("k", now=59.99) is False
    assert limiter.allow("k", now=60) is True  # the event at 0 has left the period
    assert limiter.allow("k", now=61) is False  # only one place was freed (30 and 60 are in)
    assert limiter.allow("k", now=90) is True


def test_keys_and_buckets_are_counted_apart(path):
    comments = SharedRateLimiter(path, "comment", 1, period=60)
    previews = SharedRateLimiter(path, "preview", 1, period=60)
    assert (comments.allow("a", now=0), comments.allow("b", now=0), previews.allow("a", now=0)) == (True, True, True)
    assert (comments.allow("a", now=1), previews.allow("a", now=1)) == (False, False)


def test_two_processes_limiters_on_one_file_share_the_count(path):
    one, two = SharedRateLimiter(path, "comment", 2, period=60), SharedRateLimiter(path, "comment", 2, period=60)
    assert (one.allow("k", now=0), two.allow("k", now=1), one.allow("k", now=2), two.allow("k", now=3)) == (
        True, True, False, False)


def test_old_events_of_other_keys_are_swept_every_so_many_tries(path, monkeypatch):
    monkeypatch.setattr(limits, "SWEEP_EVERY", 4)
    limiter = SharedRateLimiter(path, "comment", 100, period=60)
    other = SharedRateLimiter(path, "preview", 100, period=60)
    limiter.allow("gone", now=0)
    other.allow("gone", now=0)
    for t in (100, 101):  # tries 2 and 3: only their own key's old events go
        limiter.allow("here", now=t)
    assert ("comment", "gone", 0.0) in rows(path)
    limiter.allow("here", now=102)  # the fourth try: every key of the bucket
    assert [r for r in rows(path) if r[1] == "gone"] == [("preview", "gone", 0.0)]  # another bucket is its own
    assert len([r for r in rows(path) if r[1] == "here"]) == 3


def test_by_default_the_period_is_a_minute_and_a_busy_database_is_waited_for_eight_seconds(path):
    limiter = SharedRateLimiter(path, "comment", 1)
    assert (limiter.allow("k", now=0), limiter.allow("k", now=59.9), limiter.allow("k", now=60)) == (True, False, True)
    assert limiter._db().execute("PRAGMA busy_timeout").fetchone()[0] == 8000


def test_the_writer_counts_inside_its_own_transaction_and_a_refusal_stores_nothing(path):
    limiter = SharedRateLimiter(path, "comment", 1, period=60)
    db = open_database(path)
    admit = limiter.admitter("k")
    with writing(db):
        admit(db)
    with pytest.raises(Limited):
        with writing(db):
            admit(db)
    db.close()
    assert len(rows(path)) == 1


def test_the_check_runs_off_the_event_loop_and_answers_the_same(path):
    limiter = SharedRateLimiter(path, "comment", 1, period=3600)
    loop_thread = threading.get_ident()
    seen = []
    real_allow = limiter.allow

    def allow(key, now=None):
        seen.append(threading.get_ident())
        return real_allow(key, now)

    limiter.allow = allow

    async def twice():
        return [await limiter.check("k"), await limiter.check("k")]

    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("value", asyncio.run(twice())))
    worker.start()
    worker.join(60)
    assert result["value"] == [True, False]
    assert worker.ident not in seen and loop_thread not in seen


def test_its_connection_commits_without_fsync_and_shares_the_writers_lock(path):
    lock = threading.Lock()
    limiter = SharedRateLimiter(path, "comment", 1, write_lock=lock, busy_timeout=2.5)
    db = limiter._db()
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.write_lock is lock
    assert limiter._db() is db  # one connection per thread, kept
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(limiter._db()))
    thread.start()
    thread.join(30)
    assert elsewhere[0] is not db


def _events(db):
    return sorted(db.execute("select bucket, key, at from rate_events").fetchall())


def test_a_batch_of_tries_is_decided_as_the_same_tries_one_by_one(tmp_path):
    """The comment writer takes a batch's limits together (take_many): the same answers and the
    same events stored as taking them one at a time, a key repeated within the batch included."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    one_path, many_path = tmp_path / "one.db", tmp_path / "many.db"
    for p in (one_path, many_path):
        open_database(p).close()
    keys = st.sampled_from(["203.0.113.9", "198.51.100.7", "dept:3", "键"])
    batches = st.lists(st.tuples(st.floats(0, 30), st.lists(keys, min_size=1, max_size=8)), min_size=1, max_size=6)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(batches)
    def same(batches):
        one, many = open_database(one_path), open_database(many_path)
        try:
            for db in (one, many):
                db.execute("delete from rate_events")
            a = SharedRateLimiter(one_path, "comment", 3, period=60)
            b = SharedRateLimiter(many_path, "comment", 3, period=60)
            now = 0.0
            for step, batch in batches:
                now += step
                with writing(one):
                    singly = [a.take(one, key, now) for key in batch]
                with writing(many):
                    together = b.take_many(many, batch, now)
                assert together == singly
                assert _events(many) == _events(one)
        finally:
            one.close()
            many.close()

    same()
