"""Bulk actions of the queue without surprises (issue #13): the exact number of comments — group
members included — is stated before anything changes, and "已处理 N 条" afterwards is that number;
"select all matching this filter" covers every page; the bar stays in view while scrolling."""

import random
import re

import pytest
from conftest import OUTPUT, LiveServer, parse_html
from test_editor import _comment, bulk, csrf_of, sign_in
from test_grouping import unrelated

from revise import accounts, commenting
from revise.store import blocks as block_store
from revise.store import connect
from revise.store import consultations as consultation_store

QUEUE = "/editor/c/nanchong-2022/comments"
LETTER = "强烈建议在滨江路增设非机动车道,方便市民绿色出行,保障骑行安全,并在沿江路段设置休息驿站。"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def para(db, c):
    return next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))


def confirm_page(response):
    """The confirmation page's sentence and the hidden fields its button sends."""
    assert response.status_code in (200, 409), response.status_code
    page = parse_html(response.text)
    (form,) = page.xpath("//form[@class='bulk-confirm-form']")
    fields: dict = {}
    for field in form.xpath(".//input[@type='hidden']"):
        fields.setdefault(field.get("name"), []).append(field.get("value") or "")
    return " ".join(page.xpath("string(//p[@class='bulk-count'])").split()), page, fields


def dispositions(db, ids):
    return {r["id"]: r["disposition"] for r in db.query(
        f"select id, disposition from comments where id in ({','.join('?' for _ in ids)})", ids)}


def test_a_ticked_group_states_its_members_before_and_the_same_number_after(client, db, c, para):
    letters = [_comment(db, c, para, LETTER) for _ in range(5)]
    other = _comment(db, c, para, "建议补充机场航线发展目标。")
    (group,) = {db.table("comments").get(l["id"])["group_id"] for l in letters}
    assert group and db.table("comments").get(other["id"])["group_id"] != group
    sign_in(client, db)
    csrf = csrf_of(client, QUEUE)
    group_row = f"g:{group}"
    assert group_row in parse_html(client.get(QUEUE).text).xpath("//input[@name='ids']/@value")
    response = client.post(QUEUE, data={"csrf": csrf, "ids": [group_row, str(other["id"])], "action": "decide",
                                        "disposition": "rejected", "reason": "已在规划中明确。"}, follow_redirects=False)
    sentence, page, fields = confirm_page(response)
    assert sentence == "将处理 6 条意见(其中 4 条为所选意见的同组意见)"
    assert "办理意见改为“不予采纳”" in page.text_content() and "理由:已在规划中明确。" in page.text_content()
    assert set(dispositions(db, [l["id"] for l in letters] + [other["id"]]).values()) == {"pending"}  # nothing yet
    assert page.xpath("string(//form[@class='bulk-confirm-form']//button)").strip() == "确认处理 6 条意见"
    done = client.post(QUEUE, data=fields, follow_redirects=False)
    assert done.status_code == 303 and "done=decide%3A6" in done.headers["location"]
    assert set(dispositions(db, [l["id"] for l in letters] + [other["id"]]).values()) == {"rejected"}
    flash = parse_html(client.get(done.headers["location"]).text).xpath("//p[@class='flash-ok']")
    assert flash and flash[0].get("role") == "status" and flash[0].text_content().strip() == "已处理 6 条意见。"


def test_select_all_matching_the_filter_covers_every_page_and_only_the_filter(client, db, c, para):
    rng = random.Random(3)
    on_para = [_comment(db, c, para, unrelated(i) + str(rng.random())) for i in range(57)]
    whole = _comment(db, c, None, "整体上目标偏高,建议分年度细化。")
    sign_in(client, db)
    first = parse_html(client.get(f"{QUEUE}?block={para['id']}").text)
    assert len(first.xpath("//ol[@class='queue-list']/li")) == 50
    (box,) = first.xpath("//input[@name='scope'][@value='filter']")
    assert "57" in box.getparent().text_content()
    query = first.xpath("string(//form[@class='queue']//input[@name='query']/@value)")
    response = client.post(QUEUE, data={"csrf": csrf_of(client, QUEUE), "query": query, "scope": "filter",
                                        "action": "decide", "disposition": "reflected", "reason": ""},
                           follow_redirects=False)
    sentence, page, fields = confirm_page(response)
    assert sentence == "将处理 57 条意见"
    assert "符合当前筛选条件的全部意见(所有页)" in page.text_content()
    done = client.post(QUEUE, data=fields, follow_redirects=False)
    assert "done=decide%3A57" in done.headers["location"]
    assert set(dispositions(db, [m["id"] for m in on_para]).values()) == {"reflected"}
    assert dispositions(db, [whole["id"]])[whole["id"]] == "pending"


def test_a_number_that_moved_meanwhile_is_stated_again_before_anything_changes(client, db, c, para):
    made = [_comment(db, c, para, unrelated(i)) for i in range(3)]
    sign_in(client, db)
    page = parse_html(client.get(f"{QUEUE}?block={para['id']}").text)
    query = page.xpath("string(//form[@class='queue']//input[@name='query']/@value)")
    response = client.post(QUEUE, data={"csrf": csrf_of(client, QUEUE), "query": query, "page_all": "1",
                                        "action": "decide", "disposition": "adopted", "reason": ""},
                           follow_redirects=False)
    sentence, _, fields = confirm_page(response)
    assert sentence == "将处理 3 条意见"
    late = _comment(db, c, para, unrelated(99))  # arrives while the editor reads the number
    again = client.post(QUEUE, data=fields, follow_redirects=False)
    sentence, page, fields = confirm_page(again)
    assert again.status_code == 409 and sentence == "将处理 4 条意见"
    alert = page.xpath("//div[@class='error-summary']")[0]
    assert alert.get("role") == "alert" and "数量有变" in alert.text_content()
    assert set(dispositions(db, [m["id"] for m in made] + [late["id"]]).values()) == {"pending"}
    done = client.post(QUEUE, data=fields, follow_redirects=False)
    assert "done=decide%3A4" in done.headers["location"]


def test_moderation_states_only_the_comments_it_changes(client, db, c, para):
    made = [_comment(db, c, para, unrelated(i)) for i in range(3)]
    commenting.moderate(db, c, [made[0]["id"]], True, "test")
    sign_in(client, db)
    response = client.post(QUEUE, data={"csrf": csrf_of(client, QUEUE), "ids": [str(m["id"]) for m in made],
                                        "action": "publish"}, follow_redirects=False)
    sentence, page, fields = confirm_page(response)
    assert sentence == "将处理 2 条意见" and "另有 1 条所选意见已是该状态,不作改变。" in page.text_content()
    done = client.post(QUEUE, data=fields, follow_redirects=False)
    assert "done=publish%3A2" in done.headers["location"]
    assert {r["status"] for r in db.query("select status from comments")} == {"published"}


def test_a_missing_reason_is_shown_first_names_the_field_and_takes_the_focus(client, db, c, para):
    made = _comment(db, c, para, "建议补充机场航线发展目标。")
    sign_in(client, db)
    response = client.post(QUEUE, data={"csrf": csrf_of(client, QUEUE), "ids": [str(made["id"])], "action": "decide",
                                        "disposition": "rejected", "reason": " "}, follow_redirects=False)
    assert response.status_code == 422
    page = parse_html(response.text)
    first = page.xpath("//main/*[1]")[0]
    assert first.get("class") == "error-summary" and first.get("role") == "alert"
    assert first.get("tabindex") == "-1" and first.get("autofocus") is not None
    (link,) = first.xpath(".//a")
    assert link.text_content() == "理由" and link.get("href") == "#bulk-reason" and page.xpath("//*[@id='bulk-reason']")
    assert "理由" in first.xpath("string(.//li)") and dispositions(db, [made["id"]])[made["id"]] == "pending"
    # Nothing selected: the same box, naming the selection.
    response = client.post(QUEUE, data={"csrf": csrf_of(client, QUEUE), "action": "publish"}, follow_redirects=False)
    summary = parse_html(response.text).xpath("//div[@class='error-summary']//li")[0]
    assert response.status_code == 422 and summary.text_content().startswith("所选意见")


def test_the_success_of_a_single_decision_looks_like_success(client, db, c, para):
    made = _comment(db, c, para, "建议补充机场航线发展目标。")
    sign_in(client, db)
    path = f"/editor/c/nanchong-2022/comments/{made['id']}"
    response = client.post(path, data={"csrf": csrf_of(client, path), "disposition": "adopted", "reason": ""})
    page = parse_html(response.text)
    (flash,) = page.xpath("//p[@class='flash-ok']")
    assert flash.get("role") == "status" and flash.text_content() == "办理意见已记录。"
    assert not page.xpath("//*[contains(@class,'error')]")
    bad = client.post(path, data={"csrf": csrf_of(client, path), "disposition": "partly", "reason": ""})
    summary = parse_html(bad.text).xpath("//main/*[1]")[0]
    assert bad.status_code == 422 and summary.get("class") == "error-summary" and "理由" in summary.text_content()


@pytest.fixture
def queue_site(tmp_path, chromium):
    """A server whose queue holds two pages of comments, and an editor's browser signed in."""
    server = LiveServer(tmp_path / "data")
    db = connect(server.data_dir / "revise.db")
    c = consultation_store.by_slug(db, "nanchong-2022")
    para = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))
    for i in range(55):
        _comment(db, c, para, unrelated(i))
    accounts.create_account(db, "zhang", "张编辑", "editor", "correct horse battery", "test")
    db.close()
    context = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                                   locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/editor/sign-in")
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", "correct horse battery")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/editor**")
    yield server, page
    context.close()
    server.stop()


def test_on_a_phone_the_bulk_bar_stays_in_view_and_the_page_box_ticks_every_row(queue_site):
    server, page = queue_site
    page.goto(server.url + QUEUE)
    bar = page.locator(".bulk-bar")
    page.locator("ol.queue-list > li").last.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None and -1 <= box["y"] <= 1 and box["height"] < 740 / 2, box  # stuck at the top
    assert bar.locator("button[value=publish]").is_visible()
    page.locator("input[data-select-page]").check()
    assert page.locator("input[name=ids]:checked").count() == 50
    page.locator("input[data-select-page]").uncheck()
    assert page.locator("input[name=ids]:checked").count() == 0
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "bulk_bar_phone.png"))
    page.locator("input[name=ids]").nth(3).check()
    page.locator("input[name=ids]").nth(4).check()
    bar.locator("button[value=publish]").click()
    assert re.sub(r"\s+", "", page.locator(".bulk-count").inner_text()) == "将处理2条意见"
    page.locator(".bulk-confirm-form button").click()
    page.wait_for_url("**done=**")
    assert page.locator(".flash-ok").inner_text().strip() == "已处理 2 条意见。"


def error_box(response):
    """The first thing in the main content, when it is the error box: its field links and its text."""
    first = parse_html(response.text).xpath("//main/*[1]")[0]
    assert first.get("class") == "error-summary" and first.get("role") == "alert" and first.get("tabindex") == "-1"
    assert first.get("autofocus") is not None
    return [(a.text_content(), a.get("href")) for a in first.xpath(".//a")], " ".join(first.text_content().split())


def test_the_workspace_window_and_roster_forms_put_their_error_first_and_their_success_in_green(client, db, c, para):
    sign_in(client, db, "boss", "admin", "管理员")
    block = f"/editor/c/nanchong-2022/b/{para['id']}"
    empty = client.post(f"{block}/edit", data={"csrf": csrf_of(client, block), "text": " ", "base_number": "0"})
    links, text = error_box(empty)
    assert empty.status_code == 422 and links == [("文字", "#edit-text")] and "未保存" in text
    saved = client.post(f"{block}/edit", data={"csrf": csrf_of(client, block), "base_number": "0",
                                               "text": para["text"].replace("2200多年", "2300多年")})
    (flash,) = parse_html(saved.text).xpath("//p[@class='flash-ok']")
    assert flash.get("role") == "status" and flash.text_content() == "已保存为第1版。"
    dashboard = "/editor/c/nanchong-2022"
    wrong = client.post(f"{dashboard}/window", data={"csrf": csrf_of(client, dashboard), "opens": "明天", "closes": "后天"})
    links, _ = error_box(wrong)
    assert wrong.status_code == 422 and links == [("征求意见时间", "#w-opens")]
    moved = client.post(f"{dashboard}/window", data={"csrf": csrf_of(client, dashboard), "opens": "2024-03-01 09:00",
                                                     "closes": "2030-03-01 09:00"})
    (flash,) = parse_html(moved.text).xpath("//p[@class='flash-ok']")
    assert flash.text_content() == "征求意见时间已修改。"
    client.post(f"{dashboard}/departments", data={"csrf": csrf_of(client, dashboard), "name": "市财政局"})
    twice = client.post(f"{dashboard}/departments", data={"csrf": csrf_of(client, dashboard), "name": "市财政局"})
    links, text = error_box(twice)
    assert twice.status_code == 422 and links == [("部门", "#dept-name")] and "市财政局" in text


def test_a_filter_matching_more_than_the_limit_is_refused_without_changing_anything(client, db, c, para, monkeypatch):
    from revise.store import bulk_selection

    monkeypatch.setattr(bulk_selection, "BULK_MAX", 3)
    made = [_comment(db, c, para, unrelated(i)) for i in range(4)]
    sign_in(client, db)
    response = client.post(QUEUE, data={"csrf": csrf_of(client, QUEUE), "query": f"block={para['id']}",
                                        "scope": "filter", "action": "publish"}, follow_redirects=False)
    links, text = error_box(response)
    assert response.status_code == 422 and links[0][0] == "所选意见" and "缩小筛选范围" in text
    assert {r["status"] for r in db.query("select status from comments")} == {"pending"} and len(made) == 4
