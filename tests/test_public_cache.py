"""The public draft page is rendered once per version and sent to everyone: validators, gzip, counts."""

import gzip
from email.utils import formatdate

import pytest
from conftest import parse_html
from starlette.testclient import TestClient

from revise import commenting
from revise.store import blocks as block_store
from revise.store import bulk
from revise.store import comments as comment_store
from revise.store import connect
from revise.store import consultations as consultation_store
from revise.store import counts as count_store
from revise.store.schema import migrations

PAGE = "/c/nanchong-2022"


def nanchong(db):
    return consultation_store.by_slug(db, "nanchong-2022")


def paragraph(db, prefix="南充历史底蕴深厚"):
    return next(b for b in block_store.of_consultation(db, nanchong(db)["id"]) if b["text"].startswith(prefix))


def send_comment(client, block, body="建议补充具体措施。"):
    """Comment on a block through its page's form (no JavaScript); return the receipt code."""
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text)
    (form,) = page.xpath("//form[contains(@class,'comment-form')]")
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    response = client.post(form.get("action"), data={**hidden, "kind": "remark", "body": body, "action": "submit"},
                           follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"].split("receipt=")[1].split("#")[0]


def count_shown(client, block) -> str:
    page = parse_html(client.get(PAGE).text)
    (link,) = page.xpath(f"//a[@href='/c/nanchong-2022/b/{block['id']}']")
    return link.xpath("string(.//span[@class='count'])")


def test_a_repeat_view_with_the_etag_or_the_date_is_a_304(client):
    first = client.get(PAGE)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and "public" in first.headers["cache-control"]
    assert "no-cache" in first.headers["cache-control"]
    again = client.get(PAGE, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(PAGE, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(PAGE, headers={"If-None-Match": '"something-else"'}).status_code == 200
    assert client.get(PAGE, headers={"If-Modified-Since": formatdate(0, usegmt=True)}).status_code == 200


def test_the_page_is_gzipped_for_clients_that_accept_it_and_plain_for_others(client):
    plain = client.get(PAGE, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    with client.stream("GET", PAGE, headers={"Accept-Encoding": "gzip, deflate, br"}) as response:
        raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["vary"]
        gz_etag = response.headers["etag"]
    assert gzip.decompress(raw) == plain.content and len(raw) < len(plain.content) / 3
    assert gz_etag != plain.headers["etag"]
    # either representation's tag validates the other (the content is the same)
    assert client.get(PAGE, headers={"Accept-Encoding": "identity", "If-None-Match": gz_etag}).status_code == 304
    assert client.get(PAGE, headers={"Accept-Encoding": "gzip;q=0"}).headers.get("content-encoding") is None


def test_a_published_comment_changes_the_counts_shown_and_the_etag(client, db):
    block = paragraph(db)
    before = client.get(PAGE).headers["etag"]
    code = send_comment(client, block)
    assert client.get(PAGE).headers["etag"] == before  # pending: the public page has not changed
    assert count_shown(client, block) == ""
    comment = comment_store.by_receipt(db, code)
    commenting.moderate(db, nanchong(db), [comment["id"]], True, "test")
    published = client.get(PAGE)
    assert published.headers["etag"] != before and count_shown(client, block) == "1"
    assert client.get(PAGE, headers={"If-None-Match": before}).status_code == 200
    commenting.moderate(db, nanchong(db), [comment["id"]], False, "test")
    hidden = client.get(PAGE)
    assert hidden.headers["etag"] != published.headers["etag"] and count_shown(client, block) == ""
    assert hidden.headers["etag"] == before  # the same page as before it was published: the same tag


def test_the_shared_page_sets_no_cookie_and_carries_no_visitors_tokens(client, db, settings):
    block = paragraph(db)
    code = send_comment(client, block)  # this visitor has a session and a receipt
    sid = client.cookies["sid"]
    stranger = TestClient(client.app)
    response = stranger.get(PAGE)
    assert "set-cookie" not in response.headers and "public" in response.headers["cache-control"]
    page = parse_html(response.text)
    assert not page.xpath("//input[@name='csrf' or @name='form_token']")
    assert sid not in response.text and code not in response.text
    assert client.app.state.signer.csrf_token(sid) not in response.text
    assert not page.xpath("//*[contains(@class,'receipt-box')]")


def test_the_receipt_view_puts_the_box_in_the_paragraphs_slot_for_that_answer_only(client, db):
    block = paragraph(db)
    code = send_comment(client, block)
    mine = client.get(f"{PAGE}?receipt={code}")
    assert "public" not in mine.headers["cache-control"] and "etag" not in mine.headers
    slot = parse_html(mine.text).xpath(f"//div[@id='thread-{block['id']}']")[0]
    assert slot.xpath("string(.//code[@class='receipt-code'])") == f"{code[:5]}-{code[5:]}"
    assert not parse_html(client.get(PAGE).text).xpath("//*[contains(@class,'receipt-box')]")
    # the rest of the page is the shared page
    assert len(mine.text) > len(client.get(PAGE).text)


def test_with_javascript_off_the_page_leads_to_a_form_that_works(client, db):
    """The page itself has no form, so a visitor gets the session from the block page."""
    block = paragraph(db)
    fresh = TestClient(client.app)
    fresh.get(PAGE)
    assert "sid" not in fresh.cookies
    code = send_comment(fresh, block, body="没有脚本也能提交。")
    assert comment_store.by_receipt(db, code)["body"] == "没有脚本也能提交。"


def test_counts_stay_right_after_publish_hide_ledger_and_bulk_insert(client, db):
    c = nanchong(db)
    blocks = block_store.of_consultation(db, c["id"])
    statuses = ["published", "pending", "hidden", "published", "published"]
    rows = [{"consultation_id": c["id"], "block_id": (blocks[i % 7]["id"] if i % 5 else None), "block_rev": 0,
             "kind": "remark", "source": "public" if i % 4 else "department", "name": "", "contact": "",
             "body": f"意见{i}", "suggestion": "", "receipt": f"BULK{i:06d}", "form_token": f"bulk-{i}",
             "status": statuses[i % 5], "created_at": "2026-01-01T00:00:00Z"} for i in range(400)]
    bulk.insert_comments(db, rows, batch_size=150)
    assert count_store.published_counts(db, c["id"]) == count_store.counted_by_scan(db, c["id"])
    ids = [r["id"] for r in db.query("select id from comments where status = 'pending' and source = 'public' limit 30")]
    commenting.moderate(db, c, ids[:20], True, "test")
    commenting.moderate(db, c, [r["id"] for r in db.query(
        "select id from comments where status = 'published' limit 15")], False, "test")
    for table in ("comment_signatures", "comment_bands", "grouping_queue"):
        db.execute(f"delete from {table} where comment_id = ?", [ids[0]])
    db.execute("delete from comments where id = ?", [ids[0]])
    counts = count_store.published_counts(db, c["id"])
    assert counts == count_store.counted_by_scan(db, c["id"]) and sum(counts.values()) > 100
    page = parse_html(client.get(PAGE).text)
    shown = page.xpath(f"//a[@href='/c/nanchong-2022/b/{blocks[5]['id']}']")[0].xpath("string(.//span[@class='count'])")
    assert shown == str(counts.get(blocks[5]["id"], ""))
    draft = page.xpath("string(//section[@id='draft-remarks']//span[@class='count'])")
    assert draft == str(counts[None])


def test_a_disposition_leaves_the_full_text_index_alone_an_edit_reindexes(client, db):
    block = paragraph(db)
    comment = comment_store.by_receipt(db, send_comment(client, block, body="关于轨道交通的建议"))
    # Every trigger that writes the index on an update names the indexed columns, and only them.
    for (sql,) in db.execute("select sql from sqlite_master where type = 'trigger' and tbl_name = 'comments' "
                             "and sql like '%comments_fts%' and sql like '%after update%'"):
        head = sql.lower().split(" on ")[0]
        assert "update of" in head and "status" not in head and "disposition" not in head, sql
    db.execute("update comments set disposition = 'adopted', status = 'published' where id = ?", [comment["id"]])
    search = "select rowid from comments_fts where comments_fts match ?"
    assert [r[0] for r in db.execute(search, ["轨道交通"])] == [comment["id"]]
    db.execute("update comments set body = '关于地下管网的建议' where id = ?", [comment["id"]])
    assert [r[0] for r in db.execute(search, ["轨道交通"])] == []
    assert [r[0] for r in db.execute(search, ["地下管网"])] == [comment["id"]]


def test_the_migration_counts_comments_already_stored(tmp_path):
    db = connect(tmp_path / "old.db")
    migrations.apply(db, stop_before="m010_fts_and_counts")
    db.execute("insert into consultations (id, slug, title, opens_at, closes_at, created_at) values "
               "(1, 'old', 'old', '2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z', '2024-01-01T00:00:00Z')")
    for i, (source, status) in enumerate([("public", "published")] * 3 + [("public", "pending"),
                                                                         ("department", "published")]):
        db.execute("insert into comments (consultation_id, block_id, kind, source, body, receipt, form_token, "
                   "status, created_at) values (1, null, 'remark', ?, 'x', ?, ?, ?, '2024-01-02T00:00:00Z')",
                   [source, f"R{i}", f"t{i}", status])
    migrations.apply(db)
    assert count_store.published_counts(db, 1) == {None: 3}
    assert count_store.versions(db, 1) != (0, 0)
    db.close()


@pytest.mark.parametrize("query", ["?lang=en"])
def test_an_answer_that_sets_a_cookie_is_never_public(client, query):
    response = client.get(PAGE + query)
    assert "set-cookie" in response.headers and "public" not in response.headers["cache-control"]


def test_the_cached_page_is_the_page_rendered_directly_with_the_same_counts(client, db):
    """Counts are filled into a page rendered once (revise.templating.Skeleton): same bytes as a full render."""
    from starlette.requests import Request

    from revise.web import comments as comment_views
    from revise.web import public

    blocks = block_store.of_consultation(db, nanchong(db)["id"])
    codes = [send_comment(client, blocks[i * 7], body=f"意见{i}") for i in range(6)]
    ids = [comment_store.by_receipt(db, code)["id"] for code in codes]
    commenting.moderate(db, nanchong(db), ids[:5], True, "test")
    cached = client.get(PAGE, headers={"Accept-Encoding": "identity"}).content
    scope = {"type": "http", "app": client.app, "method": "GET", "path": PAGE, "root_path": "", "scheme": "http",
             "query_string": b"", "headers": [(b"host", b"testserver")], "server": ("testserver", 80),
             "router": client.app.router, "path_params": {"slug": "nanchong-2022"},
             "state": {"locale": "zh_CN", "session_id": None, "new_session_id": None}}
    direct = public._page(Request(scope), comment_views.Audience(nanchong(db)), None).body
    assert cached == direct
    assert len(parse_html(cached.decode()).xpath("//span[@class='count']")) >= 5
