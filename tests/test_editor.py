"""Editors see every comment by section and source, decide each with a reason, publish the outcome."""

import json

import pytest
from conftest import parse_html

from revise import accounts, commenting, departments
from revise.security import Signer
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store


def sign_in(client, db, username="zhang", role="editor", name="张编辑"):
    """Create an account and sign in through the sign-in page, as an editor would."""
    accounts.create_account(db, username, name, role, "correct horse battery", "test")
    page = parse_html(client.get("/editor/sign-in").text)
    csrf = page.xpath("string(//input[@name='csrf']/@value)")
    response = client.post("/editor/sign-in", data={"username": username, "password": "correct horse battery",
                                                     "csrf": csrf, "next": "/editor"}, follow_redirects=False)
    assert response.status_code == 303
    return client


def csrf_of(client, path):
    return parse_html(client.get(path).text).xpath("string(//input[@name='csrf']/@value)")


def bulk(client, data, path="/editor/c/nanchong-2022/comments", **kwargs):
    """A bulk action of the queue as an editor does it (issue #13): the bar's form, then the button
    of the page stating how many comments will change. Anything but that page is returned as is."""
    first = client.post(path, data=data, follow_redirects=False)
    forms = parse_html(first.text).xpath("//form[@class='bulk-confirm-form']") if first.status_code == 200 else []
    if not forms:
        return first
    fields: dict = {}
    for field in forms[0].xpath(".//input[@type='hidden']"):
        fields.setdefault(field.get("name"), []).append(field.get("value") or "")
    return client.post(path, data=fields, **{"follow_redirects": False, **kwargs})


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


def _comment(db, c, block, body, *, kind="remark", suggestion="", department=None, name=""):
    values = {"kind": kind, "body": body, "suggestion": suggestion, "quote": "", "quote_start": None,
              "name": name, "contact": "13800000000"}
    comment, _ = commenting.submit(db, c, block, values, form_token=Signer(b"t").form_token(), department=department)
    return comment


@pytest.fixture
def seeded(db, c):
    """Comments from the public and a department on a few blocks of the Nanchong draft."""
    blocks = block_store.of_consultation(db, c["id"])
    para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    row9 = next(b for b in blocks if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    dept_id, _ = departments.add(db, c, "市发展改革委", "test")
    dept = db.table("departments").get(dept_id)
    made = {
        "history": _comment(db, c, para, "建城史应为2300多年。", kind="edit",
                            suggestion=para["text"].replace("2200多年", "2300多年"), name="王五"),
        "airport": _comment(db, c, para, "建议补充机场航线发展目标。"),
        "row9": _comment(db, c, row9, "高新技术产业营业收入目标偏低。"),
        "dept": _comment(db, c, para, "部门意见:交通数据需核实。", department=dept),
        "whole": _comment(db, c, None, "整体上目标偏高,建议分年度细化。"),
    }
    return {"para": para, "row9": row9, **made}


def test_the_dashboard_counts_comments_by_status_source_and_disposition(client, db, c, seeded):
    sign_in(client, db)
    page = parse_html(client.get("/editor/c/nanchong-2022").text)
    assert "5" in page.xpath("string(//h2[@id='figures-h'])")
    tables = {t.xpath("string(caption)"): {r.xpath("string(th)"): r.xpath("string(td)") for r in t.xpath(".//tr")}
              for t in page.xpath("//table[@class='figures-table']")}
    assert tables["按状态"]["待审核"] == "5"
    assert tables["按来源"] == {"公众": "4", "部门": "1"}
    assert tables["按办理情况"]["待处理"] == "5"
    busiest = page.xpath("//ol[@class='busiest']/li")
    assert busiest[0].xpath("string(a)").startswith("一、发展基础") and busiest[0].xpath("string(span)") == "3"
    roster = page.xpath("//table[@class='roster']//tr[td]")
    assert [r.xpath("string(td[1])") for r in roster] == ["市发展改革委"]
    assert roster[0].xpath("string(td[2])") == "已反馈意见"


def test_the_queue_filters_by_section_source_kind_and_searches_chinese_words(client, db, c, seeded):
    sign_in(client, db)

    def ids(query):
        page = parse_html(client.get("/editor/c/nanchong-2022/comments" + query).text)
        return {int(v) for v in page.xpath("//input[@name='ids']/@value")}

    s = seeded
    assert ids("") == {s[k]["id"] for k in ("history", "airport", "row9", "dept", "whole")}
    heading = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"] == "(一)历史积淀深厚 区位优势突出")
    assert ids(f"?section={heading['id']}") == {s["history"]["id"], s["airport"]["id"], s["dept"]["id"]}
    assert ids("?source=department") == {s["dept"]["id"]}
    assert ids("?kind=edit") == {s["history"]["id"]}
    assert ids(f"?block={s['row9']['block_id']}") == {s["row9"]["id"]}
    assert ids("?q=机场航线") == {s["airport"]["id"]}  # trigram full-text search
    assert ids("?q=偏高") == {s["whole"]["id"]}  # two characters: substring search
    assert ids("?q=没有这样的话") == set()


def test_the_queue_sorts_by_block_order_and_pages(client, db, c, seeded):
    sign_in(client, db)
    para = seeded["para"]
    for i in range(60):
        _comment(db, c, para, f"第{i}条")
    page = parse_html(client.get("/editor/c/nanchong-2022/comments").text)
    assert len(page.xpath("//input[@name='ids']")) == 50
    assert "1" in page.xpath("string(//nav[@class='pages'])") and page.xpath("//a[@rel='next']")
    second = parse_html(client.get("/editor/c/nanchong-2022/comments?page=2").text)
    assert len(second.xpath("//input[@name='ids']")) == 15
    by_block = parse_html(client.get("/editor/c/nanchong-2022/comments?sort=block").text)
    first_about = by_block.xpath("string((//p[@class='about'])[1])")
    assert first_about == "草案整体"  # the whole-draft remark comes before the first block


def test_bulk_disposition_with_one_reason_and_the_earlier_decision_in_the_audit_log(client, db, c, seeded):
    sign_in(client, db)
    chosen = [seeded["airport"]["id"], seeded["row9"]["id"]]
    csrf = csrf_of(client, "/editor/c/nanchong-2022/comments")
    response = bulk(client, {
        "csrf": csrf, "ids": [str(i) for i in chosen], "action": "decide", "disposition": "reflected", "reason": ""})
    assert response.status_code == 303
    assert {db.table("comments").get(i)["disposition"] for i in chosen} == {"reflected"}
    response = bulk(client, {
        "csrf": csrf, "ids": [str(chosen[0])], "action": "decide", "disposition": "rejected", "reason": "与规划定位不符"})
    row = db.table("comments").get(chosen[0])
    assert row["disposition"] == "rejected" and row["disposition_reason"] == "与规划定位不符"
    assert row["decided_by"] == "张编辑" and row["decided_at"]
    events = list(db.table("audit").rows_where("subject = ? and action = 'comment.disposition'", [f"comment:{chosen[0]}"], order_by="id"))
    assert json.loads(events[-1]["before"])["disposition"] == "reflected"


def test_not_adopted_without_a_reason_is_refused_next_to_the_field(client, db, c, seeded):
    sign_in(client, db)
    csrf = csrf_of(client, "/editor/c/nanchong-2022/comments")
    response = client.post("/editor/c/nanchong-2022/comments", data={
        "csrf": csrf, "ids": [str(seeded["airport"]["id"])], "action": "decide", "disposition": "rejected", "reason": " "})
    assert response.status_code == 422
    error = parse_html(response.text).xpath("//fieldset[@class='bulk']//p[@class='error']")
    assert error and "理由" in error[0].text_content()
    assert db.table("comments").get(seeded["airport"]["id"])["disposition"] == "pending"


def test_moderation_one_by_one_and_in_bulk_from_the_queue(client, db, c, seeded):
    sign_in(client, db)
    csrf = csrf_of(client, "/editor/c/nanchong-2022/comments")
    ids = [str(seeded["history"]["id"]), str(seeded["airport"]["id"])]
    bulk(client, {"csrf": csrf, "ids": ids, "action": "publish"})
    bulk(client, {"csrf": csrf, "ids": [str(seeded["row9"]["id"])], "action": "hide"})
    statuses = {r["id"]: r["status"] for r in db.table("comments").rows}
    assert statuses[seeded["history"]["id"]] == statuses[seeded["airport"]["id"]] == "published"
    assert statuses[seeded["row9"]["id"]] == "hidden"
    public = client.get(f"/c/nanchong-2022/b/{seeded['para']['id']}").text
    assert "建议补充机场航线发展目标" in public and "部门意见" not in public


def test_a_comment_page_decides_one_comment_and_shows_its_contact_to_editors_only(client, db, c, seeded):
    sign_in(client, db)
    path = f"/editor/c/nanchong-2022/comments/{seeded['airport']['id']}"
    page = parse_html(client.get(path).text)
    assert "13800000000" in page.text_content()
    response = client.post(path, data={"csrf": csrf_of(client, path), "disposition": "partly", "reason": ""})
    assert response.status_code == 422 and "理由" in parse_html(response.text).xpath("string(//form[@class='decide']//p[@class='error'])")
    client.post(path, data={"csrf": csrf_of(client, path), "disposition": "partly", "reason": "部分采纳,补充航线目标。"})
    assert db.table("comments").get(seeded["airport"]["id"])["disposition"] == "partly"


def test_the_receipt_shows_the_disposition_only_after_the_outcome_is_published(client, db, c, seeded):
    from revise import triage

    triage.decide(db, c, [seeded["airport"]["id"]], "rejected", "超出本方案范围", "张编辑")
    receipt = f"/r/{seeded['airport']['receipt']}"
    assert "超出本方案范围" not in client.get(receipt).text
    sign_in(client, db, "admin", "admin", "管理员")
    # the period is still open: publishing now takes a reason (issue #12)
    client.post("/editor/c/nanchong-2022/outcome", data={"csrf": csrf_of(client, "/editor/c/nanchong-2022"),
                                                         "override_reason": "提前公布"})
    page = parse_html(client.get(receipt).text)
    assert "不予采纳" in page.text_content() and "超出本方案范围" in page.text_content()


def test_publishing_the_outcome_is_for_administrators(client, db, c, seeded):
    sign_in(client, db)
    response = client.post("/editor/c/nanchong-2022/outcome", data={"csrf": csrf_of(client, "/editor/c/nanchong-2022")})
    assert response.status_code == 403
    assert consultation_store.by_slug(db, "nanchong-2022")["outcome_published_at"] is None


def test_administrators_see_the_audit_log(client, db, c, seeded):
    from revise import triage

    triage.decide(db, c, [seeded["airport"]["id"]], "adopted", "", "张编辑")
    sign_in(client, db, "admin", "admin", "管理员")
    page = parse_html(client.get("/editor/c/nanchong-2022/audit").text)
    lines = [" ".join(li.text_content().split()) for li in page.xpath("//ol[@class='audit-lines']/li")]
    # Sentences in the editor's language (issue #13), not action names and JSON.
    assert any(f"意见#{seeded['airport']['id']}(一、(一) 第1段)的办理意见由“待处理”改为“采纳”" in line for line in lines)
    assert any("将市发展改革委列入征求意见部门名单" in line for line in lines)
    assert "comment.disposition" not in page.text_content() and "{" not in page.text_content()
