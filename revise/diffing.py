"""diff-match-patch for revise: tracked diffs of block texts, as data and as safe HTML."""

from __future__ import annotations

from diff_match_patch import diff_match_patch
from markupsafe import Markup, escape

EQUAL, INSERT, DELETE = diff_match_patch.DIFF_EQUAL, diff_match_patch.DIFF_INSERT, diff_match_patch.DIFF_DELETE


def _engine() -> diff_match_patch:
    engine = diff_match_patch()
    engine.Diff_Timeout = 1.0  # a block is at most a few thousand characters
    return engine


def diff(old: str, new: str) -> list[tuple[int, str]]:
    """Character-level diff with semantic clean-up: readable for Chinese, one char at a time."""
    engine = _engine()
    ops = engine.diff_main(old, new)
    engine.diff_cleanupSemantic(ops)
    return ops


def diff_html(old: str, new: str) -> Markup:
    """The change from old to new as HTML: <del> and <ins> around escaped text."""
    parts = []
    for op, text in diff(old, new):
        safe = escape(text)
        if op == INSERT:
            parts.append(Markup("<ins>%s</ins>") % safe)
        elif op == DELETE:
            parts.append(Markup("<del>%s</del>") % safe)
        else:
            parts.append(safe)
    return Markup("").join(parts)

