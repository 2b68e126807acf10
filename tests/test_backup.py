"""`python server.py backup FILE` copies the database consistently while comments keep arriving."""

import shutil
import sqlite3
import threading

import server
from revise import commenting
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
