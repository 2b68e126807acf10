"""The queue pages through any number of comments with Next/Previous links (keyset cursors, no
JavaScript): every comment once, in order, agreeing with the filters; short words are found as a
substring search would find them; the overview's counts stay right as comments come and change."""

import io
import random
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import parse_html
from openpyxl import load_workbook
from test_editor import sign_in

from revise import exporting, triage
from revise.store import blocks as block_store
from revise.store import bulk
from revise.store import consultations as consultation_store
from revise.store import queue as queue_store

QUEUE = "/editor/c/nanchong-2022/comments"
WORDS = ["偏高", "同意", "机场", "建议", "ab", "AB", "%", "_", "好"]


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def many(db, c):
    """230 comments over a few blocks, statuses and dispositions, two form-letter groups."""
    rng = random.Random(7)
    blocks = [b for b in block_store.of_consultation(db, c["id"])][:12]
    rows = []
    for i in range(230):
        block = rng.choice([None, *blocks])
        group = ("letter", i % 2) if i % 9 == 0 else None
        body = rng.choice(["目标偏高,建议分年度细化。", "同意。", "建议补充机场航线发展目标。", "写得好", "ab 测试",
                           "100% 达成", "a_b", "没有意见", "<a&b> =1+1"]) + f"(第{i}条)"
        rows.append({
            "consultation_id": c["id"], "block_id": block["id"] if block else None, "block_rev": 0 if block else None,
            "kind": "remark", "source": rng.choice(["public", "public", "department"]), "department_id": None,
            "name": "", "contact": "", "body": body, "suggestion": "AB" if i % 17 == 0 else "", "quote": None,
            "quote_start": None, "anchor_start": None, "anchor_rev": None, "anchor_state": None,
            "receipt": f"R{i:09d}", "form_token": f"t-{i}", "status": rng.choice(["pending", "published", "hidden"]),
            "created_at": f"2024-03-01T00:{i // 60:02d}:{i % 60:02d}Z", "disposition": "pending",
            "disposition_reason": None, "decided_by": None, "decided_at": None, "channel": "web",
            "received_on": None, "late_reason": None, "entered_by": None, "group": group, "extra_blocks": None,
        })
    bulk.insert_comments(db, rows, grouping="known")
    return db.execute("select id from comments where consultation_id = ? order by id", [c["id"]]).fetchall()


def shown(page) -> list[int]:
    """The comment ids of a queue page's rows, in order."""
    return [int(t.lstrip("#")) for t in page.xpath("//ol[@class='queue-list']//p[@class='meta']/a[1]/text()")]


def walk(client, query: str, back: bool = False) -> list[int]:
    """Follow the Next links from the first page to the last; the ids shown, in order."""
    seen, url, pages = [], QUEUE + query, []
    while url:
        page = parse_html(client.get(url).text)
        pages.append(url)
        seen += shown(page)
        nxt = page.xpath("//nav[@class='pages']//a[@rel='next']/@href")
        url = QUEUE + nxt[0] if nxt else None
        assert len(pages) < 100
    if back:  # and back again with Previous: the same pages in reverse
        url, again = pages[-1], []
        while url:
            page = parse_html(client.get(url).text)
            again = shown(page) + again
            prev = page.xpath("//nav[@class='pages']//a[@rel='prev']/@href")
            url = QUEUE + prev[0] if prev else None
        return seen, again
    return seen


def expected(db, c, f: queue_store.Filters) -> list[int]:
    """What the queue must show, computed the slow, obvious way."""
    where, params = queue_store._where(db, c["id"], f)
    rows = db.execute(f"select c.id, c.group_id, coalesce(b.position, -1) from comments c "
                      f"left join blocks b on b.id = c.block_id where {where}", params).fetchall()
    if f.grouped:
        firsts = {}
        for cid, group, _pos in sorted(rows):
            if group is not None:
                firsts.setdefault(group, cid)
        rows = [r for r in rows if r[1] is None or firsts[r[1]] == r[0]]
    if f.sort == "time":
        return [r[0] for r in sorted(rows, key=lambda r: -r[0])]
    return [r[0] for r in sorted(rows, key=lambda r: (r[2], r[0]))]


@pytest.mark.parametrize("query, filters", [
    ("", queue_store.Filters()),
    ("?grouped=0", queue_store.Filters(grouped=False)),
    ("?sort=block", queue_store.Filters(sort="block")),
    ("?status=pending&sort=block", queue_store.Filters(status="pending", sort="block")),
    ("?source=department&grouped=0", queue_store.Filters(source="department", grouped=False)),
])
def test_next_links_walk_every_comment_exactly_once_in_order(client, db, c, many, query, filters):
    sign_in(client, db)
    forward, backward = walk(client, query, back=True)
    assert forward == expected(db, c, filters)
    assert len(forward) == len(set(forward))
    assert backward == forward  # Previous links give the same pages back


def test_a_section_filter_pages_through_the_section_only(client, db, c, many):
    sign_in(client, db)
    heading = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "heading" and b["level"] == 2)
    f = queue_store.Filters(section=heading["id"], status="published", sort="block")
    assert walk(client, f"?section={heading['id']}&status=published&sort=block") == expected(db, c, f)


def test_old_page_numbers_lead_to_the_same_rows(client, db, c, many):
    sign_in(client, db)
    all_rows = expected(db, c, queue_store.Filters(grouped=False))
    response = client.get(QUEUE + "?page=3&grouped=0", follow_redirects=False)
    assert response.status_code == 303
    assert parse_qs(urlparse(response.headers["location"]).query)["after"] == [str(all_rows[99])]
    page = parse_html(client.get(QUEUE + "?page=3&grouped=0").text)
    assert shown(page) == all_rows[100:150]


def test_the_count_is_exact_below_the_cap_and_capped_above(client, db, c, many, monkeypatch):
    sign_in(client, db)
    n = len(expected(db, c, queue_store.Filters(grouped=False)))
    assert f"({n})" in parse_html(client.get(QUEUE + "?grouped=0").text).xpath("string(//h1)")
    monkeypatch.setattr(queue_store, "COUNT_CAP", 100)
    monkeypatch.setattr(queue_store.count, "__defaults__", (100,))
    assert "(100+)" in parse_html(client.get(QUEUE + "?grouped=0").text).xpath("string(//h1)")


@pytest.mark.parametrize("word", WORDS)
def test_a_short_word_finds_what_a_substring_search_finds_window_by_window(client, db, c, many, monkeypatch, word):
    monkeypatch.setattr(queue_store, "SHORT_SCAN", 40)  # several windows on a small database
    sign_in(client, db)
    like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    want = [r[0] for r in db.execute(
        "select id from comments where consultation_id = ? and (body like ? escape '\\' or suggestion like ? escape '\\') "
        "order by id desc", [c["id"], like, like])]
    assert walk(client, f"?grouped=0&q={word}") == want


def test_the_overview_counts_follow_new_comments_and_decisions(client, db, c, many):
    sign_in(client, db)
    truth = dict(db.execute("select disposition, count(*) from comments where consultation_id = ? group by 1",
                            [c["id"]]).fetchall())
    assert queue_store.counts_by(db, c["id"], "disposition") == truth
    some = [r[0] for r in many[:30]]
    triage.decide(db, c, some, "rejected", "超出本方案范围。", "张编辑")
    by_disposition = queue_store.counts_by(db, c["id"], "disposition")
    assert by_disposition == {"pending": truth["pending"] - 30, "rejected": 30}
    per_block = queue_store.counts_per_block(db, c["id"])
    assert per_block == dict(db.execute("select block_id, count(*) from comments where consultation_id = ? "
                                        "group by 1", [c["id"]]).fetchall())
    page = parse_html(client.get("/editor/c/nanchong-2022").text)
    assert str(sum(per_block.values())) in page.xpath("string(//h2[@id='figures-h'])")


def test_a_streamed_xlsx_report_holds_every_row(db, c, many):
    with exporting.snapshot(db, c) as snap:
        data = exporting.render(snap, "report.xlsx")  # streamed from the database
        made = snap.report  # the same report as a list
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    values = list(ws.iter_rows(values_only=True))
    head = next(i for i, row in enumerate(values) if row and row[0] == "序号")
    body = [row for row in values[head + 1:] if row and row[0] is not None]
    assert [row[0] for row in body] == list(range(1, len(made.rows) + 1))
    assert [row[2] for row in body] == [r.comment for r in made.rows]
    folded = sum(len(r.comment_ids) for r in made.rows)
    assert folded == made.total == len(many)  # a group's row stands for its members


@pytest.mark.parametrize("status", ["published", "pending", "hidden"])
@pytest.mark.parametrize("grouped", [True, False])
def test_a_status_within_a_section_or_a_block_is_counted_exactly(db, c, many, status, grouped):
    """The count reads such a filter through the (block, status) index: the same number as the rows."""
    heading = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "heading" and b["level"] == 2)
    for f in (queue_store.Filters(section=heading["id"], status=status, grouped=grouped),
              queue_store.Filters(block=heading["id"] + 1, status=status, grouped=grouped)):
        n = len(expected(db, c, f))
        assert queue_store.count(db, c["id"], f, cap=10_000) == (n, False)
        assert n and queue_store.count(db, c["id"], f, cap=n - 1) == (n - 1, True)
