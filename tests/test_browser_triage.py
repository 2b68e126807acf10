"""In Chromium against the real server (issue #13): an editor decides 200 comments with the
keyboard alone, at most three keys a decision when a common reply fits, and every decision and
reason is stored."""

import re

import pytest

from revise import accounts, reply_templates
from revise.security import Signer
from revise.store import blocks as block_store
from revise.store import connect
from revise.store import consultations as consultation_store

expect = pytest.importorskip("playwright.sync_api").expect

SLUG = "nanchong-2022"
DECISIONS = 200
WAIT = 30_000  # ms: a bound, not a speed requirement (the machine may be busy)
# (keys after the panel is shown, disposition, index of the reply or None)
PLAN = [
    (["3", "1", "Enter"], "rejected", 0),
    (["1", "Enter"], "adopted", None),
    (["4", "2", "Enter"], "reflected", 1),
    (["2", "ArrowDown", "Enter"], "partly", 0),
    (["3", "3", "Enter"], "rejected", 2),
]


@pytest.fixture
def office(live_server):
    """The running server's database with an editor, the suggested replies and 210 comments."""
    from revise import commenting

    db = connect(live_server.data_dir / "revise.db")
    c = consultation_store.by_slug(db, SLUG)
    accounts.create_account(db, "zhang", "张编辑", "editor", "correct horse battery", "test")
    reply_templates.add_defaults(db, c, "test")
    paragraphs = [b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "paragraph" and b["outline"]]
    for n in range(DECISIONS + 10):
        block = paragraphs[n % len(paragraphs)]
        values = {"kind": "remark", "body": f"第{n}条意见:关于这一段,建议进一步说明第{n * 7 % 97}项措施的落实办法。",
                  "suggestion": "", "quote": "", "quote_start": None, "name": f"居民{n}", "contact": ""}
        commenting.submit(db, c, block, values, form_token=Signer(b"t").form_token())
    yield db, c
    db.close()


def test_an_editor_decides_200_comments_with_the_keyboard_alone(live_server, chromium, office):
    db, c = office
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/editor/sign-in")
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", "correct horse battery")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r"/editor(/|$)"))
    page.goto(f"{live_server.url}/editor/c/{SLUG}/triage?disposition=pending&grouped=0")
    panel = page.locator("#triage")
    heading = page.locator("#tc-h")
    # (waits through expect(): the page's CSP forbids the eval behind wait_for_function's strings)
    expect(heading).to_be_focused(timeout=WAIT)
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    replies = reply_templates.of_consultation(db, c["id"])

    keystrokes = 0

    def press(key):
        nonlocal keystrokes
        keystrokes += 1
        page.keyboard.press(key)

    # A reason left out is refused on the spot, the message takes the focus, the choice is kept.
    first = int(panel.get_attribute("data-comment"))
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    expect(page.locator("#triage-errors")).to_be_focused(timeout=WAIT)
    assert "必须说明理由" in page.locator("#triage-errors").inner_text()
    assert int(panel.get_attribute("data-comment")) == first

    expected = {}
    for n in range(DECISIONS):
        current = int(panel.get_attribute("data-comment"))
        keys, disposition, reply = PLAN[n % len(PLAN)]
        if n == 0:
            keys = keys[1:]  # the first comment's decision (不予采纳) is already chosen after the refusal
        before = keystrokes
        for key in keys:
            press(key)
        assert keystrokes - before <= 3
        # the next comment arrives in place (no page load), its heading focused for the screen reader
        expect(panel).not_to_have_attribute("data-comment", str(current), timeout=WAIT)
        expect(heading).to_be_focused(timeout=WAIT)
        expected[current] = (disposition, reply)
    assert keystrokes <= 3 * DECISIONS
    assert loads == []  # no page load after the first: every panel came through htmx
    expect(page.locator("#triage-live")).to_contain_text("记为", timeout=WAIT)  # said once the panel has settled
    assert "/triage/" in page.url  # the address follows the comment shown (hx-push-url)

    # every decision and reason stored, the reply's section filled in for that comment's paragraph
    for comment_id, (disposition, reply) in expected.items():
        row = db.execute("select disposition, disposition_reason, block_id, decided_by from comments where id = ?",
                         [comment_id]).fetchone()
        assert row[0] == disposition and row[3] == "张编辑", comment_id
        if reply is None:
            assert row[1] is None
        else:
            block = block_store.get(db, c["id"], row[2])
            section = reply_templates.section_label(db, c["id"], block)
            assert row[1] == reply_templates.fill(replies[disposition][reply]["body"], section), comment_id
    assert len(expected) == DECISIONS

    # skip (j) and back (k), the help overlay (?) and out of it (Esc)
    shown = int(panel.get_attribute("data-comment"))
    page.keyboard.press("j")
    expect(panel).not_to_have_attribute("data-comment", str(shown), timeout=WAIT)
    page.keyboard.press("k")
    expect(panel).to_have_attribute("data-comment", str(shown), timeout=WAIT)
    page.keyboard.press("?")
    expect(page.locator("#triage-help")).to_be_visible(timeout=WAIT)
    expect(page.locator("#triage-help-h")).to_be_focused(timeout=WAIT)
    page.keyboard.press("Escape")
    expect(page.locator("#triage-help")).to_be_hidden(timeout=WAIT)
    context.close()


def test_the_triage_view_works_without_javascript(live_server, chromium, office):
    db, c = office
    context = chromium.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/editor/sign-in")
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/editor/c/{SLUG}/triage?disposition=pending")
    first = int(page.locator("#triage").get_attribute("data-comment"))
    page.check("input[name=disposition][value=rejected]")
    page.locator(".tpl-group[data-disposition=rejected] input[name=template]").first.check()
    page.click("#triage-save")
    assert int(page.locator("#triage").get_attribute("data-comment")) != first
    assert "已将第" in page.locator("p[role=status]").inner_text()
    row = db.execute("select disposition, disposition_reason from comments where id = ?", [first]).fetchone()
    assert row == ("rejected", replies_text(db, c, "rejected", 0))
    context.close()


def replies_text(db, c, disposition, index):
    return reply_templates.of_consultation(db, c["id"])[disposition][index]["body"]
