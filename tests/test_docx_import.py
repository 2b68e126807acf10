"""The importer: a .docx becomes ordered, addressable blocks; bad or unsafe files are refused."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from revise.docx_import import ImportedDocument, ImportRefused, import_docx
from revise.numbering import format_number, split_typed_label, typed_heading

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "docx"
DRAFT = ROOT / "docs" / "draft.docx"
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.docx")) if CORPUS.is_dir() else []

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
# Where text is not the paragraph's own current text: deletions, field codes, text boxes.
HIDDEN = {"del", "moveFrom", "instrText", "drawing", "pict", "object", "AlternateContent", "pPr",
          "txbxContent"}
VISIBLE = {W + "t": None, W + "tab": "\t", W + "br": "\n", W + "cr": "\n", W + "noBreakHyphen": "-"}


# --- an independent, simple reading of the XML to check the importer against ---

def main_xml(data: bytes) -> etree._Element:
    """document.xml (or whatever _rels/.rels names as the main part), parsed plainly."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        rels = etree.fromstring(zf.read("_rels/.rels"))
        target = next(r.get("Target") for r in rels if r.get("Type").endswith("/officeDocument"))
        return etree.fromstring(zf.read(target.lstrip("/")))


def hidden(el: etree._Element, stop: etree._Element) -> bool:
    while el is not stop:
        if etree.QName(el).localname in HIDDEN:
            return True
        el = el.getparent()
    return False


def simple_text(p: etree._Element) -> str:
    out = []
    for el in p.iter(*VISIBLE):
        if not hidden(el, p):
            out.append(el.text or "" if VISIBLE[el.tag] is None else VISIBLE[el.tag])
    return "".join(out)


def simple_row_text(tr: etree._Element) -> str:
    cells = tr.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc", namespaces={"w": W_NS})
    texts = []
    for tc in cells:
        paras = [simple_text(p) for p in tc.iter(W + "p") if not hidden(p, tc)]
        texts.append("\n".join(t for t in paras if t.strip()))
    return "\t".join(texts)


def walk(body: etree._Element, locator: str) -> etree._Element:
    el = body
    for index in locator.split("."):
        el = [c for c in el if isinstance(c.tag, str)][int(index)]
    return el


def manifest() -> dict[str, dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def load(shared_dir: Path, name: str) -> ImportedDocument:
    return import_docx((shared_dir / "corpus" / "docx" / name).read_bytes())


def headings(doc: ImportedDocument) -> list:
    return [b for b in doc.blocks if b.kind == "heading"]


def docx_bytes(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def refused(data: bytes, **limits) -> ImportRefused:
    with pytest.raises(ImportRefused) as info:
        import_docx(data, **limits)
    assert info.value.message.strip()
    # A refusal must come from the file, never from a bug in the importer.
    assert not isinstance(info.value.__cause__, (AttributeError, TypeError, NameError))
    return info.value


# --- the corpus: every real file is imported with resolvable locators, or refused with a reason ---

@pytest.mark.parametrize("name", CORPUS_FILES)
def test_every_corpus_file_imports_with_locators_that_lead_back_to_the_same_text(shared_dir, name):
    data = (shared_dir / "corpus" / "docx" / name).read_bytes()
    if name == "mammoth__strict-format.docx":
        assert refused(data).code == "strict"
        return
    doc = import_docx(data)
    assert doc.blocks
    assert len({b.locator for b in doc.blocks}) == len(doc.blocks)
    body = main_xml(data).find(W + "body")
    for index, block in enumerate(doc.blocks):
        el = walk(body, block.locator)
        if block.kind == "table_row":
            assert el.tag == W + "tr" and block.cells
            assert block.text == simple_row_text(el) == "\t".join(c.text for c in block.cells)
        else:
            assert el.tag == W + "p" and block.text.strip()
            assert block.text == simple_text(el)
        assert all(doc.blocks[i].kind == "heading" and i < index for i in block.outline)
        if block.kind in ("heading", "list_item"):
            assert 1 <= block.level <= 9
    row = manifest()[name]
    if row["pydocx_opens"] == "yes":
        tables = {b.table for b in doc.blocks if b.kind == "table_row"}
        assert len(tables) == int(row["pydocx_body_tables"])


def test_a_strict_ooxml_file_is_refused_with_a_message_saying_how_to_resave_it(shared_dir):
    data = (shared_dir / "corpus" / "docx" / "mammoth__strict-format.docx").read_bytes()
    error = refused(data)
    assert error.code == "strict" and "Strict" in error.message


@pytest.mark.parametrize("name, present, absent", [
    ("docxrs__del_in_ins.docx", ["Hello ", "“E", "Wold"], ["DelText"]),
    ("docxrs__libreoffice-history.docx", ["Warld"], ["Hello"]),
    ("poi__58067-mac-ins-del.docx", ["This is a whole paragraph where one word is deleted."],
     ["only", "This is another Test."]),
])
def test_tracked_changes_read_as_the_current_text(shared_dir, name, present, absent):
    text = "\n".join(b.text for b in load(shared_dir, name).blocks)
    assert all(word in text for word in present)
    assert not any(word in text for word in absent)


def test_tracked_inserted_table_rows_are_rows(shared_dir):
    doc = load(shared_dir, "powertools__RP012-inserted-rows.docx")
    assert [b.text for b in doc.blocks] == ["1\t2\t3", "1\t2\t3", "4\t5\t6", "7\t8\t9",
                                            "10\t11\t12", "A\tB\tC"]
    assert {b.kind for b in doc.blocks} == {"table_row"} and {b.table for b in doc.blocks} == {0}


def test_merged_cells_keep_their_span_and_vertical_merge(shared_dir):
    cells = [c for b in load(shared_dir, "powertools__HC029-table-merged-cells.docx").blocks
             for c in b.cells]
    assert any(c.span == 2 for c in cells)
    assert {c.vmerge for c in cells} == {None, "restart", "continue"}
    assert all(c.text == "" for c in cells if c.vmerge == "continue")


def test_section_numbers_from_japanese_counting_numbering_become_heading_labels(shared_dir):
    doc = load(shared_dir, "chatchat__nbt-explanation-part1.docx")
    top = [b for b in headings(doc) if b.level == 1]
    assert [b.label for b in top] == ["一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、"]
    assert (top[0].text, top[0].title) == ("任务来源及计划要求", "任务来源及计划要求")  # label not typed
    assert top[1].title == "编制过程"


def test_ideograph_traditional_numbering_labels_headings_with_heavenly_stems(shared_dir):
    found = headings(load(shared_dir, "powertools__LIR010-zh-ideographTraditional.docx"))
    assert len(found) == 19 and {b.level for b in found} == {2}
    assert "".join(b.label[0] for b in found) == "甲乙丙丁戊己庚辛壬癸" + "甲乙丙丁戊己庚辛壬"


def test_multilevel_heading_numbering_gives_levels_and_dotted_labels(shared_dir):
    doc = load(shared_dir, "docling__headers-numbered.docx")
    found = [(b.title, b.level, b.label.rstrip(".")) for b in headings(doc)]
    assert found[:5] == [("Section 1", 1, "1"), ("Section 1.1", 2, "1.1"),
                         ("Section 1.2", 2, "1.2"), ("Section 1.2.3", 3, "1.2.1"),
                         ("Section 2", 1, "2")]
    paragraph = next(b for b in doc.blocks if b.text == "Paragraph 1.2.3.1")
    assert [doc.blocks[i].title for i in paragraph.outline] == ["Section 1", "Section 1.2",
                                                                "Section 1.2.3"]
    assert doc.title == "Test Document"


def test_wps_chinese_heading_styles_give_heading_levels(shared_dir):
    found = headings(load(shared_dir, "cdocx__wps-testword.docx"))
    assert [(b.text, b.level, b.style) for b in found[:5]] == [
        (f"标题{n}", n, f"Heading {n}") for n in range(1, 6)]


def test_a_nested_table_lands_in_its_cell_not_in_separate_blocks(shared_dir):
    doc = load(shared_dir, "docling__rich-cells.docx")
    row = next(b for b in doc.blocks if b.kind == "table_row" and "Rich cell" in b.text)
    assert row.cells[0].text == "A\nB\nC\nCell 1\nCell 2\nCell 3"
    assert row.cells[1].text.startswith("Rich cell\nA nested table")
    assert "Cell 3" in row.cells[1].text
    assert all(b.locator.count(".") == 1 for b in doc.blocks if b.kind == "table_row")


def test_text_box_text_is_not_part_of_the_paragraph_that_anchors_it(shared_dir):
    doc = load(shared_dir, "onlyoffice__sample.docx")
    assert not any("enable you to" in b.text for b in doc.blocks)
    assert any(b.text.startswith("Why ONLYOFFICE beats") for b in doc.blocks)


# --- documents built here ---

def test_typed_labels_give_levels_titles_and_outline_when_no_heading_styles_are_used():
    document = Document()
    long_body = "1.本办法适用于全市范围内的各类建设项目，由市发展和改革委员会负责解释，自印发之日起施行。"
    for text in ["一、总则", "", "   ", "(一)目标", "1.范围", "（1）细则", long_body, "二、保障措施"]:
        document.add_paragraph(text)
    doc = import_docx(docx_bytes(document))
    found = [(b.kind, b.level, b.label, b.title, b.outline) for b in doc.blocks]
    assert found == [
        ("heading", 1, "一、", "总则", ()),
        ("heading", 2, "(一)", "目标", (0,)),
        ("heading", 3, "1.", "范围", (0, 1)),
        ("heading", 4, "（1）", "细则", (0, 1, 2)),
        ("paragraph", None, "", "", (0, 1, 2, 3)),
        ("heading", 1, "二、", "保障措施", ()),
    ]
    assert [b.locator for b in doc.blocks] == ["0", "3", "4", "5", "6", "7"]  # empty ones skipped
    assert doc.blocks[4].text == long_body


def test_heading_styles_win_over_typed_labels_in_body_text():
    document = Document()
    document.core_properties.title = ""
    document.add_heading("南充市规划", 0)
    document.add_heading("一、总体要求", 1)
    document.add_paragraph("1.这一段是正文，不是标题")
    document.add_heading("（一）发展目标", 2)
    document.add_heading("Plain heading", 2)
    doc = import_docx(docx_bytes(document))
    found = [(b.kind, b.level, b.label, b.title, b.style, b.outline) for b in doc.blocks]
    assert found == [
        ("paragraph", None, "", "", "Title", ()),
        ("heading", 1, "一、", "总体要求", "Heading 1", ()),
        ("paragraph", None, "", "", "Normal", (1,)),
        ("heading", 2, "（一）", "发展目标", "Heading 2", (1,)),
        ("heading", 2, "", "Plain heading", "Heading 2", (1,)),
    ]
    assert doc.title == "南充市规划"


def test_the_core_properties_title_is_the_document_title():
    document = Document()
    document.core_properties.title = "南充市创新型城市建设方案"
    document.add_heading("别的标题", 1)
    assert import_docx(docx_bytes(document)).title == "南充市创新型城市建设方案"


def test_numbered_and_bulleted_paragraphs_are_list_items_with_computed_labels():
    document = Document()
    for text in ("第一项", "第二项", "第三项"):
        document.add_paragraph(text, style="List Number")
    document.add_paragraph("要点", style="List Bullet")
    doc = import_docx(docx_bytes(document))
    assert [(b.kind, b.level, b.label) for b in doc.blocks] == [
        ("list_item", 1, "1."), ("list_item", 1, "2."), ("list_item", 1, "3."),
        ("list_item", 1, "•")]


def test_table_rows_are_blocks_of_one_table_with_their_cells():
    document = Document()
    table = document.add_table(rows=3, cols=2)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = "" if r == 2 else f"第{r}行第{c}列"
    doc = import_docx(docx_bytes(document))
    assert [b.text for b in doc.blocks] == ["第0行第0列\t第0行第1列", "第1行第0列\t第1行第1列", "\t"]
    assert {b.table for b in doc.blocks} == {0} and [len(b.cells) for b in doc.blocks] == [2, 2, 2]


def test_a_thousand_page_document_imports_every_block():
    """Its time is measured by bench/draft_import.py, never asserted here."""
    document = Document()
    for chapter in range(60):
        document.add_heading(f"第{chapter + 1}章 总则", 1)
        for i in range(80):
            document.add_paragraph(f"第{i}条 " + "推动高质量发展，建设创新型城市。" * 8)
        table = document.add_table(rows=5, cols=4)
        for cell in table._cells:
            cell.text = "指标"
    doc = import_docx(docx_bytes(document))
    assert len(doc.blocks) == 60 * (1 + 80 + 5)


# --- files that are refused ---

def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def with_document_xml(data: bytes, document_xml: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    return zip_bytes({**entries, "word/document.xml": document_xml})


RELS = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/officeDocument" Target="%s"/></Relationships>')
CONTENT_TYPES = (b'<?xml version="1.0"?>'
                 b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "ha">'
                  b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                  b'<w:document xmlns:w="' + W_NS.encode() + b'"><w:body><w:p><w:r><w:t>&c;'
                  b'</w:t></w:r></w:p></w:body></w:document>')


@pytest.mark.parametrize("data, code", [
    (b"", "not_docx"),
    (b"hello", "not_docx"),
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "not_docx"),
    (bytes(range(256)) * 4, "not_docx"),
    (zip_bytes({"notes.txt": b"hello"}), "not_docx"),
    (zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS % b"word/document.xml"}),
     "corrupt"),
    (zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS % b"xl/workbook.xml",
                "xl/workbook.xml": b'<workbook xmlns="urn:x"/>'}), "not_docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096), "encrypted"),
], ids=["empty", "text", "png", "random", "plain-zip", "no-main-part", "spreadsheet", "ole2"])
def test_files_that_are_not_word_documents_are_refused(data, code):
    assert refused(data).code == code


def test_a_password_protected_file_is_refused_with_a_password_message():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512) + "EncryptionInfo".encode("utf-16-le")
    error = refused(ole)
    assert error.code == "encrypted" and "password" in error.message
    assert "password" not in refused(ole[:520]).message  # a plain OLE2 file is an old .doc


def test_a_truncated_docx_is_refused_as_damaged():
    data = docx_bytes(Document())
    assert refused(data[: len(data) // 2]).code == "corrupt"


def test_broken_xml_in_the_document_is_refused_as_damaged():
    unclosed = b"<w:document xmlns:w='" + W_NS.encode() + b"'><w:body>"
    data = with_document_xml(docx_bytes(Document()), unclosed)
    assert refused(data).code == "corrupt"


def test_xml_entity_declarations_are_refused_not_expanded():
    data = with_document_xml(docx_bytes(Document()), BILLION_LAUGHS)
    assert refused(data).code == "entities"


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    buf = io.BytesIO()
    with (zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
          zf.open("word/document.xml", "w", force_zip64=True) as f):
        for _ in range(300):  # 300 MB of zeros, streamed: the test stays small in memory
            f.write(bytes(1 << 20))
    assert len(buf.getvalue()) < 2 * 1024 * 1024
    assert refused(buf.getvalue()).code == "inflates"


def test_a_part_that_compresses_suspiciously_well_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/media/blank.bin", bytes(50 << 20))
    assert refused(buf.getvalue()).code == "inflates"


def test_limits_are_the_callers_to_set():
    data = docx_bytes(Document())
    assert refused(data, max_inflated=10_000).code == "inflates"
    assert refused(data, max_bytes=len(data) - 1).code == "too_large"
    assert refused(bytes(100), max_bytes=50).code == "too_large"  # checked before anything else


@pytest.mark.parametrize("text, expected", [
    ("一、总则", (1, "一、", "总则")),
    ("（二）主要目标", (2, "（二）", "主要目标")),
    ("3．保障措施", (3, "3．", "保障措施")),
    ("(4)细则", (4, "(4)", "细则")),
    ("1.1 范围", None),  # a decimal section number is not the 1. of the official hierarchy
    ("2021年工作回顾", None),
    ("一、加快建设。推动发展", None),  # a sentence, not a heading
    ("（一）" + "很长" * 21, None),
])
def test_only_short_lines_with_an_official_document_label_read_as_headings(text, expected):
    assert typed_heading(text) == expected


@pytest.mark.parametrize("text, label, title", [
    ("第一部分 总则", "第一部分", "总则"), ("第三章　目标", "第三章", "目标"),
    ("5.1 评价目的", "5.1", "评价目的"), ("1 范围", "1", "范围"),
    ("2024 年工作要点", "", "2024 年工作要点"),
])
def test_a_typed_label_is_split_from_a_heading_title(text, label, title):
    assert split_typed_label(text) == (label, title)


# --- the number formats of numbering.xml ---

@pytest.mark.parametrize("fmt, n, label", [
    ("chineseCounting", 1, "一"), ("chineseCounting", 10, "十"), ("chineseCounting", 11, "十一"),
    ("chineseCounting", 20, "二十"), ("chineseCounting", 21, "二十一"),
    ("chineseCounting", 100, "一百"), ("chineseCounting", 101, "一百零一"),
    ("chineseCountingThousand", 15, "十五"), ("japaneseCounting", 10, "十"),
    ("ideographTraditional", 1, "甲"), ("ideographTraditional", 10, "癸"),
    ("ideographTraditional", 11, "甲"), ("ideographZodiac", 12, "亥"),
    ("ideographDigital", 2024, "二〇二四"), ("chineseLegalSimplified", 3, "叁"),
    ("chineseLegalSimplified", 12, "壹拾贰"), ("decimalEnclosedCircle", 1, "①"),
    ("decimalEnclosedCircleChinese", 20, "⑳"), ("decimalFullWidth", 12, "１２"),
    ("upperRoman", 4, "IV"), ("lowerRoman", 9, "ix"), ("upperLetter", 27, "AA"),
    ("lowerLetter", 2, "b"), ("decimalZero", 7, "07"), ("none", 3, ""), ("somethingNew", 5, "5"),
])
def test_number_formats_render_as_word_shows_them(fmt, n, label):
    assert format_number(n, fmt) == label


# --- the Nanchong draft the project ships ---

@pytest.mark.skipif(not DRAFT.exists(), reason="docs/draft.docx is generated by its own script")
def test_the_nanchong_draft_imports_with_its_outline_table_and_no_table_of_contents():
    doc = import_docx(DRAFT.read_bytes())
    top = [b for b in headings(doc) if b.level == 1]
    assert [b.label for b in top] == ["一、", "二、", "三、", "四、", "五、", "六、"]
    assert {2, 3} <= {b.level for b in headings(doc)}
    assert doc.skipped_toc > 0
    caption = next(b for b in doc.blocks if b.text.strip() == "南充市省级创新型城市建设主要目标表")
    assert caption.kind == "paragraph"
    rows = [b for b in doc.blocks if b.kind == "table_row" and b.table == doc.blocks[
        doc.blocks.index(caption) + 1].table]
    assert len(rows) == 31
