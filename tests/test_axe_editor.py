"""axe-core finds no serious or critical problem on any editor page (issue #16's last point), at a
phone's and a desktop's width, in Chinese and in English.

The pages are every GET route under /editor from the app's router, filled with the real data of
tests/test_editor_language.py (comments, revisions, decisions, audit events), plus the states an
editor meets after a form: an error shown at the top, a success message, the bulk confirmation.
"""

import json

import pytest
from conftest import OUTPUT, LiveServer
from test_editor_language import build, editor_pages

from revise import accounts
from revise.app import create_app
from revise.settings import Settings
from revise.store import connect

axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

WIDTHS = {"phone": (375, 740), "desktop": (1366, 900)}
LOCALES = {"zh": "zh_CN", "en": "en"}
SLUG = "nanchong-2022"
PASSWORD = "correct horse battery"
SKIP = ("editor_export", "editor_attachment", "editor_comparison", "sign_in")  # downloads; sign-in: public pages' test


@pytest.fixture(scope="module")
def editor_site(tmp_path_factory, chromium):
    """One server with real data; the editor pages to walk."""
    data_dir = tmp_path_factory.mktemp("axe-editor") / "data"
    server = LiveServer(data_dir)
    db = connect(data_dir / "revise.db")
    accounts.create_account(db, "boss", "管理员", "admin", PASSWORD, "test")
    data = build(db)
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("routes") / "data", base_url="http://testserver"))
    pages = [(name, path) for name, path in editor_pages(app, db, data) if name not in SKIP]
    db.close()
    yield server, pages, data
    server.stop()


def sign_in(page, server) -> None:
    page.goto(server.url + "/editor/sign-in")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/editor**")


def serious(page) -> list:
    results = axe_module.Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_accessibility_violation_on_any_editor_page(editor_site, chromium, width, lang):
    server, pages, data = editor_site
    w, h = WIDTHS[width]
    context = chromium.new_context(viewport={"width": w, "height": h}, locale="zh-CN" if lang == "zh" else "en",
                                   bypass_csp=True, is_mobile=width == "phone", has_touch=width == "phone")
    page = context.new_page()
    sign_in(page, server)
    page.goto(server.url + f"/editor?lang={LOCALES[lang]}")
    found = {}
    OUTPUT.mkdir(exist_ok=True)
    for name, path in pages:
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        if bad := serious(page):
            found[path] = bad
    # The states a form leads to: the error box at the top, a confirmation, a success message.
    queue = f"/editor/c/{SLUG}/comments"
    page.goto(server.url + queue)
    page.locator("input[name=ids]").first.check()
    page.locator(".bulk-decide summary").click()
    page.select_option("#bulk-disposition", "rejected")
    page.locator("button[value=decide]").click()
    page.wait_for_load_state("load")
    assert page.locator(".error-summary").count() == 1
    assert page.evaluate("document.activeElement.className") == "error-summary"  # the error takes the focus
    for state in ("queue-error", "bulk-confirm", "queue-done"):
        if state == "bulk-confirm":
            page.fill("#bulk-reason", "超出本方案范围")
            page.locator("button[value=decide]").click()
            page.wait_for_load_state("load")
        elif state == "queue-done":
            page.locator(".bulk-confirm-form button").click()
            page.wait_for_url("**done=**")
        if bad := serious(page):
            found[state] = bad
        page.screenshot(path=str(OUTPUT / f"axe_editor_{state}_{width}_{lang}.png"), full_page=False)
    context.close()
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)
