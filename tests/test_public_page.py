"""The public page: a resident reads the draft paragraph by paragraph, ready for comments."""

import io
import json
from datetime import timedelta

import docx
import pytest
from conftest import parse_html

from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.timeutil import to_text, utc_now


def test_first_start_lists_the_nanchong_draft_on_the_home_page(client):
    page = parse_html(client.get("/").text)
    links = page.xpath("//ul[@class='consultations']//a")
    assert [a.text_content() for a in links] == ["南充市创建省级创新型城市建设方案(2022—2024年)(征求意见稿)"]
    assert links[0].get("href").endswith("/c/nanchong-2022")


def test_consultation_page_shows_the_notice_and_its_issuer(client):
    response = client.get("/c/nanchong-2022")
    assert response.status_code == 200
    page = parse_html(response.text)
    assert "南充市科学技术局" in page.xpath("string(//p[@class='issuer'])")
    assert page.xpath("string(//p[@class='notice-text'])").startswith("为深入实施创新驱动发展战略")
    assert "0817—2223280" in page.xpath("string(//p[@class='contact'])")


def test_every_block_is_on_the_page_with_a_stable_anchor(client, db):
    cid = consultation_store.by_slug(db, "nanchong-2022")["id"]
    blocks = block_store.of_consultation(db, cid)
    page = parse_html(client.get("/c/nanchong-2022").text)
    anchors = [el.get("id") for el in page.xpath("//*[contains(concat(' ', @class, ' '), ' block ')]")]
    assert anchors == [f"b-{b['id']}" for b in blocks]
    # and the same ids on a second visit: links to #b-N keep working
    again = parse_html(client.get("/c/nanchong-2022").text)
    assert anchors == [el.get("id") for el in again.xpath("//*[contains(concat(' ', @class, ' '), ' block ')]")]


def test_headings_keep_their_levels_and_numbers(client):
    page = parse_html(client.get("/c/nanchong-2022").text)
    level1 = [h.text_content().rstrip("#") for h in page.xpath("//h2[contains(@class,'heading')]")]
    assert level1 == ["一、发展基础", "二、建设思路", "三、主要目标", "四、重点任务", "五、保障措施", "六、进度安排"]
    level3 = [h.text_content().rstrip("#") for h in page.xpath("//h4[contains(@class,'heading')]")]
    assert "1.提升产业功能平台能级" in level3


def test_outline_links_to_every_heading_and_to_the_targets_table(client):
    page = parse_html(client.get("/c/nanchong-2022").text)
    outline = page.xpath("//nav[contains(@class,'toc-side')]//a")
    targets = {a.get("href")[1:] for a in outline}
    headings = {h.get("id") for h in page.xpath("//*[contains(@class,'heading')]")}
    assert headings <= targets
    table_link = [a for a in outline if "主要目标表" in a.text_content()]
    assert len(table_link) == 1
    target = page.get_element_by_id(table_link[0].get("href")[1:])
    assert target.text_content().startswith("南充市省级创新型城市建设主要目标表")


def test_the_targets_table_is_a_table_with_its_merged_cells(client):
    page = parse_html(client.get("/c/nanchong-2022").text)
    (table,) = page.xpath("//table")
    rows = table.xpath(".//tr")
    header = [c.text_content() for c in rows[0] if c.get("class") != "row-tools"]
    assert header == ["一级指标", "序号", "二级指标", "2021年", "2024年"]
    spans = {c.text_content().replace("\n", ""): int(c.get("rowspan", 1)) for c in table.xpath(".//td[@rowspan]")}
    assert spans["创新要素集聚能力"] == 11  # indicators 1-6 and the five rows of 7
    assert spans["综合实力和产业竞争力"] == 8
    assert spans["创新对社会民生发展的支撑"] == 6
    assert spans["创新政策体系和治理架构"] == 5
    assert spans["7"] == 5
    qualitative = table.xpath(".//td[@colspan='2']")
    assert [c.text_content() for c in qualitative] == ["定性评价"] * 4
    # every row is its own addressable block
    assert all(r.get("id", "").startswith("b-") for r in rows)


def _set_window(db, opens, closes):
    c = consultation_store.by_slug(db, "nanchong-2022")
    consultation_store.set_window(db, c["id"], to_text(opens), to_text(closes))


@pytest.mark.parametrize(
    ("opens", "closes", "state"),
    [
        (timedelta(days=1), timedelta(days=8), "not_yet_open"),
        (timedelta(days=-1), timedelta(days=6), "open"),
        (timedelta(days=-8), timedelta(days=-1), "closed"),
    ],
)
def test_the_window_box_says_whether_commenting_is_open(client, db, opens, closes, state):
    now = utc_now()
    _set_window(db, now + opens, now + closes)
    page = parse_html(client.get("/c/nanchong-2022").text)
    (box,) = page.xpath("//section[contains(@class,'window')]")
    assert state in box.get("class").split()
    words = {"not_yet_open": "开始", "open": "截止", "closed": "已结束"}
    assert words[state] in box.text_content()


def test_window_times_are_shown_in_beijing_time(client, db):
    from datetime import datetime, timezone

    _set_window(db, datetime(2022, 10, 7, 16, 0, tzinfo=timezone.utc), datetime(2022, 10, 14, 16, 0, tzinfo=timezone.utc))
    box = parse_html(client.get("/c/nanchong-2022").text).xpath("string(//section[contains(@class,'window')])")
    assert "2022年10月8日 00:00" in box and "2022年10月15日 00:00" in box


def test_english_is_chosen_by_lang_parameter_and_remembered(client):
    response = client.get("/c/nanchong-2022?lang=en")
    page = parse_html(response.text)
    assert page.get("lang") == "en"
    assert page.xpath("string(//nav[contains(@class,'toc-side')]/h2)") == "Contents"
    assert "lang=en" in response.headers["set-cookie"]
    # the choice sticks for the next page
    assert parse_html(client.get("/").text).get("lang") == "en"


def test_accept_language_chooses_english_and_chinese_is_the_default(client):
    assert parse_html(client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).text).get("lang") == "en"
    page = parse_html(client.get("/", headers={"Accept-Language": "fr"}).text)
    assert page.get("lang") == "zh-CN"
    assert page.xpath("string(//h1)") == "公开征求意见"


@pytest.mark.parametrize("path", ["/", "/c/nanchong-2022", "/c/no-such-thing", "/static/site.css"])
def test_every_answer_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_an_unknown_consultation_is_a_clear_404_in_chinese(client):
    response = client.get("/c/no-such-thing")
    assert response.status_code == 404
    assert parse_html(response.text).xpath("string(//h1)") == "页面不存在"


def test_the_page_has_no_inline_script_or_style(client):
    page = parse_html(client.get("/c/nanchong-2022").text)
    scripts = page.xpath("//script")
    assert all("/static/" in s.get("src") for s in scripts)
    assert "htmx-2.0.11.min.js" in [s.get("src").rsplit("/", 1)[-1] for s in scripts]
    assert all(not (s.text or "").strip() for s in scripts)
    assert not page.xpath("//*[@style]")  # CSP: no inline styles either
    assert page.xpath("//meta[@name='viewport']")


def test_document_text_is_escaped_not_interpreted(settings, tmp_path):
    from starlette.testclient import TestClient

    from revise import drafts
    from revise.app import create_app
    from revise.store import open_database
    from revise.window import default_window

    document = docx.Document()
    document.add_paragraph('<script>alert("x")</script><b>粗</b>')
    buf = io.BytesIO()
    document.save(buf)
    db = open_database(settings.db_path)
    drafts.import_draft(db, buf.getvalue(), filename="x.docx", slug="xss", window=default_window(), settings=settings)
    db.close()
    with TestClient(create_app(settings)) as c:
        html = c.get("/c/xss").text
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    page = parse_html(html)
    assert not page.xpath("//div[@class='draft']//b")


def test_the_embedded_notice_is_the_seed_notice_verbatim(shared_dir):
    from revise.settings import DEFAULT_NOTICE

    notice = json.loads(DEFAULT_NOTICE.read_text(encoding="utf-8"))
    seed = (shared_dir / "seed" / "000_9eafd9a176462cfb.txt").read_text(encoding="utf-8")
    assert notice["notice"] in seed and notice["issuer"] in seed
    for line in notice["contact"].splitlines():
        assert line in seed
    assert f"《{notice['title']}》" in seed
