"""Table rows of the revised plan: cell text onto cell paragraphs, rows added and removed.

The importer reads a cell as its non-blank paragraphs joined with "\\n", so an edited cell's
lines are matched to those paragraphs (a line diff, then a character diff per paragraph);
lines added or removed become paragraphs added or removed, formatted like their neighbours.
Cell and table properties (widths, borders, merges) are never touched by a text edit.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator

from lxml import etree

from .diffing import DELETE, EQUAL, INSERT, diff
from .docx_import import W, _paragraphs_in, _unwrap, paragraph_text
from .docx_runs import (
    Marks,
    clean_copy,
    dominant_rpr,
    edit_paragraph,
    mark_paragraph,
    mark_runs,
    new_paragraph,
)

# CT_TcPr's sequence, to put w:gridSpan and w:vMerge where Word expects them.
_TCPR_ORDER = [W + tag for tag in ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders",
                                   "shd", "noWrap", "tcMar", "textDirection", "tcFitText",
                                   "vAlign", "hideMark", "headers", "cellIns", "cellDel",
                                   "cellMerge", "tcPrChange")]
_TRPR_AFTER_MARKS = (W + "trPrChange",)  # CT_TrPr: …trPrBase, ins?, del?, trPrChange?


def cell_texts(block: dict) -> list[str]:
    """A row block's current cell texts (from its cells, else its tab-joined text)."""
    cells = block.get("cells") or []
    return [c.get("text") or "" for c in cells] if cells else (block.get("text") or "").split("\t")


def line_groups(text: str) -> list[str]:
    """A cell's lines as paragraph texts; blank lines ride along as line breaks, because a
    blank paragraph is not read back."""
    groups: list[str] = []
    pending: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            groups.append("\n".join([*pending, line]))
            pending = []
        elif groups:
            groups[-1] += "\n" + line
        else:
            pending.append(line)
    return groups


def ends_cell(p: etree._Element) -> bool:
    """Whether p is the last paragraph of its cell (whose mark is the cell's own)."""
    return p.getparent().tag == W + "tc" and \
        not any(s.tag in (W + "p", W + "tbl", W + "sdt") for s in p.itersiblings())


def _grid(tr: etree._Element) -> Iterator[tuple[int, etree._Element]]:
    """(first grid column, w:tc) for each cell of a row."""
    before = tr.find(f"{W}trPr/{W}gridBefore")
    column = int(before.get(W + "val", "0")) if before is not None else 0
    for _, tc in _unwrap(tr, W + "tc"):
        yield column, tc
        span = tc.find(f"{W}tcPr/{W}gridSpan")
        column += int(span.get(W + "val", "1")) if span is not None else 1


def _vmerge(tc: etree._Element) -> etree._Element | None:
    return tc.find(f"{W}tcPr/{W}vMerge")


def _put(parent: etree._Element, el: etree._Element, order: list[str]) -> None:
    """Insert el into parent before the first child that comes after it in the schema order."""
    rank = order.index(el.tag)
    for child in parent:
        if child.tag in order and order.index(child.tag) > rank:
            child.addprevious(el)
            return
    parent.append(el)


# --- edited rows ---

def edit_row(tr: etree._Element, texts: list[str], marks: Marks,
             removals: list[etree._Element]) -> None:
    """Give each cell of tr its new text; paragraphs to remove are added to removals."""
    tcs = [tc for _, tc in _unwrap(tr, W + "tc")]
    for tc, text in zip(tcs, texts):
        _edit_cell(tc, text, marks, removals)
    for tc in tcs[len(texts):]:
        _edit_cell(tc, "", marks, removals)
    for text in texts[len(tcs):]:  # more cells than the row had: copies of the last one
        new = new_cell(tcs[-1] if tcs else None, text, {})
        if tcs:
            tcs[-1].addnext(new)
        else:
            tr.append(new)
        tcs.append(new)
        if marks.tracked:
            for p in new.iter(W + "p"):
                mark_runs(p, "ins", marks)


def _edit_cell(tc: etree._Element, text: str, marks: Marks,
               removals: list[etree._Element]) -> None:
    """Match the cell's lines to its paragraphs; added or removed lines are paragraphs."""
    paragraphs = list(_paragraphs_in(tc))
    units = [(p, t) for p in paragraphs if (t := paragraph_text(p)).strip()]
    if "\n".join(t for _, t in units) == text:
        return
    if any("\n" in t for _, t in units):  # line breaks inside paragraphs: keep them so
        kept = _split_at_kept_breaks([t for _, t in units], text)
        if kept is not None:
            for (p, _), new in zip(units, kept):
                edit_paragraph(p, new, marks)
            return
    groups = line_groups(text)
    if not units:  # an empty cell: its first paragraph takes the first line
        if paragraphs and groups:
            edit_paragraph(paragraphs[0], groups[0], marks, _row_rpr(tc))
            _new_paragraphs(paragraphs[0], groups[1:], True, marks)
        return
    matcher = difflib.SequenceMatcher(None, [t for _, t in units], groups, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)
        for (p, _), new in zip(units[i1:i1 + paired], groups[j1:j1 + paired]):
            edit_paragraph(p, new, marks)
        for p, _ in units[i1 + paired:i2]:
            _delete_cell_paragraph(p, marks, removals)
        extra = groups[j1 + paired:j2]
        if extra and i1 + paired > 0:
            _new_paragraphs(units[i1 + paired - 1][0], extra, True, marks)
        elif extra:
            _new_paragraphs(units[0][0], extra, False, marks)


def _split_at_kept_breaks(old: list[str], new: str) -> list[str] | None:
    """The new cell text cut where the old paragraphs ended, when every one of those ends is
    unchanged text (issue #14: a line break inside a paragraph stays a line break, w:br); None
    when an end was edited away or a paragraph would be left blank."""
    ends, at = set(), -1
    for text in old[:-1]:
        at += len(text) + 1
        ends.add(at)  # the "\n" joining this paragraph to the next
    cuts, i, j = [], 0, 0
    for op, chunk in diff("\n".join(old), new):
        if op == EQUAL:
            cuts.extend(j + k for k in range(len(chunk)) if i + k in ends)
        i += 0 if op == INSERT else len(chunk)
        j += 0 if op == DELETE else len(chunk)
    if len(cuts) != len(ends):
        return None
    bounds = [-1, *cuts, len(new)]
    parts = [new[a + 1:b] for a, b in zip(bounds, bounds[1:])]
    return parts if all(part.strip() for part in parts) else None


def _row_rpr(tc: etree._Element) -> etree._Element | None:
    """Run properties for text typed into an empty cell: the nearest text in the row."""
    tr = next(tc.iterancestors(W + "tr"), None)
    for p in [*tc.iter(W + "p"), *(tr.iter(W + "p") if tr is not None else ())]:
        rpr = dominant_rpr(p)
        if rpr is not None:
            return rpr
    return None


def _new_paragraphs(model: etree._Element, texts: list[str], after: bool, marks: Marks) -> None:
    """New paragraphs formatted like model, placed after (or before) it, in order."""
    anchor = model
    for text in texts:
        p = new_paragraph(model, text, marks)
        if after:
            anchor.addnext(p)
        else:
            anchor.addprevious(p)
        if marks.tracked:  # the cell's last mark is never new: the one before it is
            prev = p.getprevious()
            mine = not ends_cell(p) or prev is None or prev.tag != W + "p"
            mark_paragraph(p if mine else prev, "ins", marks)
        anchor, after = p, True


def _delete_cell_paragraph(p: etree._Element, marks: Marks,
                           removals: list[etree._Element]) -> None:
    if not marks.tracked:
        removals.append(p)  # the exporter keeps a cell's last paragraph, emptied
        return
    mark_runs(p, "del", marks)
    prev = p.getprevious()
    if not ends_cell(p):
        mark_paragraph(p, "del", marks)
    elif prev is not None and prev.tag == W + "p":
        mark_paragraph(prev, "del", marks)  # as Word does: the mark before it goes


# --- new rows ---

def new_cell(model: etree._Element | None, text: str, cell: dict) -> etree._Element:
    """A w:tc with model's cell properties (its span and merge from cell) and formatting."""
    tc = etree.Element(W + "tc")
    tcpr = clean_copy(model.find(W + "tcPr")) if model is not None else None
    tcpr = tcpr if tcpr is not None else etree.Element(W + "tcPr")
    for old in tcpr.findall(W + "gridSpan") + tcpr.findall(W + "vMerge"):
        tcpr.remove(old)
    if int(cell.get("span") or 1) > 1:
        span = etree.Element(W + "gridSpan")
        span.set(W + "val", str(cell["span"]))
        _put(tcpr, span, _TCPR_ORDER)
    if cell.get("vmerge") in ("restart", "continue"):
        merge = etree.Element(W + "vMerge")
        if cell["vmerge"] == "restart":
            merge.set(W + "val", "restart")
        _put(tcpr, merge, _TCPR_ORDER)
    tc.append(tcpr)
    source = None
    if model is not None:
        source = next((p for p in _paragraphs_in(model) if paragraph_text(p).strip()),
                      model.find(W + "p"))
    plain = Marks(False, 0)  # the caller marks the whole row as inserted
    for line in line_groups(text) or [""]:
        tc.append(new_paragraph(source, line, plain))
    return tc


def new_row(model: etree._Element | None, cells: list[dict]) -> etree._Element:
    """A w:tr with model's row properties and, cell by cell, its cell properties."""
    tr = etree.Element(W + "tr")
    models = [tc for _, tc in _unwrap(model, W + "tc")] if model is not None else []
    for tag in ("tblPrEx", "trPr"):
        props = clean_copy(model.find(W + tag)) if model is not None else None
        if props is not None:
            tr.append(props)
    for k, cell in enumerate(cells):
        tr.append(new_cell(models[min(k, len(models) - 1)] if models else None,
                           cell.get("text") or "", cell))
    return tr


def new_table(tr: etree._Element, columns: int) -> etree._Element:
    """A plain bordered table around a row, for rows inserted where there was no table."""
    tbl = etree.Element(W + "tbl")
    tblpr = etree.SubElement(tbl, W + "tblPr")
    width = etree.SubElement(tblpr, W + "tblW")
    width.set(W + "w", "5000")
    width.set(W + "type", "pct")
    borders = etree.SubElement(tblpr, W + "tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = etree.SubElement(borders, W + side)
        for name, value in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "auto")):
            line.set(W + name, value)
    grid = etree.SubElement(tbl, W + "tblGrid")
    for _ in range(max(columns, 1)):
        etree.SubElement(grid, W + "gridCol").set(W + "w", str(9000 // max(columns, 1)))
    tbl.append(tr)
    return tbl


def split_table_after(tr: etree._Element) -> etree._Element:
    """The table of tr, its rows after tr moved to a copy of it: a paragraph can go between."""
    table = next(tr.iterancestors(W + "tbl"))
    below = list(tr.itersiblings(W + "tr"))
    if below:
        rest = etree.Element(W + "tbl")
        for tag in ("tblPr", "tblGrid"):
            props = table.find(W + tag)
            if props is not None:
                rest.append(copy.deepcopy(props))
        rest.extend(below)
        table.addnext(rest)
    return table


# --- rows marked or removed ---

def mark_row(tr: etree._Element, kind: str, marks: Marks) -> None:
    """A tracked row insertion or deletion: w:trPr/w:ins|w:del, its text marked likewise."""
    trpr = tr.find(W + "trPr")
    if trpr is None:
        trpr = etree.Element(W + "trPr")
        exceptions = tr.find(W + "tblPrEx")  # CT_Row: tblPrEx?, trPr?, cells
        if exceptions is not None:
            exceptions.addnext(trpr)
        else:
            tr.insert(0, trpr)
    if trpr.find(W + kind) is None:
        later = next((c for c in trpr if c.tag in _TRPR_AFTER_MARKS), None)
        mark = marks.mark(kind)
        if later is not None:
            later.addprevious(mark)
        else:
            trpr.append(mark)
    for _, tc in _unwrap(tr, W + "tc"):
        for p in _paragraphs_in(tc):  # as Word does: every run and paragraph mark of the row
            mark_runs(p, kind, marks)
            mark_paragraph(p, kind, marks)


def remove_row(tr: etree._Element) -> None:
    """Remove a row; a vertical merge it starts then starts on the row below."""
    below = next(tr.itersiblings(W + "tr"), None)
    if below is not None:
        continued = dict(_grid(below))
        for column, tc in _grid(tr):
            start, other = _vmerge(tc), continued.get(column)
            if start is not None and start.get(W + "val") == "restart" and other is not None:
                merge = _vmerge(other)
                if merge is not None and merge.get(W + "val") != "restart":
                    merge.set(W + "val", "restart")
    table = next(tr.iterancestors(W + "tbl"), None)
    tr.getparent().remove(tr)
    if table is not None and next(table.iter(W + "tr"), None) is None:
        table.getparent().remove(table)  # a table without rows is not valid
