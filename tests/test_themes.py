"""Issue #13: editors keep themes (主题) per consultation, tag comments on their page and in bulk,
filter the queue by theme, and download the 意见采纳情况表 grouped by theme."""

import csv
import io
import json

import pytest
from conftest import parse_html
from test_editor import _comment, csrf_of, sign_in

from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import groups as group_store

SLUG = "nanchong-2022"
QUEUE = f"/editor/c/{SLUG}/comments"
THEMES = f"/editor/c/{SLUG}/themes"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, SLUG)


@pytest.fixture
def paras(db, c):
    return [b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "paragraph"]


def _create(client, name):
    return client.post(THEMES, data={"csrf": csrf_of(client, THEMES), "name": name}, follow_redirects=False)


def _theme_id(db, name):
    return db.execute("select id from themes where name = ?", [name]).fetchone()[0]


def _ids(client, query):
    page = parse_html(client.get(QUEUE + query).text)
    return {v for v in page.xpath("//input[@name='ids']/@value")}


def test_themes_are_created_renamed_and_deleted_with_clear_refusals(client, db, c, paras):
    sign_in(client, db)
    assert _create(client, " 交通  出行 ").status_code == 303
    assert db.execute("select name from themes").fetchall() == [("交通 出行",)]
    same = _create(client, "交通 出行")
    assert same.status_code == 422 and "已有名为“交通 出行”的主题" in same.text
    empty = _create(client, "   ")
    assert empty.status_code == 422 and "请填写主题名称" in empty.text
    assert _create(client, "长" * 41).status_code == 422
    _create(client, "生态")
    tid = _theme_id(db, "交通 出行")
    csrf = csrf_of(client, THEMES)
    clash = client.post(f"{THEMES}/rename", data={"csrf": csrf, "theme_id": str(tid), "name": "生态"})
    assert clash.status_code == 422 and "已有名为“生态”的主题" in clash.text
    assert client.post(f"{THEMES}/rename", data={"csrf": csrf, "theme_id": str(tid), "name": "交通"},
                       follow_redirects=False).status_code == 303
    comment = _comment(db, c, paras[0], "意见")
    db.execute("insert into comment_themes (theme_id, comment_id) values (?, ?)", [tid, comment["id"]])
    page = parse_html(client.get(THEMES).text)
    assert {r.xpath("string(th)"): r.xpath("string(td[1])") for r in page.xpath("//tbody/tr")} == {"交通": "1", "生态": "0"}
    unknown = client.post(f"{THEMES}/delete", data={"csrf": csrf, "theme_id": "99999"})
    assert unknown.status_code == 422 and "请从列表中选择主题" in unknown.text
    deleted = client.post(f"{THEMES}/delete", data={"csrf": csrf, "theme_id": str(tid)})
    assert "已从 1 条意见上移除" in deleted.text
    assert db.execute("select count(*) from comment_themes").fetchone()[0] == 0
    actions = [r[0] for r in db.execute("select action from audit where action like 'theme.%' order by id")]
    assert actions == ["theme.create", "theme.create", "theme.rename", "theme.delete"]
    assert client.post(THEMES, data={"name": "无令牌"}).status_code == 403  # CSRF


def _hidden(confirm_page) -> dict:
    """The confirmation form's fields (lists for the repeated ones)."""
    form = {}
    for field in parse_html(confirm_page.text).xpath("//form[@class='bulk-confirm-form']//input[@type='hidden']"):
        name, value = field.get("name"), field.get("value") or ""
        form[name] = [*form[name], value] if name == "ids" and name in form else ([value] if name == "ids" else value)
    return form


def _confirm(client, confirm_page):
    """Confirm a stated bulk change as the editor would: send its form back."""
    assert confirm_page.status_code == 200, confirm_page.text[:300]
    action = parse_html(confirm_page.text).xpath("string(//form[@class='bulk-confirm-form']/@action)")
    return client.post(action, data=_hidden(confirm_page), follow_redirects=False)


def test_a_comment_is_tagged_on_its_page_and_in_bulk_and_the_queue_filters_by_theme(client, db, c, paras):
    sign_in(client, db)
    _create(client, "交通")
    _create(client, "生态")
    traffic, green = _theme_id(db, "交通"), _theme_id(db, "生态")
    one = _comment(db, c, paras[0], "建议增加公交线路。")
    two = _comment(db, c, paras[1], "建议保护湿地。")
    letter = "我们小区居民强烈建议在规划中明确增加城市公交线路和停车设施,方便群众出行。"
    copies = [_comment(db, c, paras[2], letter) for _ in range(3)]
    assert group_store.size(db, c["id"], db.table("comments").get(copies[0]["id"])["group_id"]) == 3

    page = f"{QUEUE}/{one['id']}"
    response = client.post(f"{page}/themes", data={"csrf": csrf_of(client, page), "theme": [str(traffic), str(green)]},
                           follow_redirects=False)
    assert response.status_code == 303
    checked = parse_html(client.get(page).text).xpath("//section[@id='themes']//input[@checked]/@value")
    assert sorted(checked) == sorted([str(traffic), str(green)])
    client.post(f"{page}/themes", data={"csrf": csrf_of(client, page), "theme": [str(traffic)]})

    # Bulk from the queue: the ticked rows, a group's row standing for every member — the exact
    # number stated first (group members included), nothing changed until it is confirmed.
    group = db.table("comments").get(copies[0]["id"])["group_id"]
    csrf = csrf_of(client, QUEUE)
    asked = client.post(f"{THEMES}/bulk", data={"csrf": csrf, "ids": [str(two["id"]), f"g:{group}"],
                                                "theme": str(traffic), "action": "tag", "query": "kind=remark"},
                        follow_redirects=False)
    assert asked.status_code == 200
    stated = parse_html(asked.text)
    assert "将处理 4 条意见(其中 2 条为所选意见的同组意见)" in stated.xpath("string(//p[@id='bulk-count'])")
    assert "交通" in stated.xpath("string(//p[@class='bulk-what'])")
    assert _ids(client, f"?theme={traffic}&grouped=0") == {str(one["id"])}  # not yet
    response = _confirm(client, asked)
    assert response.status_code == 303 and "done=tag%3A4" in response.headers["location"]
    assert "kind=remark" in response.headers["location"]
    assert _ids(client, f"?theme={traffic}&grouped=0") == {str(i) for i in [one["id"], two["id"], *[c_["id"] for c_ in copies]]}
    # A number that moved since it was stated is stated again (409), nothing changed.
    form = _hidden(asked)
    moved = client.post(f"{THEMES}/bulk", data={**form, "action": "untag", "expect": "3"}, follow_redirects=False)
    assert moved.status_code == 409
    assert _ids(client, f"?theme={traffic}&grouped=0") == {str(i) for i in [one["id"], two["id"], *[c_["id"] for c_ in copies]]}
    _confirm(client, client.post(f"{THEMES}/bulk", data={"csrf": csrf, "ids": [str(two["id"])], "theme": str(traffic),
                                                         "action": "untag"}))
    assert _ids(client, f"?theme={traffic}&grouped=0") == {str(i) for i in [one["id"], *[c_["id"] for c_ in copies]]}
    assert _ids(client, f"?theme={green}") == set()
    # "Every comment matching this filter" in the bulk bar: the filter, not the ticks.
    _confirm(client, client.post(f"{THEMES}/bulk", data={"csrf": csrf, "scope": "filter", "theme": str(green),
                                                         "action": "tag", "query": f"block={paras[1]['id']}"}))
    assert _ids(client, f"?theme={green}") == {str(two["id"])}
    nothing = client.post(f"{THEMES}/bulk", data={"csrf": csrf, "theme": str(traffic), "action": "tag"})
    assert nothing.status_code == 422 and "请至少选择一条意见" in nothing.text
    bad = client.post(f"{THEMES}/bulk", data={"csrf": csrf, "ids": [str(two["id"])], "theme": "x", "action": "tag"})
    assert bad.status_code == 422
    events = [json.loads(r[0]) for r in db.execute(
        "select after from audit where action = 'comment.tag' and subject = ?", [f"comment:{one['id']}"])]
    assert {"theme": "交通"} in events and {"theme": "生态"} in events
    assert db.execute("select count(*) from audit where action = 'comment.untag'").fetchone()[0] == 2


def test_the_report_grouped_by_theme_lists_each_theme_then_the_rest(client, db, c, paras):
    sign_in(client, db)
    _create(client, "交通")
    _create(client, "生态")
    traffic, green = _theme_id(db, "交通"), _theme_id(db, "生态")
    both = _comment(db, c, paras[3], "公交和绿道一起规划。")
    only_green = _comment(db, c, paras[0], "保护湿地。")
    untagged = _comment(db, c, paras[1], "其他意见。")
    for theme, comment in ((traffic, both), (green, both), (green, only_green)):
        db.execute("insert into comment_themes (theme_id, comment_id) values (?, ?)", [theme, comment["id"]])
    plain = client.get(f"/editor/c/{SLUG}/export/report.csv")
    themed = client.get(f"/editor/c/{SLUG}/export/report.csv?group=theme")
    assert themed.status_code == 200 and "report-by-theme" in themed.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(themed.content.decode("utf-8-sig"))))[1:]
    listed = [(r[1].split("\n")[0], r[2]) for r in rows]
    assert listed == [("主题:交通", "公交和绿道一起规划。"), ("主题:生态", "保护湿地。"),
                      ("主题:生态", "公交和绿道一起规划。"), ("未归入主题", "其他意见。")]
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert len(list(csv.reader(io.StringIO(plain.content.decode("utf-8-sig"))))) == 4  # by section: once each
    for name in ("report.docx", "report.xlsx"):
        assert client.get(f"/editor/c/{SLUG}/export/{name}?group=theme").status_code == 200
    assert client.get(f"/editor/c/{SLUG}/export/plan.docx?group=theme").status_code == 404
    assert untagged["id"]
