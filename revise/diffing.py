"""diff-match-patch for revise: tracked diffs of block texts, as data and as safe HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from diff_match_patch import diff_match_patch
from markupsafe import Markup, escape

EQUAL, INSERT, DELETE = diff_match_patch.DIFF_EQUAL, diff_match_patch.DIFF_INSERT, diff_match_patch.DIFF_DELETE


# Diffs of user text are bounded (issue #10): a hostile 20,000-character suggestion must not
# cost more than a fraction of a second. Past the timeout diff-match-patch returns a coarser but
# still exact diff; past MAX_CHARS only the common head and tail are found and the middle is one
# replacement (still exact: applying it gives the new text).
DIFF_TIMEOUT = 0.25
MAX_CHARS = 60_000


def _engine() -> diff_match_patch:
    engine = diff_match_patch()
    engine.Diff_Timeout = DIFF_TIMEOUT
    return engine


def diff(old: str, new: str) -> list[tuple[int, str]]:
    """Character-level diff with semantic clean-up: readable for Chinese, one char at a time.

    The last few diffs are remembered: one preview shows the same change three ways (notes,
    short and whole), and a diff that reaches the timeout costs a quarter of a second each time.
    """
    return list(_diff(old, new))


@lru_cache(maxsize=16)
def _diff(old: str, new: str) -> tuple[tuple[int, str], ...]:
    engine = _engine()
    if len(old) + len(new) > MAX_CHARS:
        return tuple(_coarse(engine, old, new))
    ops = engine.diff_main(old, new)
    engine.diff_cleanupSemantic(ops)
    return tuple(ops)


def _coarse(engine: diff_match_patch, old: str, new: str) -> list[tuple[int, str]]:
    """Head and tail in common, the rest one deletion and one insertion (linear time)."""
    head = engine.diff_commonPrefix(old, new)
    tail = engine.diff_commonSuffix(old[head:], new[head:])
    ops = [(EQUAL, old[:head]), (DELETE, old[head:len(old) - tail]), (INSERT, new[head:len(new) - tail]),
           (EQUAL, old[len(old) - tail:])]
    return [(op, text) for op, text in ops if text]


# Short changes (a paragraph and a suggestion for it) are remembered by the thousand: the editor's
# queue shows 50 a page, the same ones again after each decision (a tenth of its rendering).
# Bounded in memory: at most REMEMBERED entries of at most REMEMBERED_CHARS characters each.
REMEMBERED, REMEMBERED_CHARS = 1024, 2000


def diff_html(old: str, new: str, context: int | None = None) -> Markup:
    """The change from old to new as HTML: <del> and <ins> around escaped text.

    With `context`, unchanged stretches keep only that many characters on each side of a
    change (…) — for lists of many suggestions where a whole paragraph would drown the edit.
    """
    if len(old) + len(new) <= REMEMBERED_CHARS:
        return _remembered_html(old, new, context)
    return _diff_html(old, new, context)


@lru_cache(maxsize=REMEMBERED)
def _remembered_html(old: str, new: str, context: int | None) -> Markup:
    return _diff_html(old, new, context)


def _diff_html(old: str, new: str, context: int | None) -> Markup:
    ops = diff(old, new)
    parts = []
    for index, (op, text) in enumerate(ops):
        if op == EQUAL and context is not None:
            text = _shorten(text, context, first=index == 0, last=index == len(ops) - 1)
        safe = escape(text)
        if op == INSERT:
            parts.append(Markup("<ins>%s</ins>") % safe)
        elif op == DELETE:
            parts.append(Markup("<del>%s</del>") % safe)
        else:
            parts.append(safe)
    return Markup("").join(parts)


def _shorten(text: str, context: int, first: bool, last: bool) -> str:
    """An unchanged stretch cut down to `context` characters next to each change."""
    keep_left = 0 if first else context
    keep_right = 0 if last else context
    if len(text) <= keep_left + keep_right + 1:
        return text
    return text[:keep_left] + "…" + (text[len(text) - keep_right:] if keep_right else "")


# --- patches, rebasing and three-way merges --------------------------------------------------

# How far fuzzy matching may stray when a hunk's context no longer matches exactly: a score
# is (errors / pattern length) + (distance / Match_Distance); 0.3 instead of the library's 0.5
# so a hunk never lands on a half-similar phrase elsewhere (Chinese plans repeat phrases).
MATCH_THRESHOLD = 0.3
# For deletions longer than 32 characters (matched by their two ends): at most 30 % of the
# deleted text may differ before the hunk is refused (the library allows 50 %).
DELETE_THRESHOLD = 0.3


class Hunk(NamedTuple):
    """One change with its context as (old, new); shown as “old” → “new”."""

    old: str
    new: str

    def __str__(self) -> str:
        return f"“{self.old}” → “{self.new}”"


@dataclass
class Rebase:
    """A change carried onto another text: the result, which hunks applied, which could not."""

    text: str
    applied: list[bool] = field(default_factory=list)
    failed: list[Hunk] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.failed


def _patch_engine() -> diff_match_patch:
    engine = _engine()
    engine.Match_Threshold = MATCH_THRESHOLD
    engine.Patch_DeleteThreshold = DELETE_THRESHOLD
    return engine


def patch_text(old: str, new: str) -> str:
    """The diff-match-patch patch (as text) that turns old into new."""
    engine = _engine()
    return engine.patch_toText(engine.patch_make(old, new))


def text_at(original: str, patches: list[str]) -> str:
    """Replay stored patches from the original text; raise ValueError if one does not apply."""
    engine = _patch_engine()
    text = original
    for patch in patches:
        text, results = engine.patch_apply(engine.patch_fromText(patch), text)
        if not all(results):
            raise ValueError("a stored patch does not apply to the text before it")
    return text


def rebase(base: str, suggestion: str, current: str) -> Rebase:
    """Carry the change base → suggestion onto current, hunk by hunk; report what does not fit.

    Each hunk of ``patch_make(base, suggestion)`` is placed before ``patch_apply`` runs: where
    its whole context occurs exactly once in the current text, or else where its near context
    (the Patch_Margin = 4 characters on each side of the change, which must be intact) and the
    changed characters occur exactly once; anywhere else, or twice, it is refused. patch_apply
    then runs with Match_Threshold = 0.3 and Patch_DeleteThreshold = 0.3 (see above), so the
    rest of the context may differ by at most 30 %, and the result is kept only if it is the
    text before with exactly the hunk's deleted characters replaced by its inserted ones at
    that place. A refused hunk leaves the text as it was and is listed in ``failed``.
    """
    if current == base:
        return Rebase(suggestion, [True] * len(_engine().patch_make(base, suggestion)))
    engine = _patch_engine()
    text, applied, failed = current, [], []
    for patch in engine.patch_make(base, suggestion):
        landed = _apply_hunk(engine, patch, text)
        applied.append(landed is not None)
        if landed is None:
            failed.append(Hunk(engine.diff_text1(patch.diffs), engine.diff_text2(patch.diffs)))
        else:
            text = landed
    return Rebase(text, applied, failed)


def merge(base: str, mine: str, theirs: str) -> Rebase:
    """Three-way merge for two editors: my changes (base → mine) carried onto theirs."""
    if mine == theirs:
        return Rebase(theirs)
    return rebase(base, mine, theirs)


def _apply_hunk(engine: diff_match_patch, patch, text: str) -> str | None:
    """The text with this one hunk applied where it unambiguously belongs, or None."""
    diffs = list(patch.diffs)
    pre = diffs.pop(0)[1] if diffs and diffs[0][0] == EQUAL else ""
    post = diffs.pop()[1] if diffs and diffs[-1][0] == EQUAL else ""
    core_old = "".join(t for op, t in diffs if op != INSERT)
    core_new = "".join(t for op, t in diffs if op != DELETE)
    margin = engine.Patch_Margin
    near_pre, near_post = pre[len(pre) - margin:] if len(pre) > margin else pre, post[:margin]
    whole, near = _places(text, pre + core_old + post), _places(text, near_pre + core_old + near_post)
    if len(whole) == 1:
        at = whole[0] + len(pre)  # the changed characters start here
    elif not whole and len(near) == 1:
        at = near[0] + len(near_pre)
    else:
        return None  # not found, or found twice: cannot tell where the suggestion meant
    located = engine.patch_deepCopy([patch])
    located[0].start2 = max(0, at - len(pre))
    candidate, results = engine.patch_apply(located, text)
    expected = text[:at] + core_new + text[at + len(core_old):]
    return candidate if results and all(results) and candidate == expected else None


def _places(text: str, pattern: str) -> list[int]:
    """Where pattern occurs in text: none, one, or the first two (overlaps count)."""
    if not pattern:
        return [0, 0]  # an empty pattern fits anywhere: ambiguous
    first = text.find(pattern)
    if first == -1:
        return []
    second = text.find(pattern, first + 1)
    return [first] if second == -1 else [first, second]
