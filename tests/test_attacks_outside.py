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
    # Into the editors' text and into the published version the public reads (issue #12).
    for table in ("blocks", "version_blocks"):
        key = "id" if table == "blocks" else "block_id"
        db.execute(f"update {table} set text = text || ? where {key} = ?", ["\x01甲\x02乙\x03丙\x04", first["id"]])
        db.execute(f"update {table} set text = ? || text where {key} = ?", ["\x04\x01", second["id"]])
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


def test_one_invalid_byte_in_a_multipart_field_costs_that_byte_not_the_whole_text(client, db):
    """A ledger entry (multipart) whose body holds one byte that is not UTF-8 is stored as typed,
    the byte shown as U+FFFD — not the whole field read as Latin-1 mojibake; so is a file name."""
    from conftest import parse_html
    from test_editor import sign_in
    from test_ledger import today

    from revise.store import attachments as attachment_store

    sign_in(client, db)
    page = parse_html(client.get("/editor/c/nanchong-2022/ledger/new").text)
    hidden = {i.get("name"): i.get("value") for i in page.xpath("//form[contains(@class,'ledger-form')]//input[@type='hidden']")}
    fields = {**hidden, "channel": "letter", "received_on": today(), "kind": "remark", "name": "王".encode() + b"\xff" + "五".encode()}
    parts = [(name, value if isinstance(value, bytes) else value.encode()) for name, value in fields.items()]
    parts.append(("body", "来信建议加快".encode() + b"\xff\xed\xa0\x80" + "绿道建设。".encode()))
    body = b"".join(b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (n.encode(), v) for n, v in parts)
    body += (b'--B\r\nContent-Disposition: form-data; name="attachment"; filename="' + "扫描".encode() + b"\xff.pdf\"\r\n"
             b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n%%EOF\n\r\n--B--\r\n")
    response = client.post("/editor/c/nanchong-2022/ledger/new", content=body, follow_redirects=False,
                           headers={"content-type": "multipart/form-data; boundary=B"})
    assert response.status_code == 303
    stored = db.execute("select body, name from comments order by id desc limit 1").fetchone()
    assert stored[0].startswith("来信建议加快\ufffd") and stored[0].endswith("绿道建设。")
    assert stored[1].startswith("王") and stored[1].endswith("五")
    comment_id = db.execute("select max(id) from comments").fetchone()[0]
    (attachment,) = attachment_store.of_comment(db, comment_id)
    assert attachment["filename"].startswith("扫描") and attachment["filename"].endswith(".pdf")
