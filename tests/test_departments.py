"""Departments reply through their own private links; the roster shows who has replied."""

import pytest
from conftest import parse_html

import server
from revise import departments
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store


@pytest.fixture
def links(client, db):
    """Two departments on the Nanchong roster, with their private link paths."""
    c = consultation_store.by_slug(db, "nanchong-2022")
    tokens = {name: departments.add(db, c, name, "test")[1] for name in ["市发展改革委", "顺庆区人民政府"]}
    return {name: f"/d/{token}" for name, token in tokens.items()}


def _form(client, path):
    page = parse_html(client.get(path).text)
    form = page.xpath("//form[contains(@class,'comment-form')]")[0]
    return form.get("action"), {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}


def test_only_the_hash_of_a_link_token_is_stored(client, db, links):
    token = links["市发展改革委"].split("/d/")[1]
    assert len(token) >= 40
    rows = list(db.table("departments").rows)
    assert all(token not in str(row) for row in rows)


def test_a_department_reads_the_draft_and_its_comment_is_tagged_with_its_name(client, db, links):
    link = links["市发展改革委"]
    page = parse_html(client.get(link).text)
    assert "市发展改革委" in page.xpath("string(//section[@class='department-panel']/h2)")
    c = consultation_store.by_slug(db, "nanchong-2022")
    block = next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("坚持创新驱动"))
    action, hidden = _form(client, f"{link}/b/{block['id']}")
    response = client.post(action, data={**hidden, "kind": "edit", "suggestion": block["text"] + "补充。",
                                         "body": "建议补充", "action": "submit", "officer_name": "王晓红",
                                         "officer_phone": "0817-2801234"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(link)
    stored = next(db.table("comments").rows)
    assert stored["source"] == "department" and stored["name"] == "市发展改革委"
    # it sees its own submission on its page
    page = parse_html(client.get(link).text)
    assert "建议补充" in page.xpath("string(//ul[@class='own'])")


def test_department_comments_are_not_shown_on_public_pages(client, db, links):
    from revise import commenting

    c = consultation_store.by_slug(db, "nanchong-2022")
    block = block_store.of_consultation(db, c["id"])[5]
    action, hidden = _form(client, f"{links['市发展改革委']}/b/{block['id']}")
    client.post(action, data={**hidden, "kind": "remark", "body": "部门内部意见", "action": "submit"})
    commenting.moderate(db, c, [r["id"] for r in db.table("comments").rows], True, "test")  # even if someone tries
    for path in ["/c/nanchong-2022", f"/c/nanchong-2022/b/{block['id']}"]:
        assert "部门内部意见" not in client.get(path).text


def test_a_department_files_no_changes_and_the_roster_shows_who_replied(client, db, links, settings, capsys):
    link = links["顺庆区人民政府"]
    page = parse_html(client.get(link).text)
    form = page.xpath("//section[@class='department-panel']//form")[0]
    csrf = form.xpath("string(.//input[@name='csrf']/@value)")
    response = client.post(form.get("action"), data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    page = parse_html(client.get(link).text)
    assert "无修改意见" in page.xpath("string(//p[contains(@class,'reply-state')])")
    c = consultation_store.by_slug(db, "nanchong-2022")
    status = {row["name"]: row["status"] for row in departments.status(db, c)}
    assert status == {"市发展改革委": "not_replied", "顺庆区人民政府": "no_changes"}
    assert server.main(["--data", str(settings.data_dir), "departments", "nanchong-2022", "list"]) == 0
    out = capsys.readouterr().out
    assert "顺庆区人民政府\t已反馈:无修改意见" in out and "市发展改革委\t未反馈" in out


def test_a_wrong_link_token_is_404(client, links):
    assert client.get("/d/not-a-real-token").status_code == 404
    token = links["市发展改革委"].split("/d/")[1]
    assert client.get(f"/d/{token[:-1]}x").status_code == 404


def test_the_command_line_prints_each_link_once_and_a_new_link_replaces_the_old(settings, client, db, capsys):
    data = str(settings.data_dir)
    assert server.main(["--data", data, "departments", "nanchong-2022", "add", "市财政局", "--base-url", "https://yj.example.gov.cn"]) == 0
    out = capsys.readouterr().out
    old = out.strip().splitlines()[-1].split("\t")[1]
    assert old.startswith("https://yj.example.gov.cn/d/")
    assert client.get(old.replace("https://yj.example.gov.cn", "")).status_code == 200
    assert server.main(["--data", data, "departments", "nanchong-2022", "add", "市财政局"]) == 2
    assert server.main(["--data", data, "departments", "nanchong-2022", "new-link", "市财政局"]) == 0
    new = capsys.readouterr().out.strip().splitlines()[-1].split("\t")[1]
    assert client.get(old.replace("https://yj.example.gov.cn", "")).status_code == 404
    assert client.get(new.replace("http://127.0.0.1:8000", "")).status_code == 200
