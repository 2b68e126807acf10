"""In Chromium against the real server (issue #12): the text under consultation stays as published
while an editor revises it; after the period an administrator confirms and publishes the outcome,
and the public then reads the revised sentence, the 修改对照表 row with its reason, and the counts.

The screenshots of the last screens are kept in test-output/.
"""

import pytest
from conftest import OUTPUT, LiveServer

import server
from revise import accounts, commenting
from revise.store import connect
from revise.store import consultations as consultation_store

PUBLISHED = "有2200多年的建城史"
REVISED = "有2300多年的建城史"
REASON = "经核实,建城史为2300多年"


@pytest.fixture
def live(tmp_path):
    running = LiveServer(tmp_path / "data")
    yield running
    running.stop()


def shot(page, name):
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=False)


def sign_in(page, url, username):
    page.goto(url + "/editor")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("correct horse battery")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/editor**")


def test_the_public_reads_the_published_text_until_the_outcome_then_the_revised_text_and_its_table(live, chromium):
    db = connect(live.data_dir / "revise.db")
    accounts.create_account(db, "zhang", "张编辑", "editor", "correct horse battery", "test")
    accounts.create_account(db, "boss", "李主任", "admin", "correct horse battery", "test")
    block_id = db.execute("select id from blocks where text like '南充历史底蕴深厚%'").fetchone()[0]

    # a resident suggests the change on the public page
    public = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    public.goto(live.url + f"/c/nanchong-2022/b/{block_id}")
    public.locator("input[name=kind][value=edit]").check()
    field = public.locator("textarea[name=suggestion]")
    field.fill(field.input_value().replace("2200多年", "2300多年"))
    public.locator("textarea[name=body]").fill("建城史应为2300多年。")
    public.locator("button[value=submit]").click()
    public.locator(".receipt-box").wait_for()
    c = consultation_store.by_slug(db, "nanchong-2022")
    (comment_id,) = db.execute("select id from comments").fetchone()
    commenting.moderate(db, c, [comment_id], True, "张编辑")  # reviewed: shown on the page

    # during the period an editor accepts it into the text
    editor = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(editor, live.url, "zhang")
    editor.goto(live.url + f"/editor/c/nanchong-2022/b/{block_id}")
    accept = editor.locator("article.comment", has_text="建城史应为2300多年").locator("form.accept")
    accept.locator("input[name=reason]").fill(REASON)
    accept.locator("button[type=submit]").click()
    editor.wait_for_load_state()
    assert db.execute("select disposition from comments where id = ?", [comment_id]).fetchone()[0] == "adopted"
    assert "2300多年" in db.execute("select text from blocks where id = ?", [block_id]).fetchone()[0]

    # the public page still shows the sentence as published for comment
    public.goto(live.url + "/c/nanchong-2022")
    draft = public.locator(f"#b-{block_id}").inner_text()
    assert PUBLISHED in draft and REVISED not in draft
    counts = public.locator("#public-counts").inner_text()
    assert "参与人数" in counts and "意见条数" in counts
    assert public.locator("p.outcome-counts").count() == 0

    # an editor may not publish the outcome
    editor.goto(live.url + "/editor/c/nanchong-2022/outcome")
    assert "管理员" in editor.locator("main").inner_text()

    # the period closes; the administrator confirms and publishes
    assert server.main(["--data", str(live.data_dir), "window", "nanchong-2022",
                        "--opens", "2022-10-08", "--closes", "2022-10-15"]) == 0
    boss = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(boss, live.url, "boss")
    boss.goto(live.url + "/editor/c/nanchong-2022")
    boss.locator("a", has_text="公布处理结果").click()
    boss.wait_for_url("**/editor/c/nanchong-2022/outcome")
    preview = boss.locator("ul.outcome-counts").inner_text()
    assert "已处理意见1条" in preview and "未公开或未审核意见0条" in preview
    assert boss.locator("textarea[name=override_reason]").count() == 0  # the period is over
    shot(boss, "outcome_confirm")
    boss.locator("form.outcome-publish button[type=submit]").click()
    boss.wait_for_url("**/outcome?done=published")
    assert "处理结果已公布" in boss.locator("main").inner_text()

    # the public now reads the revised sentence, the counts and the outcome
    public.goto(live.url + "/c/nanchong-2022")
    draft = public.locator(f"#b-{block_id}").inner_text()
    assert REVISED in draft and PUBLISHED not in draft
    numbers = public.locator("#public-counts span.count").all_inner_texts()
    assert numbers == ["1", "1"]  # 参与人数, 意见条数
    outcome_counts = public.locator("p.outcome-counts").inner_text()
    assert "采纳" in outcome_counts
    assert public.locator("p.outcome-counts span.count").all_inner_texts() == ["1", "0", "0", "0"]
    public.locator("p.outcome-link a").click()
    public.wait_for_url("**/c/nanchong-2022/outcome")
    change = public.locator("table.comparison tbody.change")
    assert change.count() == 1
    assert change.locator("td.old del").inner_text() == "2"
    assert change.locator("td.new ins").inner_text() == "3"
    why = change.locator("tr.why").inner_text()
    assert REASON in why and "第1条" in why
    change.scroll_into_view_if_needed()
    shot(public, "outcome_comparison_table")
    change.locator("tr.why a").first.click()
    assert "建城史应为2300多年" in public.locator(":target").inner_text()
    shot(public, "outcome_public")
    db.close()
