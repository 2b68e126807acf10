"""The revised plan as .docx: the original file with only the revised blocks rewritten.

Every part but the main document is copied byte for byte, in the same order; in the main part
only the paragraphs and rows of revised blocks change (docx_runs maps a text edit onto the
runs, docx_tables onto cells and rows). A clean export writes the final text; a tracked export
writes the same revisions as native Word revision marks (w:ins, w:del, inserted and deleted
paragraph marks and table rows), so that accepting them all gives the final text and
rejecting them all the original.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from itertools import chain

from lxml import etree

from .docx_import import ImportRefused, W, _Package, paragraph_text, parse_xml
from .docx_sanitize import sanitize
from .docx_runs import (
    Marks,
    edit_paragraph,
    mark_paragraph,
    mark_runs,
    new_paragraph,
    rescue_anchors,
)
from .docx_tables import (
    cell_texts,
    ends_cell,
    edit_row,
    mark_row,
    new_row,
    new_table,
    remove_row,
    split_table_after,
)
from .i18n import N_

MESSAGES = {
    "original": N_("The original Word file of this consultation cannot be read, so the revised "
                   "document cannot be made."),
    "locator": N_("The revised document cannot be made: a block no longer matches the original "
                  "Word file."),
}
_ID = re.compile(rb'w:id="(-?\d+)"')


class ExportError(Exception):
    """The revised document cannot be written; .message is an English msgid, .detail for logs."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail or MESSAGES[code]}")
        self.code, self.message, self.detail = code, MESSAGES[code], detail


def export_docx(original: bytes, blocks: list[dict], *, tracked: bool = False) -> bytes:
    """The original .docx with the blocks' current texts, as a clean copy or with tracked changes.

    blocks are all the consultation's blocks in document order, as dicts with kind, locator
    (None when inserted by an editor), text, cells, deleted, rev, author and date.
    """
    try:
        zin = zipfile.ZipFile(io.BytesIO(original))
        package = _Package(zin)  # the main part found as the importer finds it
        main = package.rels("").get("officeDocument") or "word/document.xml"
        info = package.infos[main.lower()]
        root = parse_xml(zin.read(info), info.filename)
    except (zipfile.BadZipFile, KeyError, OSError, etree.XMLSyntaxError, ImportRefused) as exc:
        raise ExportError("original", f"{type(exc).__name__}: {exc}") from exc
    body = root.find(W + "body")
    if body is None:
        raise ExportError("original", f"{info.filename} has no w:body")
    marks = Marks(tracked, _max_id(root, zin, info.filename) + 1)
    _Writer(body, blocks, marks).write()
    if not tracked:
        accept_all(body)
    tree = root.getroottree()
    xml = etree.tostring(tree, xml_declaration=True, encoding="UTF-8",
                         standalone=tree.docinfo.standalone)
    return _repack(zin, info.filename, xml)


def _max_id(root: etree._Element, zin: zipfile.ZipFile, main: str) -> int:
    """The largest w:id in use (bookmarks, comments, earlier revisions, in notes too)."""
    found = [0]
    for el in root.iter():
        value = el.get(W + "id") if isinstance(el.tag, str) else None
        if value and value.lstrip("-").isdigit():
            found.append(int(value))
    for item in zin.infolist():  # footnotes, comments, headers: Word numbers revisions across
        if item.filename != main and item.filename.startswith("word/") \
                and item.filename.endswith(".xml"):
            found.extend(int(v) for v in _ID.findall(zin.read(item)))
    return max(found)


def _repack(zin: zipfile.ZipFile, main: str, xml: bytes) -> bytes:
    """A new zip with every part as it was, in the same order, and the new main part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            clone = zipfile.ZipInfo(item.filename, item.date_time)
            clone.compress_type, clone.external_attr = item.compress_type, item.external_attr
            clone.create_system = item.create_system
            zout.writestr(clone, xml if item.filename == main else zin.read(item))
    # Originals are sanitised at import; this catches one stored before that, or a regression.
    try:
        return sanitize(out.getvalue())[0]
    except (ImportRefused, etree.XMLSyntaxError) as exc:
        raise ExportError("original", f"{type(exc).__name__}: {exc}") from exc


# Accepting a tracked change: the content of these stays, these go with their content, and
# these property changes (the old properties) and range markers simply go.
_KEEP_CONTENT = {W + "ins", W + "moveTo"}
_DROP_CONTENT = {W + "del", W + "moveFrom"}
_DROP_MARK = {W + tag for tag in (
    "rPrChange", "pPrChange", "sectPrChange", "tblPrChange", "tblPrExChange", "trPrChange",
    "tcPrChange", "tblGridChange", "numberingChange", "cellIns", "cellMerge",
    "moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart", "moveToRangeEnd",
    "customXmlInsRangeStart", "customXmlInsRangeEnd", "customXmlDelRangeStart",
    "customXmlDelRangeEnd", "customXmlMoveFromRangeStart", "customXmlMoveFromRangeEnd",
    "customXmlMoveToRangeStart", "customXmlMoveToRangeEnd")}
_MARKS = (*_KEEP_CONTENT, *_DROP_CONTENT, *_DROP_MARK, W + "cellDel")


def accept_all(body: etree._Element) -> None:
    """Accept every tracked change of the document as the importer reads it (issue #14): the
    clean plan carries no revision marks, the draft's own included. Inserted and moved-in text
    stays, deleted and moved-out text goes, deleted rows go, property changes keep the new
    properties. A paragraph whose mark was deleted goes when nothing of it is left; otherwise it
    stays a paragraph of its own, as it was a block of its own."""
    emptied: list[etree._Element] = []
    for mark in list(body.iter(*_MARKS)):
        parent = mark.getparent()
        if parent is None or any(a.getparent() is None for a in mark.iterancestors()
                                 if a is not body and a.tag in _DROP_CONTENT):
            continue
        if parent.tag == W + "trPr" and mark.tag == W + "del":  # a deleted row
            row = parent.getparent()
            if row.getparent() is not None:
                row.getparent().remove(row)
        elif parent.tag == W + "rPr" and parent.getparent() is not None \
                and parent.getparent().tag == W + "pPr":  # a paragraph mark
            parent.remove(mark)
            if mark.tag == W + "del":
                emptied.append(parent.getparent().getparent())
        elif mark.tag == W + "cellDel" or parent.tag in (W + "trPr", W + "rPr", W + "tcPr"):
            parent.remove(mark)
        elif mark.tag in _KEEP_CONTENT:
            for child in list(mark):
                mark.addprevious(child)
            parent.remove(mark)
        else:
            parent.remove(mark)
    for p in emptied:
        if p.getparent() is not None and not paragraph_text(p).strip() \
                and p.find(f"{W}pPr/{W}sectPr") is None and not ends_cell(p) \
                and next(p.iter(W + "drawing", W + "pict", W + "object"), None) is None:
            p.getparent().remove(p)
    for table in [t for t in body.iter(W + "tbl") if next(t.iter(W + "tr"), None) is None]:
        table.getparent().remove(table)  # a table whose rows were all deleted


def _breaks_section(el: etree._Element) -> bool:
    return el.tag == W + "p" and el.find(f"{W}pPr/{W}sectPr") is not None


class _Writer:
    """Applies the blocks, in document order, to the body of the original document."""

    def __init__(self, body: etree._Element, blocks: list[dict], marks: Marks):
        self.body, self.blocks, self.marks = body, blocks, marks
        self._children: dict[str, list[etree._Element]] = {}
        # Every locator is resolved before anything moves: they index the original tree.
        self.elements = [self._resolve(b) if b.get("locator") else None for b in blocks]
        self.removals: list[etree._Element] = []
        self._sections: dict[etree._Element, int] = {}  # each original body child's section
        count = 0
        for child in body:
            self._sections[child] = count
            count += _breaks_section(child)

    def _resolve(self, block: dict) -> etree._Element:
        el, path = self.body, ""
        for part in str(block["locator"]).split("."):
            children = self._children.get(path)
            if children is None:
                children = self._children[path] = [c for c in el if isinstance(c.tag, str)]
            if not part.isdigit() or int(part) >= len(children):
                raise ExportError("locator", f"block {block.get('id')}: nothing at "
                                             f"{block['locator']}")
            el, path = children[int(part)], f"{path}.{part}" if path else part
        expected = W + ("tr" if block["kind"] == "table_row" else "p")
        if el.tag != expected:
            raise ExportError("locator", f"block {block.get('id')}: {block['locator']} is a "
                                         f"{etree.QName(el).localname}, not a {expected[len(W):]}")
        return el

    def write(self) -> None:
        cursor: etree._Element | None = None  # the last block's element: new ones go after it
        for index, (block, el) in enumerate(zip(self.blocks, self.elements)):
            self.marks.start_block(block.get("author"), block.get("date"))
            if el is None:
                if not block.get("deleted"):  # inserted, then deleted: nothing to write
                    cursor = self.elements[index] = self._insert(index, cursor)
                continue
            cursor = el
            if block.get("deleted"):
                self._delete(el)
            elif block.get("rev") and el.tag == W + "tr":
                edit_row(el, cell_texts(block), self.marks, self.removals)
            elif block.get("rev"):
                edit_paragraph(el, block.get("text") or "", self.marks)
        for el in self.removals:  # last, so that new blocks could be placed after them
            if el.tag == W + "tr":
                remove_row(el)
            else:
                self._remove_paragraph(el)

    # --- deleted blocks ---

    def _delete(self, el: etree._Element) -> None:
        if not self.marks.tracked:
            self.removals.append(el)
        elif el.tag == W + "tr":
            mark_row(el, "del", self.marks)
        else:
            mark_runs(el, "del", self.marks)
            if el.find(f"{W}pPr/{W}sectPr") is None:  # a section break's mark stays
                mark_paragraph(el, "del", self.marks)

    def _remove_paragraph(self, p: etree._Element) -> None:
        parent = p.getparent()
        if p.find(f"{W}pPr/{W}sectPr") is not None or (parent.tag == W + "tc"
                                                        and p.getnext() is None):
            # It holds a section's page settings, or ends a cell (a cell ends with a paragraph).
            edit_paragraph(p, "", self.marks)
            return
        anchors = rescue_anchors(p)  # bookmarks and comments stay anchored next door
        after, before = p.getnext(), p.getprevious()
        if anchors and after is not None and after.tag == W + "p":
            at = 1 if len(after) and after[0].tag == W + "pPr" else 0
            for offset, anchor in enumerate(anchors):
                after.insert(at + offset, anchor)
        elif anchors and before is not None and before.tag == W + "p":
            before.extend(anchors)
        parent.remove(p)

    # --- inserted blocks ---

    def _near(self, index: int, step: int) -> Iterator[int]:
        """Indices of the blocks that have an element, going away from index."""
        j = index + step
        while 0 <= j < len(self.blocks):
            if self.elements[j] is not None:
                yield j
            j += step

    def _template(self, index: int) -> etree._Element | None:
        """The paragraph a new one is formatted like: a neighbour of the same kind (and level,
        when blocks carry one), so that a paragraph after a heading looks like the body text
        below it; else the nearest of the same kind; else the paragraph before it."""
        kind, level = self.blocks[index]["kind"], self.blocks[index].get("level")
        # Issue #14: never a frame (a cover page's title), a section break or a paragraph of
        # another section, whose properties would put the new text somewhere else entirely.
        section = self._section(next(chain(self._near(index, -1), self._near(index, 1)), None))

        def body(j: int, same_section: bool = True) -> bool:
            el = self.elements[j]
            return el.tag == W + "p" and el.find(f"{W}pPr/{W}framePr") is None \
                and el.find(f"{W}pPr/{W}sectPr") is None \
                and (not same_section or self._section(j) == section)

        def alike(j: int | None, same_section: bool = True) -> bool:
            other = self.blocks[j] if j is not None else {}
            return other.get("kind") == kind and not other.get("deleted") \
                and (level is None or other.get("level") in (None, level)) \
                and body(j, same_section)

        neighbours = (next(self._near(index, -1), None), next(self._near(index, 1), None))
        candidates = chain((j for j in neighbours if alike(j)),
                           (j for j in self._near(index, -1) if alike(j)),
                           (j for j in self._near(index, 1) if alike(j)),
                           (j for j in self._near(index, -1) if alike(j, False)),
                           (j for j in self._near(index, 1) if alike(j, False)),
                           (j for j in self._near(index, -1) if body(j)
                            and self.blocks[j]["kind"] != "heading"))
        found = next(candidates, None)
        return None if found is None else self.elements[found]

    def _section(self, index: int | None) -> int:
        """The section (counted by section breaks before it) a block's element is in."""
        if index is None:
            return 0
        top = self.elements[index]
        while top.getparent() is not None and top.getparent() is not self.body:
            top = top.getparent()
        node = top  # a new element: the section of the original one before it
        while node is not None and node not in self._sections:
            node = node.getprevious()
        if node is None:
            return 0
        return self._sections[node] + (node is not top and _breaks_section(node))

    def _insert(self, index: int, cursor: etree._Element | None) -> etree._Element:
        block = self.blocks[index]
        if block["kind"] == "table_row":
            return self._insert_row(index, cursor)
        p = new_paragraph(self._template(index), block.get("text") or "", self.marks)
        self._place(p, cursor)
        if self.marks.tracked:
            mark_paragraph(p, "ins", self.marks)
        return p

    def _insert_row(self, index: int, cursor: etree._Element | None) -> etree._Element:
        following = next(self._near(index, 1), None)
        below = self.elements[following] if following is not None else None
        block = self.blocks[index]
        cells = block.get("cells") or [{"text": t} for t in cell_texts(block)]
        if cursor is not None and cursor.tag == W + "tr":  # like the row above
            tr = new_row(cursor, cells)
            cursor.addnext(tr)
        elif below is not None and below.tag == W + "tr":  # first row: like the row below
            tr = new_row(below, cells)
            below.addprevious(tr)
        else:  # no table here: a new one
            tr = new_row(None, cells)
            self._place(new_table(tr, sum(int(c.get("span") or 1) for c in cells)), cursor)
        if self.marks.tracked:
            mark_row(tr, "ins", self.marks)
        return tr

    def _place(self, el: etree._Element, cursor: etree._Element | None) -> None:
        """Put a new body-level element after the cursor (after its row's table, split there)."""
        if cursor is None:  # before the first block
            first = next((e for e in self.elements if e is not None), None)
            if first is None:
                section = self.body.find(W + "sectPr")
                if section is not None:
                    section.addprevious(el)
                else:
                    self.body.append(el)
            elif first.tag == W + "tr":
                next(first.iterancestors(W + "tbl")).addprevious(el)
            else:
                first.addprevious(el)
        elif cursor.tag == W + "tr":
            split_table_after(cursor).addnext(el)
        else:
            cursor.addnext(el)
