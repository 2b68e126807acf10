"""Number labels: typed at the start of a paragraph ("一、", "（三）") or computed (numbering.xml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
LEVELS = 9

_ZH_DIGITS = "〇一二三四五六七八九"
_ZH_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_STEMS = "甲乙丙丁戊己庚辛壬癸"
_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
# Word draws bullets from symbol fonts with Private Use Area code points; show a plain bullet.
_SYMBOL_FONTS = {"symbol", "wingdings", "wingdings 2", "wingdings 3", "webdings"}


def _roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _counting(n: int, digits: str = _ZH_DIGITS, units: str = "千百十", *, drop_one: bool = False,
              zero: str = "零", ten_one: bool = False) -> str:
    """Counting below 10,000: 二十一, 一百零一; drop_one for Japanese 百十一; ten_one for 壹拾壹."""
    if not 0 < n < 10000:
        return str(n)
    out: list[str] = []
    pending_zero = False
    for power, unit in zip((1000, 100, 10, 1), (*units, "")):
        d = n // power % 10
        if d == 0:
            pending_zero = bool(out)
            continue
        if pending_zero and zero:
            out.append(zero)
        pending_zero = False
        out.append(("" if drop_one and d == 1 and unit else digits[d]) + unit)
    text = "".join(out)
    return text[1:] if 10 <= n < 20 and not (ten_one or drop_one) else text  # 十一, not 一十一


def _enclosed(n: int, first: int, count: int) -> str:
    return chr(first + n - 1) if 1 <= n <= count else str(n)


def _letters(n: int, a: str) -> str:
    # Word repeats the letter past Z: Y, Z, AA, BB.
    return chr(ord(a) + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else str(n)


def _digits(n: int, digits: str) -> str:
    return "".join(digits[int(d)] for d in str(n)) if n >= 0 else str(n)


_FORMATS = {
    "decimal": str,
    "decimalHalfWidth": str,
    "decimalZero": lambda n: f"{n:02d}" if 0 <= n < 10 else str(n),
    "upperRoman": lambda n: _roman(n) if n > 0 else str(n),
    "lowerRoman": lambda n: _roman(n).lower() if n > 0 else str(n),
    "upperLetter": lambda n: _letters(n, "A"),
    "lowerLetter": lambda n: _letters(n, "a"),
    "chineseCounting": _counting,
    "chineseCountingThousand": _counting,
    "taiwaneseCounting": _counting,
    "taiwaneseCountingThousand": _counting,
    "japaneseCounting": lambda n: _counting(n, drop_one=True, zero=""),
    "chineseLegalSimplified": lambda n: _counting(n, _ZH_LEGAL, "仟佰拾", ten_one=True),
    "ideographTraditional": lambda n: _STEMS[(n - 1) % 10] if n > 0 else str(n),
    "ideographZodiac": lambda n: _BRANCHES[(n - 1) % 12] if n > 0 else str(n),
    "ideographDigital": lambda n: _digits(n, _ZH_DIGITS),
    "taiwaneseDigital": lambda n: _digits(n, _ZH_DIGITS),
    "decimalFullWidth": lambda n: _digits(n, "０１２３４５６７８９"),
    "decimalFullWidth2": lambda n: _digits(n, "０１２３４５６７８９"),
    "decimalEnclosedCircle": lambda n: _enclosed(n, 0x2460, 20),
    "decimalEnclosedCircleChinese": lambda n: _enclosed(n, 0x2460, 20),
    "decimalEnclosedParen": lambda n: _enclosed(n, 0x2474, 20),
    "decimalEnclosedFullstop": lambda n: _enclosed(n, 0x2488, 20),
    "ideographEnclosedCircle": lambda n: _enclosed(n, 0x3220, 10),
    "none": lambda n: "",
}


def format_number(n: int, fmt: str) -> str:
    """One counter value in a w:numFmt format; unknown formats fall back to decimal."""
    return _FORMATS.get(fmt, str)(n)


def bullet_label(text: str, symbol_font: bool = False) -> str:
    """What a bullet level shows: its character, or "•" for symbol-font and picture bullets."""
    if not text:
        return ""
    if symbol_font or any(0xE000 <= ord(ch) <= 0xF8FF for ch in text):
        return "•"
    return text


# --- labels typed at the start of a paragraph ---

_ZH = "一二三四五六七八九十百零〇"
_TYPED = re.compile(rf"\s*(第[{_ZH}\d]+(?:部分|[章节条篇部])|[{_ZH}]+、|[（(][{_ZH}]+[）)]"
                    rf"|\d+(?:[.．]\d+)+[.．]?|\d+[.．、](?!\d)|[（(]\d+[）)]|\d{{1,2}}(?=\s))")
# The hierarchy of Chinese official documents (GB/T 9704): 一、 / （一） / 1. / （1）.
_HEADING_LEVELS = (
    (1, re.compile(r"\s*([一二三四五六七八九十百]+、)")),
    (2, re.compile(r"\s*([（(][一二三四五六七八九十百]+[）)])")),
    (3, re.compile(r"\s*(\d+(?:[.．](?!\d)|、))")),  # not "1.1" or "2021年"
    (4, re.compile(r"\s*([（(]\d+[）)])")),
)
_SENTENCE_END = set("。；;！？")


def split_typed_label(text: str) -> tuple[str, str]:
    """("一、", "总则") for "一、总则"; ("", text stripped) when no label is typed."""
    match = _TYPED.match(text)
    return (match.group(1), text[match.end():].strip()) if match else ("", text.strip())


def typed_heading(text: str, computed: bool = False) -> tuple[int, str, str] | None:
    """(level, label, title) when text reads like a numbered heading ("（一）目标"); None for body text.

    computed: the label came from numbering.xml, where "1." and "（1）" are ordinary lists.
    """
    for level, pattern in _HEADING_LEVELS:
        match = pattern.match(text)
        if match:
            title = text[match.end():].strip()
            if computed and level > 2 or not title or len(title) > 40 or _SENTENCE_END & set(title):
                return None
            return level, match.group(1), title
    return None


# --- labels computed from numbering.xml ---

@dataclass(frozen=True)
class Level:
    """One w:lvl: how a level counts and what its label looks like."""

    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    restart: int | None = None  # w:lvlRestart: 0 never, n restarts after level n (one-based)
    legal: bool = False  # w:isLgl: show every referenced level in decimal
    symbol_font: bool = False
    style: str = ""  # w:pStyle: the paragraph style linked to this level


def _val(el: etree._Element | None, default: str | None = None) -> str | None:
    return default if el is None else el.get(W + "val", default)


def _int(value: str | None, default: int | None = None) -> int | None:
    # A malformed number counts as absent rather than making the whole file unreadable.
    return int(value) if value is not None and value.strip().lstrip("-").isdigit() else default


def _level(lvl: etree._Element) -> Level:
    font = lvl.find(f"{W}rPr/{W}rFonts")
    font_name = (font.get(W + "ascii") or font.get(W + "hAnsi") or "") if font is not None else ""
    legal = lvl.find(W + "isLgl")
    picture = lvl.find(W + "lvlPicBulletId") is not None
    return Level(
        start=_int(_val(lvl.find(W + "start")), 0) or 0,  # the standard's default start is 0
        fmt="bullet" if picture else _val(lvl.find(W + "numFmt"), "decimal") or "decimal",
        text="•" if picture else _val(lvl.find(W + "lvlText"), "") or "",
        restart=_int(_val(lvl.find(W + "lvlRestart"))),
        legal=legal is not None and _val(legal, "1") not in ("0", "false", "off"),
        symbol_font=font_name.lower() in _SYMBOL_FONTS,
        style=_val(lvl.find(W + "pStyle"), "") or "",
    )


def _levels(parent: etree._Element) -> dict[int, Level]:
    return {_int(lvl.get(W + "ilvl"), 0): _level(lvl) for lvl in parent.iterchildren(W + "lvl")}


@dataclass
class _Num:
    abstract: str
    levels: dict[int, Level]  # w:lvlOverride/w:lvl replacing the abstract's level
    starts: dict[int, int]  # w:lvlOverride/w:startOverride


class Numbering:
    """The numbering definitions of one document and their running counters (feed it in order)."""

    def __init__(self, root: etree._Element | None, numbering_styles: dict[str, str] | None = None):
        self._abstract: dict[str, dict[int, Level]] = {}
        self._style_link: dict[str, str] = {}  # abstractNumId -> w:numStyleLink style id
        self._nums: dict[str, _Num] = {}
        self._numbering_styles = numbering_styles or {}  # numbering style id -> numId
        self._counters: dict[str, list[int | None]] = {}
        self._used: set[str] = set()
        if root is None:
            return
        for abstract in root.iterchildren(W + "abstractNum"):
            abstract_id = abstract.get(W + "abstractNumId", "")
            self._abstract[abstract_id] = _levels(abstract)
            link = _val(abstract.find(W + "numStyleLink"))
            if link:
                self._style_link[abstract_id] = link
        for num in root.iterchildren(W + "num"):
            levels: dict[int, Level] = {}
            starts: dict[int, int] = {}
            for override in num.iterchildren(W + "lvlOverride"):
                ilvl = _int(override.get(W + "ilvl"), 0)
                start = _int(_val(override.find(W + "startOverride")))
                if start is not None:
                    starts[ilvl] = start
                lvl = override.find(W + "lvl")
                if lvl is not None:
                    levels[ilvl] = _level(lvl)
            abstract_id = _val(num.find(W + "abstractNumId"), "") or ""
            self._nums[num.get(W + "numId", "")] = _Num(abstract_id, levels, starts)

    def _abstract_id(self, num_id: str) -> str | None:
        """The abstractNum that really holds the levels, following w:numStyleLink indirection."""
        num = self._nums.get(num_id)
        abstract_id = num.abstract if num else None
        for _ in range(5):  # links can chain; a loop in a broken file must not hang us
            link = self._style_link.get(abstract_id or "")
            linked = self._nums.get(self._numbering_styles.get(link or "", ""))
            if linked is None:
                break
            abstract_id = linked.abstract
        return abstract_id

    def _resolved(self, num_id: str) -> tuple[str, dict[int, Level]] | None:
        num = self._nums.get(num_id)
        abstract_id = self._abstract_id(num_id)
        if num is None or abstract_id is None:
            return None
        levels = {**self._abstract.get(abstract_id, {}), **num.levels}
        for ilvl, start in num.starts.items():
            if ilvl in levels:
                levels[ilvl] = replace(levels[ilvl], start=start)
        return abstract_id, levels

    def level_for_style(self, num_id: str, style_id: str) -> int | None:
        """The ilvl whose w:pStyle links it to a paragraph style (a style's numPr may omit ilvl)."""
        resolved = self._resolved(num_id)
        for ilvl, level in (resolved[1].items() if resolved else ()):
            if level.style == style_id:
                return ilvl
        return None

    def label(self, num_id: str, ilvl: int) -> str | None:
        """Advance the counter for this paragraph and return its label; None when not numbered."""
        resolved = self._resolved(num_id)
        if resolved is None or not 0 <= ilvl < LEVELS:
            return None
        abstract_id, levels = resolved
        level = levels.get(ilvl)
        if level is None:
            return ""
        # Counters live on the abstractNum: lists sharing one continue each other's numbers,
        # except that a w:num with w:startOverride restarts those levels when first used.
        counters = self._counters.setdefault(abstract_id, [None] * LEVELS)
        if num_id not in self._used:
            self._used.add(num_id)
            for overridden in self._nums[num_id].starts:
                if 0 <= overridden < LEVELS:
                    counters[overridden] = None
        current = counters[ilvl]
        counters[ilvl] = level.start if current is None else current + 1
        for deeper in range(ilvl + 1, LEVELS):
            restart = levels[deeper].restart if deeper in levels else None
            # Word restarts a level when its restart level or any higher level is used.
            if restart is None or restart - 1 >= deeper or (restart and ilvl <= restart - 1):
                counters[deeper] = None
        if level.fmt == "bullet":
            return bullet_label(level.text, level.symbol_font)
        return self._render(level, levels, counters)

    @staticmethod
    def _render(level: Level, levels: dict[int, Level], counters: list[int | None]) -> str:
        """lvlText with each %n replaced by level n's counter; unused levels show their start."""

        def number(match: re.Match) -> str:
            ref = int(match.group(1)) - 1
            ref_level = levels.get(ref, Level())
            value = counters[ref] if counters[ref] is not None else ref_level.start
            fmt = ref_level.fmt
            if level.legal and fmt not in ("none", "bullet"):
                fmt = "decimal"
            return "" if fmt == "bullet" else format_number(value, fmt)

        return re.sub(r"%([1-9])", number, level.text)
