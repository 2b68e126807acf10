"""Build docs/draft.docx, the Nanchong draft plan, from the seed web page text.

The seed is a saved web page: a notice from 南充市科学技术局 and, below it, the attachment --
the draft plan (cover, table of contents, body). This script keeps the plan's text exactly as
the seed has it (typos included; only leading/trailing whitespace of a line is trimmed) and
lays it out as a Word file in the manner of Chinese official documents (GB/T 9704): A4,
仿宋_GB2312 三号 body text, 黑体 / 楷体_GB2312 / bold 仿宋 headings with outline levels, a real
TOC field, the targets table as a Word table with merged cells, and "— 1 —" page numbers.

The output is deterministic (fixed dates, zip entries with fixed timestamps), so
docs/draft.docx in the repository is exactly what this script makes.

Run:  python docs/build_draft.py [--seed PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, Twips
from docx.text.paragraph import Paragraph
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SEED = REPO.parent / "shared" / "seed" / "000_9eafd9a176462cfb.txt"
DEFAULT_OUT = REPO / "docs" / "draft.docx"

ISSUER = "南充市科学技术局"
DOC_TITLE = "南充市创建省级创新型城市建设方案(2022—2024年)(征求意见稿)"
DOC_DATE = datetime(2022, 10, 8, tzinfo=timezone.utc)
PLAN_START = "南充市创建省级创新型城市建设方案"  # the cover title line starts with this
PAGE_CHROME = "扫一扫在手机打开当前页"  # web page furniture after the plan
STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
LATIN = "Times New Roman"
TEXT_WIDTH = Twips(8844)  # 210mm - 28mm - 26mm = 156mm

# eastAsia font, size in pt, bold -- for each paragraph style used
STYLE_FONTS: dict[str, tuple[str, float, bool]] = {
    "Normal": ("仿宋_GB2312", 16, False),
    "Heading 1": ("黑体", 16, False),
    "Heading 2": ("楷体_GB2312", 16, False),
    "Heading 3": ("仿宋_GB2312", 16, True),
    "Title": ("方正小标宋简体", 22, False),
    "TOC Heading": ("黑体", 16, False),
    "Table Text": ("仿宋_GB2312", 12, False),
}
# fonts declared in word/fontTable.xml, with the common font to use when they are missing
FONT_FALLBACKS = {
    "仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体", "黑体": "SimHei", "宋体": "SimSun",
}

# The shape of 主要目标表 (the texts all come from the seed): indicator ranges of the four
# 一级指标 groups, indicators with sub-rows, and indicators rated qualitatively (one value).
GROUP_RANGES = ((1, 7), (8, 15), (16, 21), (22, 26))
SUB_ROWS = {7: 5}
QUALITATIVE = range(23, 27)
COLUMN_WIDTHS = (Twips(1560), Twips(720), Twips(4044), Twips(1260), Twips(1260))

HEADING_LABELS = (
    (1, re.compile(r"^[一二三四五六七八九十]+、")),
    (2, re.compile(r"^[((][一二三四五六七八九十]+[))]")),
    (3, re.compile(r"^\d+[.．](?!\d)")),
)


@dataclass
class TableRow:
    number: str  # 序号; sub-rows repeat their indicator's number
    name: str  # 二级指标
    values: tuple[str, ...]  # (2021年, 2024年), or one value spanning both


@dataclass
class TableGroup:
    name_lines: list[str]  # 一级指标, possibly split over lines
    rows: list[TableRow] = field(default_factory=list)


@dataclass
class TargetTable:
    caption: str
    header: list[str]
    groups: list[TableGroup]


@dataclass
class Plan:
    cover: list[str]
    toc: list[tuple[int, str]]  # (level, text)
    title: str
    body: list[tuple[str, str] | TargetTable]  # (style name, text) or the table


def heading_level(line: str) -> int | None:
    """1, 2 or 3 for a short heading line ("一、…", "(一)…", "1.…"), else None."""
    if len(line) > 40 or any(mark in line for mark in "。;;,,:"):
        return None
    for level, label in HEADING_LABELS:
        if label.match(line):
            return level
    return None


def read_plan_lines(seed_text: str) -> list[str]:
    """The plan's non-empty lines, trimmed: from the cover title to before the page chrome."""
    lines = [line.strip() for line in seed_text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(PLAN_START))
    end = lines.index(PAGE_CHROME, start) if PAGE_CHROME in lines[start:] else len(lines)
    return [line for line in lines[start:end] if line]


def parse_table(caption: str, tokens: list[str]) -> TargetTable:
    """Read the table's cells (one seed line each) using the known shape of the table."""
    queue = list(tokens)

    def take(expected: str | None = None) -> str:
        if not queue:
            raise ValueError("the targets table ends too early")
        token = queue.pop(0)
        if expected is not None and token != expected:
            raise ValueError(f"targets table: expected {expected!r}, found {token!r}")
        return token

    seed_header = [take() for _ in range(4)]  # 一级指标 二级指标 2021年 2024年
    header = [seed_header[0], "序号", *seed_header[1:]]
    groups = []
    for first, last in GROUP_RANGES:
        group = TableGroup(name_lines=[])
        while queue and queue[0] != str(first):
            group.name_lines.append(take())
        for number in range(first, last + 1):
            take(str(number))
            for _ in range(SUB_ROWS.get(number, 1)):
                name = take()
                count = 1 if number in QUALITATIVE else 2
                group.rows.append(TableRow(str(number), name, tuple(take() for _ in range(count))))
        groups.append(group)
    if queue:
        raise ValueError(f"targets table: unexpected cells after the last row: {queue}")
    return TargetTable(caption, header, groups)


def parse_plan(seed_text: str) -> Plan:
    """Split the plan into cover, table of contents, title and body blocks."""
    lines = read_plan_lines(seed_text)
    toc_start = next(i for i, line in enumerate(lines) if heading_level(line))
    title_at = next(i for i in range(toc_start, len(lines)) if not heading_level(lines[i]))
    cover = [line + "月" if re.fullmatch(r"\d{4}年\d{1,2}", line) else line
             for line in lines[:toc_start]]
    toc = [(heading_level(line) or 0, line) for line in lines[toc_start:title_at]]
    body: list[tuple[str, str] | TargetTable] = []
    i = title_at + 1
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and lines[i + 1] == "一级指标":  # the table's caption
            end = next(j for j in range(i, len(lines)) if lines[j].startswith(("注:", "注:")))
            body.append(parse_table(line, lines[i + 1:end]))
            i = end
            continue
        level = heading_level(line)
        body.append((f"Heading {level}" if level else "Normal", line))
        i += 1
    return Plan(cover, toc, lines[title_at], body)


def set_fonts(rpr: etree._Element, east_asia: str) -> None:
    """Name the fonts in w:rFonts explicitly (theme font attributes would override them)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    rfonts.attrib.clear()
    for attr, font in (("ascii", LATIN), ("hAnsi", LATIN), ("eastAsia", east_asia), ("cs", LATIN)):
        rfonts.set(qn(f"w:{attr}"), font)


def set_char_indent(ppr: etree._Element, first_line_chars: int, left_chars: int = 0) -> None:
    """Indent in characters of 三号 text (w:*Chars, in 1/100 char), with twips for old readers."""
    ind = ppr.get_or_add_ind()
    ind.attrib.clear()
    if left_chars:
        ind.set(qn("w:leftChars"), str(left_chars))
        ind.set(qn("w:left"), str(left_chars * 320 // 100))
    ind.set(qn("w:firstLineChars"), str(first_line_chars))
    ind.set(qn("w:firstLine"), str(first_line_chars * 320 // 100))


def add_run(paragraph: Paragraph, text: str, east_asia: str, size: float | None = None,
            bold: bool | None = None) -> None:
    run = paragraph.add_run(text)
    set_fonts(run._r.get_or_add_rPr(), east_asia)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold


def add_field_char(paragraph: Paragraph, kind: str, instruction: str = "") -> None:
    """A complex field's begin / separate / end mark, with the instruction after begin."""
    run = paragraph.add_run()._r
    mark = OxmlElement("w:fldChar")
    mark.set(qn("w:fldCharType"), kind)
    run.append(mark)
    if instruction:
        instr_run = paragraph.add_run()._r
        instr = OxmlElement("w:instrText")
        instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        instr.text = instruction
        instr_run.append(instr)


def set_up_styles(doc: DocumentObject) -> None:
    """Official-document styles: body, headings with outline levels, title, TOC, table text."""
    defaults_rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))[0]
    set_fonts(defaults_rpr, STYLE_FONTS["Normal"][0])
    defaults_rpr.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    styles = doc.styles
    for level in (1, 2, 3):
        toc = styles.add_style(f"toc {level}", WD_STYLE_TYPE.PARAGRAPH, builtin=True)
        toc.base_style, toc.next_paragraph_style = styles["Normal"], styles["Normal"]
        toc.priority, toc.unhide_when_used = 39, True
        toc.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT,
                                                    WD_TAB_LEADER.DOTS)
        set_char_indent(toc.element.get_or_add_pPr(), 0, left_chars=200 * (level - 1))
    table_text = styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = styles["Normal"]
    for name, (east_asia, size, bold) in STYLE_FONTS.items():
        style = styles[name]
        rpr = style.element.get_or_add_rPr()
        for tag in ("w:color", "w:b", "w:bCs", "w:spacing", "w:kern", "w:sz", "w:szCs"):
            for old in rpr.findall(qn(tag)):
                rpr.remove(old)
        set_fonts(rpr, east_asia)
        style.font.size = Pt(size)
        style.font.bold = True if bold else None
    normal = styles["Normal"].paragraph_format
    normal.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    normal.line_spacing = Pt(28)  # a Length means "exactly"
    normal.space_before = normal.space_after = Pt(0)
    set_char_indent(styles["Normal"].element.get_or_add_pPr(), 200)
    for level in (1, 2, 3):  # keep w:outlineLvl; only drop the template's spacing
        heading = styles[f"Heading {level}"].paragraph_format
        heading.space_before = heading.space_after = Pt(0)
    for name, space_after in (("Title", Pt(28)), ("TOC Heading", Pt(14)), ("Table Text", Pt(0))):
        ppr = styles[name].element.get_or_add_pPr()
        for tag in ("w:pBdr", "w:contextualSpacing"):
            for old in ppr.findall(qn(tag)):
                ppr.remove(old)
        fmt = styles[name].paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.line_spacing = 1.0
        fmt.space_before, fmt.space_after = Pt(0), space_after
        set_char_indent(ppr, 0)


def declare_fonts(doc: DocumentObject) -> None:
    """Add the Chinese fonts to word/fontTable.xml, each with an w:altName to fall back on."""
    part = doc.part.part_related_by(RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for name, alt in FONT_FALLBACKS.items():
        font = etree.SubElement(root, qn("w:font"), {qn("w:name"): name})
        etree.SubElement(font, qn("w:altName"), {qn("w:val"): alt})
        etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})  # GB2312
        etree.SubElement(font, qn("w:family"), {qn("w:val"): "modern"})
        etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "fixed"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def set_up_document(doc: DocumentObject) -> None:
    """Page setup, language, update-fields-on-open, core properties; drop the thumbnail."""
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    settings = doc.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.find(qn("w:compat")).addprevious(update)  # schema order: before w:compat
    settings.find(qn("w:themeFontLang")).set(qn("w:eastAsia"), "zh-CN")
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = DOC_TITLE, ISSUER, ISSUER
    props.language, props.comments, props.revision = "zh-CN", "", 1
    props.created = props.modified = DOC_DATE
    # the template's thumbnail (a picture of another document) and its stylesWithEffects
    # (a stale Word 2010 copy of the styles we restyle here) would only mislead
    unwanted = ((doc.part.package.rels, RT.THUMBNAIL), (doc.part.rels, STYLES_WITH_EFFECTS))
    for rels, reltype in unwanted:
        for rid in [rid for rid, rel in rels.items() if rel.reltype == reltype]:
            del rels[rid]


def add_cover(doc: DocumentObject, cover: list[str]) -> None:
    """Title (二号 小标宋), then 征求意见稿 and the date (三号 楷体), centred."""
    for i, line in enumerate(cover):
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_char_indent(paragraph._p.get_or_add_pPr(), 0)
        is_title, is_last = i == 0, i == len(cover) - 1
        paragraph.paragraph_format.line_spacing = Pt(36 if is_title else 28)
        paragraph.paragraph_format.space_before = Pt(150 if is_title else 300 if is_last else 28)
        add_run(paragraph, line, *(("方正小标宋简体", 22) if is_title else ("楷体_GB2312", 16)))


def add_toc(doc: DocumentObject, entries: list[tuple[int, str]]) -> None:
    """"目  录" and a TOC field whose cached result is the seed's table of contents."""
    heading = doc.add_paragraph(style="TOC Heading")
    heading.paragraph_format.page_break_before = True
    add_run(heading, "目  录", STYLE_FONTS["TOC Heading"][0])
    for i, (level, text) in enumerate(entries):
        paragraph = doc.add_paragraph(style=f"toc {level}")
        if i == 0:
            add_field_char(paragraph, "begin", ' TOC \\o "1-3" \\h \\z \\u ')
            add_field_char(paragraph, "separate")
        add_run(paragraph, text, STYLE_FONTS["Normal"][0])
        if i == len(entries) - 1:
            add_field_char(paragraph, "end")


def add_cell_text(cell, lines: list[str], bold: bool = False, left: bool = False) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for j, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if j == 0 else cell.add_paragraph()
        paragraph.style = "Table Text"
        if left:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
        add_run(paragraph, line, STYLE_FONTS["Table Text"][0], bold=bold or None)


def add_target_table(doc: DocumentObject, table_data: TargetTable) -> None:
    """Caption, then the table: merged 一级指标 groups, sub-rows, 定性评价 across both years."""
    caption = doc.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.keep_with_next = True
    set_char_indent(caption._p.get_or_add_pPr(), 0)
    add_run(caption, table_data.caption, STYLE_FONTS["Normal"][0], bold=True)
    rows = [row for group in table_data.groups for row in group.rows]
    table = doc.add_table(rows=1 + len(rows), cols=5)
    table.style, table.alignment = "Table Grid", WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, COLUMN_WIDTHS):
        column.width = width
        for cell in column.cells:
            cell.width = width
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeat on each page
    for cell, text in zip(header.cells, table_data.header):
        add_cell_text(cell, [text], bold=True)
    r = 1
    for group in table_data.groups:
        group_top = r
        add_cell_text(table.cell(r, 0), group.name_lines)
        for k, row in enumerate(group.rows):
            cells = table.rows[r].cells
            if k == 0 or group.rows[k - 1].number != row.number:
                add_cell_text(cells[1], [row.number])
                number_top = r
            elif k == len(group.rows) - 1 or group.rows[k + 1].number != row.number:
                table.cell(number_top, 1).merge(cells[1])  # the last sub-row of a number
            add_cell_text(cells[2], [row.name], left=True)
            if len(row.values) == 1:
                add_cell_text(cells[3].merge(cells[4]), list(row.values))
            else:
                add_cell_text(cells[3], [row.values[0]])
                add_cell_text(cells[4], [row.values[1]])
            r += 1
        table.cell(group_top, 0).merge(table.cell(r - 1, 0))


def add_page_numbers(doc: DocumentObject) -> None:
    """A new section for the body, its footer "— 1 —" with a PAGE field, numbered from 1."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.footer_distance = Mm(23)  # the number sits about 7mm below the text block
    section.footer.is_linked_to_previous = False
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.line_spacing = 1.0
    set_char_indent(paragraph._p.get_or_add_pPr(), 0)
    add_run(paragraph, "— ", "宋体", 14)
    add_field_char(paragraph, "begin", " PAGE ")
    add_field_char(paragraph, "separate")
    add_run(paragraph, "1", "宋体", 14)
    add_field_char(paragraph, "end")
    add_run(paragraph, " —", "宋体", 14)
    start = OxmlElement("w:pgNumType")
    start.set(qn("w:start"), "1")
    section._sectPr.find(qn("w:cols")).addprevious(start)  # schema order: before w:cols


def build_document(plan: Plan) -> DocumentObject:
    doc = Document()
    set_up_document(doc)
    set_up_styles(doc)
    declare_fonts(doc)
    add_cover(doc, plan.cover)
    add_toc(doc, plan.toc)
    add_page_numbers(doc)
    title = doc.add_paragraph(style="Title")
    add_run(title, plan.title, STYLE_FONTS["Title"][0])
    for block in plan.body:
        if isinstance(block, TargetTable):
            add_target_table(doc, block)
        else:
            style, text = block
            paragraph = doc.add_paragraph(style=None if style == "Normal" else style)
            add_run(paragraph, text, STYLE_FONTS[style][0])
    return doc


def deterministic_zip(docx_bytes: bytes) -> bytes:
    """Re-pack the parts, in the same order, with a fixed timestamp and compression level."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=DOC_DATE.timetuple()[:6])
            fixed.create_system, fixed.external_attr = 0, 0o644 << 16
            target.writestr(fixed, source.read(info.filename), zipfile.ZIP_DEFLATED, 9)
    return out.getvalue()


def build(seed: Path, out: Path) -> None:
    doc = build_document(parse_plan(seed.read_text(encoding="utf-8")))
    buffer = io.BytesIO()
    doc.save(buffer)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(deterministic_zip(buffer.getvalue()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="the seed web page text")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the .docx to write")
    args = parser.parse_args()
    build(args.seed, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
