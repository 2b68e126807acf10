"""A returned Word file becomes comments (issue #14).

The fixtures in tests/fixtures/returned/ were made by LibreOffice (tools/make_returned_fixtures.py:
docs/draft.docx edited with change recording on, Word comments added last); expected.json lists
the changes made and the comment each should become. The other cases are made here.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from revise import departments, drafts, returned_docx
from revise.settings import Settings
from revise.store import blocks as block_store
from revise.store import open_database
from revise.timeutil import utc_now
from revise.window import Window
from tests.conftest import DRAFT, parse_html

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "returned"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture
def consultation(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings.db_path)
    now = utc_now()
    cid = drafts.import_draft(db, DRAFT.read_bytes(), filename="draft.docx", slug="nc",
                              window=Window(now - timedelta(days=1), now + timedelta(days=30)),
                              settings=settings)
    yield db, next(db.query("select * from consultations where id = ?", [cid]))
    db.close()


def blocks(db, c):
    return block_store.of_consultation(db, c["id"], include_deleted=True)


def right(proposals: list, expect: dict) -> bool:
    """Whether one proposal is the comment expected: kind, block, and wording or quote."""
    for p in proposals:
        text = p.block["original_text"] or ""
        if p.kind != expect["kind"] or not text.startswith(expect["block"]):
            continue
        if "suggestion_has" in expect and expect["suggestion_has"] not in p.suggestion:
            continue
        if "suggestion_lacks" in expect and (expect["suggestion_lacks"] in p.suggestion
                                              or not p.suggestion):
            continue
        if "quote" in expect and p.quote != expect["quote"]:
            continue
        return True
    return False


def expected_comments() -> list[dict]:
    out = []
    for change in EXPECTED["changes"]:
        out.extend(change.get("each") or [change])
    return out


@pytest.mark.parametrize("name", ["lo-tracked.docx", "lo-accepted.docx"])
def test_every_change_made_in_libreoffice_becomes_the_right_comment_on_the_right_block(
        consultation, name):
    db, c = consultation
    result = returned_docx.propose((FIXTURES / name).read_bytes(), name, blocks(db, c))
    wanted = expected_comments()
    found = [e for e in wanted if right(result.proposals, e)]
    print(f"{name}: {len(found)} of {len(wanted)} changes became the right comment")
    assert found == wanted
    assert len(result.proposals) == len(wanted)  # and nothing else
    if name == "lo-tracked.docx":
        assert {p.origin for p in result.proposals} == {"tracked", "comment"}
        assert all(p.author == EXPECTED["author"] and p.date for p in result.proposals)
    else:  # accepted before sending: only the comparison finds them
        assert {p.origin for p in result.proposals} <= {"untracked", "moved", "comment"}


def test_word_comments_quote_their_words_where_they_are_in_the_block(consultation):
    db, c = consultation
    result = returned_docx.propose((FIXTURES / "lo-tracked.docx").read_bytes(), "x.docx", blocks(db, c))
    remarks = [p for p in result.proposals if p.kind == "remark"]
    assert [(p.quote, p.body) for p in remarks] == [("多年的建城史", "建城史年数请核实。"),
                                                    ("科技创新综合实力较强", "建议补充近三年数据。")]
    for p in remarks:
        assert p.block["original_text"][p.quote_start:p.quote_start + len(p.quote)] == p.quote


def test_the_same_file_twice_creates_nothing_new_and_dropped_items_are_not_stored(consultation):
    db, c = consultation
    data = (FIXTURES / "lo-tracked.docx").read_bytes()
    result = returned_docx.propose(data, "back.docx", blocks(db, c))
    dropped = {result.proposals[0].n}
    created, new = returned_docx.store(db, c, result, dropped, "王编辑")
    assert new and len(created) == len(result.proposals) - 1
    rows = list(db.query("select * from comments where form_token like 'docx:%' order by id"))
    assert len(rows) == len(created)
    assert {r["status"] for r in rows} == {"pending"} and {r["block_rev"] for r in rows} == {0}
    assert {r["name"] for r in rows} == {EXPECTED["author"]}
    edit = next(r for r in rows if r["kind"] == "edit" and "1200" in (r["suggestion"] or ""))
    assert edit["suggestion"].split("\t")[4] == "1200"
    again, new = returned_docx.store(db, c, returned_docx.propose(data, "back.docx", blocks(db, c)),
                                     set(), "王编辑")
    assert (again, new) == ([], False)
    assert db.execute("select count(*) from comments where form_token like 'docx:%'").fetchone()[0] == len(rows)


# --- hand-made cases ---

def edited_draft(edit) -> bytes:
    """docs/draft.docx with its main part changed by edit(body), saved as Word would."""
    out = io.BytesIO()
    with zipfile.ZipFile(DRAFT) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                root = etree.fromstring(data)
                edit(root.find(W + "body"))
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            zout.writestr(info, data)
    return out.getvalue()


def replace_text(el, old: str, new: str) -> None:
    t = next(t for t in el.iter(W + "t") if old in (t.text or ""))
    t.text = t.text.replace(old, new)


def test_edits_made_without_track_changes_are_found_by_comparison(consultation):
    db, c = consultation

    def edit(body):
        children = [e for e in body if isinstance(e.tag, str)]
        replace_text(children[70], "农产品资源", "特色农产品资源")
        row = next(tr for tr in body.iter(W + "tr") if "".join(tr.findall(W + "tc")[1].itertext()) == "12")
        replace_text(row.findall(W + "tc")[4], "1200", "1500")
        new = etree.fromstring(etree.tostring(children[74]))
        for t in new.iter(W + "t"):
            t.text = ""
        next(new.iter(W + "t")).text = "新增一段：加强科普工作。"
        children[74].addnext(new)
        body.remove(children[82])  # 坚持生态优先…, gone without a trace

    result = returned_docx.propose(edited_draft(edit), "x.docx", blocks(db, c), sender="市科技局")
    got = {(p.kind, (p.block["original_text"] or "")[:8], p.origin) for p in result.proposals}
    assert got == {("edit", "南充传统产业发展", "untracked"), ("edit", "\t12\t科技型中", "untracked"),
                   ("insert", "南充教育资源丰富", "untracked"), ("delete", "坚持生态优先、绿", "untracked")}
    edit_row = next(p for p in result.proposals if p.block["kind"] == "table_row")
    assert edit_row.suggestion.split("\t")[4] == "1500"
    assert {p.author for p in result.proposals} == {"市科技局"}


def test_each_author_gets_a_comment_with_only_their_own_changes(consultation):
    db, c = consultation

    def edit(body):
        p = [e for e in body if isinstance(e.tag, str)][72]  # 南充科技创新综合实力较强…
        t = next(t for t in p.iter(W + "t") if "综合实力较强" in (t.text or ""))
        run = t.getparent()
        head, tail = t.text.split("综合实力较强", 1)
        t.text = head
        ins = etree.SubElement(p, W + "ins", {W + "id": "501", W + "author": "甲", W + "date": "2022-10-11T01:00:00Z"})
        etree.SubElement(etree.SubElement(ins, W + "r"), W + "t").text = "综合实力很强"
        dele = etree.SubElement(p, W + "del", {W + "id": "502", W + "author": "乙", W + "date": "2022-10-12T01:00:00Z"})
        etree.SubElement(etree.SubElement(dele, W + "r"), W + "delText").text = "综合实力较强"
        rest = etree.SubElement(etree.SubElement(p, W + "r"), W + "t")
        rest.text = tail
        run.addnext(ins)
        ins.addnext(dele)
        dele.addnext(rest.getparent())

    result = returned_docx.propose(edited_draft(edit), "x.docx", blocks(db, c))
    edits = {p.author: p for p in result.proposals}
    assert set(edits) == {"甲", "乙"} and {p.kind for p in edits.values()} == {"edit"}
    assert "综合实力很强综合实力较强" in edits["甲"].suggestion  # 乙's deletion not applied
    assert "南充科技创新，" not in edits["乙"].suggestion and "综合实力很强" not in edits["乙"].suggestion
    assert edits["甲"].date.startswith("2022-10-11") and edits["乙"].date.startswith("2022-10-12")


def test_a_file_of_another_draft_is_refused_with_a_reason(consultation):
    db, c = consultation
    other = Document()
    other.add_heading("关于印发某县农村公路养护办法的通知", 1)
    for n in range(20):
        other.add_paragraph(f"第{n}条 农村公路养护工作由县交通运输局负责组织实施。")
    buffer = io.BytesIO()
    other.save(buffer)
    with pytest.raises(returned_docx.ReturnRefused) as refused:
        returned_docx.propose(buffer.getvalue(), "other.docx", blocks(db, c))
    assert refused.value.code == "not_draft" and refused.value.params["percent"] < 10


# --- through the web ---

def test_an_editor_previews_drops_one_item_and_stores_the_rest_once(client, db):
    from tests.test_editor import csrf_of, sign_in

    sign_in(client, db)
    c = next(db.query("select * from consultations"))
    path = f"/editor/c/{c['slug']}/returned"
    csrf = csrf_of(client, path)
    data = (FIXTURES / "lo-tracked.docx").read_bytes()
    page = client.post(path, data={"csrf": csrf},
                       files={"docx": ("back.docx", data, "application/octet-stream")})
    assert page.status_code == 200
    html = parse_html(page.text)
    boxes = html.xpath("//input[@name='keep']/@value")
    assert len(boxes) == len(expected_comments())
    assert html.xpath("count(//li[contains(@class,'proposal-edit')]//ins | //li[contains(@class,'proposal-edit')]//del)") >= 3  # the diffs
    assert db.execute("select count(*) from comments where form_token like 'docx:%'").fetchone()[0] == 0
    sha = html.xpath("string(//input[@name='sha']/@value)")
    done = client.post(f"{path}/confirm", data={"csrf": csrf, "sha": sha, "keep": boxes[1:]},
                       follow_redirects=False)
    assert done.status_code == 303
    assert db.execute("select count(*) from comments where form_token like 'docx:%'").fetchone()[0] == len(boxes) - 1
    again = client.post(path, data={"csrf": csrf}, files={"docx": ("back.docx", data, "application/octet-stream")})
    assert again.status_code == 409
    other = client.post(path, data={"csrf": csrf}, files={"docx": ("x.docx", b"not a docx", "text/plain")})
    assert other.status_code == 422


def test_a_department_sends_its_returned_draft_through_its_private_link(client, db):
    c = next(db.query("select * from consultations"))
    _, token = departments.add(db, c, "市科技局", "test")
    path = f"/d/{token}/returned"
    links = parse_html(client.get(f"/d/{token}").text).xpath("//a/@href")
    assert any(link.endswith(path) for link in links)  # the department's page links to it
    csrf = parse_html(client.get(path).text).xpath("string(//input[@name='csrf']/@value)")
    page = client.post(path, data={"csrf": csrf}, files={
        "docx": ("back.docx", (FIXTURES / "lo-tracked.docx").read_bytes(), "application/octet-stream")})
    html = parse_html(page.text)
    boxes = html.xpath("//input[@name='keep']/@value")
    sha = html.xpath("string(//input[@name='sha']/@value)")
    assert client.post(f"{path}/confirm", data={"csrf": csrf, "sha": sha, "keep": boxes},
                       follow_redirects=False).status_code == 303
    rows = list(db.query("select source, name, department_id from comments where form_token like 'docx:%'"))
    assert len(rows) == len(boxes) and {(r["source"], r["name"]) for r in rows} == {("department", "市科技局")}
    assert client.get("/d/not-a-token/returned").status_code == 404
