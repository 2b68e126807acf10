"""What an outside attacker's run against a real server found (issue #10), kept as regressions.

Each test states the attack and what the visitor or editor sees afterwards.
"""

from revise.store import blocks as block_store
from revise.store import consultations as consultation_store


def test_control_characters_written_into_the_database_do_not_break_the_public_page(client, db):
    """Text written past the cleaning function (an old database, a tool) may hold the C0 controls
    the cached public page used to mark its count slots: the page still answers, counts right."""
    c = consultation_store.by_slug(db, "nanchong-2022")
    blocks = block_store.of_consultation(db, c["id"])
    first, second = blocks[3], blocks[4]
    db.execute("update blocks set text = text || ? where id = ?", ["\x01甲\x02乙\x03丙\x04", first["id"]])
    db.execute("update blocks set text = ? || text where id = ?", ["\x04\x01", second["id"]])
    db.execute("insert into comments (consultation_id, block_id, block_rev, kind, source, name, contact, body,"
               " suggestion, quote, receipt, status, created_at) values (?, ?, 0, 'remark', 'public', '', '',"
               " '意见', '', '', 'ATTACK0001', 'published', '2026-01-01T00:00:00Z')", [c["id"], second["id"]])
    page = client.get("/c/nanchong-2022")
    assert page.status_code == 200
    assert "甲" in page.text and "丙" in page.text
    thread = page.text.split(f'id="b-{second["id"]}"', 1)[1].split('id="b-', 1)[0]
    assert '<span class="count"' in thread and ">1</span>" in thread


def test_a_client_over_the_comment_or_preview_limit_is_told_when_to_come_back(settings):
    """429 from the per-minute limits carries Retry-After, as the sign-in throttle's does."""
    from dataclasses import replace

    from starlette.testclient import TestClient
    from test_comments import comment

    from revise.app import create_app

    limited = replace(settings, comments_per_minute=1, previews_per_minute=1)
    with TestClient(create_app(limited)) as client:
        block = {"id": 9}
        assert comment(client, block).status_code == 303
        refused = comment(client, block)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert comment(client, block, action="preview", kind="remark").status_code == 200
        refused = comment(client, block, action="preview", kind="remark")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
