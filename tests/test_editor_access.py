"""Every editor route refuses anonymous visitors and department links; admin routes refuse editors."""

import re

import pytest
from starlette.routing import Route
from test_editor import sign_in

from revise import departments
from revise.store import consultations as consultation_store

ADMIN_ONLY = {"editor_outcome", "editor_outcome_confirm", "editor_outcome_withdraw", "editor_audit", "editor_new", "editor_create", "editor_assignments",
              "editor_notice"}  # the notice and how to comment (issue #12)
OPEN_TO_ALL = {"sign_in"}


def editor_routes(app):
    """(name, method, concrete path) for every route under /editor, parameters filled in."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route) or not route.path.startswith("/editor") or route.name in OPEN_TO_ALL:
            continue
        path = route.path
        path = re.sub(r"\{slug\}", "nanchong-2022", path)
        path = re.sub(r"\{block_id:int\}", "12", path)
        path = re.sub(r"\{comment_id:int\}", "1", path)
        path = re.sub(r"\{attachment_id:int\}", "1", path)
        path = re.sub(r"\{action:str\}", "edit", path)
        path = re.sub(r"\{name\}", "plan.docx", path)
        for method in sorted(route.methods - {"HEAD"}):
            found.append((route.name, method, path))
    return found


def test_the_walk_covers_the_editor_pages(client):
    names = {name for name, _, _ in editor_routes(client.app)}
    assert {"editor_home", "editor_dashboard", "editor_queue", "editor_block", "editor_redline", "sign_out"} <= names
    assert len(names) >= 15


def test_every_editor_route_refuses_an_anonymous_visitor(client):
    for name, method, path in editor_routes(client.app):
        response = client.request(method, path, follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303, (name, response.status_code)
            assert response.headers["location"].startswith("/editor/sign-in?next="), name
        else:
            assert response.status_code in (401, 403), (name, response.status_code)


def test_a_department_link_gives_no_editor_access(client, db):
    c = consultation_store.by_slug(db, "nanchong-2022")
    _, token = departments.add(db, c, "市发展改革委", "test")
    assert client.get(f"/d/{token}").status_code == 200  # the department is "signed in" to its own pages only
    for name, method, path in editor_routes(client.app):
        response = client.request(method, path, follow_redirects=False)
        assert response.status_code in (303, 401, 403), name
        assert "市发展改革委" not in response.text


@pytest.fixture
def a_comment(db):
    """Comment 1, so that /comments/1 exists."""
    from test_editor import _comment

    from revise.attachments import check
    from revise.store import attachments as attachment_store
    from revise.store import writing

    c = consultation_store.by_slug(db, "nanchong-2022")
    comment = _comment(db, c, None, "整体意见")
    with writing(db):  # attachment 1, so that /attachments/1 exists
        attachment_store.add(db, comment["id"], check("scan.pdf", b"%PDF-1.4\n", 1024).row(), "2024-01-01T00:00:00Z")
    return comment


def test_an_editor_is_refused_on_administrator_routes_and_allowed_elsewhere(client, db, a_comment):
    sign_in(client, db)
    for name, method, path in editor_routes(client.app):
        if method != "GET":
            continue
        response = client.get(path, follow_redirects=False)
        if name in ADMIN_ONLY:
            assert response.status_code == 403, name
        else:
            assert response.status_code == 200, (name, response.status_code)


@pytest.mark.parametrize("role", ["admin"])
def test_an_administrator_reaches_every_page(client, db, role, a_comment):
    sign_in(client, db, "boss", role, "管理员")
    for name, method, path in editor_routes(client.app):
        if method == "GET":
            assert client.get(path, follow_redirects=False).status_code == 200, name
