"""常用答复 (issue #13): editors keep reply templates per consultation; every change is audited;
a template asking for the section gets the paragraph's section heading."""

import json

import pytest
from conftest import parse_html
from test_editor import csrf_of, sign_in

from revise import reply_templates
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store

SLUG = "nanchong-2022"
PAGE = f"/editor/c/{SLUG}/replies"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, SLUG)


def listed(client) -> dict[str, list[str]]:
    page = parse_html(client.get(PAGE).text)
    return {s.xpath("string(h2)"): [li.text_content().replace("修改", "").strip() for li in s.xpath(".//li")]
            for s in page.xpath("//section")}


def test_the_suggested_replies_are_offered_once_in_the_editors_language(client, db, c):
    sign_in(client, db)
    page = parse_html(client.get(PAGE).text)
    assert "添加推荐的常用答复" in page.xpath("string(//form[input[@name='defaults']]//button)")
    response = client.post(PAGE, data={"csrf": csrf_of(client, PAGE), "defaults": "1"}, follow_redirects=False)
    assert response.status_code == 303
    shown = listed(client)
    assert set(shown) == {"采纳", "部分采纳", "不予采纳", "已有体现"}
    assert "不予采纳,该意见超出本方案范围。" in shown["不予采纳"]
    assert "已在{章节}中体现。" in shown["已有体现"]
    assert "添加推荐的常用答复" not in client.get(PAGE).text
    # asked again (an old form, a second tab): nothing is added twice
    client.post(PAGE, data={"csrf": csrf_of(client, PAGE), "defaults": "1"})
    assert listed(client) == shown
    events = db.execute("select actor, action from audit where action = 'reply_template.create'").fetchall()
    assert len(events) == sum(len(v) for v in shown.values()) and events[0][0] == "张编辑"


def test_an_editor_adds_edits_and_deletes_a_reply_each_audited(client, db, c):
    sign_in(client, db)
    response = client.post(PAGE, data={"csrf": csrf_of(client, PAGE), "disposition": "rejected",
                                       "body": "不予采纳,{章节}已有明确规定。", "title": "已有规定"}, follow_redirects=False)
    assert response.status_code == 303
    assert listed(client)["不予采纳"] == ["已有规定 不予采纳,{章节}已有明确规定。"]
    template = reply_templates.of_consultation(db, c["id"])["rejected"][0]
    edit = f"{PAGE}?edit={template['id']}"
    form = parse_html(client.get(edit).text).xpath("//form[@class='reply-form']")[0]
    assert form.xpath("string(.//textarea[@name='body'])") == "不予采纳,{章节}已有明确规定。"
    client.post(PAGE, data={"csrf": csrf_of(client, edit), "id": str(template["id"]), "disposition": "partly",
                            "body": "部分采纳,{章节}已调整。"})
    assert listed(client)["部分采纳"] == ["部分采纳,{章节}已调整。"] and listed(client)["不予采纳"] == []
    client.post(PAGE, data={"csrf": csrf_of(client, edit), "id": str(template["id"]), "action": "delete"})
    assert reply_templates.of_consultation(db, c["id"])["partly"] == []
    events = db.execute("select action, subject, before, after from audit where subject = ? order by id",
                        [f"reply_template:{template['id']}"]).fetchall()
    assert [e[0] for e in events] == ["reply_template.create", "reply_template.update", "reply_template.delete"]
    assert json.loads(events[1][2])["body"] == "不予采纳,{章节}已有明确规定。"
    assert json.loads(events[1][3])["body"] == "部分采纳,{章节}已调整。"


@pytest.mark.parametrize("form, message", [
    ({"disposition": "rejected", "body": "   "}, "请填写答复内容"),
    ({"disposition": "pending", "body": "待处理"}, "请选择这条答复适用的办理情况"),
    ({"disposition": "rejected", "body": "理由" * 1001}, "理由过长"),
    ({"disposition": "rejected", "body": "理由", "position": "第一"}, "顺序须为"),
    ({"disposition": "rejected", "body": "理由", "title": "名" * 41}, "简称过长"),
])
def test_a_bad_reply_is_refused_with_its_reason_and_nothing_is_stored(client, db, c, form, message):
    sign_in(client, db)
    response = client.post(PAGE, data={"csrf": csrf_of(client, PAGE), **form})
    assert response.status_code == 422
    assert message in parse_html(response.text).xpath("string(//div[@role='alert'])")
    assert db.execute("select count(*) from reply_templates").fetchone()[0] == 0


def test_the_section_is_the_nearest_headings_label_and_title(db, c):
    blocks = block_store.of_consultation(db, c["id"])
    para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    heading = block_store.get(db, c["id"], para["outline"][-1])
    section = reply_templates.section_label(db, c["id"], para)
    assert section == heading["label"] + heading["title"] and section.startswith(heading["label"])
    assert reply_templates.section_label(db, c["id"], heading) == section
    assert reply_templates.section_label(db, c["id"], None) == "本方案"
    assert reply_templates.fill("已在{章节}中体现,见{section}。", "一、发展基础") == "已在一、发展基础中体现,见一、发展基础。"


def test_replies_are_kept_per_consultation_and_for_editors_only(client, db, c):
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code in (303, 401, 403)
    sign_in(client, db)
    assert client.get(f"/editor/c/{SLUG}/replies?edit=999", follow_redirects=False).status_code == 404
    assert client.post(PAGE, data={"csrf": csrf_of(client, PAGE), "id": "999", "action": "delete"}).status_code == 404
    assert client.get("/editor/c/no-such/replies", follow_redirects=False).status_code == 404
