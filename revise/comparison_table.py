"""The 修改对照表 as a Word file: the changed clauses, 原文 | 修改后, on a landscape A4 page in
the report's GB/T 9704 style (revise/report.py: the draft's page turned, 方正小标宋 title,
仿宋 text, 黑体 column heads, page numbers, fixed dates so the same table gives the same bytes).

Deleted words are struck through in the 原文 column, added words underlined and bold in the
修改后 column; under each pair a row across both columns gives the reasons and the numbers of
the comments (rows of the 意见采纳情况表) that led to the change.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Pt

from revise import report
from revise.diffing import DELETE, EQUAL, INSERT
from revise.i18n import DEFAULT_LOCALE, N_, gettext
from revise.outcome import ComparisonRow
from revise.timeutil import from_text

COLUMNS = (N_("Original text"), N_("Revised text"))  # 原文 | 修改后
# NOTE: the separator between comment numbers (Chinese: 、)
NUMBER_SEPARATOR = N_(", ")


@dataclass
class _Meta:
    """What report._set_up reads of a report: the title, the language and the fixed date."""

    title: str
    locale: str
    generated_at: str


def title(consultation: dict, locale: str = DEFAULT_LOCALE) -> str:
    return gettext("Comparison of the changes to “%(title)s”", locale, title=consultation["title"])


def reason_text(row: ComparisonRow, locale: str = DEFAULT_LOCALE) -> str:
    """修改理由: the reasons given for the revisions and for the decisions behind them."""
    if not row.reasons:
        return gettext("Reason: editorial revision.", locale)
    return gettext("Reason: %(reason)s", locale, reason=gettext(report.CHANGE_SEPARATOR, locale).join(row.reasons))


def reason_line(row: ComparisonRow, locale: str = DEFAULT_LOCALE) -> str:
    """The row's reasons, then the numbers of the comments that led to it (rows of the 意见采纳情况表)."""
    parts = [reason_text(row, locale)]
    if row.comment_numbers:
        numbers = gettext(NUMBER_SEPARATOR, locale).join(str(n) for n in row.comment_numbers)
        parts.append(gettext("Comments: nos. %(numbers)s of the disposition table.", locale, numbers=numbers))
    return "\n".join(parts)


def comparison_docx(consultation: dict, rows: Sequence[ComparisonRow], generated_at: str,
                    locale: str = DEFAULT_LOCALE, original: bytes | None = None) -> bytes:
    """The 修改对照表 as .docx bytes, landscape A4 (the draft's page turned), the report's fonts."""
    doc = Document()
    section = doc.sections[0]
    width, height, top, bottom, left, right = report._landscape(report._page_of(original))
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = width, height
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = top, bottom, left, right
    heading = title(consultation, locale)
    report._set_up(doc, _Meta(heading, locale, generated_at))
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(16)
    report._run(paragraph, heading, *report.TITLE_FONT)
    if not rows:
        paragraph = doc.add_paragraph()
        report._run(paragraph, gettext("No clause of the draft was changed.", locale), *report.TEXT_FONT)
    else:
        _table(doc, rows, width - left - right, locale)
    buffer = io.BytesIO()
    doc.save(buffer)
    return report._fixed_zip(buffer.getvalue(), from_text(generated_at))


def _table(doc, rows: Sequence[ComparisonRow], text_width: int, locale: str) -> None:
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style, table.alignment, table.autofit = "Table Grid", WD_TABLE_ALIGNMENT.CENTER, False
    for column in table.columns:
        column.width = Emu(int(text_width / len(COLUMNS)))
    table_width = table._tbl.tblPr.find(qn("w:tblW"))
    table_width.set(qn("w:type"), "dxa")
    table_width.set(qn("w:w"), str(sum(c.width.twips for c in table.columns)))
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeated on each page
    for cell, text in zip(header.cells, COLUMNS):
        report._cell(cell, gettext(text, locale), report.HEAD_FONT, centred=True)
    for row in rows:
        pair = table.add_row()
        pair._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        old_cell, new_cell = pair.cells
        _marked_cell(old_cell, row, DELETE, row.where, locale, empty=gettext("(new clause)", locale))
        _marked_cell(new_cell, row, INSERT, "", locale, empty=gettext("(clause deleted)", locale))
        why = table.add_row()
        merged = why.cells[0].merge(why.cells[1])
        report._cell(merged, reason_line(row, locale), report.CELL_FONT)
    for column in table.columns:  # Word reads the cells' widths, LibreOffice the grid's
        for cell in column.cells:
            cell.width = column.width


def _marked_cell(cell, row: ComparisonRow, shown: int, where: str, locale: str, empty: str) -> None:
    """One side of the pair: the clause with the other side's changes left out and its own marked."""
    paragraph = cell.paragraphs[0]
    if where:
        report._run(paragraph, where, report.HEAD_FONT[0], report.CELL_FONT[1] - 2)
        paragraph = cell.add_paragraph()
    pieces = [(op, text) for op, text in row.pieces if op in (EQUAL, shown)]
    if not any(text.strip() for _, text in pieces):
        report._run(paragraph, empty, *report.CELL_FONT)
        return
    for op, text in pieces:
        for i, line in enumerate(text.split("\n")):
            if i:
                paragraph = cell.add_paragraph()
            if not line:
                continue
            report._run(paragraph, line, *report.CELL_FONT)
            run = paragraph.runs[-1]
            if op == DELETE:
                run.font.strike = True
            elif op == INSERT:
                run.font.underline = True
                run.font.bold = True
