"""Text edits mapped onto the runs of a w:p: unchanged characters keep their formatting.

A paragraph's text is read exactly as the importer reads it (w:t, w:tab → "\\t", w:br → "\\n"
…, through w:ins/w:hyperlink/w:sdt…, never w:del), so a character offset in a block's text is
a position in one of these text elements ("atoms"). The change from the old to the new text is
a character diff; each atom gets its share of it, and only the runs holding changed atoms are
rebuilt. A clean edit rewrites their text; a tracked edit splits them into runs wrapped in
w:ins/w:del (native Word revision marks).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lxml import etree

from .diffing import DELETE, EQUAL, INSERT, diff
from .docx_import import _CHARS, _CONTAINERS, W, ruby_base
from .textclean import xml_text

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# Revision and history markup that must not be copied into new paragraphs and runs.
_HISTORY = {W + tag for tag in ("ins", "del", "moveFrom", "moveTo", "rPrChange", "pPrChange",
                                "trPrChange", "tcPrChange", "tblPrExChange", "cellIns", "cellDel",
                                "cellMerge")}
_AFTER_PARA_RPR = (W + "sectPr", W + "pPrChange")  # CT_PPr: …pPrBase, rPr, sectPr, pPrChange
_SPECIAL = re.compile(r"([\t\n])")
# Anchors of comments and bookmarks: kept when the paragraph holding them is removed.
_ANCHORS = {W + tag for tag in ("bookmarkStart", "bookmarkEnd", "commentRangeStart",
                                "commentRangeEnd")}


class Marks:
    """Revision marks of an export: w:id counts across the document, author and date per block."""

    def __init__(self, tracked: bool, first_id: int):
        self.tracked = tracked
        self.next_id = first_id
        self.author: str = "revise"
        self.date: str | None = None
        self._wrappers: list[etree._Element] = []

    def start_block(self, author: str | None, date: str | None) -> None:
        """Set who and when for the marks that follow (w:date must be an xsd:dateTime)."""
        self.author, self.date = xml_text(author) or "revise", None
        try:
            instant = datetime.fromisoformat(date or "")
        except ValueError:
            return  # no date rather than one Word would refuse
        if instant.tzinfo is not None:
            instant = instant.astimezone(timezone.utc)
        self.date = instant.strftime("%Y-%m-%dT%H:%M:%SZ")

    def mark(self, kind: str) -> etree._Element:
        """A new w:ins or w:del element with its w:id, w:author and w:date."""
        el = etree.Element(W + kind)
        el.set(W + "id", str(self.next_id))
        el.set(W + "author", self.author)
        if self.date:
            el.set(W + "date", self.date)
        self.next_id += 1
        return el

    def wrap(self, kind: str, run: etree._Element) -> etree._Element:
        """Put a run inside a new w:ins/w:del, in its place."""
        wrapper = self.mark(kind)
        run.addprevious(wrapper)
        wrapper.append(run)
        self._wrappers.append(wrapper)
        return wrapper

    def merge_adjacent(self) -> None:
        """One mark for one change: join wrappers of the same kind that ended up side by side."""
        created = {id(w) for w in self._wrappers}
        for wrapper in self._wrappers:
            if wrapper.getparent() is None:
                continue
            nxt = wrapper.getnext()
            while nxt is not None and id(nxt) in created and nxt.tag == wrapper.tag \
                    and nxt.get(W + "author") == wrapper.get(W + "author"):
                wrapper.extend(list(nxt))
                nxt.getparent().remove(nxt)
                nxt = wrapper.getnext()
        self._wrappers = []


@dataclass(eq=False)
class _Atom:
    el: etree._Element
    text: str
    pieces: list[tuple[int, str]] = field(default_factory=list)  # (diff op, text) in order

    @property
    def changed(self) -> bool:
        return self.pieces != [(EQUAL, self.text)]


def _atoms(parent: etree._Element, out: list[_Atom]) -> list[_Atom]:
    """The text elements of a paragraph in reading order, by the importer's rules."""
    for child in parent:
        if child.tag == W + "t":
            out.append(_Atom(child, child.text or ""))
        elif child.tag in _CHARS:
            out.append(_Atom(child, _CHARS[child.tag]))
        elif child.tag in _CONTAINERS:
            _atoms(child, out)
        elif (base := ruby_base(child)) is not None:  # the base text, as the importer reads it
            _atoms(base, out)
    return out


def runs_of(parent: etree._Element,
            out: list[etree._Element] | None = None) -> list[etree._Element]:
    """Every current w:r of a paragraph (not those already deleted, nor those in text boxes)."""
    out = [] if out is None else out
    for child in parent:
        if child.tag == W + "r":
            out.append(child)
        elif child.tag in _CONTAINERS:
            runs_of(child, out)
    return out


def clean_copy(el: etree._Element | None) -> etree._Element | None:
    """A deep copy of w:pPr/w:rPr/w:trPr/w:tcPr without revision history or section breaks."""
    if el is None:
        return None
    el = copy.deepcopy(el)
    for old in [c for c in el.iter() if c.tag in _HISTORY or c.tag == W + "sectPr"]:
        if old is not el:
            old.getparent().remove(old)
    return el


def dominant_rpr(p: etree._Element) -> etree._Element | None:
    """The run properties covering most of a paragraph's text: how new text there looks."""
    sizes: dict[int, tuple[int, etree._Element]] = {}
    for atom in _atoms(p, []):
        run = atom.el.getparent()
        count, _ = sizes.get(id(run), (0, run))
        sizes[id(run)] = (count + len(atom.text), run)
    if not sizes:
        return None
    _, run = max(sizes.values(), key=lambda item: item[0])  # first of the largest on a tie
    return clean_copy(run.find(W + "rPr"))


def _text_el(text: str, tag: str = W + "t") -> etree._Element:
    el = etree.Element(tag)
    el.text = text
    if text[:1].isspace() or text[-1:].isspace():
        el.set(XML_SPACE, "preserve")
    return el


class _Content:
    """The children of a rebuilt run: adjacent text joined into one w:t (or w:delText)."""

    def __init__(self, deleted: bool = False):
        self.tag = W + ("delText" if deleted else "t")
        self.items: list[etree._Element] = []
        self._open: etree._Element | None = None  # the text element new text can join

    def text(self, text: str, typed: bool) -> None:
        """Add text; typed (inserted) text turns "\\t" into w:tab and "\\n" into w:br."""
        for part in _SPECIAL.split(text) if typed else (text,):
            if typed and part in ("\t", "\n"):
                self.element(etree.Element(W + ("tab" if part == "\t" else "br")))
            elif part and self._open is not None:
                joined = (self._open.text or "") + part
                self._open.text = joined
                self._open.attrib.pop(XML_SPACE, None)
                if joined[:1].isspace() or joined[-1:].isspace():
                    self._open.set(XML_SPACE, "preserve")
            elif part:
                self._open = _text_el(part, self.tag)
                self.items.append(self._open)

    def element(self, el: etree._Element) -> None:
        """Add a non-text child (a kept w:tab, a field character, a drawing…) as it is."""
        self.items.append(el)
        self._open = None


def _run_like(run: etree._Element, content: list[etree._Element]) -> etree._Element:
    """A new run with the attributes and properties of run and the given content."""
    new = etree.Element(run.tag, dict(run.attrib))
    rpr = run.find(W + "rPr")
    if rpr is not None:
        new.append(copy.deepcopy(rpr))
    new.extend(content)
    return new


def _remove_emptied(el: etree._Element, stop: etree._Element) -> None:
    """Remove a run left without content, and wrappers (w:ins, w:hyperlink…) it leaves empty."""
    parent = el.getparent()
    parent.remove(el)
    while parent is not stop and parent.tag in _CONTAINERS and len(parent) == 0:
        el, parent = parent, parent.getparent()
        parent.remove(el)


def _rebuild(p: etree._Element, run: etree._Element, changed: dict[int, _Atom],
             marks: Marks) -> None:
    """Rewrite one run whose text changed: in place (clean), or split into marked runs (tracked)."""
    groups: list[tuple[int, list[tuple[str | etree._Element, bool]]]] = []
    for child in run:
        if child.tag == W + "rPr":
            continue
        atom = changed.get(id(child))
        pieces = [(EQUAL, child)] if atom is None else atom.pieces  # fields, drawings: as they are
        for op, piece in pieces:
            if op == DELETE and not marks.tracked:
                continue
            if isinstance(piece, str) and op != INSERT and child.tag != W + "t":
                piece = child  # a kept or deleted w:tab/w:br stays the element it was
            token = (piece, op == INSERT)  # typed text: "\t" and "\n" become w:tab and w:br
            op = op if marks.tracked else EQUAL  # a clean edit: new text simply joins the run
            if groups and groups[-1][0] == op:
                groups[-1][1].append(token)
            else:
                groups.append((op, [token]))
    for op, tokens in groups:
        content = _Content(deleted=op == DELETE)
        for piece, typed in tokens:
            if isinstance(piece, str):
                content.text(piece, typed)
            else:
                content.element(piece)
        if content.items:
            new = _run_like(run, content.items)
            run.addprevious(new)
            if op != EQUAL:
                marks.wrap("ins" if op == INSERT else "del", new)
    _remove_emptied(run, p)


def edit_paragraph(p: etree._Element, new: str, marks: Marks,
                   template_rpr: etree._Element | None = None) -> None:
    """Change the current text of p to new, touching only the runs whose characters changed."""
    new = xml_text(new)  # text stored past textclean must not make the document unwritable
    atoms = _atoms(p, [])
    old = "".join(a.text for a in atoms)
    if old == new:
        return
    live = [a for a in atoms if a.text]
    index = offset = 0
    last: _Atom | None = None  # the atom holding the character before the current position
    orphan = ""  # inserted text in a paragraph that has no text at all
    for op, text in diff(old, new):
        if op == INSERT:
            anchor = last or (live[index] if index < len(live) else None)
            if anchor is None:
                orphan += text
            else:
                anchor.pieces.append((INSERT, text))
            continue
        remaining = len(text)
        while remaining:
            atom = live[index]
            take = min(remaining, len(atom.text) - offset)
            atom.pieces.append((op, atom.text[offset:offset + take]))
            offset, remaining, last = offset + take, remaining - take, atom
            if offset == len(atom.text):
                index, offset = index + 1, 0
    changed = {id(a.el): a for a in live if a.changed}
    runs: dict[int, etree._Element] = {}  # by id(): a live lxml proxy keeps its identity
    for atom in changed.values():
        run = atom.el.getparent()
        runs.setdefault(id(run), run)
    for run in runs.values():
        _rebuild(p, run, changed, marks)
    if orphan:
        append_text(p, orphan, template_rpr, marks)
    marks.merge_adjacent()


def new_run(text: str, rpr: etree._Element | None) -> etree._Element:
    """A run of typed text ("\\t" → w:tab, "\\n" → w:br) with a copy of the given properties."""
    content = _Content()
    content.text(xml_text(text), True)
    run = etree.Element(W + "r")
    if rpr is not None:
        run.append(copy.deepcopy(rpr))
    run.extend(content.items)
    return run


def append_text(p: etree._Element, text: str, rpr: etree._Element | None, marks: Marks) -> None:
    """Add a run of text at the end of p (inserted, when tracked)."""
    run = new_run(text, rpr)
    p.append(run)
    if marks.tracked:
        marks.wrap("ins", run)


def new_paragraph(model: etree._Element | None, text: str, marks: Marks) -> etree._Element:
    """A new paragraph with model's paragraph properties and its dominant run formatting."""
    p = etree.Element(W + "p")
    ppr = clean_copy(model.find(W + "pPr")) if model is not None else None
    if ppr is not None:
        p.append(ppr)
    if text:
        append_text(p, text, dominant_rpr(model) if model is not None else None, marks)
    return p


def mark_paragraph(p: etree._Element, kind: str, marks: Marks) -> None:
    """Mark a paragraph mark as inserted or deleted (w:pPr/w:rPr/w:ins|w:del)."""
    ppr = p.find(W + "pPr")
    if ppr is None:
        ppr = etree.Element(W + "pPr")
        p.insert(0, ppr)
    rpr = ppr.find(W + "rPr")
    if rpr is None:
        rpr = etree.Element(W + "rPr")
        later = next((c for c in ppr if c.tag in _AFTER_PARA_RPR), None)
        if later is not None:
            later.addprevious(rpr)
        else:
            ppr.append(rpr)
    if rpr.find(W + kind) is not None:
        return  # already marked so in the original
    # CT_ParaRPr begins with ins?, del?, moveFrom?, moveTo?
    position = 1 if kind == "del" and len(rpr) and rpr[0].tag == W + "ins" else 0
    rpr.insert(position, marks.mark(kind))


def mark_runs(p: etree._Element, kind: str, marks: Marks) -> None:
    """Wrap every current run of p in w:ins or w:del (deleted text becomes w:delText)."""
    for run in runs_of(p):
        if kind == "del":
            ruby = [t for r in run.iter(W + "ruby") for t in r.iter(W + "t", W + "instrText")]
            for el in [*run, *ruby]:
                if el.tag in (W + "t", W + "instrText"):
                    el.tag = W + ("delText" if el.tag == W + "t" else "delInstrText")
        marks.wrap(kind, run)
    marks.merge_adjacent()


def rescue_anchors(p: etree._Element) -> list[etree._Element]:
    """Bookmark and comment anchors (and comment reference runs) of a paragraph about to go."""
    found = []
    for el in p.iter(*_ANCHORS, W + "commentReference"):
        if el.tag == W + "commentReference":
            el = el.getparent()
            if el.tag != W + "r":
                continue
            for text in [c for c in el if c.tag in (W + "t", W + "tab", W + "br")]:
                el.remove(text)
        found.append(el)
    return found
