"""Issue #13: the overview's charts are SVG made on the server (no JavaScript): comments per section
and per day of the comment period (Beijing days), each bar named, the figures also as a table."""

import re

import pytest
from conftest import parse_html
from lxml import etree
from test_editor import _comment, sign_in

from revise import charts
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import writing

SVG = "{http://www.w3.org/2000/svg}"


def _svgs(html: str) -> dict[str, etree._Element]:
    """Each <svg> of a page parsed as XML (so it must be well formed), by its title."""
    found = {}
    for text in re.findall(r"<svg.*?</svg>", html, re.S):
        svg = etree.fromstring(text)
        found[svg.find(f"{SVG}title").text] = svg
    return found


def test_a_bar_chart_names_every_bar_and_escapes_its_labels():
    svg = etree.fromstring(str(charts.bars("x", "Per section", "What it shows", [
        charts.Bar("<b>一、总则 & 目标</b>", 10, 4, href="/q?section=1&sort=block"), charts.Bar("二、任务", 5)])))
    assert svg.get("role") == "group" and svg.get("aria-labelledby") == "x-t x-d"  # links inside: not an image
    assert svg.find(f"{SVG}title").get("id") == "x-t" and svg.find(f"{SVG}desc").text == "What it shows"
    bars = svg.findall(f"{SVG}g")
    assert [b.find(f".//{SVG}title").text for b in bars] == ["<b>一、总则 & 目标</b>: 10", "二、任务: 5"]
    assert bars[0].find(f"{SVG}a").get("href") == "/q?section=1&sort=block"
    widths = [float(r.get("width")) for r in bars[0].iter(f"{SVG}rect")]
    assert widths[1] == pytest.approx(widths[0] * 0.4)  # the decided part, over the whole
    assert float(bars[1].find(f".//{SVG}rect").get("width")) == pytest.approx(widths[0] / 2)
    text = etree.tostring(svg, encoding="unicode")
    assert "style=" not in text and "<script" not in text


def test_a_column_chart_labels_about_eight_days_however_long_the_window():
    days = [charts.Bar(f"{d:02d}", d) for d in range(1, 61)]
    svg = etree.fromstring(str(charts.columns("d", "Per day", "60 days", days)))
    assert svg.get("role") == "img" and len(svg.findall(f"{SVG}g")) == 60
    labels = [t.text for g in svg.findall(f"{SVG}g") for t in g.findall(f"{SVG}text")]
    assert labels[0] == "01" and labels[-1] == "60" and 6 <= len(labels) <= 12


def test_the_overview_charts_comments_per_section_and_per_beijing_day(client, db):
    c = consultation_store.by_slug(db, "nanchong-2022")
    blocks = block_store.of_consultation(db, c["id"])
    top = [b for b in blocks if b["kind"] == "heading" and b["level"] == 1]
    para = next(b for b in blocks if b["kind"] == "paragraph" and top[0]["id"] in b["outline"])
    made = [_comment(db, c, para, f"意见{i}") for i in range(4)]
    with writing(db):  # a window of five Beijing days, 1-5 March 2026, and when each comment came
        db.execute("update consultations set opens_at = '2026-02-28T16:00:00Z', closes_at = '2026-03-05T16:00:00Z' "
                   "where id = ?", [c["id"]])
        db.execute("update comments set created_at = '2026-03-01T15:30:00Z' where id = ?", [made[0]["id"]])
        db.execute("update comments set created_at = '2026-03-01T16:30:00Z' where id in (?, ?)",
                   [made[1]["id"], made[2]["id"]])  # after midnight in Beijing: 2 March
        db.execute("update comments set received_on = '2026-02-20' where id = ?", [made[3]["id"]])  # a late letter
        db.execute("update comments set disposition = 'adopted' where id = ?", [made[0]["id"]])
    sign_in(client, db)
    html = client.get("/editor/c/nanchong-2022").text
    assert "<script" not in html.split("<main", 1)[-1].split("</main>")[0]
    svgs = _svgs(html)
    days = svgs["征求意见期间每日意见数"]
    tips = [g.find(f".//{SVG}title").text for g in days.findall(f"{SVG}g")]
    assert tips == ["2026-03-01:意见 1 条", "2026-03-02:意见 2 条", "2026-03-03:意见 0 条",
                    "2026-03-04:意见 0 条", "2026-03-05:意见 0 条"]
    assert "2026-03-02,共 2 条" in days.find(f"{SVG}desc").text
    sections = svgs["各章节意见数"]
    tips = [g.find(f".//{SVG}title").text for g in sections.findall(f"{SVG}g")]
    assert len(tips) == len(top) and tips[0] == f"{top[0]['text']}:意见 4 条,已处理 1 条"
    page = parse_html(html)
    table = {r.xpath("string(th)"): r.xpath("string(td)") for r in page.xpath("//table[contains(@class, 'chart-data-days')]//tr[td]")}
    assert table["2026-03-02"] == "2" and len(table) == 5
    assert "另有 1 条意见的收到日期在征求意见期间之外" in page.xpath("string(//section[@aria-labelledby='progress-h'])")
