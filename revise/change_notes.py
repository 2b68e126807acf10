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
    """A change inside a number or a Latin word takes the whole of it (both texts share the context)."""
    a, b, c, d = span
    touches_left = (b > a and _WORD.match(old[a])) or (d > c and _WORD.match(new[c]))
    touches_right = (b > a and _WORD.match(old[b - 1])) or (d > c and _WORD.match(new[d - 1]))
    while a > 0 and c > 0 and _WORD.match(old[a - 1]) and (touches_left or _WORD.match(old[b:b + 1] or " ")):
        a, c = a - 1, c - 1
        touches_left = True
    while b < len(old) and d < len(new) and _WORD.match(old[b]) and (touches_right or _WORD.match(old[a - 1:a] or " ")):
        b, d = b + 1, d + 1
        touches_right = True
    return a, b, c, d


def _is_break(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PZ"


def _anchor(text: str, end: int, then: str, limit: int = ANCHOR_MAX) -> str:
    """The shortest stretch of `text` ending at `end` that, followed by `then`, occurs in text once
    (at least ANCHOR_MIN characters unless a punctuation mark or the start comes first)."""
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


def _window(text: str, a: int, b: int) -> tuple[int, int]:
    """The smallest stretch around text[a:b] that occurs once, grown within its clause (left first)
    and past it only if it must be."""
    def good(x: int, y: int) -> bool:
        return y - x >= min(WINDOW_MIN, len(text)) and text.count(text[x:y]) == 1

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
    return x, y


def _after(text: str, start: int) -> str:
    """What follows an insertion at the very start (up to a punctuation mark or ANCHOR_MIN characters)."""
    out = ""
    for ch in text[start:start + ANCHOR_MAX]:
        if _is_break(ch) and out:
            break
        out += ch
        if len(out) >= ANCHOR_MIN and text.count(out) == 1:
            break
    return out


def changes(old: str, new: str) -> list[Change]:
    """The changes from old to new as notes: whole numbers and words, with unambiguous context."""
    found = []
    for span in _spans(old, new):
        a, b, c, d = _widen(old, new, span)
        removed, added = old[a:b], new[c:d]
        if removed and added and removed == added:
            continue
        kind = REPLACE_KIND if removed and added else DELETE_KIND if removed else INSERT_KIND
        if kind == INSERT_KIND:
            before = _anchor(old, a, "") if a else ""
            after = "" if before else _after(old, a)
        elif old.count(removed) > 1 or (kind == REPLACE_KIND and len(removed) < 2 and len(old) > 1):
            # Ambiguous: quote the words around it in both texts, 将“加快建设”修改为“加速建设”.
            a2, b2 = _window(old, a, b)
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
