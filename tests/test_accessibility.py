"""axe-core (through axe-playwright-python) finds nothing wrong on the public pages (issue #16),
at a phone's and a desktop's width, in Chinese and in English; a screenshot of each is kept."""

import pytest

from tests.conftest import OUTPUT, LiveServer

axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

WIDTHS = {"phone": (375, 740), "desktop": (1366, 900)}
LOCALES = {"zh": "zh-CN", "en": "en"}


@pytest.fixture(scope="module")
def site(tmp_path_factory, chromium):
    """One server for the module, with one comment sent through the form (for a receipt page)."""
    server = LiveServer(tmp_path_factory.mktemp("a11y") / "data")
    page = chromium.new_page(java_script_enabled=False, locale="zh-CN")
    page.goto(server.url + "/c/nanchong-2022")
    page.locator("p.block", has_text="南充历史底蕴深厚").first.locator("xpath=following-sibling::div[1]//a").click()
    page.wait_for_url("**/b/**")
    block_page = page.url.removeprefix(server.url)
    page.locator("input[name=kind][value=edit]").check()
    suggestion = page.locator("textarea[name=suggestion]")
    suggestion.fill(suggestion.input_value().replace("2200多年", "2300多年"))
    page.locator("textarea[name=body]").fill("建城史应为2300多年。")
    page.locator("button[value=submit]").click()
    code = page.locator(".receipt-box .receipt-code").inner_text()
    page.goto(server.url + "/c/nanchong-2022")
    row = page.locator("table tr", has=page.locator("td:text-is('9')")).locator("a.comment-link").get_attribute("href")
    page.close()
    yield server, {"home": "/", "draft": "/c/nanchong-2022", "block": block_page, "row": row,
                   "remarks": "/c/nanchong-2022/remarks", "receipt": f"/r/{code}", "wrong-receipt": "/r/ABCDEFGHJK",
                   "notice": "/c/nanchong-2022/notice", "sign-in": "/editor/sign-in"}
    server.stop()


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("width", WIDTHS)
def test_no_accessibility_violations_on_the_public_pages(site, chromium, width, lang):
    server, pages = site
    w, h = WIDTHS[width]
    context = chromium.new_context(viewport={"width": w, "height": h}, locale=LOCALES[lang], bypass_csp=True,
                                   is_mobile=width == "phone", has_touch=width == "phone")
    page = context.new_page()
    page.goto(server.url + f"/?lang={'zh_CN' if lang == 'zh' else 'en'}")
    found = {}
    OUTPUT.mkdir(exist_ok=True)
    for name, path in pages.items():
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        results = axe_module.Axe().run(page)
        violations = results.response["violations"]
        if violations:
            found[name] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
        page.screenshot(path=str(OUTPUT / f"a11y_{name}_{width}_{lang}.png"), full_page=False)
    context.close()
    assert not found, found
