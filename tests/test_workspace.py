"""The editor's workspace: turn suggestions into revisions, edit directly, never lose a colleague's save."""

import pytest
from conftest import parse_html
from test_editor import _comment, csrf_of, sign_in

from revise import versions
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def para(db, c):
    return next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))


def path(block, action=""):
    return f"/editor/c/nanchong-2022/b/{block['id']}" + (f"/{action}" if action else "")


def test_the_workspace_shows_the_text_its_revision_and_each_suggestion_as_a_diff(client, db, c, para):
    _comment(db, c, para, "建城史有误", kind="edit", suggestion=para["text"].replace("2200多年", "2300多年"))
    sign_in(client, db)
    page = parse_html(client.get(path(para)).text)
    assert "第 0 版" in page.xpath("string(//h1)")
    assert page.xpath("string(//p[@class='current-text'])") == para["text"]
    diff = page.xpath("//article[contains(@class,'comment')]//p[@class='diff']")[0]
    assert [d.text for d in diff.xpath("del")] == ["2"] and [i.text for i in diff.xpath("ins")] == ["3"]


def test_accepting_a_suggestion_makes_a_revision_and_marks_the_comment_adopted(client, db, c, para):
    suggestion = para["text"].replace("2200多年", "2300多年")
    comment = _comment(db, c, para, "建城史有误", kind="edit", suggestion=suggestion)
    sign_in(client, db)
    csrf = csrf_of(client, path(para))
    response = client.post(path(para, "accept"), data={"csrf": csrf, "base_number": "0", "comment_id": str(comment["id"]),
                                                         "adjust": "0", "text": suggestion}, follow_redirects=False)
    assert response.status_code == 303
    block = block_store.get(db, c["id"], para["id"])
    assert block["text"] == suggestion and block["rev"] == 1
    row = db.table("comments").get(comment["id"])
    assert row["disposition"] == "adopted" and row["disposition_revision_id"]
    revision = db.table("revisions").get(row["disposition_revision_id"])
    assert revision["author_name"] == "张编辑" and revision["number"] == 1


def test_adjusting_the_wording_first_marks_it_partly_adopted(client, db, c, para):
    suggestion = para["text"].replace("2200多年", "2300多年")
    comment = _comment(db, c, para, "建城史有误", kind="edit", suggestion=suggestion)
    sign_in(client, db)
    adjusted = para["text"].replace("2200多年", "约2300年")
    data = {"csrf": csrf_of(client, path(para)), "base_number": "0", "comment_id": str(comment["id"]),
            "adjust": "1", "text": adjusted}
    refused = client.post(path(para, "accept"), data=data)
    assert refused.status_code == 422 and "理由" in parse_html(refused.text).xpath("string(//p[@class='error'])")
    client.post(path(para, "accept"), data={**data, "reason": "年代表述改为约数"})
    assert block_store.get(db, c["id"], para["id"])["text"] == adjusted
    assert db.table("comments").get(comment["id"])["disposition"] == "partly"


def test_a_direct_edit_previews_the_change_then_saves_a_revision(client, db, c, para):
    sign_in(client, db)
    new_text = para["text"].replace("千吨级船舶", "两千吨级船舶")
    csrf = csrf_of(client, path(para))
    preview = client.post(path(para, "preview"), data={"csrf": csrf, "text": new_text}, headers={"HX-Request": "true"})
    assert parse_html(preview.text).xpath("string(//ins)") == "两"
    client.post(path(para, "edit"), data={"csrf": csrf, "base_number": "0", "text": new_text, "reason": "笔误"})
    assert block_store.get(db, c["id"], para["id"])["text"] == new_text


def test_two_editors_on_one_block_the_stale_save_is_refused_with_both_versions_and_a_merge(client, db, c, para):
    from starlette.testclient import TestClient

    sign_in(client, db)
    colleague = sign_in(TestClient(client.app), db, "lisi", "editor", "李编辑")
    first = para["text"].replace("2200多年", "2300多年")
    mine = para["text"].replace("千吨级船舶", "两千吨级船舶")
    colleague.post(path(para, "edit"), data={"csrf": csrf_of(colleague, path(para)), "base_number": "0", "text": first})
    response = client.post(path(para, "edit"), data={"csrf": csrf_of(client, path(para)), "base_number": "0", "text": mine})
    assert response.status_code == 409
    page = parse_html(response.text)
    box = page.xpath("//div[contains(@class,'conflict')]")[0]
    assert "第 1 版" in box.text_content() or "1" in box.xpath("string(h3)")
    proposal = page.xpath("string(//textarea[@name='text'])")
    assert "2300多年" in proposal and "两千吨级船舶" in proposal  # both changes, nothing lost
    assert page.xpath("string(//form[contains(@class,'edit')]//input[@name='base_number']/@value)") == "1"
    assert block_store.get(db, c["id"], para["id"])["text"] == first  # the colleague's save stands


def test_insert_after_and_delete_are_revisions_and_show_on_the_public_page(client, db, c, para):
    sign_in(client, db)
    csrf = csrf_of(client, path(para))
    response = client.post(path(para, "insert"), data={"csrf": csrf, "text": "新增的一段:南充将建设科创走廊。"}, follow_redirects=False)
    new_id = int(response.headers["location"].split("/b/")[1].split("#")[0].split("?")[0])
    blocks = block_store.of_consultation(db, c["id"])
    ids = [b["id"] for b in blocks]
    assert ids[ids.index(para["id"]) + 1] == new_id
    client.post(path(para, "delete"), data={"csrf": csrf, "base_number": "0", "reason": "重复"})
    versions.publish_revised(db, c["id"], actor="管理员")  # the public reads revisions once published (#12)
    public = parse_html(client.get("/c/nanchong-2022").text)
    assert not public.xpath(f"//*[@id='b-{para['id']}']") and public.xpath(f"//*[@id='b-{new_id}']")
    assert block_store.get(db, c["id"], para["id"])["deleted"] == 1  # kept, with its last text
    # the workspace still shows the deleted block and lets it be reverted
    page = parse_html(client.get(path(para)).text)
    assert "已删除" in page.xpath("string(//h1)")


def test_history_compare_and_revert(client, db, c, para):
    sign_in(client, db)
    csrf = csrf_of(client, path(para))
    one = para["text"].replace("2200多年", "2300多年")
    two = one.replace("千吨级船舶", "两千吨级船舶")
    client.post(path(para, "edit"), data={"csrf": csrf, "base_number": "0", "text": one})
    client.post(path(para, "edit"), data={"csrf": csrf, "base_number": "1", "text": two})
    page = parse_html(client.get(path(para, "history") + "?a=0&b=2").text)
    assert len(page.xpath("//ol[@class='history']/li")) == 3
    comparison = page.xpath("//div[@class='preview']//p[@class='diff']")[0]
    assert comparison.xpath("string(ins)") in ("3", "两")
    client.post(path(para, "revert"), data={"csrf": csrf, "base_number": "2", "to_number": "0"})
    block = block_store.get(db, c["id"], para["id"])
    assert block["text"] == para["text"] and block["rev"] == 3


def test_a_table_rows_cells_are_edited_keeping_the_row(client, db, c):
    row = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
    sign_in(client, db)
    cells = [cell["text"] for cell in row["cells"]]
    cells[-1] = "1200"
    client.post(path(row, "row"), data={"csrf": csrf_of(client, path(row)), "base_number": "0", "cell": cells})
    after = block_store.get(db, c["id"], row["id"])
    assert [cell["text"] for cell in after["cells"]] == cells
    assert [(x.get("span"), x.get("vmerge")) for x in after["cells"]] == [(x.get("span"), x.get("vmerge")) for x in row["cells"]]


def test_the_redline_shows_changed_blocks_and_collapses_the_rest(client, db, c, para):
    sign_in(client, db)
    client.post(path(para, "edit"), data={"csrf": csrf_of(client, path(para)), "base_number": "0",
                                          "text": para["text"].replace("2200多年", "2300多年")})
    page = parse_html(client.get("/editor/c/nanchong-2022/redline").text)
    changed = page.xpath("//div[contains(@class,'redline-block')]")
    assert len(changed) == 1 and changed[0].xpath("string(.//ins)") == "3"
    assert len(page.xpath("//details[@class='unchanged']")) == 2
    assert parse_html(client.get("/editor/c/nanchong-2022/redline?since=nonsense").text).xpath("//p[@class='error']")
