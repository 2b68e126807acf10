"""The crowd's page answered from the cache past the router (issue #11) answers exactly as the route.

revise.web.public.answer_cached skips Starlette's routing for the public draft page when its
cached copy is current. A reader must not be able to tell: every variant of the request gets the
same status, headers and bytes with and without the shortcut, and anything it cannot answer
(another page, a query, a stale copy, a slug that does not exist) still reaches the route.
"""

import pytest
from starlette.testclient import TestClient

from revise.app import create_app
from revise.store import connect
from revise.web import public
from revise.web.middleware import RequestPath

PAGE = "/c/nanchong-2022"


def _request_path(app) -> RequestPath:
    app.middleware_stack = app.middleware_stack or app.build_middleware_stack()
    layer = app.middleware_stack
    while not isinstance(layer, RequestPath):
        layer = layer.app
    return layer


@pytest.fixture
def clients(settings):
    """Two apps on the same data folder: one with the shortcut, one without; and the shortcut's calls."""
    with_app, without_app = create_app(settings), create_app(settings)
    with TestClient(with_app) as fast, TestClient(without_app) as plain:
        fast.get(PAGE), plain.get(PAGE)  # builds each app's cached copy
        _request_path(without_app).shortcut = None
        layer = _request_path(with_app)
        answered = []

        async def counting(scope, receive, send):
            result = await public.answer_cached(scope, receive, send)
            answered.append(result)
            return result

        layer.shortcut = counting
        yield fast, plain, answered


def _same(a, b):
    """Same status, headers and bytes; Last-Modified is each app's own copy's build time (the two
    apps may build theirs in different seconds), so only its presence is compared."""
    assert a.status_code == b.status_code
    assert ("last-modified" in a.headers) == ("last-modified" in b.headers)
    assert ([(k, v) for k, v in a.headers.multi_items() if k != "last-modified"]
            == [(k, v) for k, v in b.headers.multi_items() if k != "last-modified"])
    assert a.content == b.content


VARIANTS = [
    {},
    {"Accept-Encoding": "gzip, deflate, br"},
    {"Accept-Encoding": "identity"},
    {"Accept-Encoding": "gzip;q=0"},
    {"Accept-Language": "en-US,en;q=0.9"},
    {"Cookie": "lang=en"},
    {"Cookie": "sid=forged.value; lang=zh_CN"},
    {"If-Modified-Since": "Mon, 01 Jan 2035 00:00:00 GMT"},
    {"If-Modified-Since": "not a date"},
    {"If-None-Match": '"something-else"'},
    {"X-Forwarded-For": "203.0.113.9"},
]


@pytest.mark.parametrize("headers", VARIANTS, ids=[" ".join(f"{k}={v}" for k, v in h.items()) or "plain" for h in VARIANTS])
def test_the_page_from_the_shortcut_is_the_page_from_the_route(clients, headers):
    fast, plain, answered = clients
    fast.get(PAGE, headers=headers)  # a language's first view builds its copy (through the route)
    _same(fast.get(PAGE, headers=headers), plain.get(PAGE, headers=headers))
    assert answered[-1] is True  # and it was the shortcut that answered


def test_a_repeat_view_is_the_same_304(clients):
    fast, plain, answered = clients
    for accept in ("gzip", "identity"):
        etag = plain.get(PAGE, headers={"Accept-Encoding": accept}).headers["etag"]
        a = fast.get(PAGE, headers={"Accept-Encoding": accept, "If-None-Match": etag})
        b = plain.get(PAGE, headers={"Accept-Encoding": accept, "If-None-Match": etag})
        assert a.status_code == 304
        _same(a, b)
        assert answered[-1] is True


@pytest.mark.parametrize("path", [PAGE + "?lang=en", PAGE + "?receipt=ABCDE-FGHJK", PAGE + "/", "/c/no-such-draft", "/",
                                  "/c/", "/c/nanchong-2022/b/1"])
def test_what_the_shortcut_does_not_know_reaches_the_route(clients, path):
    fast, plain, answered = clients
    before = len(answered)
    a, b = fast.get(path, follow_redirects=False), plain.get(path, follow_redirects=False)
    assert a.status_code == b.status_code
    assert answered[before:] in ([], [False])  # never answered by the shortcut


def test_a_new_comment_count_is_not_served_from_a_stale_copy(clients, settings):
    """After the counts change the shortcut steps aside, the route rebuilds, and then the new page is served fast."""
    fast, plain, answered = clients
    before = fast.get(PAGE, headers={"Accept-Encoding": "identity"})
    db = connect(settings.db_path)
    # a published comment on the whole draft changes the page's counts (the writer's own trigger path)
    cid = db.execute("select id from consultations where slug = 'nanchong-2022'").fetchone()[0]
    db.execute("update public_versions set comments = comments + 1 where consultation_id = ?", [cid])
    db.conn.commit()
    db.close()
    after = fast.get(PAGE, headers={"Accept-Encoding": "identity"})
    assert answered[-1] is False  # the stale copy was not sent
    assert after.headers["etag"] is not None
    again = fast.get(PAGE, headers={"Accept-Encoding": "gzip"})
    assert answered[-1] is True
    assert again.headers["content-encoding"] == "gzip" and again.content == after.content  # (decoded by the client)
    assert before.status_code == after.status_code == 200


def test_head_and_post_are_left_to_the_route(clients):
    fast, plain, answered = clients
    before = len(answered)
    assert fast.head(PAGE).status_code == plain.head(PAGE).status_code == 200
    assert fast.post(PAGE).status_code == plain.post(PAGE).status_code
    assert answered[before:] in ([], [False], [False, False])


def test_the_page_state_a_view_reads_follows_every_commit_whoever_makes_it(client, settings):
    """page_state is kept on the connection between views; it must still see each change at once:
    one committed by another connection (the writer thread, another worker, a script) and one
    made through the very connection that keeps it."""
    from revise.store.counts import page_state

    reader, other = connect(settings.db_path), connect(settings.db_path)
    c, comments = page_state(reader, "nanchong-2022").consultation, page_state(reader, "nanchong-2022").comments_serial
    assert page_state(reader, "no-such-consultation") is None

    other.execute("update public_versions set comments = comments + 1 where consultation_id = ?", [c["id"]])
    other.conn.commit()
    assert page_state(reader, "nanchong-2022").comments_serial == comments + 1

    reader.execute("update consultations set title = ? where id = ?", ["新标题", c["id"]])
    reader.conn.commit()
    assert page_state(reader, "nanchong-2022")[0]["title"] == "新标题"

    other.execute("update consultations set slug = 'no-such-consultation' where id = ?", [c["id"]])
    other.conn.commit()
    assert page_state(reader, "nanchong-2022") is None
    assert page_state(reader, "no-such-consultation")[0]["id"] == c["id"]

    kept = page_state(reader, "no-such-consultation")[0]
    kept["title"] = "changed by a caller"
    assert page_state(reader, "no-such-consultation")[0]["title"] == "新标题"  # each caller gets its own copy
    reader.close(), other.close()


def test_under_a_stream_of_comments_a_view_reads_the_serials_and_not_the_consultation_again(client, settings):
    """The consultation's row and a block's are kept under serials that comments do not move:
    while the writer commits comment after comment, a view or a POST reads five integers, and
    a change to the consultation or to a block is still seen at once."""
    from revise import versions
    from revise.store.counts import page_state

    reader, other = connect(settings.db_path), connect(settings.db_path)
    statements = []
    reader.conn.set_trace_callback(statements.append)
    state = page_state(reader, "nanchong-2022")
    block_id = other.execute("select id from blocks where consultation_id = ? and kind = 'paragraph' "
                             "order by position limit 1", [state.consultation["id"]]).fetchone()[0]
    block = versions.public_block(reader, state.consultation, block_id, state.drafting)
    for n in range(3):  # comments committed by another connection, as the writer thread does
        other.execute("insert into comments (consultation_id, block_id, kind, source, body, receipt, status, "
                      "created_at) values (?, ?, 'remark', 'public', '建议增加停车位。', ?, 'published', "
                      "'2022-10-09T02:00:00Z')", [state.consultation["id"], block_id, f"KEPT{n}"])
        other.conn.commit()
        statements.clear()
        again = page_state(reader, "nanchong-2022")
        assert again.comments_serial > state.comments_serial
        assert versions.public_block(reader, again.consultation, block_id, again.drafting) == block
        # data_version and the serials; neither the consultation's row nor the block read again
        assert len(statements) == 2 and not any("consultations where id" in s or "version_blocks" in s
                                                for s in statements), statements

    other.execute("update consultations set title = '新标题二' where id = ?", [state.consultation["id"]])
    other.execute("update blocks set position = position + 1000 where id = ?", [block_id])
    other.conn.commit()
    again = page_state(reader, "nanchong-2022")
    assert again.consultation["title"] == "新标题二"
    moved = versions.public_block(reader, again.consultation, block_id, again.drafting)
    assert moved["position"] == block["position"] + 1000
    moved["text"] = "changed by a caller"
    assert versions.public_block(reader, again.consultation, block_id, again.drafting)["text"] == block["text"]
    reader.close(), other.close()
