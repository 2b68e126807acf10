"""The triage view (issue #13): one comment at a time beside its paragraph, in the queue's filter
and order; decided by a plain form (no JavaScript) or by htmx, which gets the next panel at once."""

from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import parse_html
from test_editor import _comment, csrf_of, sign_in

from revise import reply_templates, revising
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store

SLUG = "nanchong-2022"
BASE = f"/editor/c/{SLUG}"
FORM_LETTER = "强烈建议在临江新区规划建设一所综合性大学,以满足本地学生就近上学的需要,谢谢!"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, SLUG)


@pytest.fixture
def case(client, db, c):
    """An editor, the suggested replies, and comments on two paragraphs of different sections."""
    sign_in(client, db)
    reply_templates.add_defaults(db, c, "test")
    blocks = block_store.of_consultation(db, c["id"])
    para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    other = next(b for b in blocks if b["kind"] == "paragraph" and b["outline"] and b["outline"][0] != para["outline"][0])
    made = [
        _comment(db, c, para, "建城史应为2300多年。", kind="edit", suggestion=para["text"].replace("2200多年", "2300多年")),
        _comment(db, c, para, "建议补充机场航线发展目标。"),
        _comment(db, c, other, "这一段写得不够具体。"),
        _comment(db, c, para, FORM_LETTER, name="甲"),
        _comment(db, c, para, FORM_LETTER, name="乙"),
        _comment(db, c, para, FORM_LETTER, name="丙"),
        _comment(db, c, None, "整体上目标偏高,建议分年度细化。"),
    ]
    return {"para": para, "other": other, "comments": made}


def queue_ids(client, query: str) -> list[int]:
    page = parse_html(client.get(f"{BASE}/comments?{query}").text)
    return [int(a.text.lstrip("#")) for a in page.xpath("//li[contains(@class,'queue-item')]//p[@class='meta']/a[1]")]


def shown(response) -> int | None:
    found = parse_html(response.text).xpath("//div[@id='triage']/@data-comment")
    return int(found[0]) if found else None


def decide_plain(client, comment_id, query, **fields):
    data = {"csrf": csrf_of(client, f"{BASE}/triage/{comment_id}?{query}"), "query": query, "action": "decide", **fields}
    return client.post(f"{BASE}/triage/{comment_id}", data=data, follow_redirects=False)


@pytest.mark.parametrize("query", ["disposition=pending", "disposition=pending&sort=block", "grouped=0",
                                   "disposition=pending&kind=remark"])
def test_skipping_walks_exactly_the_queues_comments_in_its_order(client, db, c, case, query):
    expected = queue_ids(client, query)
    assert len(expected) >= 2
    walked = []
    response = client.get(f"{BASE}/triage?{query}", follow_redirects=True)
    while shown(response) is not None:
        walked.append(shown(response))
        skip = parse_html(response.text).xpath("string(//a[@id='triage-skip']/@href)")
        response = client.get(skip, follow_redirects=True)
    assert walked == expected
    assert "当前筛选条件下已没有更多意见" in response.text


def test_without_javascript_a_decision_is_a_form_post_that_goes_on_to_the_next_comment(client, db, c, case):
    query = "disposition=pending"
    order = queue_ids(client, query)
    rejected = reply_templates.of_consultation(db, c["id"])["rejected"][0]
    response = decide_plain(client, order[0], query, disposition="rejected", template=str(rejected["id"]))
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == f"{BASE}/triage/{order[1]}"
    assert parse_qs(location.query)["disposition"] == ["pending"]
    row = db.execute("select disposition, disposition_reason, decided_by from comments where id = ?", [order[0]]).fetchone()
    assert row == ("rejected", "不予采纳,该意见超出本方案范围。", "张编辑")
    audit = db.execute("select action from audit where subject = ?", [f"comment:{order[0]}"]).fetchall()
    assert ("comment.disposition",) in audit
    page = client.get(response.headers["location"])
    assert "已将第 %s 号意见记为“不予采纳”" % order[0] in parse_html(page.text).xpath("string(//p[@role='status'])")
    # the decided comment left the filter: the queue now starts where the triage view went
    assert queue_ids(client, query)[0] == order[1]


def test_a_refused_decision_says_why_at_the_top_and_keeps_what_was_typed(client, db, c, case):
    comment = case["comments"][1]
    response = decide_plain(client, comment["id"], "disposition=pending", disposition="rejected", reason="")
    assert response.status_code == 422
    page = parse_html(response.text)
    assert "必须说明理由" in page.xpath("string(//div[@id='triage-errors'])")
    assert page.xpath("//div[@id='triage-errors']/@role") == ["alert"]
    assert page.xpath("//input[@name='disposition'][@value='rejected']/@checked")
    assert db.execute("select disposition from comments where id = ?", [comment["id"]]).fetchone()[0] == "pending"


def test_htmx_gets_the_next_panel_at_once_with_its_address(client, db, c, case):
    query = "disposition=pending"
    order = queue_ids(client, query)
    csrf = csrf_of(client, f"{BASE}/triage/{order[0]}?{query}")
    response = client.post(f"{BASE}/triage/{order[0]}", headers={"HX-Request": "true"},
                           data={"csrf": csrf, "query": query, "action": "decide", "disposition": "adopted"})
    assert response.status_code == 200
    assert "<html" not in response.text and shown(response) == order[1]
    assert response.headers["HX-Push-Url"] == f"{BASE}/triage/{order[1]}?disposition=pending&from={order[0]}"
    panel = parse_html(response.text)
    assert panel.xpath("string(//div[@id='triage']/@data-announce)").startswith(f"已将第 {order[0]} 号意见记为“采纳”")
    back = panel.xpath("string(//a[@id='triage-back']/@href)")
    assert urlsplit(back).path == f"{BASE}/triage/{order[0]}"
    # a skip with htmx: the next panel, its address pushed
    skip = client.get(panel.xpath("string(//a[@id='triage-skip']/@href)"), headers={"HX-Request": "true"})
    assert shown(skip) == order[2] and skip.headers["HX-Push-Url"].startswith(f"{BASE}/triage/{order[2]}?")


def test_going_back_follows_the_queues_order_backwards(client, db, c, case):
    order = queue_ids(client, "grouped=0")
    response = client.get(f"{BASE}/triage?grouped=0&before={order[2]}", follow_redirects=True)
    assert shown(response) == order[1]
    response = client.get(f"{BASE}/triage?grouped=0&before={order[0]}", follow_redirects=True)
    assert shown(response) is None and "这是当前筛选条件下的第一条意见" in response.text


def test_the_reply_names_the_paragraphs_section_and_the_diff_is_against_the_text_it_was_written_on(client, db, c, case):
    para = case["para"]
    heading = block_store.get(db, c["id"], para["outline"][-1])
    suggestion = case["comments"][0]
    # a colleague revises the paragraph after the suggestion was written
    revising.edit_block(db, c, para["id"], para["text"] + "新增一句。", base_number=0,
                        author={"id": 1, "display_name": "李编辑"})
    page = parse_html(client.get(f"{BASE}/triage/{suggestion['id']}").text)
    diff = page.xpath("//section[@class='triage-paragraph']//p[@class='diff']")[0]
    assert [d.text for d in diff.xpath(".//del")] == ["2"] and [i.text for i in diff.xpath(".//ins")] == ["3"]
    assert "新增一句" not in diff.text_content()  # not shown as removed: it came later
    assert "新增一句" in page.xpath("string(//p[@class='current-text'])")
    section = heading["label"] + heading["title"]
    assert page.xpath("string(//section[@class='triage-paragraph']/h2)") == section
    texts = page.xpath("//input[@name='template']/@data-text")
    assert f"已在{section}中体现。" in texts and f"采纳,已对{section}作相应修改。" in texts


def test_accepting_the_suggestion_revises_the_text_and_goes_on(client, db, c, case):
    suggestion = case["comments"][0]
    response = decide_plain(client, suggestion["id"], "disposition=pending", action="accept")
    assert response.status_code == 303
    block = block_store.get(db, c["id"], case["para"]["id"])
    assert block["rev"] == 1 and "2300多年" in block["text"]
    row = db.execute("select disposition, disposition_revision_id from comments where id = ?", [suggestion["id"]]).fetchone()
    assert row[0] == "adopted" and row[1] is not None


def test_a_group_is_decided_whole_only_when_asked_and_the_count_is_said(client, db, c, case):
    letters = case["comments"][3:6]
    ids = [m["id"] for m in letters]
    groups = {db.execute("select group_id from comments where id = ?", [i]).fetchone()[0] for i in ids}
    assert len(groups) == 1 and None not in groups
    page = parse_html(client.get(f"{BASE}/triage/{ids[0]}").text)
    assert "同组其他 2 条待处理意见" in page.xpath("string(//label[@class='triage-whole-group'])")
    decide_plain(client, ids[0], "grouped=0", disposition="reflected", reason="已有体现。")
    assert [db.execute("select disposition from comments where id = ?", [i]).fetchone()[0] for i in ids] == \
        ["reflected", "pending", "pending"]
    response = decide_plain(client, ids[1], "grouped=0", disposition="rejected", reason="不采纳。", group="1")
    assert "done=rejected%3A" + str(ids[1]) + "%3A2" in response.headers["location"]
    assert [db.execute("select disposition from comments where id = ?", [i]).fetchone()[0] for i in ids] == \
        ["reflected", "rejected", "rejected"]
    page = parse_html(client.get(response.headers["location"]).text)
    assert "及同组其他 1 条意见" in page.xpath("string(//p[@role='status'])")


def test_a_remark_is_decided_from_the_paragraphs_workspace(client, db, c, case):
    remark = case["comments"][1]
    path = f"{BASE}/b/{case['para']['id']}"
    page = parse_html(client.get(path).text)
    form = page.xpath(f"//article[@id='comment-{remark['id']}']//details[@class='decide']/form")[0]
    reflected = reply_templates.of_consultation(db, c["id"])["reflected"][1]
    refused = client.post(form.get("action"), data={"csrf": csrf_of(client, path), "disposition": "partly", "reason": ""})
    assert refused.status_code == 422 and "必须说明理由" in refused.text
    response = client.post(form.get("action"), data={"csrf": csrf_of(client, path), "disposition": "reflected",
                                                      "template": str(reflected["id"]), "reason": ""},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith(f"#comment-{remark['id']}")
    row = db.execute("select disposition, disposition_reason from comments where id = ?", [remark["id"]]).fetchone()
    assert row == ("reflected", "方案其他部分已有相关表述。")


def test_the_queue_offers_the_view_with_its_own_filter(client, db, c, case):
    page = parse_html(client.get(f"{BASE}/comments?kind=remark&disposition=pending&after=5").text)
    href = page.xpath("string(//p[@class='triage-entry']/a/@href)")
    assert urlsplit(href).path == f"{BASE}/triage"
    assert parse_qs(urlsplit(href).query) == {"kind": ["remark"], "disposition": ["pending"]}


def test_the_view_is_for_editors_only(client, db, c, case):
    client.cookies.clear()
    response = client.get(f"{BASE}/triage/{case['comments'][0]['id']}", follow_redirects=False)
    assert response.status_code in (303, 401, 403)
    assert client.get(f"{BASE}/triage/999999", follow_redirects=False).status_code in (303, 401, 403)
