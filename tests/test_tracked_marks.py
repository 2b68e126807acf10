"""The tracked-change writer (revise/docx_runs.py) on single paragraphs: what Word shows.

Each case builds a w:p as a document holds it, runs one writer function and compares the exact
XML that Word reads (tags, order, attributes, text): a deleted paragraph mark is w:pPr/w:rPr/w:del,
deleted text is w:delText inside w:del, inserted text is a run inside w:ins, and every mark
carries its own w:id, w:author and w:date.
"""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from docx import Document
from lxml import etree

from revise.docx_export import export_docx
from revise.docx_runs import (
    Marks,
    append_text,
    clean_copy,
    dominant_rpr,
    edit_paragraph,
    mark_paragraph,
    mark_runs,
    new_paragraph,
    new_run,
    rescue_anchors,
    runs_of,
)

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = "{%s}" % W_NS
XML_NS = "http://www.w3.org/XML/1998/namespace"
PREFIXES = {
    W_NS: "w",
    XML_NS: "xml",
    "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing": "wp",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "a",
    "http://schemas.microsoft.com/office/word/2010/wordprocessingShape": "wps",
    "urn:schemas-microsoft-com:vml": "v",
}
DECL = " ".join(f'xmlns:{p}="{ns}"' for ns, p in PREFIXES.items() if p != "xml")
AUTHOR, DATE = "张三", "2024-05-06T02:30:00Z"


def parse(xml: str) -> etree._Element:
    """An element written with the w: (and drawing) prefixes, as a document part holds it."""
    return etree.fromstring(re.sub(r"^<([\w:]+)", rf"<\1 {DECL}", xml, count=1),
                            etree.XMLParser(remove_blank_text=True))


def _name(tag: str) -> str:
    q = etree.QName(tag)
    return f"{PREFIXES.get(q.namespace, q.namespace)}:{q.localname}" if q.namespace else q.localname


def dump(el: etree._Element) -> str:
    """The element as compact XML: prefixed names, attributes sorted, text, no tails."""
    attrs = "".join(f' {_name(k)}="{v}"' for k, v in sorted(el.attrib.items(), key=lambda kv: _name(kv[0])))
    return f"<{_name(el.tag)}{attrs}>{el.text or ''}{''.join(dump(c) for c in el)}</{_name(el.tag)}>"


def same(el: etree._Element, expected: str) -> None:
    assert dump(el) == dump(parse(expected))


def marks(first_id: int = 100, tracked: bool = True) -> Marks:
    m = Marks(tracked, first_id)
    m.start_block(AUTHOR, DATE)
    return m


def ins(i: int) -> str:
    return f'w:id="{i}" w:author="{AUTHOR}" w:date="{DATE}"'


def views(p: etree._Element) -> tuple[str, str]:
    """What Word shows of p with "Original" and with "No Markup" (all changes accepted)."""
    def text(drop: set[str], keep: set[str]) -> str:
        out = []
        for el in p.iter(*(W + t for t in keep | {"tab", "br"})):
            if not any(a.tag in {W + d for d in drop} for a in el.iterancestors()):
                out.append({"tab": "\t", "br": "\n"}.get(etree.QName(el).localname, el.text or ""))
        return "".join(out)
    return text({"ins"}, {"t", "delText"}), text({"del"}, {"t"})


def opens_in_python_docx(p: etree._Element) -> list[str]:
    """Put p in a real document and read it back with python-docx: the paragraphs' texts."""
    doc = Document()
    body = doc.element.body
    body.insert(0, p)
    buf = io.BytesIO()
    doc.save(buf)
    return [para.text for para in Document(io.BytesIO(buf.getvalue())).paragraphs]


# --- Marks: who and when ---

def test_a_mark_carries_its_id_author_and_date_and_ids_count_up(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # the server's local time is not what Word reads
    time.tzset()
    try:
        m = Marks(True, 7)
        m.start_block("王五", "2024-05-06T10:30:00+08:00")  # China time, written as UTC
        first, second = m.mark("ins"), m.mark("del")
    finally:
        monkeypatch.undo()
        time.tzset()
    same(first, '<w:ins w:id="7" w:author="王五" w:date="2024-05-06T02:30:00Z"/>')
    same(second, '<w:del w:id="8" w:author="王五" w:date="2024-05-06T02:30:00Z"/>')
    assert m.next_id == 9


def test_a_naive_date_is_taken_as_utc_and_a_bad_one_is_left_out(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # a server in China: still not local time
    time.tzset()
    try:
        m = Marks(True, 1)
        m.start_block("a", "2024-05-06 10:30:00.123456")
        assert m.mark("ins").get(W + "date") == "2024-05-06T10:30:00Z"
    finally:
        monkeypatch.undo()
        time.tzset()
    m.start_block("a", "yesterday")
    assert W + "date" not in m.mark("ins").attrib  # Word refuses a w:date that is no xsd:dateTime
    m.start_block("a", None)
    assert W + "date" not in m.mark("ins").attrib


def test_no_author_is_written_as_revise_and_control_characters_are_dropped():
    m = Marks(True, 1)
    assert m.author == "revise" and m.date is None  # before any block
    m.start_block(None, None)
    assert m.mark("del").get(W + "author") == "revise"
    m.start_block("", None)
    assert m.mark("del").get(W + "author") == "revise"
    m.start_block("李\x01四", DATE)
    assert m.mark("del").get(W + "author") == "李四"


def test_wrap_puts_the_run_inside_the_mark_in_its_place():
    p = parse("<w:p><w:r><w:t>a</w:t></w:r><w:r><w:t>b</w:t></w:r><w:r><w:t>c</w:t></w:r></w:p>")
    m = marks(5)
    wrapper = m.wrap("ins", p[1])
    assert wrapper is p[1]
    same(p, f"<w:p><w:r><w:t>a</w:t></w:r><w:ins {ins(5)}><w:r><w:t>b</w:t></w:r></w:ins>"
            "<w:r><w:t>c</w:t></w:r></w:p>")


def test_adjacent_marks_of_one_kind_and_author_become_one_and_others_stay_apart():
    p = parse("<w:p><w:r><w:t>a</w:t></w:r><w:r><w:t>b</w:t></w:r><w:r><w:t>c</w:t></w:r>"
              "<w:r><w:t>d</w:t></w:r><w:r><w:t>e</w:t></w:r><w:r><w:t>f</w:t></w:r></w:p>")
    m = marks(1)
    runs = list(p)
    m.wrap("del", runs[0])
    m.wrap("del", runs[1])
    m.wrap("del", runs[2])  # a, b, c: one deletion
    m.wrap("ins", runs[3])  # another kind
    m.start_block("李四", DATE)
    m.wrap("ins", runs[4])  # another author
    m.merge_adjacent()
    other = f'w:author="李四" w:date="{DATE}"'
    same(p, f'<w:p><w:del {ins(1)}><w:r><w:t>a</w:t></w:r><w:r><w:t>b</w:t></w:r><w:r><w:t>c</w:t></w:r></w:del>'
            f'<w:ins {ins(4)}><w:r><w:t>d</w:t></w:r></w:ins>'
            f'<w:ins w:id="5" {other}><w:r><w:t>e</w:t></w:r></w:ins><w:r><w:t>f</w:t></w:r></w:p>')
    assert m._wrappers == []


def test_a_mark_already_in_the_document_is_not_merged_with_a_new_one():
    p = parse(f'<w:p><w:ins w:id="1" w:author="{AUTHOR}"><w:r><w:t>old</w:t></w:r></w:ins>'
              "<w:r><w:t>new</w:t></w:r></w:p>")
    p.append(parse("<w:r><w:t>more</w:t></w:r>"))
    m = Marks(True, 2)
    m.start_block(AUTHOR, None)
    elsewhere = parse("<w:p><w:r><w:t>x</w:t></w:r></w:p>")
    elsewhere.remove(m.wrap("ins", elsewhere[0]))  # a wrapper taken out again is skipped
    m.wrap("ins", p[1])
    m.wrap("ins", p[2])
    m.merge_adjacent()
    assert [c.tag for c in p] == [W + "ins", W + "ins"]
    assert [c.get(W + "id") for c in p] == ["1", "3"]
    assert ["".join(c.itertext()) for c in p] == ["old", "newmore"]


def test_a_new_mark_takes_in_the_new_marks_after_it_but_not_an_original_one():
    p = parse("<w:p><w:r><w:t>a</w:t></w:r><w:r><w:t>b</w:t></w:r>"
              f'<w:ins w:id="1" w:author="{AUTHOR}"><w:r><w:t>c</w:t></w:r></w:ins></w:p>')
    m = marks(2)
    m.wrap("ins", p[0])
    m.wrap("ins", p[1])
    m.merge_adjacent()
    assert [len(c) for c in p] == [2, 1]
    assert [c.get(W + "id") for c in p] == ["2", "1"]


# --- runs_of: the current runs ---

def test_runs_of_finds_runs_in_links_fields_controls_and_insertions_but_not_deletions():
    p = parse('<w:p><w:pPr><w:rPr><w:b/></w:rPr></w:pPr>'
              '<w:r><w:t>1</w:t></w:r>'
              '<w:hyperlink><w:r><w:t>2</w:t></w:r></w:hyperlink>'
              '<w:del w:id="1" w:author="x"><w:r><w:delText>gone</w:delText></w:r></w:del>'
              '<w:sdt><w:sdtPr/><w:sdtContent><w:smartTag><w:r><w:t>3</w:t></w:r></w:smartTag></w:sdtContent></w:sdt>'
              '<w:fldSimple><w:r><w:t>4</w:t></w:r></w:fldSimple>'
              '<w:ins w:id="2" w:author="x"><w:r><w:t>5</w:t></w:r></w:ins>'
              '<w:moveFrom w:id="3" w:author="x"><w:r><w:t>moved</w:t></w:r></w:moveFrom>'
              '<w:r><w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r></w:p>'
              '</w:txbxContent></wps:txbx></w:drawing></w:r></w:p>')
    runs = runs_of(p)
    assert ["".join(r.itertext()) for r in runs] == ["1", "2", "3", "4", "5", "box"]
    assert runs[-1].getparent() is p  # the text box's own runs are not the paragraph's
    out = [p]
    assert runs_of(p[1], out) is out and out[1:] == []  # a run holds no runs of its own


# --- mark_paragraph: the paragraph mark ---

def test_a_paragraph_without_properties_gets_them_first_with_the_mark():
    p = parse("<w:p><w:r><w:t>text</w:t></w:r></w:p>")
    mark_paragraph(p, "ins", marks(3))
    same(p, f"<w:p><w:pPr><w:rPr><w:ins {ins(3)}/></w:rPr></w:pPr><w:r><w:t>text</w:t></w:r></w:p>")
    assert opens_in_python_docx(p)[0] == "text"


def test_the_mark_goes_into_the_existing_properties_before_a_section_break():
    p = parse('<w:p><w:pPr><w:pStyle w:val="Heading1"/><w:jc w:val="center"/>'
              '<w:sectPr><w:pgSz w:w="11906"/></w:sectPr></w:pPr><w:r><w:t>x</w:t></w:r></w:p>')
    mark_paragraph(p, "del", marks(4))
    same(p, f'<w:p><w:pPr><w:pStyle w:val="Heading1"/><w:jc w:val="center"/><w:rPr><w:del {ins(4)}/></w:rPr>'
            '<w:sectPr><w:pgSz w:w="11906"/></w:sectPr></w:pPr><w:r><w:t>x</w:t></w:r></w:p>')


def test_the_mark_goes_before_a_recorded_property_change():
    p = parse('<w:p><w:pPr><w:jc w:val="center"/><w:pPrChange w:id="1" w:author="x"><w:pPr/></w:pPrChange>'
              '</w:pPr></w:p>')
    mark_paragraph(p, "ins", marks(9))
    same(p, f'<w:p><w:pPr><w:jc w:val="center"/><w:rPr><w:ins {ins(9)}/></w:rPr>'
            '<w:pPrChange w:id="1" w:author="x"><w:pPr/></w:pPrChange></w:pPr></w:p>')


def test_without_a_later_property_the_mark_goes_last():
    p = parse('<w:p><w:pPr><w:pStyle w:val="a"/><w:spacing w:after="0"/></w:pPr></w:p>')
    mark_paragraph(p, "del", marks(2))
    same(p, f'<w:p><w:pPr><w:pStyle w:val="a"/><w:spacing w:after="0"/><w:rPr><w:del {ins(2)}/></w:rPr>'
            '</w:pPr></w:p>')


def test_the_mark_joins_the_paragraph_marks_own_formatting_first():
    p = parse('<w:p><w:pPr><w:pStyle w:val="a"/><w:rPr><w:b/><w:sz w:val="28"/></w:rPr></w:pPr></w:p>')
    mark_paragraph(p, "del", marks(6))
    same(p, f'<w:p><w:pPr><w:pStyle w:val="a"/><w:rPr><w:del {ins(6)}/><w:b/><w:sz w:val="28"/></w:rPr>'
            '</w:pPr></w:p>')
    p = parse('<w:p><w:pPr><w:rPr><w:b/></w:rPr></w:pPr></w:p>')
    mark_paragraph(p, "ins", marks(6))
    same(p, f'<w:p><w:pPr><w:rPr><w:ins {ins(6)}/><w:b/></w:rPr></w:pPr></w:p>')


def test_a_deletion_of_an_inserted_paragraph_mark_goes_after_the_insertion():
    p = parse(f'<w:p><w:pPr><w:rPr><w:ins w:id="1" w:author="x"/><w:b/></w:rPr></w:pPr></w:p>')
    m = marks(8)
    mark_paragraph(p, "del", m)
    same(p, f'<w:p><w:pPr><w:rPr><w:ins w:id="1" w:author="x"/><w:del {ins(8)}/><w:b/></w:rPr></w:pPr></w:p>')
    mark_paragraph(p, "del", m)  # already deleted: one mark, no id used
    mark_paragraph(p, "ins", m)  # already inserted
    assert len(p[0][0]) == 3 and m.next_id == 9


def test_an_insertion_goes_before_an_existing_deletion_mark():
    p = parse('<w:p><w:pPr><w:rPr><w:del w:id="1" w:author="x"/></w:rPr></w:pPr></w:p>')
    mark_paragraph(p, "ins", marks(2))
    same(p, f'<w:p><w:pPr><w:rPr><w:ins {ins(2)}/><w:del w:id="1" w:author="x"/></w:rPr></w:pPr></w:p>')


def test_a_deletion_into_empty_run_properties():
    p = parse('<w:p><w:pPr><w:rPr/></w:pPr></w:p>')
    mark_paragraph(p, "del", marks(2))
    same(p, f'<w:p><w:pPr><w:rPr><w:del {ins(2)}/></w:rPr></w:pPr></w:p>')


# --- mark_runs: every current run ---

def test_deleting_runs_wraps_them_in_one_deletion_and_turns_their_text_into_deleted_text():
    p = parse('<w:p><w:pPr><w:jc w:val="center"/></w:pPr>'
              '<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">第一条 </w:t><w:tab/></w:r>'
              '<w:r><w:t>总则</w:t></w:r></w:p>')
    m = marks(10)
    mark_runs(p, "del", m)
    same(p, f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:del {ins(10)}>'
            '<w:r><w:rPr><w:b/></w:rPr><w:delText xml:space="preserve">第一条 </w:delText><w:tab/></w:r>'
            '<w:r><w:delText>总则</w:delText></w:r></w:del></w:p>')
    assert m.next_id == 12  # one id per run wrapped; the merged-away one is simply unused
    assert views(p) == ("第一条 \t总则", "")
    assert opens_in_python_docx(p)[0] == ""


def test_inserting_runs_keeps_their_text():
    p = parse('<w:p><w:r><w:t>新</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
              '<w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
    mark_runs(p, "ins", marks(1))
    same(p, f'<w:p><w:ins {ins(1)}><w:r><w:t>新</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            '<w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
            '</w:ins></w:p>')
    assert views(p) == ("", "新")
    assert opens_in_python_docx(p)[0] == ""  # python-docx reads no text inside w:ins


def test_a_deleted_field_instruction_becomes_deleted_instruction_text():
    p = parse('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
              '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
              '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r>'
              '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
    mark_runs(p, "del", marks(1))
    same(p, f'<w:p><w:del {ins(1)}><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            '<w:r><w:delInstrText xml:space="preserve"> PAGE </w:delInstrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:delText>3</w:delText></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:del></w:p>')


def test_runs_inside_links_controls_and_fields_are_each_marked_where_they_are():
    p = parse('<w:p><w:r><w:t>见</w:t></w:r>'
              '<w:hyperlink w:anchor="x"><w:r><w:t>附件</w:t></w:r></w:hyperlink>'
              '<w:sdt><w:sdtContent><w:r><w:t>框</w:t></w:r></w:sdtContent></w:sdt>'
              '<w:fldSimple w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'
              '<w:del w:id="1" w:author="x"><w:r><w:delText>旧</w:delText></w:r></w:del></w:p>')
    mark_runs(p, "del", marks(2))
    same(p, f'<w:p><w:del {ins(2)}><w:r><w:delText>见</w:delText></w:r></w:del>'
            f'<w:hyperlink w:anchor="x"><w:del {ins(3)}><w:r><w:delText>附件</w:delText></w:r></w:del></w:hyperlink>'
            f'<w:sdt><w:sdtContent><w:del {ins(4)}><w:r><w:delText>框</w:delText></w:r></w:del></w:sdtContent></w:sdt>'
            f'<w:fldSimple w:instr="PAGE"><w:del {ins(5)}><w:r><w:delText>1</w:delText></w:r></w:del></w:fldSimple>'
            '<w:del w:id="1" w:author="x"><w:r><w:delText>旧</w:delText></w:r></w:del></w:p>')


def test_deleting_text_someone_inserted_nests_the_deletion_in_the_insertion():
    p = parse('<w:p><w:ins w:id="1" w:author="x"><w:r><w:t>加</w:t></w:r></w:ins></w:p>')
    mark_runs(p, "del", marks(2))
    same(p, f'<w:p><w:ins w:id="1" w:author="x"><w:del {ins(2)}><w:r><w:delText>加</w:delText></w:r>'
            '</w:del></w:ins></w:p>')


def test_a_deleted_ruby_deletes_its_base_and_guide_text_and_their_fields():
    p = parse('<w:p><w:r><w:ruby><w:rubyPr/>'
              '<w:rt><w:r><w:t>zhōng</w:t></w:r><w:r><w:instrText>EQ</w:instrText></w:r></w:rt>'
              '<w:rubyBase><w:r><w:t>中</w:t></w:r></w:rubyBase></w:ruby></w:r></w:p>')
    mark_runs(p, "del", marks(1))
    same(p, f'<w:p><w:del {ins(1)}><w:r><w:ruby><w:rubyPr/>'
            '<w:rt><w:r><w:delText>zhōng</w:delText></w:r><w:r><w:delInstrText>EQ</w:delInstrText></w:r></w:rt>'
            '<w:rubyBase><w:r><w:delText>中</w:delText></w:r></w:rubyBase></w:ruby></w:r></w:del></w:p>')


def test_an_inserted_ruby_keeps_its_text():
    p = parse('<w:p><w:r><w:ruby><w:rt><w:r><w:t>a</w:t></w:r></w:rt>'
              '<w:rubyBase><w:r><w:t>b</w:t></w:r></w:rubyBase></w:ruby></w:r></w:p>')
    mark_runs(p, "ins", marks(1))
    assert [t.tag for t in p.iter(W + "t", W + "delText")] == [W + "t", W + "t"]


def test_a_deleted_text_box_anchor_leaves_the_boxs_own_paragraphs_as_they_are():
    # The box's paragraphs are a story of their own (Word marks them there, if at all).
    p = parse('<w:p><w:r><w:t>前</w:t><w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>框内</w:t></w:r></w:p>'
              '</w:txbxContent></wps:txbx></w:drawing></w:r>'
              '<w:r><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:instrText>X</w:instrText></w:r></w:p>'
              '</w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>')
    mark_runs(p, "del", marks(1))
    assert len(p) == 1 and p[0].tag == W + "del" and len(p[0]) == 2
    assert [t.tag for t in p.iter(W + "t", W + "delText", W + "instrText", W + "delInstrText")] == [
        W + "delText", W + "t", W + "instrText"]


def test_a_paragraph_without_runs_gets_no_mark():
    p = parse('<w:p><w:pPr><w:jc w:val="left"/></w:pPr><w:bookmarkStart w:id="0" w:name="a"/></w:p>')
    m = marks(1)
    mark_runs(p, "del", m)
    same(p, '<w:p><w:pPr><w:jc w:val="left"/></w:pPr><w:bookmarkStart w:id="0" w:name="a"/></w:p>')
    assert m.next_id == 1


def test_a_deleted_paragraph_reads_in_python_docx_as_word_shows_it_after_accepting():
    p = parse('<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>删掉</w:t></w:r></w:p>')
    m = marks(1)
    mark_runs(p, "del", m)
    mark_paragraph(p, "del", m)
    same(p, f'<w:p><w:pPr><w:pStyle w:val="Heading1"/><w:rPr><w:del {ins(2)}/></w:rPr></w:pPr>'
            f'<w:del {ins(1)}><w:r><w:delText>删掉</w:delText></w:r></w:del></w:p>')
    assert views(p) == ("删掉", "")
    assert opens_in_python_docx(p)[0] == ""


# --- rescue_anchors ---

def test_anchors_and_comment_reference_runs_are_rescued_without_their_text():
    p = parse('<w:p><w:bookmarkStart w:id="1" w:name="b"/><w:commentRangeStart w:id="2"/>'
              '<w:r><w:t>正文</w:t></w:r><w:commentRangeEnd w:id="2"/>'
              '<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr><w:t>x</w:t><w:tab/><w:br/>'
              '<w:commentReference w:id="2"/></w:r><w:bookmarkEnd w:id="1"/></w:p>')
    found = rescue_anchors(p)
    assert [dump(el) for el in found] == [dump(parse(x)) for x in (
        '<w:bookmarkStart w:id="1" w:name="b"/>', '<w:commentRangeStart w:id="2"/>',
        '<w:commentRangeEnd w:id="2"/>',
        '<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr><w:commentReference w:id="2"/></w:r>',
        '<w:bookmarkEnd w:id="1"/>')]


def test_a_comment_reference_outside_a_run_is_not_rescued_but_later_anchors_are():
    p = parse('<w:p><w:smartTag><w:commentReference w:id="2"/></w:smartTag><w:bookmarkEnd w:id="1"/></w:p>')
    assert [dump(el) for el in rescue_anchors(p)] == [dump(parse('<w:bookmarkEnd w:id="1"/>'))]


# --- edits of text: only changed runs are rebuilt ---

def test_a_tracked_edit_inside_a_run_splits_it_and_keeps_its_formatting():
    p = parse('<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>甲乙丙</w:t></w:r><w:r><w:t>丁</w:t></w:r></w:p>')
    edit_paragraph(p, "甲新丙丁", marks(1))
    same(p, '<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>甲</w:t></w:r>'
            f'<w:del {ins(1)}><w:r><w:rPr><w:b/></w:rPr><w:delText>乙</w:delText></w:r></w:del>'
            f'<w:ins {ins(2)}><w:r><w:rPr><w:b/></w:rPr><w:t>新</w:t></w:r></w:ins>'
            '<w:r><w:rPr><w:b/></w:rPr><w:t>丙</w:t></w:r><w:r><w:t>丁</w:t></w:r></w:p>')
    assert views(p) == ("甲乙丙丁", "甲新丙丁")
    assert opens_in_python_docx(p)[0] == "甲丙丁"


def test_a_clean_edit_rewrites_the_run_without_marks():
    p = parse('<w:p><w:r w:rsidR="00A1"><w:rPr><w:i/></w:rPr><w:t>甲乙丙</w:t></w:r></w:p>')
    m = marks(1, tracked=False)
    edit_paragraph(p, "甲 新\t", m)
    same(p, '<w:p><w:r w:rsidR="00A1"><w:rPr><w:i/></w:rPr><w:t>甲 新</w:t><w:tab/></w:r></w:p>')
    assert m.next_id == 1


def test_an_unchanged_text_leaves_the_paragraph_alone():
    p = parse('<w:p><w:r><w:t>同</w:t></w:r></w:p>')
    before = dump(p)
    m = marks(1)
    edit_paragraph(p, "同", m)
    assert dump(p) == before and m.next_id == 1


def test_typed_tabs_and_line_breaks_become_elements_and_kept_ones_stay():
    p = parse('<w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t></w:r></w:p>')
    edit_paragraph(p, "a\tb\nc", marks(1))
    same(p, '<w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t></w:r>'
            f'<w:ins {ins(1)}><w:r><w:br/><w:t>c</w:t></w:r></w:ins></w:p>')


def test_deleting_a_tab_deletes_the_tab_element():
    p = parse('<w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t></w:r></w:p>')
    edit_paragraph(p, "ab", marks(1))
    same(p, f'<w:p><w:r><w:t>a</w:t></w:r><w:del {ins(1)}><w:r><w:tab/></w:r></w:del>'
            '<w:r><w:t>b</w:t></w:r></w:p>')
    assert views(p) == ("a\tb", "ab")


def test_a_run_emptied_by_a_clean_edit_goes_with_the_link_it_leaves_empty():
    p = parse('<w:p><w:r><w:t>见</w:t></w:r><w:hyperlink w:anchor="x"><w:r><w:t>附件</w:t></w:r></w:hyperlink></w:p>')
    edit_paragraph(p, "见", marks(1, tracked=False))
    same(p, '<w:p><w:r><w:t>见</w:t></w:r></w:p>')


def test_text_typed_into_an_empty_paragraph_gets_the_given_formatting():
    p = parse('<w:p><w:pPr><w:jc w:val="center"/></w:pPr></w:p>')
    rpr = parse('<w:rPr><w:b/></w:rPr>')
    edit_paragraph(p, " 新", marks(4), rpr)
    same(p, f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:ins {ins(4)}><w:r><w:rPr><w:b/></w:rPr>'
            '<w:t xml:space="preserve"> 新</w:t></w:r></w:ins></w:p>')


def test_spaces_joined_into_one_text_element_keep_xml_space_only_when_needed():
    p = parse('<w:p><w:r><w:t>ab</w:t></w:r></w:p>')
    edit_paragraph(p, "a b", marks(1, tracked=False))
    same(p, '<w:p><w:r><w:t>a b</w:t></w:r></w:p>')
    p = parse('<w:p><w:r><w:t>ab</w:t></w:r></w:p>')
    edit_paragraph(p, "ab ", marks(1, tracked=False))
    same(p, '<w:p><w:r><w:t xml:space="preserve">ab </w:t></w:r></w:p>')


# --- new paragraphs and runs ---

def test_a_new_paragraph_copies_the_model_properties_without_history_or_section_break():
    model = parse('<w:p><w:pPr><w:pStyle w:val="a"/><w:rPr><w:ins w:id="1" w:author="x"/><w:b/></w:rPr>'
                  '<w:sectPr/><w:pPrChange w:id="2" w:author="x"><w:pPr/></w:pPrChange></w:pPr>'
                  '<w:r><w:rPr><w:i/></w:rPr><w:t>a</w:t></w:r>'
                  '<w:r><w:rPr><w:u w:val="single"/><w:rPrChange w:id="3" w:author="x"><w:rPr/></w:rPrChange>'
                  '</w:rPr><w:t>longer</w:t></w:r></w:p>')
    p = new_paragraph(model, "新\t段", marks(5))
    same(p, '<w:p><w:pPr><w:pStyle w:val="a"/><w:rPr><w:b/></w:rPr></w:pPr>'
            f'<w:ins {ins(5)}><w:r><w:rPr><w:u w:val="single"/></w:rPr><w:t>新</w:t><w:tab/><w:t>段</w:t></w:r>'
            '</w:ins></w:p>')
    assert dump(new_paragraph(None, "", marks(1))) == "<w:p></w:p>"
    assert dump(new_paragraph(model, "", marks(1, tracked=False))) == dump(parse(
        '<w:p><w:pPr><w:pStyle w:val="a"/><w:rPr><w:b/></w:rPr></w:pPr></w:p>'))


def test_the_dominant_formatting_is_that_of_the_most_text_first_on_a_tie():
    p = parse('<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>ab</w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>c</w:t><w:tab/>'
              '</w:r><w:r><w:t>d</w:t></w:r></w:p>')
    same(dominant_rpr(p), '<w:rPr><w:b/></w:rPr>')
    # counted over all of a run's text, not its last piece: 3 characters in three pieces beat 2
    p = parse('<w:p><w:r><w:rPr><w:i/></w:rPr><w:t>a</w:t><w:tab/><w:t>b</w:t></w:r>'
              '<w:r><w:rPr><w:b/></w:rPr><w:t>xy</w:t></w:r></w:p>')
    same(dominant_rpr(p), '<w:rPr><w:i/></w:rPr>')
    assert dominant_rpr(parse('<w:p><w:r><w:t>ab</w:t></w:r></w:p>')) is None
    assert dominant_rpr(parse('<w:p/>')) is None
    assert clean_copy(None) is None


def test_a_new_run_and_appended_text():
    run = new_run("a\nb\x01", None)
    same(run, '<w:r><w:t>a</w:t><w:br/><w:t>b</w:t></w:r>')
    p = parse('<w:p/>')
    append_text(p, "x", None, marks(1, tracked=False))
    same(p, '<w:p><w:r><w:t>x</w:t></w:r></w:p>')


# --- the real corpus: every mark of a tracked export has its own id ---

def test_every_mark_of_a_tracked_export_of_a_corpus_document_has_a_unique_id(shared_dir):
    from tests.test_docx_export import blocks_of
    data = (shared_dir / "corpus" / "docx" / "poi__58067-mac-ins-del.docx").read_bytes()
    blocks = blocks_of(data)
    if len(blocks) < 2:
        pytest.skip("the document has too few blocks")
    blocks[0].update(text=blocks[0]["text"] + "补充", rev=1, author=AUTHOR, date=DATE)
    blocks[1].update(deleted=True, rev=1, author=AUTHOR, date=DATE)
    out = export_docx(data, blocks, tracked=True)
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    ids = [el.get(W + "id") for el in root.iter(W + "ins", W + "del")]
    assert len(ids) == len(set(ids))
    mine = [el for el in root.iter(W + "ins", W + "del") if el.get(W + "author") == AUTHOR]
    assert {el.tag for el in mine} == {W + "ins", W + "del"}
    assert all(el.get(W + "date") == DATE for el in mine)
    Document(io.BytesIO(out))  # python-docx opens it


# --- more edits: where typed text goes, what is merged, what is removed ---

def test_typed_text_joins_the_run_before_it_or_at_the_start_the_first_run():
    p = parse('<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>a</w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>b</w:t></w:r></w:p>')
    edit_paragraph(p, "Xab", marks(1))
    same(p, f'<w:p><w:ins {ins(1)}><w:r><w:rPr><w:b/></w:rPr><w:t>X</w:t></w:r></w:ins>'
            '<w:r><w:rPr><w:b/></w:rPr><w:t>a</w:t></w:r>'
            '<w:r><w:rPr><w:i/></w:rPr><w:t>b</w:t></w:r></w:p>')
    assert views(p) == ("ab", "Xab")
    p = parse('<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>a</w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>b</w:t></w:r></w:p>')
    edit_paragraph(p, "aYb", marks(1))
    same(p, '<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>a</w:t></w:r>'
            f'<w:ins {ins(1)}><w:r><w:rPr><w:b/></w:rPr><w:t>Y</w:t></w:r></w:ins>'
            '<w:r><w:rPr><w:i/></w:rPr><w:t>b</w:t></w:r></w:p>')
    assert views(p) == ("ab", "aYb")


def test_a_deletion_across_two_runs_is_one_mark():
    p = parse('<w:p><w:r><w:t>ab</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>cd</w:t></w:r></w:p>')
    edit_paragraph(p, "ad", marks(1))
    same(p, f'<w:p><w:r><w:t>a</w:t></w:r><w:del {ins(1)}><w:r><w:delText>b</w:delText></w:r>'
            '<w:r><w:rPr><w:b/></w:rPr><w:delText>c</w:delText></w:r></w:del>'
            '<w:r><w:rPr><w:b/></w:rPr><w:t>d</w:t></w:r></w:p>')
    assert views(p) == ("abcd", "ad")


def test_a_replacement_of_a_whole_run_with_spaces_keeps_them():
    p = parse('<w:p><w:r><w:t>a</w:t></w:r><w:r><w:t>b</w:t></w:r></w:p>')
    edit_paragraph(p, "a x ", marks(1))
    same(p, f'<w:p><w:r><w:t>a</w:t></w:r><w:del {ins(1)}><w:r><w:delText>b</w:delText></w:r></w:del>'
            f'<w:ins {ins(2)}><w:r><w:t xml:space="preserve"> x </w:t></w:r></w:ins></w:p>')
    assert views(p) == ("ab", "a x ")


def test_special_characters_count_as_text_and_go_as_elements():
    p = parse('<w:p><w:r><w:t/><w:t>a</w:t><w:noBreakHyphen/><w:t>b</w:t><w:ptab w:alignment="right"/>'
              '<w:cr/><w:t>c</w:t></w:r></w:p>')
    edit_paragraph(p, "a-b\tc", marks(1))
    same(p, '<w:p><w:r><w:t/><w:t>a</w:t><w:noBreakHyphen/><w:t>b</w:t><w:ptab w:alignment="right"/></w:r>'
            f'<w:del {ins(1)}><w:r><w:cr/></w:r></w:del><w:r><w:t>c</w:t></w:r></w:p>')


def test_an_edit_of_ruby_text_changes_its_base_and_not_its_guide():
    p = parse('<w:p><w:r><w:ruby><w:rt><w:r><w:t>zhōng</w:t></w:r></w:rt>'
              '<w:rubyBase><w:r><w:t>中</w:t></w:r></w:rubyBase></w:ruby></w:r><w:r><w:t>国</w:t></w:r></w:p>')
    edit_paragraph(p, "华国", marks(1, tracked=False))
    same(p, '<w:p><w:r><w:ruby><w:rt><w:r><w:t>zhōng</w:t></w:r></w:rt>'
            '<w:rubyBase><w:r><w:t>华</w:t></w:r></w:rubyBase></w:ruby></w:r><w:r><w:t>国</w:t></w:r></w:p>')


def test_a_link_keeps_its_other_runs_when_one_is_emptied():
    p = parse('<w:p><w:hyperlink w:anchor="x"><w:r><w:t>a</w:t></w:r><w:r><w:t>b</w:t></w:r></w:hyperlink></w:p>')
    edit_paragraph(p, "a", marks(1, tracked=False))
    same(p, '<w:p><w:hyperlink w:anchor="x"><w:r><w:t>a</w:t></w:r></w:hyperlink></w:p>')
    p = parse('<w:p><w:sdt><w:sdtContent><w:hyperlink><w:r><w:t>a</w:t></w:r></w:hyperlink></w:sdtContent>'
              '</w:sdt></w:p>')
    edit_paragraph(p, "", marks(1, tracked=False))
    same(p, '<w:p></w:p>')  # the emptied link and control go with their run; the paragraph stays


def test_text_in_runs_already_inserted_or_deleted_reads_as_word_shows_it():
    p = parse(f'<w:p><w:ins w:id="1" w:author="x"><w:r><w:t>ab</w:t></w:r></w:ins>'
              '<w:del w:id="2" w:author="x"><w:r><w:delText>zz</w:delText></w:r></w:del></w:p>')
    edit_paragraph(p, "abc", marks(3, tracked=False))
    same(p, '<w:p><w:ins w:id="1" w:author="x"><w:r><w:t>abc</w:t></w:r></w:ins>'
            '<w:del w:id="2" w:author="x"><w:r><w:delText>zz</w:delText></w:r></w:del></w:p>')


def test_a_new_paragraph_without_a_model_has_plain_inserted_text():
    p = new_paragraph(None, "x", marks(1))
    same(p, f'<w:p><w:ins {ins(1)}><w:r><w:t>x</w:t></w:r></w:ins></w:p>')


def test_text_starting_or_ending_with_a_space_keeps_it_for_word():
    # Without xml:space="preserve" Word drops a w:t's leading and trailing spaces.
    same(new_run("新条 ", None), '<w:r><w:t xml:space="preserve">新条 </w:t></w:r>')
    same(new_run("新 条", None), '<w:r><w:t>新 条</w:t></w:r>')
    p = parse('<w:p><w:r><w:t>ab</w:t></w:r></w:p>')
    edit_paragraph(p, " xab", marks(1, tracked=False))  # typed " x" joined by the kept "ab"
    same(p, '<w:p><w:r><w:t xml:space="preserve"> xab</w:t></w:r></w:p>')
