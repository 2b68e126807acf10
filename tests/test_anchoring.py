"""Comments follow the text: a quoted phrase stays attached while editors revise its block."""

import pytest
from conftest import parse_html
from test_editor import sign_in

from revise import anchoring, comment_form, commenting, revising, versions
from revise.security import Signer
from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store

ALICE = {"id": 1, "display_name": "王编辑"}
HISTORY = "南充历史底蕴深厚"
INDUSTRY = "南充传统产业发展基础较好"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


def block_with(db, c, prefix):
    return next(b for b in block_store.of_consultation(db, c["id"], include_deleted=True) if b["text"].startswith(prefix))


def current(db, c, block):
    return block_store.get(db, c["id"], block["id"])


def quoted(db, c, block, quote, *, body="建议修改这句话。", occurrence=0):
    """A published public comment quoting words of the block (its `occurrence`-th copy), as the form takes it."""
    values, errors = comment_form.validate({"kind": "remark", "body": body, "quote": quote,
                                            "contact": "13912345678"}, block)
    assert not errors
    for _ in range(occurrence):
        values["quote_start"] = block["text"].index(quote, values["quote_start"] + 1)
    comment, _ = commenting.submit(db, c, block, values, form_token=Signer(b"t").form_token())
    commenting.moderate(db, c, [comment["id"]], True, "test")
    return comment


def stored(db, c, comment):
    return comment_store.get(db, c["id"], comment["id"])


def edit(db, c, block, new_text):
    """Save a new text for the block on its current revision."""
    return revising.edit_block(db, c, block["id"], new_text, base_number=current(db, c, block)["rev"], author=ALICE)


def test_a_quote_is_re_anchored_exactly_through_three_revisions_that_insert_text_before_it(db, c):
    block = block_with(db, c, HISTORY)
    quote = "千吨级船舶可直达上海"
    comment = quoted(db, c, block, quote)
    written_at = block["text"].index(quote)
    texts = [block["text"]]
    texts.append("据考证," + texts[-1])
    texts.append(texts[-1].replace("南充历史底蕴深厚,", "南充古称果州,历史底蕴深厚,"))
    texts.append(texts[-1].replace("春秋以来", "自春秋时期以来"))
    for number, text in enumerate(texts[1:], start=1):
        edit(db, c, block, text)
        row = stored(db, c, comment)
        assert (row["anchor_state"], row["anchor_rev"]) == ("ok", number)
        assert row["anchor_start"] == text.index(quote) > written_at  # shifted by what was inserted
        assert text[row["anchor_start"]:].startswith(quote)
    row = stored(db, c, comment)
    assert row["anchor_start"] == written_at + len("据考证,") + len("古称果州,") + len("自时期")
    assert (row["quote_start"], row["block_rev"]) == (written_at, 0)  # where it was written stays


def test_quotes_follow_a_row_edit_and_an_accepted_suggestion_too(db, c):
    row = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    on_row = quoted(db, c, row, "高新技术产业营业务收入")
    cells = [cell["text"] for cell in row["cells"]]
    cells[1] = "9(调整)"
    revising.edit_row(db, c, row["id"], cells, base_number=0, author=ALICE)
    text = current(db, c, row)["text"]
    assert stored(db, c, on_row)["anchor_state"] == "ok"
    assert stored(db, c, on_row)["anchor_start"] == text.index("高新技术产业营业务收入") == on_row["quote_start"] + 4
    block = block_with(db, c, INDUSTRY)
    on_para = quoted(db, c, block, "三环电子")
    suggestion = "近年来," + block["text"]
    values, _ = comment_form.validate({"kind": "edit", "body": "加个开头。", "suggestion": suggestion}, block)
    proposal, _ = commenting.submit(db, c, block, values, form_token=Signer(b"t").form_token())
    revising.accept_suggestion(db, c, proposal["id"], base_number=0, author=ALICE)
    assert stored(db, c, on_para)["anchor_start"] == on_para["quote_start"] + len("近年来,")


def test_a_phrase_that_occurs_several_times_keeps_the_occurrence_it_was_quoted_at(db, c):
    block = block_with(db, c, HISTORY)
    quote = "通车里程居全省第"  # 高速公路… and 铁路…: the resident quoted the second
    second = block["text"].index(quote, block["text"].index(quote) + 1)
    comment = quoted(db, c, block, quote, occurrence=1)
    assert comment["quote_start"] == second
    new_text = block["text"].replace("高速公路通车里程", "高速公路(含绕城高速)通车里程")
    edit(db, c, block, new_text)
    row = stored(db, c, comment)
    assert row["anchor_state"] == "ok"
    assert row["anchor_start"] == new_text.index(quote, new_text.index(quote) + 1) == second + len("(含绕城高速)")


def test_a_small_change_inside_the_phrase_re_anchors_it_fuzzily_as_moved(client, db, c):
    block = block_with(db, c, HISTORY)
    comment = quoted(db, c, block, "2200多年的建城史")
    new_text = block["text"].replace("2200多年", "2300余年")
    edit(db, c, block, new_text)
    row = stored(db, c, comment)
    assert row["anchor_state"] == "moved" and row["anchor_rev"] == 1
    assert new_text[row["anchor_start"]:].startswith("2300余年的建城史")
    # the editors' workspace says where the words went
    sign_in(client, db)
    page = parse_html(client.get(f"/editor/c/nanchong-2022/b/{block['id']}").text)
    (state,) = page.xpath(f"//article[@id='comment-{comment['id']}']//p[contains(@class,'anchor-state')]")
    assert "moved" in state.get("class") and "2300余年的建城史" in state.text_content()


def test_a_rewritten_phrase_orphans_the_comment_which_stays_on_its_block_and_is_listed_for_editors(client, db, c):
    block = block_with(db, c, HISTORY)
    comment = quoted(db, c, block, "省级行政机构川北行署驻地", body="应写全称。")
    untouched = quoted(db, c, block, "千吨级船舶可直达上海")
    rewritten = block["text"].replace("建国初曾为省级行政机构川北行署驻地", "中华人民共和国成立之初是川北人民行政公署所在地")
    edit(db, c, block, rewritten)
    row = stored(db, c, comment)
    assert (row["anchor_state"], row["anchor_start"], row["block_id"]) == ("orphaned", None, block["id"])
    assert stored(db, c, untouched)["anchor_state"] == "ok"
    sign_in(client, db)
    page = parse_html(client.get("/editor/c/nanchong-2022/orphans").text)
    (listed,) = page.xpath("//section[@aria-labelledby='orphaned-h']//article")
    assert listed.get("id") == f"comment-{comment['id']}"
    assert listed.xpath("string(.//blockquote[@class='quote'])") == "省级行政机构川北行署驻地"
    assert listed.xpath("string(.//dd[@class='written-on-text'])") == block["text"]
    assert listed.xpath("string(.//dd[@class='written-on-text']/mark)") == "省级行政机构川北行署驻地"
    assert listed.xpath("string(.//dd[@class='current-text'])") == rewritten
    assert "原文已修改" in listed.xpath("string(.//p[contains(@class,'anchor-state')])")
    links = {a.get("href") for a in listed.xpath(".//a")}
    assert any(link.endswith(f"/editor/c/nanchong-2022/b/{block['id']}#comment-{comment['id']}") for link in links)
    # the editor nav leads there, and the block's workspace still shows the comment, marked
    assert page.xpath("//nav[@class='editor-nav']/a[contains(@href,'/editor/c/nanchong-2022/orphans')]")
    workspace = parse_html(client.get(f"/editor/c/nanchong-2022/b/{block['id']}").text)
    marked = workspace.xpath(f"//article[@id='comment-{comment['id']}']//p[contains(@class,'anchor-state')]")
    assert marked and "orphaned" in marked[0].get("class")
    # bringing the words back (a revert) anchors it again
    revising.revert(db, c, block["id"], 0, base_number=1, author=ALICE)
    row = stored(db, c, comment)
    assert (row["anchor_state"], row["anchor_start"], row["anchor_rev"]) == ("ok", comment["quote_start"], 2)


def test_a_deleted_blocks_comments_stay_with_it_and_editors_still_see_them_with_its_last_text(client, db, c):
    block = block_with(db, c, HISTORY)
    comment = quoted(db, c, block, "2200多年的建城史", body="删除前的意见。")
    revising.delete_block(db, c, block["id"], base_number=0, author=ALICE, reason="重复")
    row = stored(db, c, comment)
    assert (row["block_id"], row["anchor_state"], row["anchor_start"], row["anchor_rev"]) == (
        block["id"], "ok", comment["quote_start"], 1)
    sign_in(client, db)
    workspace = parse_html(client.get(f"/editor/c/nanchong-2022/b/{block['id']}").text)
    assert workspace.xpath("string(//p[@class='current-text'])") == block["text"]
    assert workspace.xpath(f"//article[@id='comment-{comment['id']}']")
    queue = parse_html(client.get(f"/editor/c/nanchong-2022/comments?block={block['id']}").text)
    assert "删除前的意见。" in queue.text_content()
    orphans = parse_html(client.get("/editor/c/nanchong-2022/orphans").text)
    (listed,) = orphans.xpath("//section[@aria-labelledby='deleted-h']//article")
    assert listed.get("id") == f"comment-{comment['id']}"
    assert listed.xpath("string(.//dd[@class='current-text'])") == block["text"]
    assert "已删除" in listed.xpath("string(.//header)")


def test_comments_stay_on_their_block_when_a_block_is_inserted_before_it_and_the_heading_is_renumbered(client, db, c):
    heading = block_with(db, c, "(二)产业基础坚实")
    para = block_with(db, c, INDUSTRY)
    on_para = quoted(db, c, para, "三环电子")
    on_heading = quoted(db, c, heading, "产业基础坚实")
    earlier = block_with(db, c, HISTORY)
    inserted = revising.insert_after(db, c, earlier["id"], "新增:南充将建设成渝北部科创走廊。", author=ALICE)
    edit(db, c, heading, heading["text"].replace("(二)", "(三)"))
    order = [b["id"] for b in block_store.of_consultation(db, c["id"])]
    assert order.index(earlier["id"]) < order.index(inserted["block_id"]) < order.index(heading["id"]) < order.index(para["id"])
    assert current(db, c, heading)["text"].startswith("(三)产业基础坚实")
    assert heading["id"] in current(db, c, para)["outline"]  # still under its (renumbered) heading
    for comment, block, quote in ((on_para, para, "三环电子"), (on_heading, heading, "产业基础坚实")):
        row = stored(db, c, comment)
        text = current(db, c, block)["text"]
        assert row["block_id"] == block["id"] and row["anchor_state"] == "ok"
        assert text[row["anchor_start"]:].startswith(quote)
    page = parse_html(client.get(f"/c/nanchong-2022/b/{para['id']}").text)
    assert page.xpath("string(//article[contains(@class,'comment')]//blockquote)") == "三环电子"


def test_the_public_thread_marks_a_changed_text_and_shows_the_text_the_comment_was_written_on(client, db, c):
    block = block_with(db, c, HISTORY)
    kept = quoted(db, c, block, "千吨级船舶可直达上海", body="航运数据需更新。")
    gone = quoted(db, c, block, "省级行政机构川北行署驻地", body="应写全称。")
    new_text = block["text"].replace("建国初曾为省级行政机构川北行署驻地", "中华人民共和国成立之初是川北人民行政公署所在地")
    edit(db, c, block, new_text)
    versions.publish_revised(db, c["id"], actor="管理员")  # the public reads a revision once published (#12)
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text)
    articles = {a.xpath("string(.//p[@class='body'])"): a for a in page.xpath("//article[contains(@class,'comment')]")}
    for body, comment in (("航运数据需更新。", kept), ("应写全称。", gone)):
        article = articles[body]
        assert article.xpath("string(.//span[@class='changed'])")  # the text has changed since
        (details,) = article.xpath(".//details[@class='written-on']")
        assert details.xpath("string(summary)") == "意见所针对的原文"
        assert details.xpath("string(p)") == block["text"]
        assert details.xpath("string(p/mark)") == comment["quote"]
    assert "原文已修改" in articles["应写全称。"].xpath("string(.//p[@class='orphaned'])")
    assert not articles["航运数据需更新。"].xpath(".//p[@class='orphaned']")


def test_published_comments_carry_only_the_public_data_the_highlighter_uses(client, db, c):
    block = block_with(db, c, HISTORY)
    quoted(db, c, block, "2200多年的建城史")
    edit(db, c, block, "据考证," + block["text"])
    html = client.get(f"/c/nanchong-2022/b/{block['id']}").text
    page = parse_html(html)
    (article,) = page.xpath("//article[contains(@class,'comment')]")
    data = {name: value for name, value in article.attrib.items() if name.startswith("data-")}
    start = int(data["data-anchor-start"])
    text = page.xpath(f"string(//*[@id='b-{block['id']}']/span[@class='text'])")
    assert data == {"data-block": f"b-{block['id']}", "data-quote": "2200多年的建城史",
                    "data-anchor-start": str(start), "data-anchor-end": str(start + len("2200多年的建城史")),
                    "data-anchor-text": "2200多年的建城史", "data-anchor-state": "ok"}
    assert text[start:start + len("2200多年的建城史")] == "2200多年的建城史"
    assert "13912345678" not in html  # the contact is never on a public page
    assert page.xpath("//script[contains(@src,'quote.js')]")


def test_an_orphaned_comment_carries_no_position_to_highlight(client, db, c):
    block = block_with(db, c, HISTORY)
    quoted(db, c, block, "省级行政机构川北行署驻地")
    edit(db, c, block, block["text"].replace("建国初曾为省级行政机构川北行署驻地", "中华人民共和国成立之初是川北人民行政公署所在地"))
    versions.publish_revised(db, c["id"], actor="管理员")
    (article,) = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text).xpath("//article[contains(@class,'comment')]")
    assert not [name for name in article.attrib if name.startswith("data-")]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("甲乙丙。南充市的发展。", "前言。甲乙丙。南充市的发展。", ("ok", 7)),  # shifted by the insertion
    ("南充市。南充市。", "南充市。南充市。", ("ok", 4)),  # the second copy stays the second
    ("有2200多年的建城史,", "有2300多年的建城史,", ("moved", 1)),
    ("有2200多年的建城史,", "建城已逾两千年,", ("orphaned", None)),
])
def test_relocate(old, new, expected):
    quote = {"甲乙丙。南充市的发展。": "南充市", "南充市。南充市。": "南充市"}.get(old, "2200多年的建城史")
    start = old.rindex(quote)
    assert anchoring.relocate(old, new, quote, start) == expected


def test_a_fuzzy_hit_must_really_resemble_the_quote():
    from diff_match_patch import diff_match_patch

    quote = "全市研发经费投入强度达到百分之一点八以上"  # 20 characters
    old = "到2024年," + quote + "。"
    new = "到2024年,全市科研资金总量大度达到百分之一点八以上。"
    # 7 of 20 characters replaced: Bitap accepts it (score 7/20 = 0.35), the similarity (0.65) does not
    engine = diff_match_patch()
    engine.Match_Threshold, engine.Match_Distance = anchoring.MATCH_THRESHOLD, anchoring.MATCH_DISTANCE
    assert engine.match_main(new, quote, 7) == 7
    assert anchoring.similarity(quote, new[7:27]) < anchoring.MIN_SIMILARITY
    assert anchoring.relocate(old, new, quote, 7) == ("orphaned", None)
    # 6 of 20 (0.7 alike) is the same phrase, edited
    edited = "到2024年,全市科研资金总量强度达到百分之一点八以上。"
    assert anchoring.relocate(old, edited, quote, 7) == ("moved", 7)


def test_in_a_browser_the_quoted_words_are_marked_when_the_thread_is_shown(live_server, chromium):
    from revise.settings import Settings
    from revise.store import connect

    db = connect(Settings(data_dir=live_server.data_dir).db_path)
    try:
        c = consultation_store.by_slug(db, "nanchong-2022")
        block = block_with(db, c, HISTORY)
        quoted(db, c, block, "2200多年的建城史")
        quoted(db, c, block, "千吨级船舶可直达上海")
        edit(db, c, block, "据考证," + block["text"])
        versions.publish_revised(db, c["id"], actor="管理员")
    finally:
        db.close()
    page = chromium.new_page(locale="zh-CN")
    page.goto(live_server.url + "/c/nanchong-2022")
    page.locator(f"#b-{block['id']} + .tools a.comment-link").click()
    page.locator(f"#thread-{block['id']} article.comment").first.wait_for()
    marks = page.locator(f"#b-{block['id']} .text mark.quoted")
    assert marks.all_inner_texts() == ["2200多年的建城史", "千吨级船舶可直达上海"]
    assert page.locator(f"#b-{block['id']} .text").inner_text() == "据考证," + block["text"]
    # the block's own page (no htmx) marks them too
    page.goto(live_server.url + f"/c/nanchong-2022/b/{block['id']}")
    assert page.locator(f"#b-{block['id']} .text mark.quoted").all_inner_texts() == ["2200多年的建城史", "千吨级船舶可直达上海"]
    page.close()
