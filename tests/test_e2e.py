"""End to end in a real browser (headless Chromium) against the real server, as people use it.

Each test leaves a screenshot of its last screen in test-output/ (kept for people to look at).
"""

import io
import sqlite3

import docx
import pytest
from conftest import OUTPUT, LiveServer
from docx.oxml.ns import qn

import server
from revise import accounts, departments
from revise.store import connect
from revise.store import consultations as consultation_store


@pytest.fixture
def live(tmp_path):
    running = LiveServer(tmp_path / "data")
    yield running
    running.stop()


def shot(page, request):
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{request.node.name}.png"), full_page=False)


def row_of_indicator(page, number: str):
    return page.locator("table tr", has=page.locator("td", has_text=number).first).filter(
        has=page.locator(f"td:text-is('{number}')"))


def test_a_resident_on_a_phone_suggests_a_change_to_indicator_9_and_gets_a_receipt(live, chromium, request):
    context = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(live.url + "/c/nanchong-2022")
    page.locator("details.toc-inline summary").click()
    page.locator("details.toc-inline a", has_text="主要目标表").click()
    row = row_of_indicator(page, "9")
    assert "高新技术产业营业务收入" in row.inner_text()
    row.locator("td").first.click()  # tapping the row shows its comment link (issue #16)
    row.locator("a.comment-link").click()  # htmx loads the form under the table
    form = page.locator("form.comment-form")
    form.wait_for()
    form.locator("input[name=kind][value=edit]").check()
    suggestion = form.get_by_label("2024年")  # one input per cell, named by its column (issue #16)
    suggestion.fill(suggestion.input_value().replace("1100", "1300"))
    form.locator("textarea[name=body]").fill("2024年目标可以更高。")
    form.locator("button[value=preview]").click()
    preview = page.locator(".preview .diff")
    preview.wait_for()
    assert page.locator(".preview del").first.inner_text() and page.locator(".preview ins").first.inner_text()
    page.locator("form.comment-form button[value=submit]").click()
    code = page.locator(".receipt-box .receipt-code")
    code.wait_for()
    receipt = code.inner_text()
    assert len(receipt.replace("-", "")) == 10
    page.locator(".receipt-box a").click()
    page.wait_for_url("**/r/**")
    assert "2024年目标可以更高。" in page.locator("dd.body").inner_text()
    assert "待审核" in page.locator("dd.status").inner_text()
    shot(page, request)
    context.close()


def test_the_same_without_javascript(live, chromium, request):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(live.url + "/c/nanchong-2022")
    page.locator("details.toc-inline summary").click()
    page.locator("details.toc-inline a", has_text="主要目标表").click()
    row_of_indicator(page, "9").locator("a.comment-link").click()  # a plain link to the form page
    page.wait_for_url("**/b/**")
    page.locator("input[name=kind][value=edit]").check()
    suggestion = page.get_by_label("2024年")
    suggestion.fill(suggestion.input_value().replace("1100", "1300"))
    page.locator("textarea[name=body]").fill("无脚本:2024年目标可以更高。")
    page.locator("button[value=preview]").click()
    assert page.locator(".preview ins").count() >= 1
    page.locator("button[value=submit]").click()
    assert "receipt=" in page.url and "#receipt" in page.url  # back at the paragraph, its receipt in view
    receipt = page.locator(".receipt-box .receipt-code").inner_text()
    page.goto(live.url + f"/r/{receipt}")
    assert "无脚本" in page.locator("dd.body").inner_text()
    shot(page, request)
    context.close()


def test_a_department_comments_through_its_link_and_files_no_changes(live, chromium, request):
    db = connect(live.data_dir / "revise.db")
    c = consultation_store.by_slug(db, "nanchong-2022")
    _, token = departments.add(db, c, "顺庆区人民政府", "test")
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(live.url + f"/d/{token}")
    assert "顺庆区人民政府" in page.locator(".department-panel h2").inner_text()
    block = page.locator("p.para", has_text="南充历史底蕴深厚")
    block.click()  # clicking the paragraph shows its comment link (issue #16)
    block.locator("xpath=following-sibling::div[@class='tools'][1]//a").click()
    form = page.locator("form.comment-form")
    form.wait_for()
    form.locator("input[name=kind][value=remark]").check()
    form.locator("textarea[name=body]").fill("建议补充阆中古城的历史地位。")
    form.locator("input[name=officer_name]").fill("王晓红")  # a department names its 经办人 (issue #12)
    form.locator("input[name=officer_phone]").fill("0817-2801234")
    form.locator("button[value=submit]").click()
    page.locator(".receipt-box").wait_for()
    page.goto(live.url + f"/d/{token}")
    assert "阆中古城" in page.locator("ul.own").inner_text()
    row = db.execute("select source, name from comments").fetchone()
    assert tuple(row) == ("department", "顺庆区人民政府")
    # 无修改意见 after a comment only with the confirmation that withdraws it (issue #12)
    page.locator(".department-panel input[name=withdraw]").check()
    page.locator(".department-panel button").click()
    assert "无修改意见" in page.locator("p.reply-state").inner_text()
    assert db.execute("select count(*) from comments").fetchone()[0] == 0
    shot(page, request)
    page.close()


def test_an_editor_accepts_a_suggestion_rejects_another_and_downloads_the_tracked_plan(live, chromium, request):
    db = connect(live.data_dir / "revise.db")
    accounts.create_account(db, "zhang", "张编辑", "editor", "correct horse battery", "test")
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    # two residents' comments first, through the public page
    page.goto(live.url + "/c/nanchong-2022")
    block_id = db.execute("select id from blocks where text like '南充历史底蕴深厚%'").fetchone()[0]
    for body, new in (("建城史应为2300多年。", "2300多年"), ("应为2400多年。", "2400多年")):
        page.goto(live.url + f"/c/nanchong-2022/b/{block_id}")
        page.locator("input[name=kind][value=edit]").check()
        s = page.locator("textarea[name=suggestion]")
        s.fill(s.input_value().replace("2200多年", new))
        page.locator("textarea[name=body]").fill(body)
        page.locator("button[value=submit]").click()
        page.locator(".receipt-box").wait_for()
    # the editor signs in and finds the suggestion in the queue
    page.goto(live.url + "/editor")
    page.locator("input[name=username]").fill("zhang")
    page.locator("input[name=password]").fill("correct horse battery")
    page.locator("form button[type=submit]").click()
    page.goto(live.url + "/editor/c/nanchong-2022/comments?q=2300")
    item = page.locator("li.queue-item", has_text="建城史应为2300多年")
    item.locator("p.about a").click()
    page.locator("article.comment", has_text="建城史应为2300多年").locator("form.accept button[type=submit]").click()
    assert "2300多年" in page.locator("p.current-text").inner_text()
    # a reason for rejecting the other
    other = page.locator("article.comment", has_text="应为2400多年").locator("header a").first
    other.click()
    page.locator("input[name=disposition][value=rejected]").check()
    page.locator("textarea[name=reason]").fill("经核实,建城史为2300多年。")
    page.locator("form.decide button[type=submit]").click()
    page.wait_for_url("**/comments/*")
    # the decisions as stored, and as the comment's page shows them after the redirect
    stored = {body: (disposition, reason) for body, disposition, reason in db.execute(
        "select body, disposition, disposition_reason from comments").fetchall()}
    assert stored["应为2400多年。"] == ("rejected", "经核实,建城史为2300多年。")
    assert stored["建城史应为2300多年。"][0] == "adopted"
    assert page.locator("input[name=disposition][value=rejected]").is_checked()
    assert page.locator("textarea[name=reason]").input_value() == "经核实,建城史为2300多年。"
    # the tracked plan: in that paragraph, "2200多年" became "2300多年" as one digit deleted and one inserted
    page.goto(live.url + "/editor/c/nanchong-2022")
    with page.expect_download() as info:
        page.locator("a", has_text="修订痕迹版").click()
    root = docx.Document(io.BytesIO(open(info.value.path(), "rb").read())).element.body
    (para,) = [p for p in root.iter(qn("w:p")) if "南充历史底蕴深厚" in "".join(p.xpath(".//w:t/text()"))]
    assert "".join(para.xpath(".//w:del//w:delText/text()")) == "2"
    assert "".join(para.xpath(".//w:ins//w:t/text()")) == "3"
    assert {m.get(qn("w:author")) for m in para.xpath(".//w:ins | .//w:del")} == {"张编辑"}
    assert len(root.xpath(".//w:ins | .//w:del")) == 2  # nothing else in the plan was marked
    shot(page, request)
    page.close()


def test_after_the_window_closes_the_form_is_gone_and_a_forged_post_is_refused(live, chromium, request):
    page = chromium.new_page(viewport={"width": 375, "height": 740}, locale="zh-CN")
    db = sqlite3.connect(live.data_dir / "revise.db")
    block_id = db.execute("select id from blocks where text like '南充历史底蕴深厚%'").fetchone()[0]
    page.goto(live.url + f"/c/nanchong-2022/b/{block_id}")
    csrf = page.locator("input[name=csrf]").input_value()
    token = page.locator("input[name=form_token]").input_value()
    assert server.main(["--data", str(live.data_dir), "window", "nanchong-2022",
                        "--opens", "2022-10-08", "--closes", "2022-10-15"]) == 0
    page.goto(live.url + f"/c/nanchong-2022/b/{block_id}")
    assert page.locator("form.comment-form").count() == 0
    assert "已结束" in page.locator("p.closed-note").inner_text()
    response = page.request.post(live.url + f"/c/nanchong-2022/b/{block_id}/comments",
                                 form={"csrf": csrf, "form_token": token, "kind": "remark", "body": "迟到的意见", "action": "submit"})
    assert response.status == 403 and "已结束" in response.text()
    assert db.execute("select count(*) from comments").fetchone()[0] == 0
    page.goto(live.url + "/c/nanchong-2022")
    shot(page, request)
    page.close()
