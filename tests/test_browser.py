"""In a real browser (headless Chromium) against the real server: the draft reads well on a phone."""


def test_the_draft_reads_on_a_375px_phone_without_sideways_scrolling(live_server, phone):
    phone.goto(live_server.url + "/c/nanchong-2022")
    assert phone.locator("h1").inner_text().startswith("南充市创建省级创新型城市建设方案")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    # the wide targets table reads as one card per row instead of widening the page (issue #16)
    frame = phone.locator(".table-wrap")
    assert frame.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert frame.bounding_box()["width"] <= 375


def test_the_outline_jumps_to_the_targets_table_on_a_phone(live_server, phone):
    phone.goto(live_server.url + "/c/nanchong-2022")
    phone.locator("details.toc-inline summary").click()
    phone.locator("details.toc-inline a", has_text="主要目标表").click()
    caption = phone.locator(":target")
    assert caption.inner_text().startswith("南充市省级创新型城市建设主要目标表")
    assert 0 <= caption.bounding_box()["y"] < 740


def test_the_page_works_with_javascript_off(live_server, chromium):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/c/nanchong-2022")
    page.locator("a.comment-link").nth(10).click()
    assert page.locator("form.comment-form").count() == 1
    page.locator("textarea[name=body]").fill("无脚本也能提交意见。")
    page.locator("input[name=kind][value=remark]").check()
    page.locator("button[value=submit]").click()
    assert "#receipt" in page.url and "receipt=" in page.url
    assert page.locator(".receipt-box .receipt-code").count() == 1
    context.close()


def test_on_a_desktop_the_outline_sits_beside_the_draft(live_server, chromium):
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(live_server.url + "/c/nanchong-2022")
    nav = page.locator("nav.toc-side").bounding_box()
    draft = page.locator("div.draft").bounding_box()
    assert nav["x"] + nav["width"] <= draft["x"]
    page.close()
