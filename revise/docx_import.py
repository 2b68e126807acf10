"""Turn an uploaded .docx into ordered, addressable blocks, refusing unsafe or unreadable files."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field, replace
from urllib.parse import unquote

from lxml import etree

from .i18n import N_
from .numbering import Numbering, split_typed_label, typed_heading

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
STRICT_PREFIX = "http://purl.oclc.org/ooxml/"
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Real documents compress 5-30x; a large part that shrank 200x is almost surely a bomb.
SUSPICIOUS_RATIO, SUSPICIOUS_SIZE = 200, 10 * 1024 * 1024

MESSAGES = {
    "too_large": N_("The file is too large for revise. Remove large pictures or split the "
                    "document, then upload it again."),
    "not_docx": N_("The file is not a Word document. Save it in Word as a .docx (Word Document) "
                   "and upload it again."),
    "encrypted": N_("The file is protected with a password. Remove the password in Word, save it "
                    "as a .docx (Word Document) and upload it again."),
    "legacy": N_("The file is an old-format Word document (.doc) or an encrypted file, which "
                 "revise cannot read. Open it in Word, save it as a .docx (Word Document) and "
                 "upload it again."),
    "strict": N_("The file is a Word document in ISO Strict format, which revise cannot read. "
                 "Save it in Word as a normal .docx (Word Document) and upload it again."),
    "inflates": N_("The file unpacks to far more data than a normal document, so revise will "
                   "not open it. Save it again in Word as a .docx and upload it again."),
    "corrupt": N_("The file is damaged and cannot be read. Open it in Word, save it again as a "
                  ".docx (Word Document) and upload it again."),
    "entities": N_("The file contains XML declarations that revise refuses for safety. Save it "
                   "again in Word as a .docx (Word Document) and upload it again."),
    "alt_chunk": N_("The document's text is an embedded HTML, RTF or MHT file (altChunk) that "
                    "Word has not converted, so revise finds no paragraphs in it. Open it in "
                    "Word, save it as a .docx (Word Document) and upload it again."),
    "empty": N_("revise found no paragraphs or table rows with text in this document, so there "
                "is nothing to comment on. Check that it is the right file."),
}


class ImportRefused(Exception):
    """The file cannot be imported.

    .code is a short stable code, .message an English msgid (translated where shown), .detail
    what exactly was wrong, for logs.
    """

    def __init__(self, code: str, message: str, detail: str = ""):
        super().__init__(f"{code}: {detail or message}")
        self.code, self.message, self.detail = code, message, detail


def _refuse(code: str, detail: str = "", message_key: str | None = None) -> ImportRefused:
    return ImportRefused(code, MESSAGES[message_key or code], detail)


@dataclass(frozen=True)
class Cell:
    """One table cell: its current text and how it merges."""

    text: str
    span: int = 1
    vmerge: str | None = None


@dataclass(frozen=True)
class ImportedBlock:
    """One addressable unit of the draft: a heading, paragraph, list item or table row."""

    kind: str  # "heading" | "paragraph" | "list_item" | "table_row"
    text: str  # current text; a row's cell texts joined with "\t"
    locator: str  # element-child indices from w:body down to the w:p or w:tr, e.g. "7.3"
    level: int | None = None  # headings and list items: 1..9
    label: str = ""  # typed ("一、") or computed from numbering.xml ("1.1")
    title: str = ""  # headings: the text without a typed label
    outline: tuple[int, ...] = ()  # indices of the enclosing headings, outermost first
    cells: tuple[Cell, ...] = ()
    table: int | None = None  # ordinal of the body-level table a row belongs to
    style: str = ""  # paragraph style name, e.g. "Heading 1"


@dataclass
class ImportedDocument:
    """The blocks of a document in reading order, with its title."""

    blocks: list[ImportedBlock]
    title: str
    skipped_toc: int = 0
    data: bytes = b""  # the file as stored: the upload less what docx_sanitize removed
    removed: list = field(default_factory=list)  # docx_sanitize.Removed, what it removed


# --- the package: sizes checked before anything is inflated, XML parsed without entities ---

def _check_sizes(zf: zipfile.ZipFile, max_inflated: int) -> None:
    total = 0
    for info in zf.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > max_inflated or total > max_inflated:
            raise _refuse("inflates", f"{info.filename}: {total} bytes unpacked")
        if info.file_size > SUSPICIOUS_SIZE and ratio > SUSPICIOUS_RATIO:
            raise _refuse("inflates", f"{info.filename}: compression ratio {ratio:.0f}")


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse one part, refusing DTDs and entity declarations instead of expanding them."""
    probe = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 would hide the markers from a byte scan
        probe = data.decode("utf-16", errors="replace").encode("utf-8")
    if b"<!DOCTYPE" in probe or b"<!ENTITY" in probe:
        raise _refuse("entities", name)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False)
    root = etree.fromstring(data, parser)
    if root.getroottree().docinfo.internalDTD is not None:
        raise _refuse("entities", name)
    return root


class _Package:
    """The zip as OPC parts: case-insensitive names, relationships resolved to part names."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.infos = {info.filename.lower().lstrip("/"): info for info in zf.infolist()}

    def xml(self, name: str | None) -> etree._Element | None:
        info = self.infos.get((name or "").lower())
        if info is None:
            return None
        # zipfile stops at the header's file_size, which _check_sizes has bounded, and a part
        # that claims less than it holds fails its CRC check (BadZipFile -> "corrupt").
        with self.zf.open(info) as f:
            return parse_xml(f.read(), info.filename)

    def rels(self, part: str) -> dict[str, str]:
        """Relationship type's last word ("officeDocument", "styles") -> target part name."""
        folder, base = posixpath.split(part)
        root = self.xml(posixpath.join(folder, "_rels", base + ".rels"))
        out: dict[str, str] = {}
        for rel in root.iter(REL + "Relationship") if root is not None else ():
            rel_type, target = rel.get("Type", ""), unquote(rel.get("Target", ""))
            if rel.get("TargetMode") == "External" or not target:
                continue
            if rel_type.startswith(STRICT_PREFIX):
                raise _refuse("strict", rel_type)
            name = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            out.setdefault(rel_type.rsplit("/", 1)[-1], posixpath.normpath(name))
        return out


# --- styles: names, heading levels and numbering, following w:basedOn ---

def _val(el: etree._Element | None, default: str | None = None) -> str | None:
    return default if el is None else el.get(W + "val", default)


def _int(value: str | None, default: int | None = None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else default


def _ui_name(name: str) -> str:
    """Word stores built-in names in lower case ("heading 1"); show them as Word does."""
    if not (name.isascii() and name == name.lower()):
        return name
    return " ".join("TOC" if word == "toc" else word.capitalize() for word in name.split(" "))


_HEADING_NAME = re.compile(r"(?:heading|标题)\s*([1-9])", re.IGNORECASE)  # WPS: "标题 1"
_NONE = etree.Element("none")  # stands in for an absent w:pPr / w:tcPr: every find() is None


class _Styles:
    def __init__(self, root: etree._Element | None):
        self.styles: dict[str, etree._Element] = {}
        self.default = ""
        self.numbering_styles: dict[str, str] = {}  # numbering style id -> numId
        for style in root.iterchildren(W + "style") if root is not None else ():
            style_id, kind = style.get(W + "styleId", ""), style.get(W + "type", "paragraph")
            if kind == "paragraph":
                self.styles[style_id] = style
                if style.get(W + "default") in ("1", "true", "on"):
                    self.default = style_id
            elif kind == "numbering":
                self.numbering_styles[style_id] = _val(style.find(f"{W}pPr/{W}numPr/{W}numId"), "")
        self._cache: dict[str, tuple[str, int | None, str | None, int | None]] = {}

    def info(self, style_id: str) -> tuple[str, int | None, str | None, int | None]:
        """(UI name, heading level, numId, ilvl) of a paragraph style, nearest definition first."""
        if style_id in self._cache:
            return self._cache[style_id]
        name, level, num_id, ilvl = "", None, None, None
        seen, current = {style_id}, self.styles.get(style_id)
        if current is None and (named := _HEADING_NAME.fullmatch(style_id)):
            level = int(named.group(1))  # a style used but never defined: trust its id
        while current is not None:
            raw_name = _val(current.find(W + "name"), "") or ""
            name = name or _ui_name(raw_name)
            ppr = current.find(W + "pPr")
            ppr = ppr if ppr is not None else _NONE
            outline = _int(_val(ppr.find(W + "outlineLvl")))
            named = _HEADING_NAME.fullmatch(raw_name)
            if level is None and outline is not None:
                level = outline + 1 if outline < 9 else 0  # 9 means body text
            elif level is None and named:
                level = int(named.group(1))
            num_pr = ppr.find(W + "numPr")
            if num_pr is not None:
                num_id = num_id or _val(num_pr.find(W + "numId"))
                ilvl = ilvl if ilvl is not None else _int(_val(num_pr.find(W + "ilvl")))
            parent = _val(current.find(W + "basedOn"), "") or ""
            current = None if parent in seen else self.styles.get(parent)
            seen.add(parent)
        self._cache[style_id] = (name or style_id, level or None, num_id, ilvl)
        return self._cache[style_id]


# --- text: a paragraph as a reader sees it now (insertions kept, deletions and text boxes not) ---

_CONTAINERS = {W + tag for tag in ("r", "hyperlink", "ins", "moveTo", "smartTag", "sdt",
                                   "sdtContent", "fldSimple", "customXml", "bdo", "dir")}
_CHARS = {W + "tab": "\t", W + "ptab": "\t", W + "br": "\n", W + "cr": "\n",
          W + "noBreakHyphen": "-"}
_WRAPPERS = (W + "sdt", W + "sdtContent", W + "customXml")  # content controls around rows, cells


def ruby_base(el: etree._Element) -> etree._Element | None:
    """The base text of a w:ruby (phonetic guide): read and kept; its guide (w:rt) is not text."""
    return el.find(W + "rubyBase") if el.tag == W + "ruby" else None


def paragraph_text(el: etree._Element, out: list[str] | None = None) -> str:
    """The current text of a w:p; what is not listed above (w:del, w:drawing…) is skipped."""
    out = [] if out is None else out
    for child in el:
        if child.tag == W + "t":
            out.append(child.text or "")
        elif child.tag in _CHARS:
            out.append(_CHARS[child.tag])
        elif child.tag in _CONTAINERS:
            paragraph_text(child, out)
        elif (base := ruby_base(child)) is not None:
            paragraph_text(base, out)
    return "".join(out)


def _deleted_row(el: etree._Element) -> bool:
    return el.tag == W + "tr" and el.find(f"{W}trPr/{W}del") is not None


def _paragraphs_in(el: etree._Element):
    """The w:p of a cell in reading order, nested tables included, text boxes not."""
    for child in el:
        if child.tag == W + "p":
            yield child
        elif child.tag in (W + "tbl", W + "tr", W + "tc", *_WRAPPERS) and not _deleted_row(child):
            yield from _paragraphs_in(child)


def _elements(parent: etree._Element, path: str):
    """(locator, element) for each element child: comments and PIs don't count."""
    index = 0
    for child in parent:
        if isinstance(child.tag, str):
            yield (f"{path}.{index}" if path else str(index)), child
            index += 1


def _unwrap(parent: etree._Element, tag: str, path: str = ""):
    """(locator, element) for the children of one tag, looking through content-control wrappers."""
    for locator, child in _elements(parent, path):
        if child.tag == tag:
            yield locator, child
        elif child.tag in _WRAPPERS:
            yield from _unwrap(child, tag, locator)


@dataclass
class _Para:
    text: str
    locator: str
    style: str
    level: int | None  # from the style or the paragraph's own outline level
    title_style: bool
    numbered: bool
    ilvl: int
    label: str  # computed from numbering.xml
    list_style: bool


class _Importer:
    def __init__(self, styles: _Styles, numbering: Numbering):
        self.styles, self.numbering = styles, numbering
        self.items: list[_Para | ImportedBlock] = []
        self.tables = self.skipped_toc = 0

    def walk(self, parent: etree._Element, path: str, in_toc: bool = False) -> None:
        for locator, child in _elements(parent, path):
            if child.tag == W + "p":
                self.paragraph(child, locator, in_toc)
            elif child.tag == W + "tbl":
                self.table(child, locator)
            elif child.tag == W + "sdt":
                gallery = _val(child.find(f"{W}sdtPr/{W}docPartObj/{W}docPartGallery"), "")
                for inner_locator, inner in _unwrap(child, W + "sdtContent", locator):
                    self.walk(inner, inner_locator, in_toc or gallery == "Table of Contents")
            elif child.tag == W + "customXml":
                self.walk(child, locator, in_toc)

    def props(self, p: etree._Element) -> tuple[str, int | None, int, str | None]:
        """(style name, heading level, ilvl, label or None when not numbered) of a paragraph."""
        ppr = p.find(W + "pPr")
        ppr = ppr if ppr is not None else _NONE
        style_id = _val(ppr.find(W + "pStyle"), "") or self.styles.default
        name, level, num_id, ilvl = self.styles.info(style_id)
        own = ppr.find(W + "numPr")
        if own is not None:  # direct numbering overrides the style's; numId 0 switches it off
            num_id = _val(own.find(W + "numId"), num_id)
            ilvl = _int(_val(own.find(W + "ilvl")), ilvl)
        numbered = bool(num_id) and num_id != "0"
        if numbered and ilvl is None:  # a style linked from a w:lvl/w:pStyle may omit its ilvl
            ilvl = self.numbering.level_for_style(num_id, style_id)
        ilvl = ilvl or 0
        label = self.numbering.label(num_id, ilvl) if numbered else None  # advances the counters
        # Direct formatting beats the style, as in Word: the paragraph's own outline level first.
        outline = _int(_val(ppr.find(W + "outlineLvl")))
        if outline is not None:
            level = outline + 1 if outline < 9 else None
        return name, level, ilvl, None if label is None else label.strip()

    def paragraph(self, p: etree._Element, locator: str, in_toc: bool) -> None:
        name, level, ilvl, label = self.props(p)  # empty paragraphs still count their numbers
        text = paragraph_text(p)
        if not text.strip():
            return
        if in_toc or name.lower().startswith("toc ") or name.startswith("目录"):
            self.skipped_toc += 1
            return
        title_style = name in ("Title", "Subtitle")
        self.items.append(_Para(text, locator, name, None if title_style else level, title_style,
                                label is not None, ilvl, label or "", name.startswith("List ")))

    def table(self, tbl: etree._Element, locator: str) -> None:
        ordinal, self.tables = self.tables, self.tables + 1
        for row_locator, row in _unwrap(tbl, W + "tr", locator):
            if _deleted_row(row):  # a tracked deletion: the row is gone from the current text
                continue
            cells = tuple(self.cell(tc) for _, tc in _unwrap(row, W + "tc"))
            if cells:
                self.items.append(ImportedBlock("table_row", "\t".join(c.text for c in cells),
                                                row_locator, cells=cells, table=ordinal))

    def cell(self, tc: etree._Element) -> Cell:
        texts = []
        for p in _paragraphs_in(tc):
            self.props(p)  # lists in cells advance the same counters as the body's
            text = paragraph_text(p)
            if text.strip():
                texts.append(text)
        tcpr = tc.find(W + "tcPr")
        tcpr = tcpr if tcpr is not None else _NONE
        vmerge = tcpr.find(W + "vMerge")  # no w:val means "continue"
        merge = None if vmerge is None else ("restart" if _val(vmerge) == "restart" else "continue")
        return Cell("\n".join(texts), _int(_val(tcpr.find(W + "gridSpan")), 1) or 1, merge)

    def blocks(self) -> list[ImportedBlock]:
        """Second pass: kinds, labels and the outline, once we know whether styles mark headings."""
        styled_headings = any(isinstance(i, _Para) and i.level for i in self.items)
        blocks: list[ImportedBlock] = []
        stack: list[tuple[int, int]] = []  # (level, index) of the headings above
        for item in self.items:
            block = item if isinstance(item, ImportedBlock) else _classify(item, styled_headings)
            while block.kind == "heading" and stack and stack[-1][0] >= (block.level or 1):
                stack.pop()
            blocks.append(replace(block, outline=tuple(index for _, index in stack)))
            if block.kind == "heading":
                stack.append((block.level or 1, len(blocks) - 1))
        return blocks


def _classify(p: _Para, styled_headings: bool) -> ImportedBlock:
    if p.level:
        label, title = split_typed_label(p.text)
        return ImportedBlock("heading", p.text, p.locator, p.level, label or p.label, title,
                             style=p.style)
    # Without any heading style, drafts type their labels (一、 / （一） / 1. / （1）) or number
    # them with Chinese numerals from numbering.xml: such short lines are the headings.
    if not styled_headings and not p.title_style and (p.label or not p.numbered):
        found = typed_heading(p.label + p.text, computed=p.numbered)
        if found:
            level, label, title = found
            return ImportedBlock("heading", p.text, p.locator, level, label, title, style=p.style)
    if p.numbered or p.list_style:
        return ImportedBlock("list_item", p.text, p.locator, p.ilvl + 1, p.label, style=p.style)
    return ImportedBlock("paragraph", p.text, p.locator, style=p.style)


def _read(package: _Package) -> ImportedDocument:
    rels = package.rels("")
    main = rels.get("officeDocument") or ("word/document.xml" if "word/document.xml"
                                          in package.infos else None)
    if main is None:
        raise _refuse("not_docx" if "[content_types].xml" not in package.infos else "corrupt",
                      "no main document part")
    root = package.xml(main)
    if root is None:
        raise _refuse("corrupt", f"{main} is missing")
    if root.tag.startswith("{" + STRICT_PREFIX):
        raise _refuse("strict", root.tag)
    body = root.find(W + "body") if root.tag == W + "document" else None
    if body is None:
        code = "not_docx" if root.tag != W + "document" else "corrupt"
        raise _refuse(code, f"main part {root.tag} without a w:body")
    part_rels = package.rels(main)
    styles = _Styles(package.xml(part_rels.get("styles")))
    importer = _Importer(styles, Numbering(package.xml(part_rels.get("numbering")),
                                           styles.numbering_styles))
    importer.walk(body, "")
    blocks = importer.blocks()
    if not blocks:  # never an empty consultation: say why there is nothing to comment on
        alt_chunk = next(body.iter(W + "altChunk"), None) is not None
        raise _refuse("alt_chunk" if alt_chunk else "empty", f"no blocks in {main}")
    core = package.xml(rels.get("core-properties", "docProps/core.xml"))
    titles = [core.findtext(DC_TITLE) or "" if core is not None else "",
              next((i.text for i in importer.items if isinstance(i, _Para) and i.title_style), ""),
              next((b.title or b.text for b in blocks if b.kind == "heading"), "")]
    title = next((t.strip() for t in titles if t.strip()), "")
    return ImportedDocument(blocks, title, importer.skipped_toc)


def import_docx(data: bytes, *, max_bytes: int = 20 * 1024 * 1024,
                max_inflated: int = 200 * 1024 * 1024) -> ImportedDocument:
    """Read .docx bytes into blocks with locators, or raise ImportRefused saying why not."""
    if len(data) > max_bytes:
        raise _refuse("too_large", f"{len(data)} bytes, the limit is {max_bytes}")
    if data.startswith(OLE2_SIGNATURE):
        # Word saves password-protected .docx files inside an OLE2 container (MS-OFFCRYPTO).
        encrypted = "EncryptionInfo".encode("utf-16-le") in data
        raise _refuse("encrypted", "OLE2 container", None if encrypted else "legacy")
    if not data.startswith(b"PK"):
        raise _refuse("not_docx", f"starts with {data[:8]!r}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _check_sizes(zf, max_inflated)
        from .docx_sanitize import sanitize  # here: docx_sanitize builds on this module

        clean, removed = sanitize(data)
        with zipfile.ZipFile(io.BytesIO(clean)) as zf:
            document = _read(_Package(zf))
        document.data, document.removed = clean, removed
        return document
    except ImportRefused:
        raise
    except Exception as exc:  # any other failure on a malformed file: a refusal, with the cause
        raise _refuse("corrupt", f"{type(exc).__name__}: {exc}") from exc
