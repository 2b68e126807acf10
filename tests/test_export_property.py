"""Every export survives any stored text (issue #10): arbitrary Unicode written straight into the
database, past the cleaning function, still gives files that python-docx and openpyxl read back
and an outcome page that answers 200."""

import csv
import io
import json

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from starlette.testclient import TestClient

from revise import commenting, departments, exporting, revising, triage
from revise.app import create_app
from revise.docx_import import import_docx
from revise.security import Signer
from revise.settings import Settings
from revise.store import blocks as block_store
from revise.store import connect
from revise.store import consultations as consultation_store
from revise.textclean import xml_text

EDITOR = {"id": 1, "display_name": "张编辑"}
# Python's sqlite3 cannot store a lone surrogate (it refuses to encode one), so text written
# "straight into the database" is any text but those; the cleaning function's own property
# test (test_text_boundary) covers them.
stored_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
# Some of every kind of character the issue names, mixed with ordinary Chinese text.
hostile = st.lists(st.one_of(stored_text, st.sampled_from(
    ["\ufffe", "\uffff", "\x0b", "\x0c", "\x00", "\x01", "\r", "\r\n", "\x85", "\u2028", "\ufdd0",
     "\U0010ffff", "\u202e", "\ufeff", "\t", "\n", "南充", " ", "13912345678", "=1+1"])), max_size=8).map("".join)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The Nanchong draft with an edited paragraph, an edited row, an inserted paragraph, a
    deleted one, decided comments from the public and a department, and a published outcome."""
    data_dir = tmp_path_factory.mktemp("data")
    # localhost: a host the app answers for by default
    with TestClient(create_app(Settings(data_dir=data_dir)), base_url="http://localhost") as client:
        db = connect(data_dir / "revise.db")
        c = consultation_store.by_slug(db, "nanchong-2022")
        blocks = block_store.of_consultation(db, c["id"])
        para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
        row = next(b for b in blocks if b["kind"] == "table_row" and b["cells"][1]["text"] == "9")
        gone = next(b for b in blocks if b["text"].startswith("坚持生态优先"))
        edit = revising.edit_block(db, c, para["id"], para["text"] + "新增一句。", base_number=0, author=EDITOR)
        cells = [cell["text"] for cell in row["cells"]]
        row_edit = revising.edit_row(db, c, row["id"], cells[:-1] + ["1200"], base_number=0, author=EDITOR)
        inserted = revising.insert_after(db, c, para["id"], "新增段落。", author=EDITOR)
        revising.delete_block(db, c, gone["id"], base_number=0, author=EDITOR, reason="重复")
        dept_id, _ = departments.add(db, c, "市发展改革委", "test")
        quiet_id, _ = departments.add(db, c, "市科技局", "test")
        db.execute("update departments set no_comment_at = '2024-01-01T00:00:00Z' where id = ?", [quiet_id])
        values = {"kind": "edit", "body": "意见", "suggestion": para["text"] + "新增一句。", "quote": "",
                  "quote_start": None, "name": "王五", "contact": ""}
        public, _ = commenting.submit(db, c, para, values, form_token=Signer(b"t").form_token())
        dept, _ = commenting.submit(db, c, None, dict(values, kind="remark", suggestion=""),
                                    form_token=Signer(b"t").form_token(), department=db.table("departments").get(dept_id))
        triage.decide(db, c, [public["id"]], "adopted", "", "张编辑", revision_id=edit["id"])
        triage.decide(db, c, [dept["id"]], "rejected", "理由", "张编辑")
        db.execute("update comments set status = 'published'")
        db.execute("update consultations set outcome_published_at = '2024-01-01T00:00:00Z', report_public_names = 1")
        yield {"client": client, "db": db, "c": c, "para": para, "row": row, "edit": edit, "row_edit": row_edit,
               "inserted": inserted, "public": public, "dept": dept, "dept_id": dept_id, "quiet_id": quiet_id}
        db.close()


def write_straight_into_the_database(w, texts: list[str]) -> None:
    """Hostile text in every column an export reads, bypassing textclean."""
    body, name, reason, para_text, cell, title, department, author = texts
    db = w["db"]
    db.execute("update comments set body = ?, name = ?, suggestion = ?, disposition_reason = ? where id = ?",
               [body, name, para_text, reason, w["public"]["id"]])
    db.execute("update comments set body = ?, disposition_reason = ? where id = ?", [reason, body, w["dept"]["id"]])
    db.execute("update departments set name = ? where id = ?", [department, w["dept_id"]])
    db.execute("update departments set name = ? where id = ?", [department + "\x00局", w["quiet_id"]])
    db.execute("update revisions set text = ?, reason = ?, author_name = ? where id = ?",
               [para_text, reason, author, w["edit"]["id"]])
    db.execute("update blocks set text = ? where id = ?", [para_text, w["para"]["id"]])
    cells = [dict(c) for c in w["row_edit"]["cells"]]
    cells[-1]["text"] = cell
    db.execute("update revisions set cells = ?, text = ? where id = ?",
               [json.dumps(cells, ensure_ascii=False), "\t".join(c["text"] for c in cells), w["row_edit"]["id"]])
    db.execute("update blocks set cells = ?, text = ? where id = ?",
               [json.dumps(cells, ensure_ascii=False), "\t".join(c["text"] for c in cells), w["row"]["id"]])
    db.execute("update blocks set text = ? where id = ?", [body + cell, w["inserted"]["block_id"]])
    db.execute("update revisions set text = ? where id = ?", [body + cell, w["inserted"]["id"]])
    db.execute("update consultations set title = ?, issuer = ? where id = ?", [title, name, w["c"]["id"]])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(hostile, min_size=8, max_size=8))
def test_every_export_reads_back_whatever_the_database_holds(world, texts):
    write_straight_into_the_database(world, texts)
    db, c = world["db"], consultation_store.by_id(world["db"], world["c"]["id"])
    snap = exporting.snapshot(db, c)
    for name in ("plan.docx", "plan-tracked.docx"):
        data = exporting.render(snap, name)
        document = docx.Document(io.BytesIO(data))
        assert document.paragraphs
        if name == "plan.docx":
            # The edited paragraph is there with every character XML can hold.
            expected = xml_text(texts[3])
            if expected.strip():
                assert expected in [b.text for b in import_docx(data).blocks]
    report_docx = docx.Document(io.BytesIO(exporting.render(snap, "report.docx")))
    assert len(report_docx.tables[0].rows) == 1 + len(snap.report.rows)
    sheet = load_workbook(io.BytesIO(exporting.render(snap, "report.xlsx"))).active
    comments = [cell.value for cell in sheet["C"] if cell.value is not None]
    for row in snap.report.rows:
        if xml_text(row.comment):
            assert xml_text(row.comment) in comments
    lines = list(csv.reader(io.StringIO(exporting.render(snap, "report.csv").decode("utf-8-sig"))))
    assert len(lines) == 1 + len(snap.report.rows)
    client = world["client"]
    assert client.get("/c/nanchong-2022/outcome").status_code == 200
    assert client.get(f"/c/nanchong-2022/b/{world['para']['id']}").status_code == 200  # the name, masked
    assert client.get("/c/nanchong-2022/outcome/report.xlsx").status_code == 200
