"""Issue #12, versions: the text under consultation stays as published while editors revise."""

import re
from datetime import timedelta

import pytest
from conftest import parse_html
from test_editor import _comment, csrf_of, sign_in

from revise import revising, versions
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.timeutil import utc_now

EDITOR = {"id": None, "display_name": "张编辑"}
OLD, NEW = "2200多年", "2300多年"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def para(db, c):
    return next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))


def _revise(db, c, para, old=OLD, new=NEW):
    block = block_store.get(db, c["id"], para["id"])
    return revising.edit_block(db, c, para["id"], block["text"].replace(old, new), base_number=block["rev"],
                               author=EDITOR, reason="建城史核实")


def test_an_imported_draft_is_version_1_of_round_1_and_the_public_reads_it(db, c, para):
    version = versions.published_version(db, c["id"])
    assert (version["number"], version["label"]) == (1, "征求意见稿")
    shown = versions.version_blocks(db, version["id"])
    current = block_store.of_consultation(db, c["id"])
    assert [b["id"] for b in shown] == [b["id"] for b in current]
    assert set(shown[0]) >= set(current[0])  # the same keys as the blocks the editors see
    assert [r["number"] for r in versions.rounds(db, c)] == [1]


def test_a_revision_leaves_the_published_version_alone_until_publish_revised(db, c, para):
    _revise(db, c, para)
    version = versions.published_version(db, c["id"])
    frozen = next(b for b in versions.version_blocks(db, version["id"]) if b["id"] == para["id"])
    assert OLD in frozen["text"] and frozen["rev"] == 0
    assert NEW in block_store.get(db, c["id"], para["id"])["text"]
    assert versions.pending_changes(db, consultation_store.by_id(db, c["id"])) == 1

    vid = versions.publish_revised(db, c["id"], actor="管理员")
    published = versions.published_version(db, c["id"])
    assert published["id"] == vid and (published["number"], published["label"]) == (2, "修改稿")
    shown = next(b for b in versions.version_blocks(db, vid) if b["id"] == para["id"])
    assert NEW in shown["text"] and shown["rev"] == 1
    # Version 1 is kept as it was.
    assert OLD in next(b for b in versions.version_blocks(db, version["id"]) if b["id"] == para["id"])["text"]
    event = db.execute("select actor, action, after from audit where action = 'version.publish'").fetchone()
    assert event[0] == "管理员" and '"version": 2' in event[2]
    assert versions.pending_changes(db, consultation_store.by_id(db, c["id"])) == 0


def test_publish_revised_inside_a_callers_transaction_commits_with_it(db, c, para):
    from revise.store import writing

    _revise(db, c, para)
    with pytest.raises(RuntimeError), writing(db):
        versions.publish_revised(db, c["id"], actor={"display_name": "管理员"})
        raise RuntimeError("the caller's step failed")
    assert versions.published_version(db, c["id"])["number"] == 1


def test_a_deleted_and_an_inserted_block_stay_out_of_or_in_the_version_they_belong_to(db, c, para):
    revising.delete_block(db, c, para["id"], base_number=0, author=EDITOR, reason="并入上段")
    inserted = revising.insert_after(db, c, para["id"], "新增一段。", author=EDITOR)
    v1 = versions.published_version(db, c["id"])["id"]
    assert para["id"] in [b["id"] for b in versions.version_blocks(db, v1)]
    assert inserted["block_id"] not in [b["id"] for b in versions.version_blocks(db, v1)]
    v2 = versions.publish_revised(db, c["id"], actor="管理员")
    ids = [b["id"] for b in versions.version_blocks(db, v2)]
    assert para["id"] not in ids and inserted["block_id"] in ids
    assert para["id"] in [b["id"] for b in versions.version_blocks(db, v2, include_deleted=True)]


def docx_text(data: bytes) -> str:
    import io

    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_an_editor_accepting_a_change_in_the_window_leaves_every_public_view_on_the_published_text(
        client, db, c, para):
    from revise import departments

    comment = _comment(db, c, para, "建城史有误", kind="edit", suggestion=para["text"].replace(OLD, NEW))
    receipt = db.table("comments").get(comment["id"])["receipt"]
    _, token = departments.add(db, c, "市科技局", actor="管理员")
    client.get("/c/nanchong-2022")  # cached before the revision
    sign_in(client, db)
    base = f"/editor/c/nanchong-2022/b/{para['id']}"
    accepted = client.post(base + "/accept", data={"csrf": csrf_of(client, base), "base_number": "0",
                                                   "comment_id": str(comment["id"]), "adjust": "0", "text": ""},
                           follow_redirects=False)
    assert accepted.status_code == 303
    assert NEW in block_store.get(db, c["id"], para["id"])["text"]
    # The editors see the revised sentence: the workspace, the redline and the export.
    assert NEW in client.get(base).text
    redline = parse_html(client.get("/editor/c/nanchong-2022/redline").text)
    assert "3" in redline.xpath("string(//ins)")
    assert NEW in docx_text(client.get("/editor/c/nanchong-2022/export/plan.docx").content)
    # The public and the department read the published one, in the page, the thread and the receipt.
    client.cookies.clear()
    page = client.get("/c/nanchong-2022").text
    assert OLD in page and NEW not in page.split("原文")[0] and para["text"] in page
    assert para["text"] in client.get(f"/c/nanchong-2022/b/{para['id']}").text
    assert "原文已修改" not in client.get(f"/c/nanchong-2022/b/{para['id']}").text
    assert para["text"] in client.get(f"/d/{token}").text
    assert para["text"] in client.get(f"/d/{token}/b/{para['id']}").text
    receipt_page = client.get(f"/r/{receipt}").text
    about = parse_html(receipt_page).xpath("string(//dl[@class='receipt']/dd[3])")
    assert OLD in about and NEW not in about
    with_receipt = client.get(f"/c/nanchong-2022?receipt={receipt}").text
    assert para["text"] in with_receipt


def test_a_comment_written_during_the_window_is_tied_to_the_published_version(client, db, c, para):
    _revise(db, c, para)  # the editors' text is now revision 1
    client.get(f"/c/nanchong-2022/b/{para['id']}")
    page = parse_html(client.get(f"/c/nanchong-2022/b/{para['id']}").text)
    csrf = page.xpath("string(//input[@name='csrf']/@value)")
    token = page.xpath("string(//input[@name='form_token']/@value)")
    quote = "2200多年的建城史"
    sent = client.post(f"/c/nanchong-2022/b/{para['id']}/comments", data={
        "csrf": csrf, "form_token": token, "kind": "remark", "body": "请核实建城史", "name": "王", "contact": "",
        "quote": quote, "quote_start": str(para["text"].index(quote)), "suggestion": ""}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    row = db.execute("select block_rev, round_id, version_id, anchor_rev from comments order by id desc limit 1").fetchone()
    c_now = consultation_store.by_id(db, c["id"])
    assert row[0] == 0 and row[1] == c_now["round_id"] and row[2] == c_now["version_id"]
    # The editor sees where the quoted words are now, in the revised text.
    comment = db.execute("select * from comments order by id desc limit 1").fetchone()
    assert comment is not None
    block = block_store.get(db, c["id"], para["id"])
    rows = [dict(zip([d[0] for d in db.execute("select * from comments limit 0").description], comment))]
    from revise import anchoring

    anchoring.annotate(rows, block, lambda n: revising.text_at_revision(db, block, n))
    assert rows[0]["anchor"] and rows[0]["anchor"]["text"] == "2300多年的建城史"
    # The stored anchor was placed in the editors' text in the comment's own transaction.
    stored = db.execute("select anchor_state, anchor_rev, anchor_start from comments order by id desc limit 1").fetchone()
    assert stored[0] == "moved" and stored[1] == 1 and block["text"][stored[2]:].startswith("2300多年")


def test_a_quote_of_words_the_editors_already_rewrote_is_listed_as_orphaned(client, db, c, para):
    from revise import commenting
    from revise.security import Signer

    _revise(db, c, para, "建国初曾为省级行政机构川北行署驻地", "中华人民共和国成立之初是川北人民行政公署所在地")
    quote = "省级行政机构川北行署驻地"
    shown = versions.public_block(db, consultation_store.by_id(db, c["id"]), para["id"])
    values = {"kind": "remark", "body": "应写全称。", "suggestion": "", "quote": quote,
              "quote_start": shown["text"].index(quote), "name": "", "contact": ""}
    comment, _ = commenting.submit(db, consultation_store.by_id(db, c["id"]), shown, values,
                                   form_token=Signer(b"t").form_token())
    commenting.moderate(db, c, [comment["id"]], True, "审核员")
    row = db.table("comments").get(comment["id"])
    assert (row["block_rev"], row["anchor_state"], row["anchor_start"]) == (0, "orphaned", None)
    sign_in(client, db)
    assert "应写全称。" in client.get("/editor/c/nanchong-2022/orphans").text
    # The public, reading the text it was written on, sees the quoted words in place.
    client.cookies.clear()
    thread = parse_html(client.get(f"/c/nanchong-2022/b/{para['id']}").text)
    (article,) = thread.xpath("//article[contains(@class,'comment')]")
    assert article.get("data-anchor-text") == quote and not article.xpath(".//p[@class='orphaned']")


def test_the_public_page_cache_is_not_rebuilt_by_a_revision(client, db, c, para):
    from revise.store import counts as count_store

    before = count_store.versions(db, c["id"])
    first = client.get("/c/nanchong-2022")
    _revise(db, c, para)
    assert count_store.versions(db, c["id"]) == before
    again = client.get("/c/nanchong-2022", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    versions.publish_revised(db, c["id"], actor="管理员")
    after = client.get("/c/nanchong-2022", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and para["text"].replace(OLD, NEW) in after.text


def test_a_migrated_database_freezes_the_imported_text_as_round_1(tmp_path):
    """A database from before versions: version 1 is revision 0 of each block, its comments round 1."""
    from sqlite_utils import Database

    from revise.store import connect
    from revise.store.schema import migrations

    path = tmp_path / "old.db"
    db = connect(path)
    names = [m.name for m in migrations._migrations]
    keep = names[:names.index("m014_versions_and_rounds")]
    old = type(migrations)("revise")
    old._migrations = [m for m in migrations._migrations if m.name in keep]
    old.apply(db)
    now = utc_now()
    db.execute("insert into consultations (slug, title, opens_at, closes_at, created_at) values "
               "('x', 'X', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z')")
    db.execute("insert into blocks (consultation_id, position, kind, text, original_text, rev) "
               "values (1, 1024, 'paragraph', '改后', '原文', 1)")
    db.execute("insert into comments (consultation_id, block_id, block_rev, kind, source, body, receipt, status, "
               "created_at) values (1, 1, 0, 'remark', 'public', '意见', 'R1', 'published', ?)", [str(now)])
    migrations.apply(db)
    c = consultation_store.by_id(db, 1)
    shown = versions.public_blocks(db, c)
    assert [b["text"] for b in shown] == ["原文"]
    assert db.execute("select round_id, version_id from comments").fetchone() == (c["round_id"], c["version_id"])
    assert db.execute("select round_id, block_id, n from round_counts").fetchall() == [(c["round_id"], 1, 1)]
    assert isinstance(db, Database) and re.match(r"\d{4}-", versions.rounds(db, c)[0]["opens_at"])


def test_the_round_counts_kept_by_triggers_match_a_count_of_the_comments(db, c, para):
    from revise import commenting
    from revise.store import versions as version_store

    made = [_comment(db, c, para if i % 3 else None, f"意见{i}") for i in range(7)]
    commenting.moderate(db, c, [m["id"] for m in made[:5]], True, "审核员")
    commenting.moderate(db, c, [made[1]["id"]], False, "审核员")
    db.execute("update comments set block_id = null where id = ?", [made[2]["id"]])
    c = consultation_store.by_id(db, c["id"])
    scanned = {}
    for block_id, n in db.execute("select block_id, count(*) from comments where round_id = ? and source = 'public' "
                                  "and status = 'published' group by block_id", [c["round_id"]]):
        scanned[block_id] = n
    assert version_store.round_counts(db, c["round_id"]) == scanned and sum(scanned.values()) == 4
