"""Comments from the public, anchored to paragraphs, inside the comment window."""

import threading
from datetime import timedelta

import pytest
from conftest import parse_html

from revise.store import blocks as block_store
from revise.store import comments as comment_store
from revise.store import consultations as consultation_store
from revise.timeutil import to_text, utc_now


def nanchong(db):
    return consultation_store.by_slug(db, "nanchong-2022")


def block_with(db, prefix):
    """The first block of the Nanchong draft whose text starts with prefix."""
    return next(b for b in block_store.of_consultation(db, nanchong(db)["id"]) if b["text"].startswith(prefix))


def open_form(client, path):
    """GET a comment page (no JavaScript) and return its form's hidden fields and action."""
    page = parse_html(client.get(path).text)
    (form,) = page.xpath("//form[contains(@class,'comment-form')]")
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    return form.get("action"), hidden, form


def comment(client, block, **fields):
    """Fill and send the form of a block as a resident would; return the response (not followed)."""
    action, hidden, _ = open_form(client, f"/c/nanchong-2022/b/{block['id']}")
    data = {**hidden, "kind": "remark", "body": "建议补充具体措施。", "action": "submit", **fields}
    return client.post(action, data=data, follow_redirects=False)


def test_every_block_has_a_link_to_comment_on_it_but_the_cover_lines(client, db):
    page = parse_html(client.get("/c/nanchong-2022").text)
    blocks = block_store.of_consultation(db, nanchong(db)["id"])
    links = {a.get("href") for a in page.xpath("//a[contains(@class,'comment-link')]")}
    cover = [b for b in blocks[:4]]  # the title, 征求意见稿, 2022年10月 and the Title-styled title (issue #16)
    assert [b["text"] for b in cover][1:3] == ["征求意见稿", "2022年10月"]
    assert {f"/c/nanchong-2022/b/{b['id']}" for b in blocks[4:]} <= links
    assert not {f"/c/nanchong-2022/b/{b['id']}" for b in cover} & links
    # with htmx the same link loads the thread in place
    one = page.xpath("//a[contains(@class,'comment-link')]")[0]
    assert one.get("hx-get") == one.get("href") and one.get("hx-target", "").startswith("#thread-")


def test_an_edit_suggestion_gets_a_receipt_and_redirects_back_to_the_paragraph(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    new_text = block["text"].replace("2200多年", "2300多年")
    response = comment(client, block, kind="edit", suggestion=new_text, body="建城史应为2300多年。")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/c/nanchong-2022?receipt=") and location.endswith("#receipt")  # issue #16
    code = location.split("receipt=")[1].split("#")[0]
    stored = comment_store.by_receipt(db, code)
    assert stored["kind"] == "edit" and stored["suggestion"] == new_text
    assert stored["block_id"] == block["id"] and stored["block_rev"] == 0
    assert stored["status"] == "pending" and stored["source"] == "public"
    # the page it lands on shows the receipt right under the paragraph
    page = parse_html(client.get(location).text)
    box = page.xpath(f"//div[@id='thread-{block['id']}']//code[@class='receipt-code']")
    assert box[0].text_content().replace("-", "") == code


def test_the_receipt_code_is_long_random_and_easy_to_read_aloud(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    codes = set()
    for i in range(5):
        response = comment(client, block, body=f"意见{i}")
        codes.add(response.headers["location"].split("receipt=")[1].split("#")[0])
    assert len(codes) == 5
    for code in codes:
        assert len(code) == 10 and not set(code) & set("01OI")


def test_the_edit_form_is_prefilled_and_previews_the_change_as_a_tracked_diff(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    action, hidden, form = open_form(client, f"/c/nanchong-2022/b/{block['id']}")
    assert form.xpath("string(.//textarea[@name='suggestion'])") == block["text"]
    suggestion = block["text"].replace("2200多年", "2300多年")
    response = client.post(action, data={**hidden, "kind": "edit", "suggestion": suggestion, "body": "x", "action": "preview"})
    assert response.status_code == 200
    diff = parse_html(response.text).xpath("//div[@class='preview']//p[@class='diff']")[0]
    assert [d.text for d in diff.xpath(".//del")] == ["2"] and [i.text for i in diff.xpath(".//ins")] == ["3"]
    assert comment_store.by_receipt(db, "x") is None and db.table("comments").count == 0


def test_with_htmx_the_thread_and_the_receipt_come_as_fragments(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    fragment = client.get(f"/c/nanchong-2022/b/{block['id']}", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "comment-form" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    form = parse_html(fragment.text).xpath("//form")[0]
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    response = client.post(form.get("hx-post"), data={**hidden, "kind": "remark", "body": "好", "action": "submit"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "receipt-code" in response.text and "<html" not in response.text


def test_submitting_the_same_form_twice_makes_one_comment_with_the_same_receipt(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    action, hidden, _ = open_form(client, f"/c/nanchong-2022/b/{block['id']}")
    data = {**hidden, "kind": "remark", "body": "重复提交", "action": "submit"}
    first = client.post(action, data=data, follow_redirects=False)
    second = client.post(action, data=data, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]
    assert db.table("comments").count == 1


def test_a_quote_is_stored_with_its_position_in_the_block_text(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    response = comment(client, block, quote="2200多年的建城史")
    code = response.headers["location"].split("receipt=")[1].split("#")[0]
    stored = comment_store.by_receipt(db, code)
    assert stored["quote"] == "2200多年的建城史"
    assert block["text"][stored["quote_start"]:].startswith("2200多年的建城史")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"body": "   "}, "body", "请填写"),
        ({"body": "字" * 5001}, "body", "5000"),
        ({"contact": "not a phone"}, "contact", "电话"),
        ({"quote": "这句话不在本段"}, "quote", "本段"),
        ({"kind": "edit", "suggestion": ""}, "suggestion", "建议"),
        ({"kind": "shout"}, "kind", "类型"),
    ],
)
def test_each_invalid_field_gets_its_own_message_and_the_form_stays_filled(client, db, fields, field, message):
    block = block_with(db, "南充历史底蕴深厚")
    response = comment(client, block, name="张三", **fields)
    assert response.status_code == 422
    page = parse_html(response.text)
    errors = page.xpath("//p[@class='error']")
    assert len(errors) == 1 and message in errors[0].text_content()
    assert page.xpath("string(//input[@name='name']/@value)") == "张三"
    assert db.table("comments").count == 0


def test_text_is_normalised_and_control_characters_stripped(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    response = comment(client, block, body="  e\u0301\x00建议\x07增加  ", name="李\x1b四")
    stored = comment_store.by_receipt(db, response.headers["location"].split("receipt=")[1].split("#")[0])
    assert stored["body"] == "\u00e9建议增加" and stored["name"] == "李四"


def _set_window(db, opens, closes):
    consultation_store.set_window(db, nanchong(db)["id"], to_text(opens), to_text(closes))


def test_the_window_boundaries_are_exact_to_the_second(client, db):
    from revise import commenting

    c = nanchong(db)
    block = block_with(db, "南充历史底蕴深厚")
    now = utc_now()
    _set_window(db, now - timedelta(days=1), now + timedelta(days=1))
    c = nanchong(db)
    closes = now + timedelta(days=1)
    values = {"kind": "remark", "body": "x", "suggestion": "", "quote": "", "quote_start": None, "name": "", "contact": ""}
    signer = client.app.state.signer
    commenting.submit(db, c, block, values, form_token=signer.form_token(), now=closes - timedelta(seconds=1))
    with pytest.raises(commenting.Refused) as refused:
        commenting.submit(db, c, block, values, form_token=signer.form_token(), now=closes)
    assert refused.value.status == 403
    opens = now - timedelta(days=1)
    commenting.submit(db, c, block, values, form_token=signer.form_token(), now=opens)
    with pytest.raises(commenting.Refused):
        commenting.submit(db, c, block, values, form_token=signer.form_token(), now=opens - timedelta(seconds=1))
    assert db.table("comments").count == 2


def test_outside_the_window_the_page_offers_no_form_and_a_post_is_refused_with_403(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    action, hidden, _ = open_form(client, f"/c/nanchong-2022/b/{block['id']}")
    now = utc_now()
    _set_window(db, now - timedelta(days=8), now - timedelta(seconds=1))
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text)
    assert not page.xpath("//form[contains(@class,'comment-form')]")
    assert "已结束" in page.xpath("string(//p[@class='closed-note'])")
    response = client.post(action, data={**hidden, "kind": "remark", "body": "迟到的意见", "action": "submit"})
    assert response.status_code == 403
    assert "已结束" in parse_html(response.text).xpath("string(//main)")
    _set_window(db, now + timedelta(days=1), now + timedelta(days=8))
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text)
    assert not page.xpath("//form[contains(@class,'comment-form')]")
    assert "开始" in page.xpath("string(//p[@class='closed-note'])")
    assert db.table("comments").count == 0


def test_a_post_without_the_session_token_is_refused_as_cross_site(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    action, hidden, _ = open_form(client, f"/c/nanchong-2022/b/{block['id']}")
    data = {**hidden, "kind": "remark", "body": "伪造", "action": "submit"}
    assert client.post(action, data={**data, "csrf": "0" * 32}).status_code == 403
    assert client.post(action, data=data, headers={"Origin": "https://evil.example"}).status_code == 403
    from starlette.testclient import TestClient

    stranger = TestClient(client.app)  # another browser: no session cookie
    assert stranger.post(action, data=data).status_code == 403
    assert db.table("comments").count == 0


def test_more_than_ten_comments_a_minute_from_one_client_get_429(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    statuses = [comment(client, block, body=f"第{i}条").status_code for i in range(11)]
    assert statuses[:10] == [303] * 10 and statuses[10] == 429
    assert db.table("comments").count == 10


def test_an_oversized_form_is_refused_with_413(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    action, hidden, _ = open_form(client, f"/c/nanchong-2022/b/{block['id']}")
    response = client.post(action, data={**hidden, "body": "长" * 40000, "action": "submit"})
    assert response.status_code == 413 and "KB" in response.text


def test_a_published_comment_is_shown_inert_with_personal_numbers_masked(client, db):
    from revise import commenting

    block = block_with(db, "南充历史底蕴深厚")
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)> 电话13800138000 邮箱a@b.cn'
    response = comment(client, block, body=payload, name="<b>王五</b>", contact="13912345678")
    code = response.headers["location"].split("receipt=")[1].split("#")[0]
    stored = comment_store.by_receipt(db, code)
    commenting.moderate(db, nanchong(db), [stored["id"]], True, "test")
    html = client.get(f"/c/nanchong-2022/b/{block['id']}").text
    page = parse_html(html)
    (shown,) = page.xpath("//article[@class='comment']")
    assert not shown.xpath(".//script|.//img|.//b")
    assert "<script>alert(1)</script>" in shown.xpath("string(.//p[@class='body'])")
    assert "138****8000" in shown.text_content() and "13800138000" not in html
    assert "a***@b.cn" in shown.text_content()
    assert "13912345678" not in html


def test_the_contact_appears_on_no_public_page(client, db):
    from revise import commenting

    block = block_with(db, "南充历史底蕴深厚")
    response = comment(client, block, contact="contact-me@example.org", body="请联系我")
    code = response.headers["location"].split("receipt=")[1].split("#")[0]
    commenting.moderate(db, nanchong(db), [comment_store.by_receipt(db, code)["id"]], True, "test")
    pages = ["/", "/c/nanchong-2022", f"/c/nanchong-2022/b/{block['id']}", f"/r/{code}", response.headers["location"]]
    for path in pages:
        assert "contact-me" not in client.get(path).text, path
    assert comment_store.by_receipt(db, code)["contact"] == "contact-me@example.org"


def test_published_comments_appear_under_their_block_with_counts_pending_ones_do_not(client, db):
    from revise import commenting

    block = block_with(db, "南充历史底蕴深厚")
    codes = [comment(client, block, body=f"意见{i}", name="").headers["location"].split("receipt=")[1].split("#")[0] for i in range(3)]
    page = parse_html(client.get("/c/nanchong-2022").text)
    assert not page.xpath(f"//div[@id='thread-{block['id']}']/preceding-sibling::div[1]//span[@class='count']")
    ids = [comment_store.by_receipt(db, code)["id"] for code in codes]
    commenting.moderate(db, nanchong(db), ids[:2], True, "test")
    commenting.moderate(db, nanchong(db), ids[2:], False, "test")
    page = parse_html(client.get("/c/nanchong-2022").text)
    link = page.xpath(f"//a[@href='/c/nanchong-2022/b/{block['id']}']")[0]
    assert link.xpath("string(.//span[@class='count'])") == "2"
    heading = block_with(db, "(一)历史积淀深厚")
    outline = page.xpath(f"//nav[contains(@class,'toc-side')]//a[@href='#b-{heading['id']}']/following-sibling::span")
    assert outline[0].text == "2"
    thread = parse_html(client.get(f"/c/nanchong-2022/b/{block['id']}").text)
    shown = thread.xpath("//article[@class='comment']")
    assert len(shown) == 2 and all("匿名" in a.xpath("string(.//span[@class='who'])") for a in shown)
    receipt = parse_html(client.get(f"/r/{codes[2]}").text)
    assert "未公开" in receipt.xpath("string(//dd[contains(@class,'status')])")


def test_the_receipt_page_shows_the_comment_time_and_status(client, db):
    block = block_with(db, "南充历史底蕴深厚")
    code = comment(client, block, body="我的意见").headers["location"].split("receipt=")[1].split("#")[0]
    page = parse_html(client.get(f"/r/{code[:5]}-{code[5:].lower()}").text)
    assert "我的意见" in page.xpath("string(//dd[@class='body'])")
    assert "待审核" in page.xpath("string(//dd[contains(@class,'status')])")
    assert client.get("/r/ABCDEFGHJK").status_code == 404
    assert client.get("/r?code=nonsense").status_code == 400


def test_a_remark_on_the_whole_draft(client, db):
    action, hidden, _ = open_form(client, "/c/nanchong-2022/remarks")
    response = client.post(action, data={**hidden, "body": "整体意见:目标偏高。", "action": "submit"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("#receipt")  # issue #16
    assert db.table("comments").rows_where("block_id is null").__next__()["body"] == "整体意见:目标偏高。"


def test_concurrent_submissions_lose_nothing_and_duplicate_nothing(settings, client, db):
    from starlette.testclient import TestClient

    block = block_with(db, "南充历史底蕴深厚")
    client.app.state.limiter.limit = 10_000
    receipts: list[str] = []
    lock = threading.Lock()

    def resident(n):
        browser = TestClient(client.app)  # its own cookies; the app is already started
        for i in range(15):
            response = comment(browser, block, body=f"居民{n}的第{i}条意见")
            assert response.status_code == 303
            with lock:
                receipts.append(response.headers["location"].split("receipt=")[1].split("#")[0])

    threads = [threading.Thread(target=resident, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receipts) == 90
    stored = [r["receipt"] for r in db.table("comments").rows]
    assert sorted(stored) == sorted(receipts)
