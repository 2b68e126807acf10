"""Administrators change the window, add departments and upload drafts from the editor pages."""

import json

from conftest import DRAFT, parse_html
from test_editor import csrf_of, sign_in

from revise.store import consultations as consultation_store


def test_an_administrator_extends_the_window_and_it_is_audited(client, db):
    sign_in(client, db, "boss", "admin", "管理员")
    csrf = csrf_of(client, "/editor/c/nanchong-2022")
    response = client.post("/editor/c/nanchong-2022/window", data={"csrf": csrf, "opens": "2024-03-01 09:00",
                                                                   "closes": "2024-03-20 18:00"}, follow_redirects=False)
    assert response.status_code == 303
    c = consultation_store.by_slug(db, "nanchong-2022")
    assert (c["opens_at"], c["closes_at"]) == ("2024-03-01T01:00:00Z", "2024-03-20T10:00:00Z")
    (event,) = list(db.table("audit").rows_where("action = 'window.change'"))
    assert event["actor"] == "管理员" and json.loads(event["after"])["closes_at"] == "2024-03-20T10:00:00Z"
    bad = client.post("/editor/c/nanchong-2022/window", data={"csrf": csrf, "opens": "2024-03-20", "closes": "2024-03-01"})
    assert bad.status_code == 422 and "晚于" in parse_html(bad.text).xpath("string(//section[@id='window']//p[@class='error'])")
    nonsense = client.post("/editor/c/nanchong-2022/window", data={"csrf": csrf, "opens": "明天", "closes": "后天"})
    assert nonsense.status_code == 422


def test_an_editor_cannot_change_the_window(client, db):
    sign_in(client, db)
    response = client.post("/editor/c/nanchong-2022/window", data={"csrf": csrf_of(client, "/editor/c/nanchong-2022"),
                                                                   "opens": "2024-03-01", "closes": "2024-03-20"})
    assert response.status_code == 403


def test_an_administrator_adds_a_department_and_sees_its_link_once(client, db):
    sign_in(client, db, "boss", "admin", "管理员")
    csrf = csrf_of(client, "/editor/c/nanchong-2022")
    page = parse_html(client.post("/editor/c/nanchong-2022/departments", data={"csrf": csrf, "name": "市财政局"}).text)
    link = page.xpath("string(//code[@class='link'])")
    assert "/d/" in link
    assert client.get(link.split("testserver")[-1]).status_code == 200
    again = client.get("/editor/c/nanchong-2022")
    assert link not in again.text  # shown only once
    duplicate = client.post("/editor/c/nanchong-2022/departments", data={"csrf": csrf, "name": "市财政局"})
    assert duplicate.status_code == 422


def test_the_upload_of_a_new_draft_applies_the_importers_checks(client, db, tmp_path):
    sign_in(client, db, "boss", "admin", "管理员")
    csrf = csrf_of(client, "/editor/new")
    broken = client.post("/editor/new", data={"csrf": csrf, "slug": "bad"},
                         files={"file": ("plan.docx", b"PK\x03\x04 not really a zip", "application/octet-stream")})
    assert broken.status_code == 422
    assert "损坏" in parse_html(broken.text).xpath("string(//p[@class='error'])")
    fake = client.post("/editor/new", data={"csrf": csrf, "slug": "bad"},
                       files={"file": ("plan.docx", b"%PDF-1.7 a pdf", "application/pdf")})
    assert fake.status_code == 422 and "不是 Word" in fake.text
    good = client.post("/editor/new", data={"csrf": csrf, "slug": "plan-2024", "title": "测试方案",
                                            "opens": "2024-03-01", "closes": "2024-03-15"},
                       files={"file": ("draft.docx", DRAFT.read_bytes(), "application/octet-stream")},
                       follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == "/editor/c/plan-2024"
    c = consultation_store.by_slug(db, "plan-2024")
    assert c["title"] == "测试方案" and db.table("blocks").count_where("consultation_id = ?", [c["id"]]) == 148


def test_an_oversized_upload_is_refused_before_it_is_read(client, db):
    sign_in(client, db, "boss", "admin", "管理员")
    csrf = csrf_of(client, "/editor/new")
    limit = client.app.state.settings.max_docx_bytes
    response = client.post("/editor/new", data={"csrf": csrf, "slug": "big"},
                           files={"file": ("big.docx", b"0" * (limit + 200 * 1024), "application/octet-stream")})
    assert response.status_code == 413
