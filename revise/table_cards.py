"""A table row as a card on a phone, and as one input per cell in the comment form (issue #16).

Each cell is named by its column header (the header row's text; a header cell spanning several
columns names each of them), and a cell merged down from a row above (w:vMerge) is repeated in
the rows it covers, so a card reads on its own: 一级指标 创新要素集聚能力 · 序号 9 · …
"""

from __future__ import annotations

from dataclasses import dataclass

from revise.reading import Table


@dataclass(frozen=True)
class CardCell:
    label: str  # the column header ("" for the header row itself)
    text: str
    merged: bool = False  # continues a cell above: shown on the card, not in the table (its rowspan is)


def row_texts(block: dict) -> list[str]:
    """The row's cells as its text holds them (cells joined by tabs; the stored cells if they disagree)."""
    cells = block.get("cells") or []
    parts = block["text"].split("\t")
    return parts if len(parts) == len(cells) or not cells else [c["text"] for c in cells]


def header_labels(table: Table) -> list[str]:
    """The header of each grid column, from the table's first row (spans repeated)."""
    if len(table.rows) < 2:
        return []
    labels: list[str] = []
    for cell in table.rows[0].block.get("cells") or []:
        labels += [" ".join(cell["text"].split())] * max(1, int(cell.get("span") or 1))
    return labels


def cards(table: Table) -> dict[int, list[CardCell]]:
    """For each row block id, its cells as a card: header label, text, merged from above."""
    labels = header_labels(table)
    above: dict[int, str] = {}  # grid column -> text of the cell a vMerge continues
    out: dict[int, list[CardCell]] = {}
    for index, row in enumerate(table.rows):
        cells = row.block.get("cells") or []
        texts = row_texts(row.block)
        card, column = [], 0
        for cell, text in zip(cells, texts, strict=False):
            label = labels[column] if labels and index > 0 and column < len(labels) else ""
            if cell.get("vmerge") == "continue" and column in above:
                card.append(CardCell(label, above[column], merged=True))
            else:
                card.append(CardCell(label, text))
                if cell.get("vmerge") == "restart":
                    above[column] = text
                else:
                    above.pop(column, None)
            column += max(1, int(cell.get("span") or 1))
        out[row.block["id"]] = card
    return out


def row_card(blocks: list[dict], block: dict) -> list[CardCell]:
    """The card of one row, given its table's rows in order (for the row's own page and form)."""
    from revise.reading import layout

    rows = [b for b in blocks if b["kind"] == "table_row" and b.get("table_no") == block.get("table_no")]
    tables = [t for t in layout(rows) if isinstance(t, Table)]
    for table in tables:
        found = cards(table).get(block["id"])
        if found is not None:
            return found
    return [CardCell("", text) for text in row_texts(block)]
