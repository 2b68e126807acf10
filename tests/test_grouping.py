"""Form letters and near-duplicates are grouped as they arrive, shown once, decided once, reported once."""

import csv
import io
import random

import pytest
from conftest import parse_html
from test_editor import _comment, bulk, csrf_of, sign_in

from revise import grouping, report
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store

LETTER = (
    "尊敬的规划编制组:我们是南充市顺庆区的居民,长期关注嘉陵江沿岸的生态保护与城市发展。我们认为草案关于滨江路改造的内容"
    "考虑不够周全,建议在滨江路改造中保留现有的黄葛树和滨江步道,不要为拓宽车道而砍伐沿江树木;同时建议增设非机动车道和"
    "无障碍设施,方便老人和儿童出行。嘉陵江是南充的母亲河,滨江一带是市民日常休闲的主要场所,希望规划能够坚持生态优先、"
    "以人为本,在提升交通能力的同时守住城市的绿色记忆。我们还建议在沿江增设夜间照明和公共卫生间,完善休闲配套,"
    "并定期对步道进行维护。同时希望在改造前公开设计方案,广泛征求周边居民的意见。"
    "恳请编制组认真考虑我们的意见,并在最终方案中予以体现。此致敬礼!居民张三"
)
ADDED = [
    "另外,我家就住在滨江路旁边,每天早晚都在步道上散步,非常舍不得这些老树。",
    "我的孩子在附近上学,希望上下学路上能有安全的人行道。",
    "建议施工期间做好交通疏导,减少对周边商户的影响。",
    "我们小区很多老人都有同样的想法,大家联名表示支持。",
]
NAMES = ["李四", "王小明", "赵丽华", "陈建国", "刘洋", "周敏", "吴刚", "郑晓燕"]
UNRELATED = [
    "建议将2025年规模以上工业增加值增速目标由8%调整为10%,并补充数字经济核心产业占比的具体指标。",
    "高坪机场年旅客吞吐量的数据应更新为2022年的最新统计,并补充新开航线的发展目标。",
    "乡村振兴部分应增加对柑橘、生猪等特色产业的品牌建设支持,培育区域公用品牌。",
    "教育资源配置方面,建议新建两所公办高中,缓解城区学位紧张的问题。",
    "医疗卫生部分建议明确县级医院能力提升的时间表,并补充基层医生的培养计划。",
    "文化旅游方面应深挖三国文化和红色文化资源,打造阆中古城精品旅游线路。",
    "建议在城市更新中优先改造老旧小区的供水管网和燃气管道,消除安全隐患。",
    "营商环境部分应提出压缩企业开办时间的量化目标,推行一网通办。",
    "物流枢纽建设需要与成渝地区双城经济圈规划衔接,明确铁路货运场站的布局。",
    "建议增加对中小企业融资担保的支持措施,设立专项的风险补偿资金池。",
]


def variant(i: int, rng: random.Random) -> str:
    """One copy of the campaign letter: a changed name, often a sentence added, sometimes other punctuation."""
    text = LETTER.replace("张三", NAMES[i % len(NAMES)] + str(i) if i % 3 else "张三")
    if i % 2:
        text = text.replace("此致敬礼", rng.choice(ADDED) + "此致敬礼")
    if i % 5 == 0:
        text = text.replace(",", ", ").replace("。", "!").replace(";", ",")
    return text


def unrelated(i: int) -> str:
    """Comments on other topics: a sentence of the pool and words of the commenter's own."""
    rng = random.Random(i)
    own = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(40))
    return UNRELATED[i % len(UNRELATED)] + own + "。"


def fingerprint(body: str, **fields) -> grouping.Fingerprint:
    return grouping.fingerprint({"kind": "remark", "body": body, "suggestion": "", "block_id": None, **fields})


def estimated(a: str, b: str) -> float:
    return grouping.similarity(fingerprint(a).signature, fingerprint(b).signature)


def test_an_identical_letter_is_the_same_letter():
    assert estimated(LETTER, LETTER) == 1.0
    retyped = variant(0, random.Random(0))  # the same words, other punctuation
    assert retyped != LETTER and fingerprint(retyped).keys == fingerprint(LETTER).keys
    assert not set(fingerprint(LETTER).keys) & set(fingerprint(unrelated(1)).keys)


def test_a_letter_with_a_sentence_added_or_a_name_changed_is_the_same_letter():
    assert 290 <= len(LETTER) <= 310 and len(grouping.normalise(LETTER)) > 250  # a 300-character letter
    assert estimated(LETTER, LETTER.replace("此致敬礼", ADDED[0] + "此致敬礼")) >= grouping.THRESHOLD
    assert estimated(LETTER, LETTER.replace("张三", "王小明")) >= 0.9


def test_changed_punctuation_and_spaces_do_not_count():
    changed = LETTER.replace(",", ", ").replace("。", "!").replace(";", "。").replace(":", " ")
    assert grouping.normalise(changed) == grouping.normalise(LETTER)
    assert estimated(LETTER, changed) == 1.0
    assert grouping.normalise("ＡＢＣ １２３。") == "abc123"  # full-width forms fold (NFKC)


def test_a_comment_on_another_topic_is_not_the_same_letter():
    for other in UNRELATED:
        assert estimated(LETTER, other * 3) < 0.2
    assert not set(fingerprint(LETTER).keys) & set(fingerprint(UNRELATED[0] + UNRELATED[1]).keys)


def test_two_comments_quoting_the_same_passage_with_different_opinions_are_not_the_same():
    quote = "草案关于滨江路改造的内容考虑不够周全,建议在滨江路改造中保留现有的黄葛树和滨江步道"
    a = quote + "我支持这个方案,但是希望施工期间注意交通疏导,避免影响附近居民正常出行和商户经营。"
    b = quote + "我反对拓宽车道,应当优先发展公共交通,增加公交线路和班次,而不是鼓励更多私家车进入。"
    assert estimated(a, b) < grouping.THRESHOLD


def test_short_comments_group_only_with_exact_duplicates_on_the_same_paragraph():
    assert fingerprint("同意").signature is None
    assert fingerprint("同意").keys == fingerprint(" 同意。").keys  # punctuation and spaces ignored
    assert fingerprint("同意").keys != fingerprint("支持").keys
    assert fingerprint("同意本方案的主要目标").keys != fingerprint("同意本方案的主要内容").keys
    assert fingerprint("同意", block_id=3).keys != fingerprint("同意", block_id=4).keys


def test_the_same_letter_proposing_different_wording_is_not_the_same():
    one = fingerprint(LETTER, kind="edit", suggestion="保留黄葛树。", block_id=5)
    other = fingerprint(LETTER, kind="edit", suggestion="移栽黄葛树。", block_id=5)
    assert not set(one.keys) & set(other.keys)
    assert set(one.keys) == set(fingerprint(LETTER, kind="edit", suggestion="保留黄葛树!", block_id=7).keys)


def test_the_bands_cover_the_signature():
    assert grouping.BANDS * grouping.ROWS == grouping.BINS == len(fingerprint(LETTER).signature)
    assert len(fingerprint(LETTER).keys) == grouping.BANDS


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def campaign(db, c):
    """200 copies of a letter with small edits, sent through the real submit path among 50 other comments."""
    rng = random.Random(7)
    letters, others = [], []
    for i in range(250):
        if i % 5 == 4:
            others.append(_comment(db, c, None, unrelated(len(others))))
        else:
            letters.append(_comment(db, c, None, variant(len(letters), rng)))
    return {"letters": letters, "others": others}


def test_a_campaign_of_200_edited_copies_is_one_group_without_the_other_comments(db, c, campaign):
    groups = {row["id"]: row["group_id"] for row in db.query("select id, group_id from comments")}
    letter_groups = {groups[m["id"]] for m in campaign["letters"]}
    assert len(letter_groups) == 1 and None not in letter_groups
    (group,) = letter_groups
    assert not [o for o in campaign["others"] if groups[o["id"]] == group]
    assert campaign["letters"][-1]["group_id"] == group  # submit returns the comment with its group
    # Identical and near-identical copies add few band keys: lookups stay short as a campaign grows.
    bands = db.execute("select count(*) from comment_bands where comment_id in "
                       "(select id from comments where group_id = ?)", [group]).fetchone()[0]
    assert bands < 200 * grouping.BANDS / 4
    assert db.execute("select count(*) from comment_signatures").fetchone()[0] == 250


def test_short_duplicates_group_through_submit_and_other_short_comments_do_not(db, c):
    para = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))
    same = [_comment(db, c, para, body) for body in ("同意", "同意。", "同意!")]
    assert same[0]["group_id"] is None and same[1]["group_id"] == same[2]["group_id"] is not None
    assert _comment(db, c, para, "支持")["group_id"] is None
    assert _comment(db, c, None, "同意")["group_id"] is None  # the same word on another paragraph


def test_a_comment_like_two_groups_joins_its_best_match_and_the_groups_stay_apart(db, c):
    from revise.store import groups as group_store
    from revise.store import writing

    a = [_comment(db, c, None, LETTER), _comment(db, c, None, LETTER.replace("张三", "李四"))]
    longer = LETTER.replace("此致敬礼", "".join(ADDED) + "此致敬礼")
    assert grouping.THRESHOLD <= estimated(LETTER, longer) < 0.9
    b = _comment(db, c, None, longer)  # joins the first group: similar enough
    with writing(db):  # a later split, faked: the longer letter in a group of its own
        b_group = group_store.new_group(db, c["id"], [b["id"]], "2024-03-01T00:00:00Z")
    new = _comment(db, c, None, longer.replace("张三", "王五"))
    assert new["group_id"] == b_group  # its best match, not the older group
    groups = {r["id"]: r["group_id"] for r in db.query("select id, group_id from comments")}
    assert groups[a[0]["id"]] == groups[a[1]["id"]] == a[1]["group_id"] != b_group


def test_a_comment_is_kept_when_grouping_fails_and_is_placed_later(db, c, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(grouping, "_place", broken)
    first = _comment(db, c, None, LETTER)
    second = _comment(db, c, None, LETTER)
    assert first["receipt"] and second["group_id"] is None
    assert db.table("comments").get(second["id"])["body"] == LETTER
    assert "could not group comment" in caplog.text
    monkeypatch.undo()
    assert grouping.place_missing(db, c["id"]) == 2
    assert db.table("comments").get(first["id"])["group_id"] == db.table("comments").get(second["id"])["group_id"]
    assert grouping.place_missing(db, c["id"]) == 0


def test_a_comment_is_kept_when_its_signature_cannot_be_computed(db, c, monkeypatch, caplog):
    def broken(*args):
        raise ValueError("bad text")

    monkeypatch.setattr(grouping, "fingerprint", broken)
    made = _comment(db, c, None, LETTER)
    assert made["receipt"] and db.table("comments").get(made["id"])["group_id"] is None
    assert "could not fingerprint" in caplog.text


def queue_rows(client, query=""):
    """The queue's first two pages and their rows."""
    pages = [parse_html(client.get(f"/editor/c/nanchong-2022/comments?page={n}&{query}").text) for n in (1, 2)]
    return pages[0], [row for page in pages for row in page.xpath("//ol[@class='queue-list']/li[@class!='empty']")]


def test_the_queue_shows_the_campaign_once_with_its_size_and_its_members_on_demand(client, db, c, campaign):
    sign_in(client, db)
    page, rows = queue_rows(client)
    assert len(rows) == 51  # the campaign once, the 50 others (one page of 50 and one more)
    assert "(51)" in page.xpath("string(//h1)")
    picks = [v for row in rows for v in row.xpath(".//input[@name='ids']/@value")]
    group = campaign["letters"][-1]["group_id"]
    assert f"g:{group}" in picks and str(campaign["letters"][0]["id"]) not in picks
    row = next(r for r in rows if r.xpath(f".//input[@value='g:{group}']"))
    link = row.xpath(".//p[@class='group']/a")[0]
    assert link.text_content() == "同类意见 200 条" and link.get("hx-get") == link.get("href")
    one = parse_html(client.get(f"/editor/c/nanchong-2022/comments/{campaign['letters'][5]['id']}").text)
    assert one.xpath("//a[text()='同类意见 200 条']/@href")[0].endswith("/group")  # from one member too
    members = parse_html(client.get(link.get("href")).text)
    assert "200" in members.xpath("string(//h1)")
    assert len(members.xpath("//ol[contains(@class, 'group-members')]/li")) == 200
    fragment = client.get(link.get("href"), headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and fragment.count("<li") == 200
    # Each one: the 250 comments one by one.
    page, each = queue_rows(client, "grouped=0")
    assert len(each) == 100 and "(250)" in page.xpath("string(//h1)")


def test_a_filter_shows_the_group_when_a_new_member_waits_for_a_decision(client, db, c, campaign):
    from revise import triage

    letters = campaign["letters"]
    triage.decide(db, c, [m["id"] for m in letters[:-1]], "reflected", "", "张编辑")
    sign_in(client, db)
    _, rows = queue_rows(client, "disposition=pending")
    shown = [r for r in rows if r.xpath(".//p[@class='group']")]
    assert len(shown) == 1 and shown[0].xpath(f".//a[text()='#{letters[-1]['id']}']")
    assert "1 条待处理" in shown[0].text_content()


def test_one_disposition_on_the_group_row_decides_all_200(client, db, c, campaign):
    sign_in(client, db)
    group = campaign["letters"][-1]["group_id"]
    other = campaign["others"][0]["id"]
    response = bulk(client, {
        "csrf": csrf_of(client, "/editor/c/nanchong-2022/comments"), "ids": [f"g:{group}", str(other)],
        "action": "decide", "disposition": "rejected", "reason": "滨江路不拓宽车道,已在规划中明确。"})
    assert response.status_code == 303 and "decide%3A201" in response.headers["location"]
    decided = {r["id"]: (r["disposition"], r["disposition_reason"]) for r in db.query("select * from comments")}
    assert {decided[m["id"]] for m in campaign["letters"]} == {("rejected", "滨江路不拓宽车道,已在规划中明确。")}
    assert decided[other][0] == "rejected"
    assert {decided[o["id"]][0] for o in campaign["others"][1:]} == {"pending"}
    events = db.execute("select count(*) from audit where action = 'comment.disposition'").fetchone()[0]
    assert events == 201


def test_a_group_of_another_consultation_is_not_decided(client, db, c, campaign):
    sign_in(client, db)
    group = campaign["letters"][-1]["group_id"]
    db.execute("pragma foreign_keys = off")  # the group is moved to a consultation that does not exist
    db.execute("update comments set consultation_id = 999 where group_id = ?", [group])
    bulk(client, {
        "csrf": csrf_of(client, "/editor/c/nanchong-2022/comments"), "ids": [f"g:{group}"],
        "action": "decide", "disposition": "adopted", "reason": ""})
    assert {r["disposition"] for r in db.query("select disposition from comments where group_id = ?", [group])} == {"pending"}


def test_the_report_has_one_row_for_the_campaign(db, c, campaign):
    from revise import triage

    triage.decide(db, c, [m["id"] for m in campaign["letters"]], "reflected", "", "张编辑")
    made = report.build_report(db, c, "zh_CN")
    assert made.total == 250 and len(made.rows) == 51
    (row,) = [r for r in made.rows if len(r.comment_ids) > 1]
    assert sorted(row.comment_ids) == sorted(m["id"] for m in campaign["letters"])
    assert row.sender == "公众(同类意见 200 条)" and row.disposition == "已有体现"
    assert [r.number for r in made.rows] == list(range(1, 52))
    lines = list(csv.reader(io.StringIO(report.report_csv(made).decode("utf-8-sig"))))
    assert len(lines) == 52 and sum("同类意见 200 条" in cell for line in lines for cell in line) == 1


def test_the_report_folds_only_members_decided_alike(db, c, campaign):
    from revise import triage

    letters = [m["id"] for m in campaign["letters"]]
    triage.decide(db, c, letters[:150], "reflected", "", "张编辑")
    triage.decide(db, c, letters[150:], "rejected", "与规划定位不符", "张编辑")
    triage.decide(db, c, letters[-1:], "rejected", "另有理由", "张编辑")
    rows = [r for r in report.build_report(db, c, "zh_CN").rows if set(r.comment_ids) <= set(letters)]
    assert sorted(len(r.comment_ids) for r in rows) == [1, 49, 150]
    assert {r.sender for r in rows} == {"公众(同类意见 150 条)", "公众(同类意见 49 条)", "公众"}
    assert {r.disposition for r in rows if len(r.comment_ids) == 49} == {"不予采纳"}
