"""The public pages as a resident on a phone meets them (issue #16), in headless Chromium."""

import pytest

from tests.conftest import OUTPUT

PAGE = "/c/nanchong-2022"


@pytest.fixture
def touch(chromium):
    """A 375 px touch phone in Chinese, with JavaScript."""
    context = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                                   locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def no_js(chromium):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740},
                                   locale="zh-CN")
    yield context.new_page()
    context.close()


def keep(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=False)


def paragraph(page, words: str):
    return page.locator("p.block", has_text=words).first


def test_paragraphs_show_no_comment_buttons_until_one_is_tapped(live_server, touch):
    touch.goto(live_server.url + PAGE)
    touch.wait_for_function("document.documentElement.classList.contains('js')")
    block = paragraph(touch, "南充历史底蕴深厚")
    link = block.locator("xpath=following-sibling::div[1]").locator("a.comment-link")
    assert link.locator(".cl-text").bounding_box()["width"] <= 1  # hidden words, still in the page
    block.tap()
    assert link.locator(".cl-text").bounding_box()["width"] > 10
    box = link.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    keep(touch, "phone_paragraph_tapped")
    link.tap()
    touch.locator("form.comment-form").wait_for()


def test_a_keyboard_user_reaches_each_comment_link_and_sees_it(live_server, chromium):
    page = chromium.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(live_server.url + PAGE)
    page.wait_for_function("document.documentElement.classList.contains('js')")
    link = paragraph(page, "南充历史底蕴深厚").locator("xpath=following-sibling::div[1]").locator("a.comment-link")
    link.focus()
    assert link.inner_text().strip() == "提意见" and link.locator(".cl-text").bounding_box()["width"] > 10
    page.close()


def test_without_javascript_each_paragraph_has_a_plain_link(live_server, no_js):
    no_js.goto(live_server.url + PAGE)
    link = paragraph(no_js, "南充历史底蕴深厚").locator("xpath=following-sibling::div[1]").locator("a.comment-link")
    assert link.is_visible() and link.inner_text().strip() == "提意见"
    link.click()
    no_js.wait_for_url("**/b/**")
    assert no_js.locator("form.comment-form").count() == 1


def test_cover_lines_offer_no_commenting(live_server, no_js):
    no_js.goto(live_server.url + PAGE)
    for words in ("征求意见稿", "2022年10月"):
        line = no_js.locator("p.block", has_text=words).first
        assert line.locator("xpath=following-sibling::*[1]").get_attribute("class") != "tools"


def test_how_to_comment_and_the_whole_draft_link_are_on_the_first_screens(live_server, touch):
    touch.goto(live_server.url + PAGE)
    how = touch.locator("section.how-to")
    assert "如何提意见" in how.inner_text() and "个人信息保护告知" in how.inner_text()
    whole = how.locator("a", has_text="对草案整体提意见")
    assert whole.bounding_box()["y"] < 3 * 740
    keep(touch, "phone_draft_top")
    whole.click()
    touch.wait_for_url("**/remarks")
    assert touch.locator("form.comment-form textarea[name=body]").count() == 1


def row9(page):
    return page.locator("table tr", has=page.locator("td:text-is('9')"))


def test_on_a_phone_a_table_row_is_a_card_with_its_column_headers(live_server, touch):
    touch.goto(live_server.url + PAGE)
    touch.locator("details.toc-inline summary").click()
    touch.locator("details.toc-inline a", has_text="主要目标表").click()
    assert touch.evaluate("document.documentElement.scrollWidth") <= 375
    card = row9(touch)
    card.scroll_into_view_if_needed()
    # every cell shown under its header (CSS ::before from data-label), the merged 一级指标 repeated
    shown = card.locator("td[data-label]").evaluate_all(
        "tds => tds.filter(td => td.offsetHeight > 0).map(td => [getComputedStyle(td, '::before').content, td.innerText])")
    assert [label for label, _ in shown] == ['"一级指标"', '"序号"', '"二级指标"', '"2021年"', '"2024年"']
    assert shown[0][1] == "综合实力和产业竞争力" and shown[1][1] == "9" and shown[4][1] == "1100"
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    link = card.locator("a.comment-link")
    assert link.is_visible() and link.bounding_box()["height"] >= 44
    keep(touch, "phone_table_cards")


def test_a_suggested_change_to_a_row_has_one_input_per_cell_without_javascript(live_server, no_js):
    no_js.goto(live_server.url + PAGE)
    row9(no_js).locator("a.comment-link").click()
    no_js.wait_for_url("**/b/**")
    assert "2024年" in no_js.locator("dl.row-card").inner_text()
    no_js.locator("input[name=kind][value=edit]").check()
    cell = no_js.get_by_label("2024年")
    old = cell.input_value()
    cell.fill(old + "0")
    no_js.locator("textarea[name=body]").fill("目标提高。")
    keep(no_js, "phone_row_form_nojs")
    no_js.locator("button[value=submit]").click()
    code = no_js.locator(".receipt-box .receipt-code").inner_text()
    no_js.goto(live_server.url + f"/r/{code}")
    assert old + "0" in no_js.locator("main").inner_text()


def test_a_one_character_fix_is_previewed_as_one_sentence_then_sent_and_the_receipt_is_on_screen(live_server, no_js):
    no_js.goto(live_server.url + PAGE)
    paragraph(no_js, "南充历史底蕴深厚").locator("xpath=following-sibling::div[1]//a").click()
    no_js.wait_for_url("**/b/**")
    no_js.locator("input[name=kind][value=edit]").check()
    suggestion = no_js.locator("textarea[name=suggestion]")
    suggestion.fill(suggestion.input_value().replace("2200多年", "2300多年"))
    no_js.locator("textarea[name=body]").fill("建城史应为2300多年。")
    no_js.locator("button[value=preview]").click()
    assert no_js.locator(".preview .change-summary").inner_text().strip() == "将“2200”修改为“2300”"
    assert no_js.locator(".preview p.diff").inner_text().count("…") >= 1  # a little context only
    assert not no_js.locator(".preview details.diff-whole").get_attribute("open")
    assert 0 <= no_js.locator(".preview").bounding_box()["y"] < 740  # the page opens at the preview
    keep(no_js, "phone_preview_nojs")
    no_js.locator("button[value=submit]").click()
    box = no_js.locator(".receipt-box")
    assert "审核后才会公开" in box.inner_text()
    top = box.bounding_box()["y"]
    assert -1 <= top < 740 / 2  # the first thing on the screen
    keep(no_js, "phone_receipt_after_sending_nojs")
    code = box.locator(".receipt-code").inner_text()
    no_js.goto(live_server.url + f"/r/{code}")
    assert no_js.locator(".change-summary").inner_text().strip() == "将“2200”修改为“2300”"
    assert no_js.locator("dd.status").inner_text().startswith("已收到,待审核")
    keep(no_js, "phone_receipt_page_nojs")


def test_with_javascript_the_receipt_is_brought_into_view_after_sending(live_server, touch):
    touch.goto(live_server.url + PAGE)
    touch.wait_for_function("document.documentElement.classList.contains('js')")
    block = paragraph(touch, "南充历史底蕴深厚")
    block.tap()
    block.locator("xpath=following-sibling::div[1]//a").tap()
    form = touch.locator("form.comment-form")
    form.wait_for()
    form.locator("input[name=kind][value=remark]").check()
    form.locator("textarea[name=body]").fill("建议补充历史文化内容。")
    form.locator("button[value=submit]").tap()
    box = touch.locator(".receipt-box")
    box.wait_for()
    # scrollY is whole pixels, the box's top may not be: within a pixel of the top counts as in view
    touch.wait_for_function("() => { const r = document.querySelector('.receipt-box').getBoundingClientRect();"
                            " return r.top > -1 && r.top < innerHeight / 2; }")
    assert "审核后才会公开" in box.inner_text()
    keep(touch, "phone_receipt_after_sending_js")


def test_a_wrong_receipt_code_shows_the_lookup_form_again(live_server, no_js):
    response = no_js.goto(live_server.url + "/r/ABCDEFGHJK")
    assert response.status == 404
    assert "没有" in no_js.locator("[role=alert]").inner_text()
    no_js.locator("input[name=code]").fill("nonsense")
    no_js.locator("form.lookup button").click()
    assert "十位" in no_js.locator("[role=alert]").inner_text() or "K7QH2" in no_js.locator("[role=alert]").inner_text()
    assert no_js.locator("input[name=code]").input_value() == "nonsense"
    keep(no_js, "phone_wrong_receipt_nojs")


def test_the_page_names_the_issuing_body_its_state_and_contact(live_server, touch):
    touch.goto(live_server.url + PAGE)
    assert touch.locator("header.site .issuing-body").inner_text() == "南充市科学技术局"
    assert "正在征求意见" in touch.locator("header.site .masthead-sub").inner_text()
    assert "372297662@qq.com" in touch.locator("footer.site").inner_text()
    keep(touch, "phone_header")


def test_larger_text_is_remembered_without_javascript_and_the_draft_page_stays_shared(live_server, no_js):
    no_js.goto(live_server.url + PAGE)
    before = no_js.locator("p.block", has_text="南充历史底蕴深厚").first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    no_js.locator(".size-switch a.size-large").click()
    no_js.wait_for_url("**" + PAGE)
    after = no_js.locator("p.block", has_text="南充历史底蕴深厚").first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert after >= before * 1.2
    no_js.goto(live_server.url + "/r/ABCDEFGHJK")  # another page: still large
    assert no_js.locator("body").evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 20
    no_js.goto(live_server.url + PAGE)
    keep(no_js, "phone_larger_text_nojs")
    no_js.locator(".size-switch a.size-normal").click()
    no_js.wait_for_url("**" + PAGE)
    assert no_js.locator("body").evaluate("el => parseFloat(getComputedStyle(el).fontSize)") == 17


def test_the_size_switch_goes_back_only_to_this_site(client):
    response = client.get("/text-size?to=large&next=//evil.example/x", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert response.cookies.get("size") == "large" or "size=large" in response.headers["set-cookie"]
    page = client.get("/c/nanchong-2022")
    assert "set-cookie" not in page.headers  # the draft page stays the same for everyone
