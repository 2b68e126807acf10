"""`python server.py backup FILE` copies the database consistently while comments keep arriving;
`backup --keep N DIR` keeps the newest N timestamped copies, and the newest restores."""

import shutil
import sqlite3
import threading
import urllib.error
import urllib.request

import pytest

import server
from revise import cli_backup, commenting
from revise.security import Signer
from revise.store import blocks as block_store
from revise.store import connect
from revise.store import consultations as consultation_store


def _values(body):
    return {"kind": "remark", "body": body, "suggestion": "", "quote": "", "quote_start": None, "name": "", "contact": ""}


def test_a_backup_taken_during_writes_is_complete_and_restores_to_a_working_instance(settings, client, tmp_path):
    db = connect(settings.db_path)
    c = consultation_store.by_slug(db, "nanchong-2022")
    block = block_store.of_consultation(db, c["id"])[8]
    signer = Signer(b"k")
    for i in range(200):
        commenting.submit(db, c, block, _values(f"备份前{i}"), form_token=signer.form_token())
    before = {r[0] for r in db.execute("select receipt from comments")}
    stop = threading.Event()
    written: list[str] = []

    def writer():
        own = connect(settings.db_path)
        i = 0
        while not stop.is_set():
            comment, _ = commenting.submit(own, c, block, _values(f"备份中{i}"), form_token=signer.form_token())
            written.append(comment["receipt"])
            i += 1

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        target = tmp_path / "copy.db"
        assert server.main(["--data", str(settings.data_dir), "backup", str(target)]) == 0
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert written, "writes kept going during the backup"
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    in_copy = {r[0] for r in copy.execute("select receipt from comments")}
    assert before <= in_copy  # everything acknowledged before the backup is in it
    assert in_copy <= before | set(written)  # and nothing that was never acknowledged
    assert copy.execute("select count(*) from comments c left join blocks b on b.id = c.block_id where b.id is null").fetchone()[0] == 0
    copy.close()

    # restore as the README says: the copy becomes data/revise.db of a stopped instance
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(target, restored / "revise.db")
    from starlette.testclient import TestClient

    from revise.app import create_app

    with TestClient(create_app(settings.with_(data_dir=restored))) as c2:
        assert c2.get("/c/nanchong-2022").status_code == 200
        receipt = sorted(before)[0]
        assert c2.get(f"/r/{receipt}").status_code == 200


def test_backup_refuses_to_overwrite_a_file(settings, client, tmp_path, capsys):
    target = tmp_path / "exists.db"
    target.write_text("keep me")
    assert server.main(["--data", str(settings.data_dir), "backup", str(target)]) == 2
    assert target.read_text() == "keep me"
    assert "已存在" in capsys.readouterr().err


def _comment(db, n: int) -> str:
    c = consultation_store.by_slug(db, "nanchong-2022")
    block = block_store.of_consultation(db, c["id"])[5]
    comment, _ = commenting.submit(db, c, block, _values(f"第{n}条意见"), form_token=Signer(b"k").form_token())
    return comment["receipt"]


def test_backup_keep_writes_timestamped_copies_and_keeps_the_newest(settings, client, tmp_path, capsys):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup: never removed")
    db = connect(settings.db_path)
    receipts = []
    for n in range(4):
        receipts.append(_comment(db, n))
        assert server.main(["backup", "--keep", "2", str(folder), "--data", str(settings.data_dir)]) == 0
    copies = sorted(p.name for p in folder.glob("revise-*.db"))
    assert len(copies) == 2 and (folder / "notes.txt").exists()
    assert all(p.name.startswith("revise-20") and p.stat().st_size > 0 for p in folder.glob("revise-*.db"))
    newest = cli_backup.copies(folder)[0]
    in_newest = {r[0] for r in sqlite3.connect(newest).execute("select receipt from comments")}
    assert set(receipts) <= in_newest  # the newest copy has the last comment too
    out = capsys.readouterr().out
    assert out.count("已删除较早的备份") == 2


def test_backup_into_a_missing_folder_is_refused(settings, client, tmp_path, capsys):
    assert server.main(["--data", str(settings.data_dir), "backup", "--keep", "3", str(tmp_path / "nope")]) == 2
    assert server.main(["--data", str(settings.data_dir), "backup", str(tmp_path / "nope" / "b.db")]) == 2
    assert "nope" in capsys.readouterr().err and not (tmp_path / "nope").exists()


def test_restore_drill_the_newest_backup_serves_every_comment_acknowledged_before_it(settings, client, tmp_path):
    """Restore as the README says into a fresh data folder, start the server on it (a real process)
    and find every comment acknowledged before the backup through its receipt page."""
    from conftest import LiveServer, parse_html

    folder = tmp_path / "backups"
    folder.mkdir()
    db = connect(settings.db_path)
    before = [_comment(db, n) for n in range(30)]
    assert server.main(["--data", str(settings.data_dir), "backup", "--keep", "5", str(folder)]) == 0
    after = _comment(db, 99)  # acknowledged after the backup: not in it
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(cli_backup.copies(folder)[0], restored / "revise.db")
    live = LiveServer(restored)
    try:
        for receipt in before:
            with urllib.request.urlopen(f"{live.url}/r/{receipt}", timeout=10) as response:
                page = parse_html(response.read().decode())
            assert f"{receipt[:5]}-{receipt[5:]}" in page.findtext(".//h1")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{live.url}/r/{after}", timeout=10)
        assert missing.value.code == 404
    finally:
        live.stop()
