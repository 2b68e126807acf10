"""Word files from other offices that the importer and exporter must get right (issue #14).

Each test builds the .docx that shows the case: frames and section breaks around an inserted
paragraph, cells holding tabs and line breaks, altChunk documents, ruby text, tracked changes
the draft already carried.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document
from lxml import etree

from revise import drafts, exporting, revising
from revise.docx_export import export_docx
from revise.docx_import import ImportRefused, import_docx
from revise.i18n import gettext
from revise.settings import Settings
from revise.store import blocks as block_store
from revise.store import open_database
from revise.timeutil import utc_now
from revise.window import Window

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WNS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
EDITOR = {"id": 1, "display_name": "王编辑"}


def docx_with(body: str) -> bytes:
    """A real .docx (python-docx's template: its styles and numbering) with this body XML."""
    buffer = io.BytesIO()
    Document().save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                data = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                        f'<w:document {WNS}><w:body>{body}<w:sectPr/></w:body></w:document>'
                        ).encode()
            zout.writestr(info, data)
    return out.getvalue()


def para(text: str, ppr: str = "", runs: str | None = None) -> str:
    return f"<w:p><w:pPr>{ppr}</w:pPr>{runs if runs is not None else run(text)}</w:p>"


def run(text: str, rpr: str = "") -> str:
    return f'<w:r><w:rPr>{rpr}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


def heading(text: str, level: int = 1) -> str:
    return para(text, f'<w:pStyle w:val="Heading{level}"/>')


def blocks_of(data: bytes) -> list[dict]:
    """The blocks as the store hands them to the exporter, unrevised."""
    return [{"id": n + 1, "kind": b.kind, "locator": b.locator, "level": b.level, "text": b.text,
             "cells": [{"text": c.text, "span": c.span, "vmerge": c.vmerge} for c in b.cells],
             "deleted": False, "rev": 0, "author": None, "date": None}
            for n, b in enumerate(import_docx(data).blocks)]


def insert_after(blocks: list[dict], text_of_block: str, text: str) -> list[dict]:
    at = next(n for n, b in enumerate(blocks) if b["text"] == text_of_block)
    new = {"id": None, "kind": "paragraph", "locator": None, "level": None, "text": text,
           "cells": [], "deleted": False, "rev": 1, "author": "王编辑", "date": None}
    return [*blocks[:at + 1], new, *blocks[at + 1:]]


def main_xml(data: bytes) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read("word/document.xml"))


def paragraph(root: etree._Element, text: str) -> etree._Element:
    return next(p for p in root.iter(W + "p") if "".join(p.itertext()) == text)


def ppr_xml(p: etree._Element) -> bytes:
    ppr = p.find(W + "pPr")
    return b"" if ppr is None else etree.tostring(ppr)


# --- 1. a paragraph inserted after a heading ---

FRAME = '<w:framePr w:w="8000" w:h="2000" w:hRule="exact" w:hAnchor="page" w:vAnchor="page" ' \
        'w:x="1800" w:y="3000"/>'
NUMBERED = '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>'
SECTION_BREAK = '<w:sectPr><w:type w:val="nextPage"/></w:sectPr>'
BODY_ONE = '<w:spacing w:line="560" w:lineRule="exact"/><w:ind w:firstLine="640"/><w:jc w:val="both"/>'
BODY_TWO = '<w:spacing w:line="400" w:lineRule="auto"/><w:ind w:firstLine="420"/>'
TOC = ('<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/>'
       '</w:docPartObj></w:sdtPr><w:sdtContent>'
       + para("一、总体要求 ........ 1", NUMBERED) + para("二、重点任务 ........ 3", NUMBERED)
       + '</w:sdtContent></w:sdt>')
COVER_AND_SECTIONS = (
    para("南充市建设省级创新型城市工作方案", FRAME + NUMBERED)  # the cover's framed title
    + para("南充市人民政府办公室", SECTION_BREAK)  # the cover's last line ends its section
    + TOC
    + heading("一、总体要求") + heading("（一）指导思想", 2)
    + para("坚持以习近平新时代中国特色社会主义思想为指导。", BODY_ONE)
    + para("二〇二二年十月", SECTION_BREAK)
    + heading("二、重点任务") + heading("（一）提升创新能力", 2)
    + para("加快建设创新平台。", BODY_TWO)
)


@pytest.mark.parametrize("after, body", [("一、总体要求", BODY_ONE), ("二、重点任务", BODY_TWO)],
                         ids=["first-section", "second-section"])
def test_a_paragraph_inserted_after_a_heading_is_formatted_like_the_body_text_of_its_section(
        after, body):
    data = docx_with(COVER_AND_SECTIONS)
    blocks = insert_after(blocks_of(data), after, "新增的一段正文。")
    for tracked in (False, True):
        new = paragraph(main_xml(export_docx(data, blocks, tracked=tracked)), "新增的一段正文。")
        ppr = new.find(W + "pPr")
        assert ppr.find(W + "framePr") is None and ppr.find(W + "sectPr") is None
        assert ppr.find(W + "numPr") is None and ppr.find(W + "pStyle") is None
        assert ppr.find(W + "ind").get(W + "firstLine") == ("640" if body == BODY_ONE else "420")
    block = next(b for b in import_docx(export_docx(data, blocks)).blocks
                 if b.text == "新增的一段正文。")
    assert block.kind == "paragraph" and block.label == ""


def test_with_no_body_text_anywhere_a_new_paragraph_takes_no_frame_toc_or_cover_numbering():
    data = docx_with(para("封面标题", FRAME + NUMBERED) + TOC + heading("一、总体要求")
                     + heading("二、重点任务"))
    out = export_docx(data, insert_after(blocks_of(data), "一、总体要求", "新增的一段正文。"))
    new = paragraph(main_xml(out), "新增的一段正文。")
    assert b"framePr" not in ppr_xml(new) and b"numPr" not in ppr_xml(new)
    assert b"pStyle" not in ppr_xml(new)  # not a heading either
    assert next(b for b in import_docx(out).blocks if b.text == "新增的一段正文。").kind == "paragraph"


# --- 2. one cell of a row edited: the other cells as they were ---

def cell(inner: str) -> str:
    return f'<w:tc><w:tcPr><w:tcW w:w="3000" w:type="dxa"/></w:tcPr>{inner}</w:tc>'


TAB, BR = "<w:r><w:tab/></w:r>", "<w:r><w:br/></w:r>"
ROW_TABLE = (heading("主要目标") + '<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>'
             '<w:tblGrid><w:gridCol w:w="3000"/><w:gridCol w:w="3000"/><w:gridCol w:w="3000"/>'
             '</w:tblGrid><w:tr>'
             + cell(para("", runs=run("研发投入") + TAB + run("强度") + BR + run("（%）")))
             + cell(para("", runs=run("2.1") + TAB + run("基期")))
             + cell(para("3.0"))
             + "</w:tr></w:tbl>")


@pytest.fixture
def row_draft(tmp_path):
    """A consultation of a one-row table whose cells hold tabs and a line break."""
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings.db_path)
    now = utc_now()
    cid = drafts.import_draft(db, docx_with(ROW_TABLE), filename="row.docx", slug="row",
                              window=Window(now, now.replace(year=now.year + 1)),
                              settings=settings)
    consultation = next(db.query("select * from consultations where id = ?", [cid]))
    yield db, consultation
    db.close()


def exported_cells(db, consultation, tracked=False) -> tuple[list[bytes], list[str]]:
    snap = exporting.snapshot(db, consultation)
    data = exporting.render(snap, "plan-tracked.docx" if tracked else "plan.docx")
    tcs = list(main_xml(data).iter(W + "tc"))
    row = next(b for b in import_docx(data).blocks if b.kind == "table_row")
    return [etree.tostring(tc) for tc in tcs], [c.text for c in row.cells]


def test_editing_one_cell_keeps_the_tabs_and_line_breaks_of_the_others_exactly(row_draft):
    db, c = row_draft
    row = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "table_row")
    texts = [cell["text"] for cell in row["cells"]]
    assert texts == ["研发投入\t强度\n（%）", "2.1\t基期", "3.0"]
    before, _ = exported_cells(db, c)
    revising.edit_row(db, c, row["id"], [texts[0], texts[1], "3.5"], base_number=0, author=EDITOR)
    for tracked in (False, True):
        after, read_back = exported_cells(db, c, tracked)
        assert after[:2] == before[:2]  # the other cells: the very same XML
        assert read_back == ["研发投入\t强度\n（%）", "2.1\t基期", "3.5"]


def test_a_cell_holding_a_tab_and_a_line_break_is_edited_without_losing_them(row_draft):
    db, c = row_draft
    row = next(b for b in block_store.of_consultation(db, c["id"]) if b["kind"] == "table_row")
    texts = [cell["text"] for cell in row["cells"]]
    revising.edit_row(db, c, row["id"], ["研发经费投入\t强度\n（%）", "2.2\t基期", texts[2]],
                      base_number=0, author=EDITOR)
    stored = block_store.get(db, c["id"], row["id"])
    assert [cell["text"] for cell in stored["cells"]] == ["研发经费投入\t强度\n（%）", "2.2\t基期", "3.0"]
    for tracked in (False, True):
        xml, read_back = exported_cells(db, c, tracked)
        first = etree.fromstring(xml[0])
        assert len(first.findall(f"{W}p")) == 1  # the line break stayed a line break
        assert len(list(first.iter(W + "tab"))) == 1 and len(list(first.iter(W + "br"))) == 1
        if not tracked:
            assert read_back == ["研发经费投入\t强度\n（%）", "2.2\t基期", "3.0"]


# --- 3. nothing to comment on: refused with a reason ---

ALT_CHUNK = '<w:altChunk xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/' \
            'relationships" r:id="rIdHtml1"/>'


@pytest.mark.parametrize("body, code", [(ALT_CHUNK, "alt_chunk"), (para("   ") + "<w:p/>", "empty"),
                                         (TOC, "empty")], ids=["altChunk", "blank", "only-a-toc"])
def test_a_document_with_no_blocks_is_refused_with_a_reason_in_chinese(body, code, tmp_path):
    data = docx_with(body)
    with pytest.raises(ImportRefused) as refused:
        import_docx(data)
    assert refused.value.code == code
    message = gettext(refused.value.message, "zh_CN")
    assert message != refused.value.message and "revise" in message and "段落" in message
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings.db_path)
    now = utc_now()
    with pytest.raises(ImportRefused):
        drafts.import_draft(db, data, filename="x.docx", slug="empty", settings=settings,
                            window=Window(now, now.replace(year=now.year + 1)))
    assert db["consultations"].count == 0  # never an empty consultation
    db.close()


# --- 4. ruby: the base text is the text ---

def ruby(base: str, guide: str) -> str:
    return (f'<w:r><w:ruby><w:rubyPr><w:rubyAlign w:val="distributeSpace"/><w:hps w:val="12"/>'
            f'<w:hpsRaise w:val="22"/><w:hpsBaseText w:val="24"/><w:lid w:val="zh-CN"/></w:rubyPr>'
            f'<w:rt><w:r><w:t>{guide}</w:t></w:r></w:rt>'
            f'<w:rubyBase><w:r><w:t>{base}</w:t></w:r></w:rubyBase></w:ruby></w:r>')


def test_ruby_base_text_is_imported_without_its_phonetic_guide_and_survives_an_edit():
    text_runs = run("地处") + ruby("阆", "làng") + run("中古城以北。")
    data = docx_with(heading("一、区位") + para("", runs=text_runs))
    block = import_docx(data).blocks[1]
    assert block.text == "地处阆中古城以北。"
    blocks = blocks_of(data)
    blocks[1].update(text="地处阆中古城以北约十公里。", rev=1)
    for tracked in (False, True):
        out = export_docx(data, blocks, tracked=tracked)
        p = main_xml(out).find(f"{W}body")[1]
        assert [t.text for t in p.iter(W + "t") if t.getparent().getparent().tag == W + "rt"] \
            == ["làng"]  # the guide is kept, as it was
        if not tracked:
            assert import_docx(out).blocks[1].text == "地处阆中古城以北约十公里。"
    blocks[1].update(deleted=True)
    p = main_xml(export_docx(data, blocks, tracked=True)).find(f"{W}body")[1]
    assert not [t for t in p.iter(W + "t") if t.getparent().getparent().tag == W + "rubyBase"]


# --- 5. the draft's own tracked changes: resolved in the clean export, kept in the tracked ---

def ins(text: str) -> str:
    return f'<w:ins w:id="901" w:author="起草人" w:date="2022-09-01T00:00:00Z">{run(text)}</w:ins>'


def dele(text: str) -> str:
    return (f'<w:del w:id="902" w:author="起草人" w:date="2022-09-01T00:00:00Z"><w:r>'
            f'<w:delText>{text}</w:delText></w:r></w:del>')


CARRIED = (
    heading("一、发展基础")
    + para("", runs=run("南充历史") + dele("底蕴") + ins("文化") + run("深厚。"))
    + para("", '<w:rPr><w:del w:id="903" w:author="起草人"/></w:rPr>', dele("整段删除的话。"))
    + para("", runs=run("格式改过的话。", '<w:b/><w:rPrChange w:id="904" w:author="起草人">'
                                           '<w:rPr/></w:rPrChange>'))
    + para("", runs='<w:moveFrom w:id="905" w:author="起草人">' + run("挪走的话。") + "</w:moveFrom>")
    + '<w:tbl><w:tblGrid><w:gridCol w:w="4000"/></w:tblGrid>'
    + '<w:tr>' + cell(para("留下的行")) + '</w:tr>'
    + '<w:tr><w:trPr><w:del w:id="906" w:author="起草人"/></w:trPr>' + cell(para("", runs=dele("删掉的行")))
    + '</w:tr></w:tbl>'
)
REVISION_TAGS = ("ins", "del", "moveFrom", "moveTo", "rPrChange", "pPrChange", "trPrChange",
                 "delText")


def revision_marks(data: bytes) -> list[str]:
    return [etree.QName(el).localname for el in main_xml(data).iter(*(W + t for t in REVISION_TAGS))]


def test_the_clean_export_accepts_the_drafts_own_tracked_changes_as_the_importer_read_them():
    data = docx_with(CARRIED)
    imported = [b.text for b in import_docx(data).blocks]
    assert imported == ["一、发展基础", "南充历史文化深厚。", "格式改过的话。", "留下的行"]
    blocks = blocks_of(data)
    blocks[2].update(text="格式改过的一句话。", rev=1)
    clean = export_docx(data, blocks)
    assert revision_marks(clean) == []
    assert [b.text for b in import_docx(clean).blocks] == \
        ["一、发展基础", "南充历史文化深厚。", "格式改过的一句话。", "留下的行"]
    body = main_xml(clean).find(W + "body")
    assert "整段删除的话。" not in "".join(body.itertext()) and len(list(body.iter(W + "tr"))) == 1
    tracked = export_docx(data, blocks, tracked=True)
    kept = revision_marks(tracked)
    for tag in ("ins", "del", "moveFrom", "rPrChange", "delText"):
        assert tag in kept  # the draft's own marks stay in the tracked export
    original = main_xml(data)
    assert etree.tostring(original.find(W + "body")[1]) == \
        etree.tostring(main_xml(tracked).find(W + "body")[1])  # untouched: the same XML
