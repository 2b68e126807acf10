"""Change notes a resident understands (issue #16): 在“孵化器”后增加“(”, 将“1100”修改为“1300”, 删除“……”.

The changes come from diffing.diff (diff-match-patch with semantic clean-up). Each is widened
to whole numbers and Latin words (1100 → 1300, never 1 → 3), and is named with just enough of
the text before it to be found in the paragraph only once. Templates phrase the notes
(partials/_change_note.html) so they follow the reader's language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from revise.diffing import DELETE, EQUAL, INSERT, diff

INSERT_KIND, DELETE_KIND, REPLACE_KIND = "insert", "delete", "replace"
ANCHOR_MIN = 3  # characters of context before a change, unless a punctuation mark comes first
ANCHOR_MAX = 30
ANCHOR_PLAIN = 8  # a longer anchor (or one crossing a punctuation mark) is replaced by quoting the words around
NEAR = 1  # changes this many characters apart (or fewer) are one change
CLAUSE_SLACK = 1  # an anchor is taken back to its clause's start when that is one character away
WINDOW_MIN = 4  # characters a replaced word is quoted with when it is short or occurs twice
SHOWN_MAX = 40  # a longer old or new text is shown with its middle left out
_WORD = re.compile(r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ._%‰]")


@dataclass(frozen=True)
class Change:
    """One change: `kind`, the words removed (`old`) and added (`new`), what comes before
    (`before`, enough to be unambiguous) and, for an insertion at the very start, after (`after`)."""

    kind: str
    old: str
    new: str
    before: str = ""
    after: str = ""


def _spans(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """Each change as (start, end) in old and (start, end) in new."""
    spans, i, j = [], 0, 0
    current = None
    for op, text in diff(old, new):
        if op == EQUAL:
            if current:
                spans.append(tuple(current))
                current = None
            i, j = i + len(text), j + len(text)
            continue
        if current is None:
            current = [i, i, j, j]
        if op == DELETE:
            i += len(text)
            current[1] = i
        elif op == INSERT:
            j += len(text)
            current[3] = j
    if current:
        spans.append(tuple(current))
    return spans


def _widen(old: str, new: str, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A change inside a number or a Latin word takes the whole of it (both texts share the context):
    1100 → 1300, never 1 → 3; 1.25 → 1.2积极5 is the whole 1.25."""
    a, b, c, d = span
    inside = 0 < a and b < len(old) and _WORD.match(old[a - 1]) and _WORD.match(old[b])
    touches_left = inside or (b > a and _WORD.match(old[a])) or (d > c and _WORD.match(new[c]))
    touches_right = inside or (b > a and _WORD.match(old[b - 1])) or (d > c and _WORD.match(new[d - 1]))
    while touches_left and a > 0 and c > 0 and _WORD.match(old[a - 1]):
        a, c = a - 1, c - 1
    while touches_right and b < len(old) and d < len(new) and _WORD.match(old[b]):
        b, d = b + 1, d + 1
    return a, b, c, d


def _changed(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """The changes as spans, widened to whole numbers and words; changes that then touch, or are
    one character apart, are one change (阶梯型 → 梯次型 is 将“阶梯”修改为“梯次”, not two notes)."""
    merged: list[tuple[int, int, int, int]] = []
    for span in _spans(old, new):
        a, b, c, d = _widen(old, new, span)
        if merged:
            pa, pb, pc, pd = merged[-1]
            gap = old[pb:a]
            if a <= pb or (len(gap) <= NEAR and not any(_is_break(ch) for ch in gap)):
                merged[-1] = (pa, max(b, pb), pc, max(d, pd))
                continue
        merged.append((a, b, c, d))
    return [(a, b, c, d) for a, b, c, d in merged if old[a:b] != new[c:d]]


def _is_break(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PZ"


def _anchor(text: str, end: int, then: str, limit: int = ANCHOR_MAX) -> str:
    """The shortest stretch of `text` ending at `end` that, followed by `then`, occurs in text once
    (at least ANCHOR_MIN characters unless a punctuation mark or the start comes first), taken
    back to the start of its clause when that is at most CLAUSE_SLACK characters further
    (在“加快发展”后, not 在“快发展”后)."""
    found = _shortest_anchor(text, end, then, limit)
    start = end - len(found)
    while 0 < start < end and _WORD.match(text[start - 1]) and _WORD.match(text[start]):
        start -= 1  # never start inside a number: 在“1100”后, not 在“100”后
    found = text[start:end]
    for extra in range(1, CLAUSE_SLACK + 1):
        at = start - extra
        if at < 0 or _is_break(text[at]):
            break
        if at == 0 or _is_break(text[at - 1]):
            return text[at:end]
    return found


def _shortest_anchor(text: str, end: int, then: str, limit: int) -> str:
    best = ""
    for k in range(1, min(end, limit) + 1):
        candidate = text[end - k:end]
        if _is_break(candidate[0]) and k > 1:
            candidate = candidate[1:]  # never start on a comma: stop just after it
            if text.count(candidate + then) == 1:
                return candidate
            best = candidate
            continue
        at_boundary = k == end or _is_break(text[end - k - 1])
        if (k >= ANCHOR_MIN or at_boundary) and text.count(candidate + then) == 1:
            return candidate
        best = candidate
    return best


def _window(text: str, a: int, b: int, minimum: int = WINDOW_MIN) -> tuple[int, int]:
    """The smallest stretch around text[a:b] that occurs once, grown within its clause (left first)
    and past it only if it must be."""
    def good(x: int, y: int) -> bool:
        return y - x >= min(minimum, len(text)) and text.count(text[x:y]) == 1

    x, y = a, b
    for bounded in (True, False):
        while not good(x, y):
            if x > 0 and not (bounded and _is_break(text[x - 1])) and (x - 1 >= a - ANCHOR_MAX):
                x -= 1
            elif y < len(text) and not (bounded and _is_break(text[y])) and y + 1 <= b + ANCHOR_MAX:
                y += 1
            else:
                break
        if good(x, y):
            break
    while x > 0 and x < a and _WORD.match(text[x - 1]) and _WORD.match(text[x]):  # never split a number
        x -= 1
    while b < y < len(text) and _WORD.match(text[y - 1]) and _WORD.match(text[y]):
        y += 1
    # A number is named with the two characters before it (增加100户, not 加100户).
    if text[a:b] and all(_WORD.match(ch) for ch in text[a:b]):
        while x > max(0, a - 2) and not _is_break(text[x - 1]):
            x -= 1
    # A clause's first or last character is not left out: 众创空间建设, not 众创空间建.
    if x == 1 or (x > 1 and _is_break(text[x - 2]) and not _is_break(text[x - 1])):
        x -= 1
    if y == len(text) - 1 or (y + 1 < len(text) and _is_break(text[y + 1]) and not _is_break(text[y])):
        y += 1
    return x, y


def _core(text: str, a: int, b: int, kind: str) -> tuple[int, int, int]:
    """Where a quoted window starts growing, and its least length: one Chinese character replaced
    is quoted with the one before it (将“推进”修改为“推动”), one deleted with one either side."""
    single = b - a == 1 and not _is_break(text[a]) and not _WORD.match(text[a])
    if single and kind == REPLACE_KIND and a > 0 and not _is_break(text[a - 1]) and not _WORD.match(text[a - 1]):
        return a - 1, b, 2
    if single and kind == DELETE_KIND and 0 < a and b < len(text) and not _is_break(text[a - 1]) \
            and not _is_break(text[b]):
        return a - 1, b + 1, WINDOW_MIN
    return a, b, WINDOW_MIN


def _after(text: str, start: int) -> str:
    """What follows an insertion at the very start: up to a punctuation mark, or the first
    WINDOW_MIN characters found once (a four-character phrase, 加快建设, reads whole)."""
    out = ""
    for ch in text[start:start + ANCHOR_MAX]:
        if _is_break(ch) and out:
            break
        out += ch
        if len(out) >= WINDOW_MIN and text.count(out) == 1 and not (
                _WORD.match(out[-1]) and _WORD.match(text[start + len(out):start + len(out) + 1] or " ")):
            break
    return out


def changes(old: str, new: str) -> list[Change]:
    """The changes from old to new as notes: whole numbers and words, with unambiguous context."""
    found = []
    for a, b, c, d in _changed(old, new):
        removed, added = old[a:b], new[c:d]
        kind = REPLACE_KIND if removed and added else DELETE_KIND if removed else INSERT_KIND
        before = _anchor(old, a, "") if kind == INSERT_KIND and a else ""
        if kind == INSERT_KIND and (not a or (len(before) <= ANCHOR_PLAIN and not any(map(_is_break, before[:-1])))):
            after = "" if before else _after(old, a)
        elif kind == INSERT_KIND:
            # The words before it are not enough without crossing a comma: quote the words around
            # it instead, 将“众创空间建设”修改为“众创空间等建设”.
            a2, b2 = _window(old, a, b)
            removed, added = old[a2:b2], old[a2:a] + added + old[b:b2]
            kind, before, after = REPLACE_KIND, "", ""
        elif old.count(removed) > 1 or (len(removed) < 2 and len(old) > 1 and not _WORD.match(removed) and (
                kind == REPLACE_KIND or not _is_break(removed))):
            # Ambiguous, or one Chinese character alone (删除“的” says too little): quote the words
            # around it in both texts, 将“加快建设”修改为“加速建设”, 将“2200多年的”修改为“2200多年”.
            # A number found once is named alone: 将“5”修改为“6”.
            a2, b2 = _window(old, *_core(old, a, b, kind))
            removed, added = old[a2:b2], old[a2:a] + added + old[b:b2]
            kind, before, after = REPLACE_KIND, "", ""
        else:
            before = after = ""
        found.append(Change(kind, removed, added, before, after))
    return found


def shown(text: str, limit: int = SHOWN_MAX) -> str:
    """A text as a note quotes it: tabs of a table row as “ | ”, a long one with its middle left out."""
    text = text.replace("\t", " | ").replace("\n", " ")
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "……" + text[-half:]


EXCERPT_CONTEXT = 6  # characters of unchanged text shown each side of a change in an excerpt
EXCERPT_MAX = 5  # excerpts shown at most; the rest are counted


@dataclass(frozen=True)
class Excerpt:
    """A stretch of the paragraph around one or more nearby changes: `parts` alternate unchanged
    text (str) and changes (Change with kind, old and new); `cut_before`/`cut_after` say whether
    the paragraph goes on beyond it (shown as …)."""

    parts: tuple
    cut_before: bool
    cut_after: bool


def excerpts(old: str, new: str, context: int = EXCERPT_CONTEXT) -> list[Excerpt]:
    """The changes from old to new, each with a little unchanged text either side (issue #12: the
    意见采纳情况表 shows the changed words, not the whole paragraph again). Changes closer than
    twice the context share one excerpt. Numbers and Latin words are changed whole."""
    spans = []
    for a, b, c, d in _changed(old, new):
        if b - a == 1 and d - c == 1 and a > 0 and not _is_break(old[a - 1]) and not _WORD.match(old[a - 1]) \
                and not _is_break(old[a]) and not _WORD.match(old[a]):
            a, c = a - 1, c - 1  # one Chinese character changed reads as a word: 【“加快”改为“加速”】
            if spans and a < spans[-1][1]:
                pa, pb, pc, pd = spans.pop()
                a, c = pa, pc
        spans.append((a, b, c, d))
    groups: list[list[tuple]] = []
    for span in spans:
        if groups and span[0] - groups[-1][-1][1] <= 2 * context:
            groups[-1].append(span)
        else:
            groups.append([span])
    found = []
    for group in groups:
        first, last = group[0][0], group[-1][1]
        start, end = max(0, first - context), min(len(old), last + context)
        # The context stops at a punctuation mark: 年均增加【…】户,… rather than 户、年均增加【…】户,技术合
        for k in range(first - 1, start - 1, -1):
            if _is_break(old[k]):
                start = k + 1
                break
        for k in range(last, end):
            if _is_break(old[k]) and k > last:
                end = k + 1
                break
        parts: list = [old[start:first]] if first > start else []
        for k, (a, b, c, d) in enumerate(group):
            removed, added = old[a:b], new[c:d]
            kind = REPLACE_KIND if removed and added else DELETE_KIND if removed else INSERT_KIND
            parts.append(Change(kind, removed, added))
            following = group[k + 1][0] if k + 1 < len(group) else end
            if following > b:
                parts.append(old[b:following])
        found.append(Excerpt(tuple(parts), start > 0, end < len(old)))
    return found
