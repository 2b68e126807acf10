"""Editor pages read in the editor's language (issue #13): audit log, decision history, block
history, redline and counts as sentences; no empty translation, no missing plural, no English
action name, no JSON.

The pages come from the app's router (every GET route under /editor), filled with real data: the
Nanchong default with comments (public, department, a letter with an attachment, a group of
copies), revisions (edit, insert, delete, revert, an accepted suggestion), dispositions,
moderation, a window change and a department — so a page added later is walked too.
"""

import itertools
import json
from datetime import timedelta
import re
import subprocess
import sys

import pytest
from conftest import ROOT, parse_html
from test_editor import _comment, sign_in
from test_guards import all_routes

from revise import audit_wording, commenting, departments, drafts, ledger, revising, triage
from revise.attachments import check
from revise.i18n import translations
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.timeutil import SHANGHAI, utc_now
from revise.window import Window

SLUG = "nanchong-2022"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 200 + b"\n%%EOF\n"
EDITOR = {"id": None, "display_name": "张编辑"}
# Path parameters → how to find a real value for them (a table to take an id from, or a value).
TABLE_OF = {"template_id": "reply_templates", "theme_id": "themes", "round_id": "rounds",
            "version_id": "versions", "department_id": "departments", "attachment_id": "attachments"}
NOT_PAGES = ("application/vnd", "application/pdf", "image/", "text/csv", "application/octet-stream")


def build(db) -> dict:
    """Real data of every kind an editor page shows; returns the ids the routes need."""
    c = consultation_store.by_slug(db, SLUG)
    blocks = block_store.of_consultation(db, c["id"])
    para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    other = next(b for b in blocks if b["text"].startswith("南充传统产业发展基础较好"))
    gone = next(b for b in blocks if b["text"].startswith("南充教育资源丰富"))
    row9 = next(b for b in blocks if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    dept_id, _ = departments.add(db, c, "市发展改革委", "管理员")
    dept = db.table("departments").get(dept_id)
    history = _comment(db, c, para, "建城史应为2300多年。", kind="edit",
                       suggestion=para["text"].replace("2200多年", "2300多年"), name="王五")
    airport = _comment(db, c, para, "建议补充机场航线发展目标,明确年旅客吞吐量。")
    _comment(db, c, row9, "高新技术产业营业收入目标偏低。")
    _comment(db, c, para, "部门意见:交通数据需核实。", department=dept)
    whole = _comment(db, c, None, "整体上目标偏高,建议分年度细化。")
    letters = [_comment(db, c, other, "强烈建议在滨江路增设非机动车道,方便市民绿色出行,保障骑行安全。")
               for _ in range(3)]
    today = utc_now().astimezone(SHANGHAI).date().isoformat()
    values, errors = ledger.validate({"channel": "letter", "received_on": today, "kind": "remark",
                                      "body": "来信建议加快嘉陵江沿岸绿道建设。", "blocks": [str(other["id"])],
                                      "name": "李四"}, c, blocks, [])
    assert not errors, errors
    letter, _ = ledger.enter_comment(db, c, values, check("scan.pdf", PDF, 1024 * 1024), "张编辑")
    # Revisions of every kind, an accepted suggestion, decisions with reasons, moderation.
    revising.accept_suggestion(db, c, history["id"], base_number=0, author=EDITOR)
    revising.edit_block(db, c, other["id"], other["text"].replace("较好", "良好"), base_number=0, author=EDITOR,
                        reason="文字润色", comment_ids=[letter["id"]])
    revising.insert_after(db, c, other["id"], "新增一段:加快建设嘉陵江绿道。", author=EDITOR, reason="采纳来信")
    revising.delete_block(db, c, gone["id"], base_number=0, author=EDITOR, reason="与上文重复")
    revising.revert(db, c, gone["id"], 0, base_number=1, author=EDITOR, reason="误删")
    triage.decide(db, c, [airport["id"]], "rejected", "超出本方案范围", "张编辑")
    triage.decide(db, c, [l["id"] for l in letters], "partly", "部分采纳,已在第二段体现", "张编辑")
    triage.decide(db, c, [whole["id"]], "reflected", "", "张编辑")
    commenting.moderate(db, c, [airport["id"], history["id"]], True, "张编辑")
    commenting.moderate(db, c, [whole["id"]], False, "张编辑")
    window = Window.of(c)
    drafts.change_window(db, c, Window(window.opens_at, window.closes_at + timedelta(days=7)), "管理员")
    _optional_features(db, c, para, [airport["id"], letters[0]["id"]])
    attachment = db.execute("select max(id) from attachments").fetchone()[0]
    return {"c": c, "block": para, "comment": history, "group_comment": letters[0], "values": {
        "slug": [SLUG], "block_id": [str(para["id"]), str(gone["id"]), str(other["id"])],
        "comment_id": [str(history["id"]), str(letters[0]["id"]), str(letter["id"])],
        "attachment_id": [str(attachment)], "name": ["report.csv"],
    }}


def _optional_features(db, c, block, comment_ids) -> None:
    """Common replies, themes and assignments, where this version of revise has them (issue #13)."""
    import importlib

    def have(name):
        try:
            return importlib.import_module(f"revise.{name}")
        except ImportError:
            return None

    if replies := have("reply_templates"):
        replies.add_defaults(db, c, "管理员")
    if themes := have("themes"):
        theme = themes.create(db, c, "交通出行", "管理员")
        themes.tag(db, c, theme, comment_ids, "张编辑")
        themes.rename(db, c, theme, "绿色出行", "管理员")
    if assignments := have("assignments"):
        heading = json.loads(block["outline"] if isinstance(block["outline"], str) else json.dumps(block["outline"]))[0]
        editor = db.execute("select id from accounts order by id limit 1").fetchone()[0]
        assignments.assign_section(db, c, heading, editor, "管理员")
        assignments.assign_comment(db, c, comment_ids[0], None, "管理员")


def editor_pages(app, db, data) -> list[tuple[str, str]]:
    """(route name, path) of every GET route under /editor, once per real value of its parameters."""
    found = []
    for template, route in all_routes(app.routes):
        if "GET" not in (route.methods or ()) or not template.startswith("/editor"):
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", template)
        for name in names:
            if name not in data["values"]:
                table = TABLE_OF.get(name) or name.removesuffix("_id") + "s"
                assert table in db.table_names(), f"give the path parameter {name} of {template} a real value here"
                ids = [str(r[0]) for r in db.execute(f"select id from [{table}] order by id limit 2")]
                assert ids, f"{template}: no {table} row to show; create one in build()"
                data["values"][name] = ids
        for combo in itertools.product(*(data["values"][n] for n in names)):
            path = template
            for name, value in zip(names, combo):
                path = re.sub(r"\{" + name + r"(?::\w+)?\}", value, path)
            found.append((route.name, path))
    return found


def english_phrases() -> tuple[set[str], list[str]]:
    """The catalog's English: whole msgids (shown alone when untranslated) and their word runs."""
    from babel.messages.pofile import read_po

    with (ROOT / "revise/locale/zh_CN/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    whole, runs = set(), set()
    for message in catalog:
        same = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in (message.id if isinstance(message.id, tuple) else (message.id,)):
            if text in same:  # the same in both languages (CSV, Excel, Word)
                continue
            if not text or not re.search(r"[A-Za-z]{2}", text):
                continue
            whole.add(text.strip())
            for part in re.split(r"%\(\w+\)s|%s|\{\w+\}", text):
                part = part.strip(" .,:;()“”")
                if len(part.split()) >= 3:
                    runs.add(part)
    return whole, sorted(runs, key=len, reverse=True)


ACTION = re.compile(r"\b(" + "|".join(re.escape(a) for a in audit_wording.WORDINGS) + r")\b")
SUBJECT = re.compile(r"\b(block|comment|department|consultation|account|theme|round|version):\d+\b")
JSON_LIKE = re.compile(r"[{\[]\s*\"\w+\"\s*:|\"\w+\"\s*:\s*(\"|\d|null|true|false|\[|\{)")
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){2,}\b")


def page_texts(html: str) -> list[str]:
    """What a reader sees or hears: text nodes and the labels of controls (not form values)."""
    page = parse_html(html)
    for bad in page.xpath("//script|//style|//textarea|//nav[contains(@class,'lang')]"):
        bad.drop_tree()
    texts = [t.strip() for t in page.xpath("//text()") if t.strip()]
    texts += [v.strip() for v in page.xpath("//@title|//@aria-label|//@placeholder|//@alt") if v.strip()]
    texts += [v.strip() for v in page.xpath("//input[@type='submit' or @type='button']/@value") if v.strip()]
    return texts


def problems_of(html: str, whole: set[str], runs: list[str], zh: bool = True) -> list[str]:
    found = []
    texts = page_texts(html)
    joined = "\n".join(texts)
    for pattern, what in ((ACTION, "action name"), (SUBJECT, "raw subject"), (JSON_LIKE, "JSON")):
        for m in pattern.finditer(joined):
            found.append(f"{what}: {m.group(0)!r}")
    if zh:
        for text in texts:
            if text in whole:
                found.append(f"untranslated: {text!r}")
        for run in runs:
            if run in joined:
                found.append(f"untranslated: {run!r}")
        for m in ENGLISH_RUN.finditer(joined):
            found.append(f"English: {m.group(0)!r}")
    return sorted(set(found))


@pytest.fixture
def walked(client, db):
    sign_in(client, db, "boss", "admin", "管理员")
    data = build(db)
    return data, editor_pages(client.app, db, data)


def test_every_editor_page_reads_in_chinese_without_english_action_names_or_json(client, walked):
    data, pages = walked
    assert len(pages) >= 20 and {"editor_audit", "editor_block_history", "editor_redline", "editor_comment",
                                 "editor_queue", "editor_dashboard"} <= {name for name, _ in pages}
    whole, runs = english_phrases()
    found = {}
    for name, path in pages:
        response = client.get(path + ("&" if "?" in path else "?") + "lang=zh_CN")
        assert response.status_code < 500, (path, response.status_code)
        if response.headers.get("content-type", "").startswith(NOT_PAGES) or "html" not in response.headers.get(
                "content-type", ""):
            continue
        bad = problems_of(response.text, whole, runs)
        if bad:
            found[path] = bad
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_in_english_too_no_page_shows_action_names_or_json(client, walked):
    data, pages = walked
    found = {}
    for name, path in pages:
        response = client.get(path + ("&" if "?" in path else "?") + "lang=en")
        if "html" not in response.headers.get("content-type", ""):
            continue
        bad = problems_of(response.text, set(), [], zh=False)
        if bad:
            found[path] = bad
    assert not found, found


def test_the_audit_log_tells_who_did_what_to_which_paragraph_in_words(client, walked):
    data, _ = walked
    page = parse_html(client.get(f"/editor/c/{SLUG}/audit?lang=zh_CN").text)
    lines = [" ".join(li.text_content().split()) for li in page.xpath("//ol[@class='audit-lines']/li")]
    text = "\n".join(lines)
    airport = data["comment"]["id"] + 1
    assert f"意见#{airport}(一、(一) 第1段)的办理意见由“待处理”改为“不予采纳”,理由:超出本方案范围" in text
    assert f"意见#{data['comment']['id']}(一、(一) 第1段)的办理意见由“待处理”改为“采纳”,其建议文字已采纳进正文" in text
    assert "修改一、(二) 第1段(第1版):由“南充传统产业发展基础较好" in text and "理由:文字润色" in text
    assert "删除一、(四) 第1段(原文:“南充教育资源丰富" in text and "将一、(四) 第1段恢复为第0版" in text
    assert "新增一、(二) 第2段:“新增一段:加快建设嘉陵江绿道。”" in text
    assert "的公开状态由“待审核”改为“已公开”" in text and "将市发展改革委列入征求意见部门名单" in text
    assert "征求意见时间由" in text and "录入意见#" in text and "来源为信函" in text
    assert set(page.xpath("//ol[@class='audit-lines']//span[@class='who']/text()")) <= {"管理员", "张编辑", "系统"}
    assert "block:" not in text and "revision.edit" not in text


def test_a_comments_history_and_a_blocks_history_are_sentences(client, walked):
    data, _ = walked
    comment = parse_html(client.get(f"/editor/c/{SLUG}/comments/{data['group_comment']['id']}?lang=zh_CN").text)
    history = " ".join(comment.xpath("string(//ol[contains(@class,'events')])").split())
    assert "的办理意见由“待处理”改为“部分采纳”,理由:部分采纳,已在第二段体现" in history
    assert "disposition" not in history and "{" not in history
    block = data["values"]["block_id"][1]
    steps = parse_html(client.get(f"/editor/c/{SLUG}/b/{block}/history?lang=zh_CN").text)
    metas = [" ".join(p.text_content().split()) for p in steps.xpath("//ol[@class='history']/li/p[@class='meta']")]
    assert any("张编辑于" in m and "删除了本段,理由:与上文重复" in m for m in metas), metas
    assert any("恢复了先前的文字,理由:误删" in m for m in metas) and any("从Word文件导入时的原文" in m for m in metas)
    assert "一、(四) 第1段" in steps.xpath("string(//h1)")


def test_the_redline_counts_in_words_with_a_chinese_plural(client, walked):
    page = parse_html(client.get(f"/editor/c/{SLUG}/redline?lang=zh_CN").text)
    summaries = [s.text_content() for s in page.xpath("//details[@class='unchanged']/summary")]
    assert summaries and all(re.fullmatch(r"\d+ 段未修改", s.strip()) for s in summaries), summaries
    assert re.search(r"共修改 \d+ 段。", page.text_content())
    places = [a.text_content() for a in page.xpath("//a[@class='where']")]
    assert "一、(一) 第1段" in places
    english = parse_html(client.get(f"/editor/c/{SLUG}/redline?lang=en").text)
    assert any(re.fullmatch(r"\d+ unchanged paragraphs?", s.text_content().strip())
               for s in english.xpath("//details[@class='unchanged']/summary"))


def test_every_audit_action_written_in_the_code_has_a_sentence():
    written = set()
    for path in (ROOT / "revise").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "audit" not in source:
            continue
        for literal in re.findall(r'"([a-z][a-z_]*\.[a-z][a-z_]*)"', source):
            if literal.rsplit(".", 1)[1] in ("docx", "html", "csv", "xlsx", "xml", "bin", "json", "pdf") \
                    or literal.startswith("revise."):
                continue
            written.add(literal)
    written |= {"revision.edit", "revision.insert", "revision.delete"}  # f"revision.{action}" in revising._record
    missing = written - set(audit_wording.WORDINGS)
    assert not missing, f"revise/audit_wording.py: give these audit actions a sentence: {sorted(missing)}"


def test_an_unknown_action_is_described_without_its_name():
    line = audit_wording.Reader.__new__(audit_wording.Reader)
    line.t = line._ = audit_wording.Speaker("zh_CN")
    line.places, line.departments, line.comment_blocks, line.headings, line.c = {}, {}, {}, {}, None
    described = line.line({"action": "something.new", "actor": "revise", "subject": "block:3",
                           "before": '{"a": 1}', "after": None, "at": "2024-03-01T01:00:00Z"})
    assert described.sentence == "一项本页尚不能描述的操作。" and described.who == "系统"


def test_the_catalog_check_fails_on_an_empty_plural_form(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "tools"))
    import messages
    from babel.messages.catalog import Catalog

    template = Catalog(project="revise")
    template.add(("%(num)s thing", "%(num)s things"), locations=[("x.html", 1)])
    template.add("A word", locations=[("x.html", 2)])
    for locale, plural, single in (("zh_CN", ("",), "一个词"), ("en", ("", ""), "")):
        catalog = Catalog(locale=locale, project="revise")
        catalog.add(("%(num)s thing", "%(num)s things"), plural)
        catalog.add("A word", single)
        path = tmp_path / locale / "LC_MESSAGES" / "messages.po"
        path.parent.mkdir(parents=True)
        with path.open("wb") as f:
            from babel.messages.pofile import write_po
            write_po(f, catalog)
    monkeypatch.setattr(messages, "LOCALE_DIR", tmp_path)
    assert messages.problems(template) == ["zh_CN: untranslated ('%(num)s thing', '%(num)s things')"]
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "messages.py"), "--check"], capture_output=True,
                            text=True, cwd=ROOT)
    assert "%(num)s unchanged block" not in result.stdout  # the redline's plural is translated now


def test_every_plural_in_the_chinese_catalog_has_its_form():
    catalog = translations("zh_CN")
    assert catalog.ngettext("%(num)s unchanged paragraph", "%(num)s unchanged paragraphs", 6) == "%(num)s 段未修改"
    from babel.messages.pofile import read_po

    with (ROOT / "revise/locale/zh_CN/LC_MESSAGES/messages.po").open("rb") as f:
        po = read_po(f, locale="zh_CN")
    empty = [m.id for m in po if m.id and isinstance(m.id, tuple) and not all(s.strip() for s in m.string)]
    assert not empty, empty
