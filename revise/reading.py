"""The draft as a reader sees it: outline entries and tables with their merges. No SQL, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TableCell:
    text: str
    colspan: int = 1
    rowspan: int = 1


@dataclass
class TableRow:
    block: dict
    cells: list[TableCell] = field(default_factory=list)


@dataclass
class Table:
    """Consecutive table-row blocks of one Word table, with vertical merges as rowspans."""

    number: int
    caption_block: dict | None = None
    rows: list[TableRow] = field(default_factory=list)

    @property
    def caption(self) -> str:
        return self.caption_block["text"].strip() if self.caption_block else ""

    @property
    def anchor_block(self) -> dict:
        """Where a link to the table lands: its caption, else its first row."""
        return self.caption_block or self.rows[0].block


@dataclass
class OutlineEntry:
    block: dict
    level: int
    text: str
    is_table: bool = False


def layout(blocks: list[dict]) -> list[dict | Table]:
    """Blocks in order, with the rows of each table gathered into one Table item."""
    items: list[dict | Table] = []
    for block in blocks:
        if block["kind"] != "table_row":
            items.append(block)
            continue
        current = items[-1] if items else None
        if not (isinstance(current, Table) and current.number == block["table_no"]):
            current = Table(number=block["table_no"], caption_block=_caption_before(items))
            items.append(current)
        current.rows.append(TableRow(block))
    for item in items:
        if isinstance(item, Table):
            _merge_cells(item)
    return items


def outline(items: list[dict | Table]) -> list[OutlineEntry]:
    """The table of contents: every heading, and every table under its caption."""
    entries: list[OutlineEntry] = []
    level = 1
    for item in items:
        if isinstance(item, Table):
            text = item.caption or item.rows[0].block["text"].replace("\t", " ")
            entries.append(OutlineEntry(item.anchor_block, level + 1, text, is_table=True))
        elif item["kind"] == "heading":
            level = item["level"] or 1
            entries.append(OutlineEntry(item, level, item["text"]))
    return entries


def _caption_before(items: list[dict | Table]) -> dict | None:
    """A short paragraph right before a table that names it (e.g. ...主要目标表)."""
    if items and isinstance(items[-1], dict) and items[-1]["kind"] == "paragraph":
        text = items[-1]["text"].strip()
        if len(text) <= 60 and not text.endswith(("。", ".", ";", ";", ":", ":")):
            return items[-1]
    return None


def _merge_cells(table: Table) -> None:
    """Turn w:gridSpan into colspan and runs of w:vMerge="continue" into rowspans."""
    open_cells: dict[int, TableCell] = {}  # grid column -> cell that a vMerge continues
    for row in table.rows:
        column = 0
        for cell in row.block["cells"]:
            span = max(1, int(cell.get("span") or 1))
            if cell.get("vmerge") == "continue" and column in open_cells:
                open_cells[column].rowspan += 1
            else:
                shown = TableCell(cell["text"], colspan=span)
                row.cells.append(shown)
                if cell.get("vmerge") == "restart":
                    open_cells[column] = shown
                else:
                    open_cells.pop(column, None)
            column += span


def section_counts(blocks: list[dict], counts: dict) -> dict[int, int]:
    """Published comments per heading: on the heading itself and on every block under it."""
    totals: dict[int, int] = {}
    for block in blocks:
        n = counts.get(block["id"], 0)
        if not n:
            continue
        for heading_id in [*block["outline"], block["id"]]:
            totals[heading_id] = totals.get(heading_id, 0) + n
    return totals
