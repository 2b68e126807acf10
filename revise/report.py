"""The 意见采纳情况表: how each comment was handled, as a model and as .docx, .xlsx and .csv."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import BinaryIO
from xml.sax.saxutils import escape as xml_escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt
from docx.table import _Cell
from lxml import etree
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet
from sqlite_utils import Database

from revise import change_notes
from revise.i18n import DEFAULT_LOCALE, N_, gettext
from revise.ledger import CHANNELS, WEB
from revise.masking import mask
from revise.store import report as report_store
from revise.store import themes as theme_store
from revise.textclean import xml_text
from revise.timeutil import from_text, utc_now_text
from revise.triage import DISPOSITIONS, PENDING

COLUMNS = (N_("No."), N_("Section / paragraph"), N_("Comment text"), N_("Submitted by"),
           N_("Decision"), N_("Reason or change made"))
# NOTE: the separator between names in a list (Chinese: 、)
LIST_SEPARATOR = N_(", ")
# NOTE: the separator between the changes made to one paragraph (Chinese: ;)
CHANGE_SEPARATOR = N_("; ")
# NOTE: the changes made, as one sentence (Chinese ends it with 。)
CHANGE_SENTENCE = N_("%(changes)s.")
DECIDED = ("adopted", "partly", "rejected", "reflected")
SNIPPET = 20  # opening characters of a paragraph that name it in the 章节/段落 column
HEADING_MAX = 14  # longer headings in an outline path are cut (at their first space if any)
QUOTE_MAX, CHANGES_MAX = 40, 5
MARK_MAX = 30  # the longest old or new text inside a 【…】 mark of a suggestion (its middle left out)


@dataclass
class ReportRow:
    """One line of the table: a comment, or the public's similar comments decided alike (同类意见 N 条)."""

    number: int
    where: str
    comment: str
    sender: str
    disposition: str
    reason: str
    disposition_key: str = PENDING
    # Every comment the row stands for: one, or the members of a group folded into it.
    comment_ids: list[int] = field(default_factory=list)


@dataclass
class Report:
    """The whole table with its summary, already in the report's language."""

    title: str
    rows: list[ReportRow]
    total: int
    public: int
    departments: int
    counts: dict[str, int]
    no_change_departments: list[str]
    generated_at: str  # UTC instant, as stored (also the documents' fixed dates)
    locale: str = DEFAULT_LOCALE
    withheld: int = 0  # comments counted but not shown (the public report: hidden or never reviewed)
    # A streamed report (open_report) has no `rows` list: each_row() reads them from the database.
    stream: Callable[[], Iterator[ReportRow]] | None = None
    row_count: int | None = None  # rows of a streamed report (None: not counted yet)

    def each_row(self) -> Iterator[ReportRow]:
        """The rows in order, from the list or straight from the database."""
        return iter(self.rows) if self.stream is None else self.stream()

    def t(self, message: str, **params: object) -> str:
        """A msgid in the report's language."""
        return gettext(message, self.locale, **params)

    def columns(self) -> list[str]:
        return [self.t(c) for c in COLUMNS]

    def summary(self) -> list[str]:
        """The sentences above the table: counts, then the departments with no changes."""
        params = dict(total=self.total, public=self.public, departments=self.departments, **self.counts)
        if self.counts.get(PENDING):
            lines = [self.t(N_("Comments received: %(total)s (public %(public)s, departments %(departments)s); "
                               "adopted %(adopted)s, partly adopted %(partly)s, not adopted %(rejected)s, "
                               "already reflected %(reflected)s, still to be decided %(pending)s."), **params)]
        else:
            lines = [self.t(N_("Comments received: %(total)s (public %(public)s, departments %(departments)s); "
                               "adopted %(adopted)s, partly adopted %(partly)s, not adopted %(rejected)s, "
                               "already reflected %(reflected)s."), **params)]
        if self.withheld:
            lines.append(self.t(N_("%(n)s of them were not published (withheld or not yet reviewed): they are "
                                   "counted here, not shown."), n=self.withheld))
        if self.no_change_departments:
            names = self.t(LIST_SEPARATOR).join(self.no_change_departments)
            lines.append(self.t(N_("These departments replied that they have no changes to propose: %(names)s."),
                                names=names))
        return lines


def build_report(db: Database, consultation: dict, locale: str = DEFAULT_LOCALE, now: str | None = None,
                 *, public_only: bool = False, round_id: int | None = None, round_name: str = "") -> Report:
    """Every comment of the consultation with how it was handled, in the draft's order.

    `public_only` is the report as the public gets it (outcome page and its downloads): a
    comment that was never published — hidden by a moderator, or never reviewed — is counted
    but has no row, so none of its words (nor a reason quoting them) leave the office.
    The rows are held in a list; exports of a big consultation use open_report instead.
    """
    made = open_report(db, consultation, locale, now, public_only=public_only, round_id=round_id,
                       round_name=round_name)
    made.rows, made.stream = list(made.each_row()), None
    made.row_count = len(made.rows)
    return made


def open_report(db: Database, consultation: dict, locale: str = DEFAULT_LOCALE, now: str | None = None,
                *, public_only: bool = False, group_by: str = "section", round_id: int | None = None,
                round_name: str = "") -> Report:
    """The report with its summary counted and its rows streamed (Report.each_row), one comment
    at a time: at 1,000,000 comments the rows are never all in memory (issue #11).
    `group_by="theme"` (issue #13): theme by theme, a comment under each of its themes, then
    those without one; the place column starts with the theme."""
    cid = consultation["id"]
    if not public_only:  # the office's own report always names the departments
        consultation = dict(consultation, report_department_names=1)
    public = withheld = total = 0
    counts = dict.fromkeys((*DECIDED, PENDING), 0)
    # Counts kept by triggers, no scan of the comments; one round (issue #12): that round's comments.
    tally = report_store.tally(db, cid, round_id)
    for disposition, n in tally["disposition"].items():
        counts[disposition if disposition in DISPOSITIONS else PENDING] += n
        total += n
    public = total - tally["source"].get("department", 0)
    withheld = total - tally["status"].get("published", 0) if public_only else 0
    # The public's similar comments decided alike are one row: how many each row stands for is
    # counted first (a small share of the comments), so each row is complete when it is written.
    members: dict[tuple, list[int]] = {}
    for cid_, group, block, kind, disposition, reason, revision in report_store.fold_candidates(db, cid, public_only, round_id):
        fold = _fold_key({"group_id": group, "source": "public", "block_id": block, "kind": kind,
                          "disposition_reason": reason, "disposition_revision_id": revision},
                         disposition if disposition in DISPOSITIONS else PENDING)
        members.setdefault(fold, []).append(cid_)
    for ids in members.values():
        ids.sort()
    row_count = total - withheld - sum(len(ids) - 1 for ids in members.values())
    if group_by == "theme":  # similar comments fold within a theme
        members = {}
        for theme, cid_, group, block, kind, disposition, reason, revision in theme_store.fold_candidates(
                db, cid, public_only):
            fold = _fold_key({"group_id": group, "source": "public", "block_id": block, "kind": kind,
                              "disposition_reason": reason, "disposition_revision_id": revision},
                             disposition if disposition in DISPOSITIONS else PENDING)
            members.setdefault((theme, *fold), []).append(cid_)
        for ids in members.values():
            ids.sort()
        row_count = theme_store.listed_rows(db, cid, public_only) - sum(len(ids) - 1 for ids in members.values())

    def rows() -> Iterator[ReportRow]:
        headings = report_store.headings(db, cid)
        number = 0
        # What many rows share is worked out once: the place (per block), the sender (per
        # source, department, channel and name), the decision and the change made (per revision).
        places: dict = {}
        senders: dict = {}
        reasons: dict = {}
        names = bool(consultation.get("report_public_names"))
        officers = not public_only  # a department's 经办人 and phone: the office's own report only
        themed = group_by == "theme"
        for c in theme_store.each_comment_by_theme(db, cid) if themed else report_store.each_comment(db, cid, round_id):
            if public_only and c["status"] != "published":
                continue
            key = c["disposition"] if c["disposition"] in DISPOSITIONS else PENDING
            fold = _fold_key(c, key)
            if themed and fold is not None:
                fold = (c["theme_id"], *fold)
            ids = members[fold] if fold in members else [c["id"]]
            if ids[0] != c["id"]:
                continue  # folded into the row of the group's first comment
            number += 1
            place = places.get(c["block_id"])
            if place is None:
                place = places[c["block_id"]] = _where(c, headings, locale)
            who = (c["source"], c["department_name"], c["channel"], c["name"] if names or c["source"] == "department" else None,
                   (c.get("officer_name"), c.get("officer_phone")) if officers else None)
            sender = senders.get(who)
            if sender is None:
                sender = senders[who] = _sender(c, consultation, locale, officers)
            why = (key, c["disposition_reason"], c["disposition_revision_id"])
            reason = reasons.get(why)
            if reason is None:
                reason = reasons[why] = (gettext(DISPOSITIONS[key], locale), _reason(c, key, locale))
            if themed:
                place = (gettext("Theme: %(name)s", locale, name=c["theme_name"]) if c["theme_id"] is not None
                         else gettext("No theme", locale)) + "\n" + place
            row = ReportRow(number, place, _comment_text(c, locale), sender, reason[0], reason[1], key, ids)
            if len(ids) > 1:
                row.sender = gettext("The public (%(n)s similar comments)", locale, n=len(ids))
            yield row

    return Report(
        title=gettext("Disposition of comments on “%(title)s”", locale, title=consultation["title"])
        + (gettext(" (%(round)s)", locale, round=round_name) if round_name else ""),  # which round (issue #12)
        rows=[], total=total, public=public, departments=total - public, counts=counts,
        no_change_departments=report_store.no_change_departments(db, cid, round_id),
        generated_at=now or utc_now_text(), locale=locale, withheld=withheld, stream=rows, row_count=row_count,
    )


def _fold_key(c: dict, key: str) -> tuple | None:
    """What members of a group must share to be one row: only the public's comments on the same
    paragraph with the same decision, reason and revision fold, so a row never misstates how one
    of them was handled (a department's comment always keeps its own row)."""
    if c["group_id"] is None or c["source"] != "public":
        return None
    return (c["group_id"], c["block_id"], c["kind"], key, (c["disposition_reason"] or "").strip(),
            c["disposition_revision_id"])


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _short_heading(text: str) -> str:
    """A heading as one step of an outline path: long ones cut at the first space, or at a length."""
    if len(text) <= HEADING_MAX:
        return text
    head = text.split(" ", 1)[0] if " " in text[1:] else text[:HEADING_MAX]
    return head + "…"


def _where(c: dict, headings: dict[int, str], locale: str) -> str:
    """章节/段落: the headings above the block, then the paragraph's opening words or the row's cells."""
    if c["block_id"] is None:
        return gettext("The draft as a whole", locale)
    path = [_short_heading(headings[h]) for h in c["block_outline"] if h in headings]
    text = c["block_text"] or ""
    if c["block_kind"] == "heading":
        return " › ".join([*path, text])
    if c["block_kind"] == "table_row" and c["block_cells"]:
        # Cells continuing a vertical merge are empty: skip them rather than show "| |".
        cells = [cell["text"].replace("\n", "") for cell in c["block_cells"] if cell.get("vmerge") != "continue"]
        here = _clip(" | ".join(cells), 60)
    else:
        here = "“" + _clip(text.strip(), SNIPPET) + "”"
    return " › ".join(path) + "\n" + here if path else here


def _comment_text(c: dict, locale: str) -> str:
    """意见内容: the body, then the wording proposed (masked like every published comment).

    A proposed edit is shown compactly (issue #12): the changed words marked with a little of
    the paragraph either side, …企业孵化器【增加“(”】众创空间等… — not the whole paragraph again,
    unless that would be no shorter."""
    parts = [_mask(c["body"].strip())] if (c["body"] or "").strip() else []
    raw = (c["suggestion"] or "").strip()
    suggestion = _mask(raw)
    written_on = c.get("written_text") or c.get("block_text") or ""
    compact = suggested_changes(written_on, raw, locale) if c["kind"] == "edit" and raw and written_on else ""
    if compact and len(compact) < len(raw):
        parts.append(gettext("Suggested changes: %(text)s", locale, text=_mask(compact)))
    elif c["kind"] == "edit" and suggestion:
        parts.append(gettext("Suggested wording: %(text)s", locale, text=suggestion))
    elif c["kind"] == "insert" and suggestion:
        parts.append(gettext("Suggested addition: %(text)s", locale, text=suggestion))
    elif c["kind"] == "delete":
        parts.append(gettext("Suggests deleting this paragraph.", locale))
    return "\n".join(parts)


def suggested_changes(old: str, new: str, locale: str = DEFAULT_LOCALE) -> str:
    """A proposed edit as its changes in context: …有【“2200”改为“2300”】多年的建城… (at most
    CHANGES_MAX excerpts, then how many more)."""
    if old.strip() == new.strip():
        return ""
    found = change_notes.excerpts(old.strip(), new.strip())
    shown = []
    for excerpt in found[:CHANGES_MAX]:
        text = "…" if excerpt.cut_before else ""
        for part in excerpt.parts:
            text += change_notes.shown(part) if isinstance(part, str) else _mark(part, locale)
        shown.append(text + ("…" if excerpt.cut_after else ""))
    text = " ".join(shown)
    if len(found) > CHANGES_MAX:
        text += gettext(" (%(n)s changes in all)", locale, n=len(found))
    return text


def _mark(change: change_notes.Change, locale: str) -> str:
    old, new = change_notes.shown(change.old, MARK_MAX), change_notes.shown(change.new, MARK_MAX)
    if change.kind == change_notes.INSERT_KIND:
        return gettext("[add “%(new)s”]", locale, new=new)
    if change.kind == change_notes.DELETE_KIND:
        return gettext("[delete “%(old)s”]", locale, old=old)
    return gettext("[“%(old)s” to “%(new)s”]", locale, old=old, new=new)


# Every pattern masking.mask hides has seven digits in a row or an @: most comments have
# neither, and one search is a quarter of mask's four substitutions (issue #11: a million rows).
_MAYBE_PERSONAL = re.compile(r"\d{7}|@")


def _mask(text: str) -> str:
    return mask(text) if _MAYBE_PERSONAL.search(text) else text


def _sender(c: dict, consultation: dict, locale: str, officers: bool = False) -> str:
    """提出单位/个人, then the channel when the comment did not come through the website: 张三(信函);
    with `officers` (the office's report, never the public's) a department's 经办人 and 联系电话."""
    who = _who(c, consultation, locale)
    if officers and c["source"] == "department" and (c.get("officer_name") or c.get("officer_phone")):
        who += "\n" + gettext("Officer: %(name)s, phone %(phone)s", locale, name=c.get("officer_name") or "",
                               phone=c.get("officer_phone") or "")
    if c.get("channel", WEB) in (WEB, None):
        return who
    return gettext("%(sender)s (%(channel)s)", locale, sender=who, channel=gettext(CHANNELS[c["channel"]], locale))


def _who(c: dict, consultation: dict, locale: str) -> str:
    """The department, or 公众 (with the name only if the consultation says so)."""
    if c["source"] == "department":
        if not consultation.get("report_department_names", 1):  # the outcome's option (issue #12, m015)
            return gettext("A department", locale)
        return c["department_name"] or c["name"] or ""
    name = (c["name"] or "").strip()
    if name and consultation.get("report_public_names"):
        return gettext("The public (%(name)s)", locale, name=mask(name))
    return gettext("The public", locale)


def _reason(c: dict, key: str, locale: str) -> str:
    """理由或修改情况: the reason given, and for adopted comments the change made to the draft."""
    parts = [c["disposition_reason"].strip()] if (c["disposition_reason"] or "").strip() else []
    if key in ("adopted", "partly") and c["revision_action"]:
        change = change_made(c["revision_action"], c["revision_previous_text"] or "", c["revision_text"] or "", locale)
        if change:
            parts.append(change)
    return "\n".join(parts)


def change_made(action: str, old: str, new: str, locale: str = DEFAULT_LOCALE) -> str:
    """A revision in words, as a person writes it (revise.change_notes): 将“2200”修改为“2300”;
    在“孵化器”后增加“(”; 删除该段; 新增段落“…”."""
    if action == "delete":
        clauses = [gettext("deleted the paragraph", locale)]
    elif action == "insert":
        clauses = [gettext("added the paragraph “%(new)s”", locale, new=_clip(new.replace("\t", " | "), QUOTE_MAX))]
    else:
        clauses = [_clause(note, locale) for note in change_notes.changes(old, new)]
    if not clauses:
        return ""
    text = gettext(CHANGE_SEPARATOR, locale).join(clauses[:CHANGES_MAX])
    if len(clauses) > CHANGES_MAX:
        text += gettext(" (%(n)s changes in all)", locale, n=len(clauses))
    return gettext(CHANGE_SENTENCE, locale, changes=text[:1].upper() + text[1:])


def _clause(note: change_notes.Change, locale: str) -> str:
    old, new = change_notes.shown(note.old, QUOTE_MAX), change_notes.shown(note.new, QUOTE_MAX)
    if note.kind == change_notes.REPLACE_KIND:
        return gettext("changed “%(old)s” to “%(new)s”", locale, old=old, new=new)
    if note.kind == change_notes.DELETE_KIND:
        return gettext("deleted “%(old)s”", locale, old=old)
    if note.before:
        return gettext("after “%(before)s” added “%(new)s”", locale, before=change_notes.shown(note.before), new=new)
    if note.after:
        return gettext("before “%(after)s” added “%(new)s”", locale, after=change_notes.shown(note.after), new=new)
    return gettext("added “%(new)s”", locale, new=new)


# --- .docx -------------------------------------------------------------------------------

# The draft's page (docs/build_draft.py): A4, margins top 37, bottom 35, left 28, right 26 mm.
DRAFT_PAGE = (Mm(210), Mm(297), Mm(37), Mm(35), Mm(28), Mm(26))  # width, height, top, bottom, left, right
# Share of the text width per column (序号 … 理由或修改情况): the comment and the reason get the most.
WIDTHS = (0.07, 0.18, 0.30, 0.12, 0.11, 0.22)
TITLE_FONT, TEXT_FONT, HEAD_FONT = ("方正小标宋简体", 22), ("仿宋_GB2312", 16), ("黑体", 14)
CELL_FONT = ("仿宋_GB2312", 14)  # 四号: the table is dense, the summary stays 三号
FALLBACKS = {"方正小标宋简体": "宋体", "仿宋_GB2312": "仿宋", "黑体": "SimHei"}
LATIN = "Times New Roman"
STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"


# A Word table stays usable up to a few thousand rows (LibreOffice and Word take minutes to lay
# out 100,000 and python-docx holds every cell as XML objects): beyond this the .docx says so
# and shows the first rows, and the .xlsx/.csv (streamed, no limit) hold them all (issue #11).
DOCX_MAX_ROWS = 5_000


def report_docx(report: Report, original: bytes | None = None) -> bytes:
    """The table as a Word file on the draft's page turned landscape, in the draft's fonts."""
    doc = Document()
    section = doc.sections[0]
    width, height, top, bottom, left, right = _landscape(_page_of(original))
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = width, height
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = top, bottom, left, right
    _set_up(doc, report)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(16)
    _run(title, report.title, *TITLE_FONT)
    lines = report.summary()
    rows = report.row_count if report.row_count is not None else len(report.rows)
    if rows > DOCX_MAX_ROWS:
        lines.append(report.t(N_("This table shows the first %(shown)s of its %(rows)s rows (similar comments "
                                 "decided alike are one row); every row is in the Excel and CSV files of this "
                                 "report."), shown=DOCX_MAX_ROWS, rows=rows))
    for line in lines:
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Pt(TEXT_FONT[1] * 2)  # two characters
        paragraph.paragraph_format.line_spacing = Pt(28)
        _run(paragraph, line, *TEXT_FONT)
    text_width = width - left - right
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style, table.alignment, table.autofit = "Table Grid", WD_TABLE_ALIGNMENT.CENTER, False
    for column, share in zip(table.columns, WIDTHS):
        column.width = Emu(int(text_width * share))
    table_width = table._tbl.tblPr.find(qn("w:tblW"))
    table_width.set(qn("w:type"), "dxa")
    table_width.set(qn("w:w"), str(sum(c.width.twips for c in table.columns)))
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeated on each page
    for cell, text in zip(header.cells, report.columns()):
        _cell(cell, text, HEAD_FONT, centred=True)
    for row in islice(report.each_row(), DOCX_MAX_ROWS):
        values = (str(row.number), row.where, row.comment, row.sender, row.disposition, row.reason)
        added = table.add_row()  # its cells from its own <w:tc>s: row.cells walks the whole table
        for i, (cell, text) in enumerate(zip((_Cell(tc, table) for tc in added._tr.tc_lst), values)):
            _cell(cell, text, CELL_FONT, centred=i in (0, 3, 4))
    for column in table.columns:  # Word reads the cells' widths, LibreOffice the grid's
        for cell in column.cells:
            cell.width = column.width
    buffer = io.BytesIO()
    doc.save(buffer)
    return _fixed_zip(buffer.getvalue(), from_text(report.generated_at))


def _page_of(original: bytes | None) -> tuple:
    """Page size and margins of the original's first section, else the draft's."""
    if original:
        s = Document(io.BytesIO(original)).sections[0]
        page = (s.page_width, s.page_height, s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)
        if all(v is not None for v in page):
            return page
    return DRAFT_PAGE


def _landscape(page: tuple) -> tuple:
    """The page turned so its top is the portrait's binding (left) edge (GB/T 9704 横排表格)."""
    width, height, top, bottom, left, right = page
    if width >= height:
        return page
    return height, width, left, right, bottom, top


def _set_up(doc, report: Report) -> None:
    """Default fonts with eastAsia, fonts with fallbacks, page numbers, fixed core properties."""
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))[0]
    _fonts(defaults, TEXT_FONT[0])
    defaults.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    _fonts(normal.element.get_or_add_rPr(), TEXT_FONT[0])
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    part = doc.part.part_related_by(RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for name, alt in FALLBACKS.items():  # a reader without the font uses the common one
        font = etree.SubElement(root, qn("w:font"), {qn("w:name"): name})
        etree.SubElement(font, qn("w:altName"), {qn("w:val"): alt})
        etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})  # GB2312
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    footer = doc.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number = OxmlElement("w:fldSimple")
    number.set(qn("w:instr"), " PAGE ")
    footer._p.append(number)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by, props.comments = xml_text(report.title), "", "", ""
    props.language, props.revision = report.locale.replace("_", "-"), 1
    props.created = props.modified = from_text(report.generated_at)
    # The template's thumbnail shows another document; its stylesWithEffects is a stale copy.
    for rels, reltype in ((doc.part.package.rels, RT.THUMBNAIL), (doc.part.rels, STYLES_WITH_EFFECTS)):
        for rid in [rid for rid, rel in rels.items() if rel.reltype == reltype]:
            del rels[rid]


def _fonts(rpr, east_asia: str) -> None:
    """Name the fonts explicitly: theme font attributes would otherwise win over eastAsia."""
    rfonts = rpr.get_or_add_rFonts()
    rfonts.attrib.clear()
    for attr, font in (("ascii", LATIN), ("hAnsi", LATIN), ("eastAsia", east_asia), ("cs", LATIN)):
        rfonts.set(qn(f"w:{attr}"), font)


def _run(paragraph, text: str, east_asia: str, size: float) -> None:
    run = paragraph.add_run(xml_text(text))  # stored text past textclean still makes a file
    _fonts(run._r.get_or_add_rPr(), east_asia)
    run.font.size = Pt(size)


def _cell(cell, text: str, font: tuple[str, float], centred: bool = False) -> None:
    """A cell's text, one paragraph per line."""
    for i, line in enumerate(xml_text(text).split("\n")):
        paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
        _run(paragraph, line, *font)


def _fixed_zip(data: bytes, when: datetime) -> bytes:
    """Re-pack the parts with one fixed timestamp, so the same report gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename), zipfile.ZIP_DEFLATED, 9)
    return out.getvalue()


# --- .xlsx and .csv ----------------------------------------------------------------------

XLSX_WIDTHS = (6, 30, 50, 18, 12, 40)  # in Excel's character widths


def report_xlsx(report: Report) -> bytes:
    """One sheet: the title merged across the columns, the summary, a frozen bold header row."""
    buffer = io.BytesIO()
    write_xlsx(report, buffer)
    return buffer.getvalue()


def write_xlsx(report: Report, out: BinaryIO) -> None:
    """The .xlsx into a file, streamed (openpyxl's write-only mode): rows go to disk as they are
    made, so a million rows take tens of MB instead of gigabytes (issue #11)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(report.t(N_("Disposition of comments"))[:31])
    wrap, thin = Alignment(wrap_text=True, vertical="top"), Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold, head_align = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    fill = PatternFill("solid", fgColor="DDDDDD")
    last = len(COLUMNS)
    for c, width in enumerate(XLSX_WIDTHS, start=1):  # before any row: write-only writes them first
        ws.column_dimensions[chr(64 + c)].width = width
    lines = [report.title, *report.summary()]
    head = len(lines) + 2
    ws.freeze_panes = f"A{head + 1}"
    ws.print_title_rows = f"{head}:{head}"
    ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", Worksheet.PAPERSIZE_A4
    for r, line in enumerate(lines, start=1):
        cell = _text(ws, line)
        if r == 1:
            cell.font, cell.alignment = Font(bold=True, size=16), Alignment(horizontal="center", vertical="center")
        else:  # Excel does not grow merged rows to fit: give the sentence its lines
            cell.alignment = wrap
        ws.row_dimensions[r].height = 30 if r == 1 else 18 * (1 + len(line) // 70)
        ws.append([cell])
        ws.merged_cells.add(f"A{r}:{chr(64 + last)}{r}")
    ws.append([])
    header = []
    for text in report.columns():
        cell = _text(ws, text)
        cell.font, cell.border, cell.alignment, cell.fill = bold, border, head_align, fill
        header.append(cell)
    ws.append(header)
    rows = report.each_row()
    first = next(rows, None)
    if first is not None:  # one row through openpyxl: the model of the rest (its cells' styles)
        number = WriteOnlyCell(ws, first.number)
        number.border = border
        cells = [number]
        for text in (first.where, first.comment, first.sender, first.disposition, first.reason):
            cell = _text(ws, text)
            cell.alignment, cell.border = wrap, border
            cells.append(cell)
        ws.append(cells)
    wb.properties.title, wb.properties.creator = xml_text(report.title), ""
    wb.properties.created = from_text(report.generated_at).replace(tzinfo=None)
    made = io.BytesIO()
    wb.save(made)
    _more_rows(made.getvalue(), out, rows)


SHEET = "xl/worksheets/sheet1.xml"


def _more_rows(workbook: bytes, out: BinaryIO, rows: Iterator[ReportRow]) -> None:
    """Copy the workbook into `out`, writing the remaining rows into its sheet after the model row.

    openpyxl's write-only mode still spends ~250 µs a row on cell objects and styles (four
    minutes for a million rows); the rows after the first are written here as the same XML
    (the model row's style ids, inline strings, text always text), streamed into the zip.
    """
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != SHEET:
                target.writestr(info, data)
                continue
            xml = data.decode("utf-8")
            start = xml.rfind("<row ")
            end = xml.index("</row>", start) + len("</row>") if start >= 0 else -1
            model = xml[start:end] if start >= 0 else ""
            last = int(re.search(r'<row r="(\d+)"', model).group(1)) if model else 0
            styles = [re.search(r'\ss="(\d+)"', c) for c in re.findall(r"<c [^>]*>", model)]
            styles = [m.group(1) if m else "0" for m in styles] or ["0"] * len(COLUMNS)
            entry = zipfile.ZipInfo(SHEET, date_time=info.date_time)
            # Deflate at level 1: a million rows are ~1 GB of XML; level 6 took three times the CPU
            # for a file a fifth smaller.
            entry.compress_type, entry._compresslevel = zipfile.ZIP_DEFLATED, 1
            with target.open(entry, "w", force_zip64=True) as sheet:
                chunk = [xml[:end] if model else xml[:xml.index("</sheetData>")]]
                for row in rows:
                    last += 1
                    cells = [f'<c r="A{last}" s="{styles[0]}" t="n"><v>{row.number}</v></c>']
                    for column, (style, text) in enumerate(zip(styles[1:], (row.where, row.comment, row.sender,
                                                                            row.disposition, row.reason)), start=1):
                        cells.append(f'<c r="{chr(65 + column)}{last}" s="{style}" t="inlineStr"><is>'
                                     f'<t xml:space="preserve">{xml_escape(xml_text(text))}</t></is></c>')
                    chunk.append(f'<row r="{last}">{"".join(cells)}</row>')
                    if len(chunk) >= 500:
                        sheet.write("".join(chunk).encode("utf-8"))
                        chunk = []
                rest = xml[end:] if model else xml[xml.index("</sheetData>"):]
                chunk.append(re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:F{max(last, 1)}"/>', rest))
                sheet.write("".join(chunk).encode("utf-8"))


def _text(ws, value: str):
    """A cell holding text as text: a comment starting with "=" must not become a formula.

    openpyxl refuses control characters (IllegalCharacterError) and the XML writer the rest of
    what XML forbids: stored text that got past textclean is written without them.
    """
    cell = WriteOnlyCell(ws, xml_text(value))
    cell.data_type = "s"
    return cell


def report_csv(report: Report) -> bytes:
    """UTF-8 with a BOM (Excel on Chinese Windows reads it right): the header, then one row per comment."""
    buffer = io.BytesIO()
    write_csv(report, buffer)
    return buffer.getvalue()


def write_csv(report: Report, out: BinaryIO) -> None:
    """The .csv into a file, row by row."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(report.columns())
    for row in report.each_row():
        writer.writerow([row.number, *(_inert(xml_text(v)) for v in (row.where, row.comment, row.sender,
                                                                     row.disposition, row.reason))])
    text.flush()
    text.detach()


def _inert(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (CSV injection): a leading ' if needed."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
