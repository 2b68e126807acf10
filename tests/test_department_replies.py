"""A department's reply (issue #12): it names its 经办人 and 联系电话 (editors and their report see
them, the public never); the department reads, corrects and withdraws its own comments until the
window closes; 无修改意见 after comments is refused, or withdraws them once confirmed; its page and
the roster always agree."""

import json
from datetime import timedelta

import pytest
from conftest import parse_html
from test_editor import sign_in
from test_masking import text_of

from revise import departments, report
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.timeutil import to_text, utc_now

OFFICER, PHONE = "王晓红", "0817-2801234"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def link(client, db, c):
    """The private link of 市发展改革委."""
    return "/d/" + departments.add(db, c, "市发展改革委", "test")[1]


@pytest.fixture
def block(db, c):
    return next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("坚持创新驱动"))


def form_of(client, path, css="comment-form"):
    page = parse_html(client.get(path).text)
    form = page.xpath(f"//form[contains(@class,'{css}')]")[0]
    return form.get("action"), {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}


def send(client, link, block, body="建议补充产业数据。", **extra):
    action, hidden = form_of(client, f"{link}/b/{block['id']}")
    data = {**hidden, "kind": "remark", "body": body, "action": "submit", "officer_name": OFFICER,
            "officer_phone": PHONE, **extra}
    return client.post(action, data=data, follow_redirects=False)


def panel(client, link):
    return parse_html(client.get(link).text).xpath("//section[@class='department-panel']")[0]


def roster_status(db, c, name="市发展改革委"):
    return next(r for r in departments.status(db, c) if r["name"] == name)["status"]


# --- 经办人 and 联系电话 ----------------------------------------------------------------------

def test_a_department_reply_carries_its_officer_and_phone_which_editors_see(client, db, c, link, block):
    assert send(client, link, block).status_code == 303
    stored = next(db.query("select * from comments"))
    assert (stored["officer_name"], stored["officer_phone"], stored["contact"]) == (OFFICER, PHONE, "")
    sign_in(client, db)
    page = client.get(f"/editor/c/nanchong-2022/comments/{stored['id']}").text
    assert OFFICER in page and PHONE in page  # masked nowhere for editors
    row = next(r for r in report.build_report(db, c).rows if stored["id"] in r.comment_ids)
    assert row.sender == f"市发展改革委\n经办人:{OFFICER},联系电话:{PHONE}"


@pytest.mark.parametrize("fields, field, message", [
    ({"officer_name": ""}, "officer_name", "请填写本次反馈的经办人"),
    ({"officer_phone": ""}, "officer_phone", "请填写经办人的联系电话"),
    ({"officer_phone": "找我"}, "officer_phone", "请输入电话号码"),
])
def test_the_officer_and_a_real_phone_are_required_and_nothing_is_stored_without(client, db, link, block, fields, field,
                                                                               message):
    response = send(client, link, block, **fields)
    assert response.status_code == 422
    page = parse_html(response.text)
    assert message in page.xpath(f"string(//p[@id='{'officer' if field == 'officer_name' else 'officer-phone'}-{block['id']}-e'])")
    assert db.execute("select count(*) from comments").fetchone()[0] == 0


def test_the_public_never_sees_the_officer_or_the_phone(client, db, c, link, block):
    send(client, link, block)
    comment = next(db.query("select * from comments"))
    db.execute("update comments set status = 'published' where id = ?", [comment["id"]])
    pages = [client.get(p).text for p in ("/c/nanchong-2022", f"/c/nanchong-2022/b/{block['id']}",
                                          f"/r/{comment['receipt']}", "/c/nanchong-2022/notice")]
    public_report = report.build_report(db, c, public_only=True)
    files = [text_of(n, d) for n, d in (("r.docx", report.report_docx(public_report)),
                                         ("r.xlsx", report.report_xlsx(public_report)),
                                         ("r.csv", report.report_csv(public_report)))]
    for text in pages + files:
        assert OFFICER not in text and PHONE not in text and "2801234" not in text


# --- read, correct, withdraw ---------------------------------------------------------------

def own_link(client, link):
    return panel(client, link).xpath("string(.//a[@class='own-link']/@href)")


def test_a_department_corrects_its_comment_until_the_window_closes_audited(client, db, c, link, block):
    send(client, link, block)
    mine = own_link(client, link)
    action, hidden = form_of(client, mine, "own-correct")
    response = client.post(action, data={**hidden, "kind": "remark", "body": "建议补充2023年产业数据。",
                                         "officer_name": "李强", "officer_phone": "13800138000"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("?saved=1")
    stored = next(db.query("select * from comments"))
    assert (stored["body"], stored["officer_name"], stored["officer_phone"]) == ("建议补充2023年产业数据。", "李强", "13800138000")
    [event] = db.query("select * from audit where action = 'comment.correct'")
    assert json.loads(event["before"])["body"] == "建议补充产业数据。"
    assert json.loads(event["after"])["body"] == "建议补充2023年产业数据。"
    # a bad correction is refused with the message, and the comment keeps its text
    response = client.post(action, data={**hidden, "kind": "remark", "body": "", "officer_name": "李强",
                                         "officer_phone": "13800138000"})
    assert response.status_code == 422 and "请填写意见" in response.text
    # after the window closes: read only
    db.execute("update consultations set closes_at = ? where id = ?", [to_text(utc_now() - timedelta(minutes=1)), c["id"]])
    page = parse_html(client.get(mine).text)
    assert not page.xpath("//form[contains(@class,'own-correct')]")
    assert "已结束" in page.xpath("string(//p[contains(@class,'notice-box')])")
    assert client.post(action, data={**hidden, "kind": "remark", "body": "晚了", "officer_name": "李强",
                                     "officer_phone": "13800138000"}).status_code == 403
    assert next(db.query("select body from comments"))["body"] == "建议补充2023年产业数据。"


def test_a_department_withdraws_its_comment_after_confirming_and_the_roster_follows(client, db, c, link, block):
    send(client, link, block)
    assert roster_status(db, c) == "replied"
    mine = own_link(client, link)
    page = parse_html(client.get(mine).text)
    form = page.xpath("//form[@class='own-withdraw']")[0]
    csrf = form.xpath("string(.//input[@name='csrf']/@value)")
    assert client.post(form.get("action"), data={"csrf": csrf}).status_code == 422  # not confirmed
    assert db.execute("select count(*) from comments").fetchone()[0] == 1
    response = client.post(form.get("action"), data={"csrf": csrf, "confirm": "1"}, follow_redirects=False)
    assert response.status_code == 303
    assert db.execute("select count(*) from comments").fetchone()[0] == 0
    [event] = db.query("select * from audit where action = 'comment.withdraw'")
    assert json.loads(event["before"])["body"] == "建议补充产业数据。"
    assert roster_status(db, c) == "not_replied"
    assert "尚未反馈" in panel(client, link).xpath("string(.//p[contains(@class,'reply-state')])")
    assert client.get(mine).status_code == 404


def test_a_comment_the_office_has_decided_can_no_longer_be_withdrawn(client, db, c, link, block):
    from revise import triage

    send(client, link, block)
    comment = next(db.query("select * from comments"))
    triage.decide(db, c, [comment["id"]], "rejected", "不予采纳。", "张编辑")
    page = parse_html(client.get(own_link(client, link)).text)
    assert not page.xpath("//form[@class='own-withdraw']")
    assert "已对这条意见作出处理" in page.xpath("string(//p[contains(@class,'notice-box')])")


def test_another_departments_comment_is_not_reachable(client, db, c, link, block):
    send(client, link, block)
    other = "/d/" + departments.add(db, c, "市财政局", "test")[1]
    comment_id = next(db.query("select id from comments"))["id"]
    assert client.get(f"{other}/mine/{comment_id}").status_code == 404


# --- 无修改意见 after comments ----------------------------------------------------------------

def no_changes_form(client, link):
    form = panel(client, link).xpath(".//form[@class='no-changes']")[0]
    return form.get("action"), form.xpath("string(.//input[@name='csrf']/@value)")


def test_no_changes_after_comments_is_refused_with_the_reason_and_both_views_still_agree(client, db, c, link, block):
    send(client, link, block)
    send(client, link, block, body="第二条意见。")
    action, csrf = no_changes_form(client, link)
    response = client.post(action, data={"csrf": csrf})
    assert response.status_code == 409
    assert "已提交意见" in response.text
    assert roster_status(db, c) == "replied"
    state = panel(client, link).xpath("string(.//p[contains(@class,'reply-state')])")
    assert "已反馈意见" in state and "2" in state
    assert db.execute("select count(*) from comments").fetchone()[0] == 2


def test_no_changes_with_the_confirmation_withdraws_the_comments_in_one_step(client, db, c, link, block):
    send(client, link, block)
    send(client, link, block, body="第二条意见。")
    action, csrf = no_changes_form(client, link)
    response = client.post(action, data={"csrf": csrf, "withdraw": "1"}, follow_redirects=False)
    assert response.status_code == 303
    assert db.execute("select count(*) from comments").fetchone()[0] == 0
    assert len(list(db.query("select * from audit where action = 'comment.withdraw'"))) == 2
    assert roster_status(db, c) == "no_changes"
    assert "无修改意见" in panel(client, link).xpath("string(.//p[contains(@class,'reply-state')])")
    assert report.build_report(db, c).no_change_departments == ["市发展改革委"]


def test_the_page_and_the_roster_agree_in_every_state(client, db, c, link, block):
    sign_in(client, db)

    def both():
        state = panel(client, link).xpath("string(.//p[contains(@class,'reply-state')])").strip()
        roster = parse_html(client.get("/editor/c/nanchong-2022").text)
        row = roster.xpath("//table[@class='roster']//tr[td[1]='市发展改革委']/td[2]")[0].text_content().strip()
        return state, row

    state, row = both()
    assert "尚未反馈" in state and row == "未反馈"
    send(client, link, block)
    state, row = both()
    assert "已反馈意见" in state and row == "已反馈意见"
    action, csrf = no_changes_form(client, link)
    client.post(action, data={"csrf": csrf, "withdraw": "1"})
    state, row = both()
    assert "无修改意见" in state and row == "已反馈:无修改意见"


def test_comments_sent_after_no_changes_make_it_a_reply_with_comments_until_withdrawn(client, db, c, link, block):
    action, csrf = no_changes_form(client, link)
    client.post(action, data={"csrf": csrf})
    assert roster_status(db, c) == "no_changes"
    send(client, link, block)  # the department changed its mind
    assert roster_status(db, c) == "replied"
    assert "已反馈意见" in panel(client, link).xpath("string(.//p[contains(@class,'reply-state')])")
    action, csrf = no_changes_form(client, link)
    client.post(action, data={"csrf": csrf, "withdraw": "1"})
    assert db.execute("select count(*) from comments").fetchone()[0] == 0
    assert roster_status(db, c) == "no_changes"
