"""docs/draft.docx: the Nanchong draft plan, built from the seed by docs/build_draft.py."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "docs" / "draft.docx"
SCRIPT = ROOT / "docs" / "build_draft.py"
SEED = Path("seed") / "000_9eafd9a176462cfb.txt"
PAGE_CHROME = "扫一扫在手机打开当前页"


@pytest.fixture(scope="module")
def draft() -> DocumentObject:
    return docx.Document(str(DRAFT))


def seed_lines(shared_dir: Path) -> list[str]:
    """The plan in the seed: cover title to before the page chrome, non-empty, trimmed."""
    lines = [line.strip() for line in (shared_dir / SEED).read_text(encoding="utf-8").splitlines()]
    start = lines.index("南充市创建省级创新型城市建设方案(2022-2024年)")
    return [line for line in lines[start:lines.index(PAGE_CHROME)] if line]


def block_texts(doc: DocumentObject) -> list[str]:
    """Every non-empty paragraph, in body order, table cells included (merged cells once)."""
    texts = []
    for element in doc.element.body.iterchildren():
        paragraphs = [element] if element.tag == qn("w:p") else element.iter(qn("w:p"))
        texts += [Paragraph(p, doc).text.strip() for p in paragraphs]
    return [text for text in texts if text]


def east_asia_font(style) -> str | None:
    return style.element.rPr.rFonts.get(qn("w:eastAsia"))


def cell_text(tc) -> str:
    return "\n".join("".join(t.text for t in p.iter(qn("w:t"))) for p in tc.iter(qn("w:p")))


def table_grid(doc: DocumentObject) -> list[list[dict]]:
    """The one table as rows of {text, col, span, vmerge} per w:tc."""
    (table,) = doc.tables
    rows = []
    for tr in table._tbl.tr_lst:
        col, cells = 0, []
        for tc in tr.tc_lst:
            vmerge = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
            cells.append({
                "text": cell_text(tc), "col": col, "span": tc.grid_span,
                "vmerge": None if vmerge is None else vmerge.get(qn("w:val"), "continue"),
            })
            col += tc.grid_span
        rows.append(cells)
    return rows


def test_every_line_of_the_plan_appears_in_the_document_in_order(shared_dir, draft):
    lines = seed_lines(shared_dir)
    assert lines[-1].endswith("并接受省科技厅的考核和检查。")
    texts = block_texts(draft)
    position = 0
    for line in lines:
        def same(text: str) -> bool:  # the seed's cover date lacks its 月
            return text == line or (line == "2022年10" and text.startswith(line))
        found = next((i for i in range(position, len(texts)) if same(texts[i])), None)
        assert found is not None, f"not found after {texts[position - 1]!r}: {line!r}"
        position = found + 1


def test_the_web_page_around_the_plan_is_not_in_the_document(draft):
    text = "\n".join(block_texts(draft))
    for outside in ("面向社会公开征求", "联系人及电话", "附件下载", PAGE_CHROME, "以上内容来自于网络"):
        assert outside not in text


def test_headings_have_their_levels_and_word_sees_the_outline(draft):
    headings = [(int(p.style.name[-1]), p.text) for p in draft.paragraphs
                if p.style.name.startswith("Heading")]
    assert Counter(level for level, _ in headings) == {1: 6, 2: 23, 3: 29}
    assert [text for level, text in headings if level == 1] == [
        "一、发展基础", "二、建设思路", "三、主要目标", "四、重点任务", "五、保障措施", "六、进度安排",
    ]
    assert (2, "(八)营造良好科技创新生态 激发创新创业创造活力") in headings
    assert (3, "3.打造知识产权保护高地") in headings
    assert (3, "2.加强科普宣传陆地建设") in headings
    paragraphs = draft.paragraphs
    start = next(i for i, p in enumerate(paragraphs) if p.style.name == "Heading 2"
                 and p.text == "(二)基本原则") + 1
    principles = paragraphs[start:start + 4]
    assert all(p.text.startswith("坚持") for p in principles)
    assert {p.style.name for p in principles} == {"Normal"}
    assert paragraphs[start + 4].text == "三、主要目标"
    assert principles[0].text.startswith("坚持创新驱动、科技引领将创新作为")
    for level in (1, 2, 3):
        style = draft.styles[f"Heading {level}"]
        assert style.style_id == f"Heading{level}"
        outline = style.element.pPr.find(qn("w:outlineLvl"))
        assert outline is not None and outline.get(qn("w:val")) == str(level - 1)


def test_heading_counts_match_the_seeds_table_of_contents(shared_dir, draft):
    lines = seed_lines(shared_dir)
    contents = lines[lines.index("2022年10") + 1:lines.index("南充市创建省级创新型城市建设方案")]
    levels = Counter(1 if "、" in line[:3] else 2 if line[0] == "(" else 3 for line in contents)
    styles = Counter(p.style.name for p in draft.paragraphs if p.style.name.startswith("Heading"))
    assert styles == {f"Heading {level}": count for level, count in levels.items()}


def test_the_table_of_contents_is_a_toc_field_word_refreshes_on_open(draft):
    paragraphs = draft.paragraphs
    entries = [p for p in paragraphs if p.style.name.lower() in ("toc 1", "toc 2", "toc 3")]
    heading = Paragraph(entries[0]._p.getprevious(), draft)
    assert heading.text == "目  录" and not heading.style.name.startswith("Heading")
    centred = (heading.alignment, heading.style.paragraph_format.alignment)
    assert WD_ALIGN_PARAGRAPH.CENTER in centred
    assert {p.style.style_id for p in entries} == {"toc1", "toc2", "toc3"}
    headings = [(p.style.name[-1], p.text) for p in paragraphs if p.style.name[:7] == "Heading"]
    assert [(p.style.name[-1], p.text.replace("\xa0", " ")) for p in entries] == headings
    marks = [el.get(qn("w:fldCharType")) for p in entries for el in p._p.iter(qn("w:fldChar"))]
    assert marks == ["begin", "separate", "end"]
    (instruction,) = [el.text for el in entries[0]._p.iter(qn("w:instrText"))]
    assert instruction.strip() == 'TOC \\o "1-3" \\h \\z \\u'
    update = draft.settings.element.find(qn("w:updateFields"))
    assert update is not None and update.get(qn("w:val")) == "true"


EXPECTED_VALUES = {  # indicator -> (2021年, 2024年), or the one value across both years
    "1": ("40.25", "53"), "2": ("14", "19"), "3": ("23.8", "54.7"), "4": ("0.91", "1.8"),
    "5": ("24.7", "40"), "6": ("9.8", "15"), "8": ("7.995", "10.5"), "9": ("812", "1100"),
    "10": ("18.5", "25"), "11": ("0.2", "0.6"), "12": ("850", "1200"), "13": ("5.02", "10"),
    "14": ("10", "15"), "15": ("342", "600"), "16": ("92.1", "93.5"), "17": ("0.301", "0.25"),
    "18": ("56.95", "50.2"), "19": ("II类", "II类"), "20": ("47.8", "50"), "21": ("215", "195"),
    "22": ("4.5", "10"), "23": ("定性评价",), "24": ("定性评价",), "25": ("定性评价",),
    "26": ("定性评价",),
}
INDICATOR_7 = [
    ("省级重点实验室(个)", "2", "3"), ("省级工程实验室(个)", "1", "2"),
    ("省级工程研究中心(个)", "2", "3"), ("省级工程技术研究中心(个)", "2", "4"),
    ("省级企业中心(个)", "32", "40"),
]
GROUPS = [("创新要素\n集聚能力", 11), ("综合实力和产业竞争力", 8), ("创新对社会民生发展的支撑", 6),
          ("创新政策体系和治理架构", 5)]


def test_the_targets_table_is_a_word_table_with_its_merges(draft):
    (table,) = draft.tables
    caption = table._tbl.getprevious()
    assert Paragraph(caption, draft).text == "南充市省级创新型城市建设主要目标表"
    assert caption.find(f".//{qn('w:jc')}").get(qn("w:val")) == "center"
    assert caption.find(f".//{qn('w:b')}") is not None
    assert Paragraph(table._tbl.getnext(), draft).text.startswith("注:1.2021年为预计数;")
    header, *rows = table_grid(draft)
    assert [cell["text"] for cell in header] == ["一级指标", "序号", "二级指标", "2021年", "2024年"]
    assert table._tbl.tr_lst[0].find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    # column 1: the four groups, each one cell merged down its rows
    groups = []
    for row in rows:
        first = row[0]
        assert first["col"] == 0 and first["vmerge"] in ("restart", "continue")
        if first["vmerge"] == "restart":
            groups.append([first["text"], 1])
        else:
            assert first["text"] == ""
            groups[-1][1] += 1
    assert [tuple(group) for group in groups] == GROUPS
    # the indicators, their values, indicator 7's sub-rows and 定性评价 across both years
    values, sub_rows, number = {}, [], ""
    for row in rows:
        by_col = {cell["col"]: cell for cell in row}
        if by_col[1]["vmerge"] == "continue":
            assert by_col[1]["text"] == ""
        else:
            number = by_col[1]["text"]
            values[number] = tuple(by_col[c]["text"] for c in (3, 4) if c in by_col)
        if number == "7":
            sub_rows.append((by_col[2]["text"], by_col[3]["text"], by_col[4]["text"]))
        if by_col[3]["text"] == "定性评价":
            assert by_col[3]["span"] == 2 and 4 not in by_col
    assert list(values) == [str(n) for n in range(1, 27)]
    assert sub_rows == INDICATOR_7
    assert [by[1]["vmerge"] for by in ({c["col"]: c for c in row} for row in rows[6:11])] == [
        "restart", "continue", "continue", "continue", "continue"]
    values.pop("7")
    assert values == EXPECTED_VALUES
    names = {row[1]["text"]: row[2]["text"] for row in rows if row[1]["text"]}
    assert names["20"] == "建成区绿化覆盖率%)#"
    assert names["3"] == "全社会R&D经费投入总量(亿元)*"


def test_the_layout_follows_official_document_conventions(draft):
    for section in draft.sections:
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
        margins = (section.top_margin, section.bottom_margin, section.left_margin,
                   section.right_margin)
        assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    normal = draft.styles["Normal"]
    assert normal.font.size == Pt(16) and east_asia_font(normal) == "仿宋_GB2312"
    indent = normal.element.pPr.find(qn("w:ind"))
    assert indent.get(qn("w:firstLineChars")) == "200" and indent.get(qn("w:firstLine")) == "640"
    fmt = normal.paragraph_format
    assert fmt.line_spacing == Pt(28) and fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert fmt.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert east_asia_font(draft.styles["Heading 1"]) == "黑体"
    assert east_asia_font(draft.styles["Heading 2"]) == "楷体_GB2312"
    assert east_asia_font(draft.styles["Heading 3"]) == "仿宋_GB2312"
    assert draft.styles["Heading 3"].font.bold
    title = draft.styles["Title"]
    assert title.font.size == Pt(22) and east_asia_font(title) == "方正小标宋简体"
    assert title.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    (body_title,) = [p for p in draft.paragraphs if p.style.name == "Title"]
    assert body_title.text == "南充市创建省级创新型城市建设方案"
    lang = draft.styles.element.find(f"{qn('w:docDefaults')}//{qn('w:lang')}")
    assert lang.get(qn("w:eastAsia")) == "zh-CN"
    footer = draft.sections[-1].footer._element
    assert any("PAGE" in el.text for el in footer.iter(qn("w:instrText")))
    props = draft.core_properties
    assert props.title == "南充市创建省级创新型城市建设方案(2022—2024年)(征求意见稿)"
    assert props.author == props.last_modified_by == "南充市科学技术局"
    assert props.language == "zh-CN"
    assert props.created.date().isoformat() == props.modified.date().isoformat() == "2022-10-08"


def test_cover_is_centred_and_dated(draft):
    cover = draft.paragraphs[:3]
    assert [p.text for p in cover] == [
        "南充市创建省级创新型城市建设方案(2022-2024年)", "征求意见稿", "2022年10月"]
    assert {p.alignment for p in cover} == {WD_ALIGN_PARAGRAPH.CENTER}
    assert cover[0].runs[0].font.size == Pt(22)


def test_the_build_script_reproduces_the_committed_draft_byte_for_byte(shared_dir, tmp_path):
    out = tmp_path / "draft.docx"
    subprocess.run([sys.executable, str(SCRIPT), "--seed", str(shared_dir / SEED),
                    "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == DRAFT.read_bytes(), (
        "docs/draft.docx differs from what docs/build_draft.py makes: rebuild and commit it")


def test_the_build_is_deterministic(shared_dir, tmp_path):
    outputs = []
    for name in ("a.docx", "b.docx"):
        subprocess.run([sys.executable, str(SCRIPT), "--seed", str(shared_dir / SEED),
                        "--out", str(tmp_path / name)], check=True, capture_output=True)
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
