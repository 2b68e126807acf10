"""The store: one SQLite file, migrated in place, keeping the original .docx untouched."""

import hashlib

from conftest import DRAFT

from revise.store import connect, open_database
from revise.store import consultations as consultation_store
from revise.store.schema import migrations


def test_the_database_is_in_wal_mode_with_a_busy_timeout(settings, client):
    db = connect(settings.db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_migrations_are_recorded_and_applying_them_again_changes_nothing(tmp_path):
    db = open_database(tmp_path / "a.db")
    assert migrations.pending(db) == []
    tables = set(db.table_names())
    assert {"consultations", "documents", "blocks"} <= tables
    db.close()
    db = open_database(tmp_path / "a.db")
    assert set(db.table_names()) == tables


def test_the_original_docx_bytes_are_kept_with_the_consultation(client, db):
    c = consultation_store.by_slug(db, "nanchong-2022")
    original = consultation_store.original_document(db, c["id"])
    data = DRAFT.read_bytes()
    assert original["data"] == data
    assert original["sha256"] == hashlib.sha256(data).hexdigest()
    assert original["filename"] == "draft.docx"


def test_a_restart_on_the_same_data_folder_imports_nothing_twice(settings):
    from starlette.testclient import TestClient

    from revise.app import create_app

    for _ in range(2):
        with TestClient(create_app(settings)) as c:
            assert c.get("/c/nanchong-2022").status_code == 200
    db = connect(settings.db_path)
    assert db.table("consultations").count == 1
    assert db.table("documents").count == 1
