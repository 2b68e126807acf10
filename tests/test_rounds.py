"""Issue #12, rounds: a second round (第二次征求意见) on the revised text, earlier rounds kept with their version."""

import io
from datetime import timedelta

import pytest
from conftest import parse_html
from docx import Document
from test_editor import _comment, csrf_of, sign_in

from revise import commenting, departments, revising, versions
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.timeutil import to_text, utc_now

EDITOR = {"id": None, "display_name": "张编辑"}
OLD, NEW = "2200多年", "2300多年"
SLUG = "nanchong-2022"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, SLUG)


@pytest.fixture
def para(db, c):
    return next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))


def _close_window(db, c):
    now = utc_now()
    consultation_store.set_window(db, c["id"], to_text(now - timedelta(days=10)), to_text(now - timedelta(days=1)))


def _round_two(db, c, para, department_ids=None):
    """Round 1 gets a published comment; the editors revise; the window closes; round 2 opens."""
    first = _comment(db, c, para, "第一轮:建城史有误", kind="edit", suggestion=para["text"].replace(OLD, NEW))
    commenting.moderate(db, c, [first["id"]], True, "审核员")
    revising.edit_block(db, c, para["id"], para["text"].replace(OLD, NEW), base_number=0, author=EDITOR)
    _close_window(db, c)
    now = utc_now()
    versions.open_round(db, c["id"], opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(days=7),
                        actor="管理员", department_ids=department_ids, notice="第二次征求意见的通知。")
    return first


def test_opening_round_2_makes_the_public_read_the_revised_text_and_keeps_round_1_comments_under_round_1(
        client, db, c, para):
    first = _round_two(db, c, para)
    c2 = consultation_store.by_id(db, c["id"])
    assert c2["notice"] == "第二次征求意见的通知。"
    page = client.get(f"/c/{SLUG}").text
    assert para["text"].replace(OLD, NEW) in page and "第二次征求意见" in page
    # The block thread of round 2 does not list round 1's comment; the history of rounds does.
    assert "第一轮:建城史有误" not in client.get(f"/c/{SLUG}/b/{para['id']}").text
    history = parse_html(client.get(f"/c/{SLUG}/rounds").text)
    assert [li.xpath("string(a)") for li in history.xpath("//ol[@class='rounds']/li")] == ["第一次征求意见", "第二次征求意见"]
    round1 = client.get(f"/c/{SLUG}/rounds/1").text
    assert "第一轮:建城史有误" in round1 and para["text"] in round1
    assert "第一轮:建城史有误" not in client.get(f"/c/{SLUG}/rounds/2").text
    assert client.get(f"/c/{SLUG}/rounds/3").status_code == 404
    # A comment now belongs to round 2, written on the revised text.
    second = _comment(db, c2, versions.public_block(db, c2, para["id"]), "第二轮:同意修改")
    row = db.table("comments").get(second["id"])
    assert row["round_id"] == c2["round_id"] != db.table("comments").get(first["id"])["round_id"]
    assert row["block_rev"] == 1 and row["version_id"] == c2["version_id"]
    # Round 1 keeps the window it ended with.
    r1, r2 = versions.rounds(db, c2)
    assert r1["closes_at"] < r2["opens_at"] and not r1["current"] and r2["current"]


def test_a_round_cannot_open_while_the_current_one_is_open_or_with_a_bad_window(db, c):
    now = utc_now()
    with pytest.raises(versions.VersionError, match="still open"):
        versions.open_round(db, c["id"], opens_at=now, closes_at=now + timedelta(days=7), actor="管理员")
    consultation_store.set_window(db, c["id"], to_text(now + timedelta(days=1)), to_text(now + timedelta(days=8)))
    with pytest.raises(versions.VersionError, match="not opened yet"):
        versions.open_round(db, c["id"], opens_at=now, closes_at=now + timedelta(days=7), actor="管理员")
    _close_window(db, c)
    with pytest.raises(versions.VersionError, match="close after it opens"):
        versions.open_round(db, c["id"], opens_at=now, closes_at=now - timedelta(days=1), actor="管理员")
    assert len(versions.rounds(db, consultation_store.by_id(db, c["id"]))) == 1


def test_the_queue_and_the_report_filter_by_round_and_say_which_round(client, db, c, para):
    _round_two(db, c, para)
    c2 = consultation_store.by_id(db, c["id"])
    _comment(db, c2, versions.public_block(db, c2, para["id"]), "第二轮:同意修改")
    sign_in(client, db)
    queue = f"/editor/c/{SLUG}/comments"
    current = client.get(queue).text
    assert "第二轮:同意修改" in current and "第一轮:建城史有误" not in current
    page = parse_html(current)
    assert page.xpath("string(//select[@name='round']/option[@selected])").startswith("第二次征求意见")
    earlier = client.get(queue + "?round=1").text
    assert "第一轮:建城史有误" in earlier and "第二轮:同意修改" not in earlier
    every = client.get(queue + "?round=all").text
    assert "第一轮:建城史有误" in every and "第二轮:同意修改" in every
    tags = parse_html(every).xpath("//ol[@id='queue-list']//span[@class='round']/text()")
    assert sorted(set(tags)) == ["第一次征求意见", "第二次征求意见"]

    def report(query=""):
        data = client.get(f"/editor/c/{SLUG}/export/report.docx{query}").content
        document = Document(io.BytesIO(data))
        text = "\n".join(p.text for p in document.paragraphs)
        return text + "\n".join(cell.text for t in document.tables for row in t.rows for cell in row.cells)

    now = report()
    assert "第二次征求意见" in now and "第二轮:同意修改" in now and "第一轮:建城史有误" not in now
    before = report("?round=1")
    assert "第一次征求意见" in before and "第一轮:建城史有误" in before and "第二轮:同意修改" not in before
    rows = client.get(f"/editor/c/{SLUG}/export/report.csv?round=1").content.decode("utf-8-sig")
    assert "第一轮:建城史有误" in rows and "第二轮:同意修改" not in rows


def test_a_department_left_off_round_2s_roster_cannot_reply_in_it(client, db, c, para):
    kept, kept_token = departments.add(db, c, "市发展改革委", "管理员")
    left, left_token = departments.add(db, c, "市交通运输局", "管理员")
    commenting.file_no_comment(db, c, db.table("departments").get(kept))
    _round_two(db, c, para, department_ids=[kept])
    c2 = consultation_store.by_id(db, c["id"])
    # 无修改意见 of round 1 stays with round 1; round 2 starts with no reply.
    assert db.table("departments").get(kept)["no_comment_at"] is None
    r1 = versions.rounds(db, c2)[0]
    from revise.store import versions as version_store

    assert [d["name"] for d in version_store.roster(db, r1["id"], c["id"]) if d["no_comment_at"]] == ["市发展改革委"]
    assert [d["name"] for d in version_store.roster(db, c2["round_id"], c["id"])] == ["市发展改革委"]
    page = parse_html(client.get(f"/d/{left_token}/b/{para['id']}").text)
    sent = client.post(f"/d/{left_token}/b/{para['id']}/comments", data={
        "csrf": page.xpath("string(//input[@name='csrf']/@value)"),
        "form_token": page.xpath("string(//input[@name='form_token']/@value)"),
        "kind": "remark", "body": "本局意见", "suggestion": "", "quote": "", "quote_start": "",
        "officer_name": "李明", "officer_phone": "0817-2223280"})
    assert sent.status_code == 403 and "名单" in sent.text
    assert db.execute("select count(*) from comments where department_id = ?", [left]).fetchone()[0] == 0
    page = parse_html(client.get(f"/d/{kept_token}/b/{para['id']}").text)
    sent = client.post(f"/d/{kept_token}/b/{para['id']}/comments", data={
        "csrf": page.xpath("string(//input[@name='csrf']/@value)"),
        "form_token": page.xpath("string(//input[@name='form_token']/@value)"),
        "kind": "remark", "body": "本委意见", "suggestion": "", "quote": "", "quote_start": "",
        "officer_name": "李明", "officer_phone": "0817-2223280"},
        follow_redirects=False)
    assert sent.status_code == 303


def test_an_administrator_opens_round_2_and_publishes_a_version_through_the_pages(client, db, c, para):
    revising.edit_block(db, c, para["id"], para["text"].replace(OLD, NEW), base_number=0, author=EDITOR)
    sign_in(client, db, "wang", "editor", "王编辑")
    rounds_page = f"/editor/c/{SLUG}/rounds"
    page = parse_html(client.get(rounds_page).text)
    assert "1" in page.xpath("string(//p[@class='pending-changes'])")
    assert not page.xpath("//form[contains(@action,'/rounds')]")  # an editor sees no admin form
    refused = client.post(f"/editor/c/{SLUG}/versions", data={"csrf": csrf_of(client, rounds_page)})
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, db, "admin", "admin", "管理员")
    csrf = csrf_of(client, rounds_page)
    still_open = client.post(rounds_page, data={"csrf": csrf, "opens": "2030-01-01 09:00", "closes": "2030-01-15 17:00"})
    assert still_open.status_code == 422 and "仍在征求意见" in parse_html(still_open.text).xpath("string(//p[@class='error'])")
    bad = client.post(rounds_page, data={"csrf": csrf, "opens": "明天", "closes": ""})
    assert bad.status_code == 422
    during = client.post(f"/editor/c/{SLUG}/versions", data={"csrf": csrf, "label": "修改稿"})
    assert during.status_code == 422 and OLD in client.get(f"/c/{SLUG}").text  # not while the round is open
    _close_window(db, c)
    published = client.post(f"/editor/c/{SLUG}/versions", data={"csrf": csrf, "label": "修改稿"},
                            follow_redirects=False)
    assert published.status_code == 303
    assert para["text"].replace(OLD, NEW) in client.get(f"/c/{SLUG}").text
    nothing = client.post(f"/editor/c/{SLUG}/versions", data={"csrf": csrf, "label": "修改稿"})
    assert nothing.status_code == 422
    opened = client.post(rounds_page, data={"csrf": csrf, "opens": "2020-01-01 09:00", "closes": "2099-01-15 17:00",
                                            "notice": ""}, follow_redirects=False)
    assert opened.status_code == 303
    c2 = consultation_store.by_id(db, c["id"])
    assert c2["closes_at"] == "2099-01-15T09:00:00Z" and c2["notice"] == c["notice"]
    actions = [r[0] for r in db.execute("select action from audit where action in ('version.publish', 'round.open')")]
    assert actions == ["version.publish", "round.open"]
    assert "第二次征求意见" in client.get(rounds_page).text


def test_in_a_browser_the_public_reads_the_published_sentence_until_round_2_opens(live_server, chromium):
    from revise.settings import Settings
    from revise.store import connect

    page = chromium.new_page(locale="zh-CN")
    page.goto(live_server.url + f"/c/{SLUG}")
    db = connect(Settings(data_dir=live_server.data_dir).db_path)
    try:
        c = consultation_store.by_slug(db, SLUG)
        para = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))
        revising.edit_block(db, c, para["id"], para["text"].replace(OLD, NEW), base_number=0, author=EDITOR)
        page.reload()
        shown = page.locator(f"#b-{para['id']} .text")
        assert OLD in shown.inner_text() and NEW not in shown.inner_text()
        _close_window(db, c)
        now = utc_now()
        versions.open_round(db, c["id"], opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(days=7),
                            actor="管理员")
    finally:
        db.close()
    page.reload()
    assert NEW in page.locator(f"#b-{para['id']} .text").inner_text()
    page.get_by_role("link", name="往轮征求意见及其意见").click()
    assert page.locator("ol.rounds li").all_inner_texts()[0].startswith("第一次征求意见")
    page.close()
