"""Comments follow the text: a quoted phrase re-located in its block's text after each revision.

After every revision of a block, each comment quoting part of it is looked for in the new text:

1. The old position is mapped through the character diff old → new (diff-match-patch
   ``diff_xIndex``): text inserted before the phrase shifts it, text deleted pulls it back.
2. An exact occurrence of the quote is 'ok'; when the phrase occurs more than once, the one
   nearest the mapped position wins (Chinese plans repeat phrases such as 南充市).
3. Otherwise ``match_main`` (Bitap) searches near the mapped position. It scores a candidate
   as errors / quote length + distance from the mapped position / MATCH_DISTANCE and accepts
   a score up to MATCH_THRESHOLD. The phrase found is then compared with the quote as a whole
   (Levenshtein) and kept as 'moved' only when it is at least MIN_SIMILARITY alike.
4. Anything else is 'orphaned' (原文已修改): the phrase was rewritten or removed. An orphaned
   comment keeps no position; a later revision that brings the exact words back (a revert)
   makes it 'ok' again.

No SQL here except in ``follow``, which goes through revise.store.anchors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from diff_match_patch import diff_match_patch
from sqlite_utils import Database

from revise.store import anchors as anchor_store

OK, MOVED, ORPHANED = "ok", "moved", "orphaned"

# Bitap's acceptance score: 0.35 lets a phrase with up to about a third of its characters
# changed through when it sits where the diff says it went, and demands fewer changes the
# further away it is. It is a little above 1 - MIN_SIMILARITY (0.3) so that the distance
# term (a few characters of drift) does not reject a phrase the similarity check would keep;
# the library's default 0.5 would let half-different phrases elsewhere through.
MATCH_THRESHOLD = 0.35
# 100 characters of distance cost a full score of 1.0: an exact copy 35 characters away is
# already refused, one with 20 % changes must be within 15. The diff has mapped the old
# position onto the new text, so the phrase is expected right there; a 100-character
# neighbourhood is one or two Chinese sentences, never a similar clause in another part of
# the paragraph (the library's default, 1000, would search the whole block).
MATCH_DISTANCE = 100
# The phrase found must be within 30 % of the quote's length in edits (Levenshtein): a
# changed number or a word added ("2200多年" → "2300多年") is the same phrase; a rewritten
# clause is not.
MIN_SIMILARITY = 0.7


def relocate(old_text: str, new_text: str, quote: str, old_start: int | None,
             hint: int | None = None) -> tuple[str, int | None]:
    """Where `quote` (at `old_start` in `old_text`) is in `new_text`: (state, start); start None when orphaned.

    `old_start` None means the quote had no place in `old_text` (orphaned before): only the
    exact words bring it back, nearest `hint` (its position in the text it was written on).
    """
    if not quote:
        return ORPHANED, None
    if old_start is None:
        found = _nearest(_occurrences(new_text, quote), hint or 0)
        return (OK, found) if found is not None else (ORPHANED, None)
    mapped = map_position(old_text, new_text, old_start)
    found = _nearest(_occurrences(new_text, quote), mapped)
    if found is not None:
        return OK, found
    start = _fuzzy(new_text, quote, mapped)
    return (MOVED, start) if start is not None else (ORPHANED, None)


def map_position(old_text: str, new_text: str, position: int) -> int:
    """A character position in old_text carried onto new_text through their diff."""
    if old_text == new_text:
        return position
    engine = _engine()
    # The raw diff, without semantic clean-up: clean-up merges small equal runs into bigger
    # changes, which would move positions inside them to the start of the change.
    return engine.diff_xIndex(engine.diff_main(old_text, new_text, False), position)


def phrase(text: str, quote: str, start: int) -> tuple[int, int]:
    """The extent (start, end) in `text` of the phrase at `start` that resembles `quote`.

    Exact: the quote's own length. Otherwise the quote is aligned with the text from `start`
    (plus a third more, for words added inside it): unmatched text before and after is left out.
    """
    if text.startswith(quote, start):
        return start, start + len(quote)
    window = text[start:start + len(quote) + len(quote) // 3 + 1]
    diffs = _engine().diff_main(quote, window, False)
    while diffs and diffs[0][0] == diff_match_patch.DIFF_INSERT:
        start += len(diffs.pop(0)[1])
    while diffs and diffs[-1][0] == diff_match_patch.DIFF_INSERT:
        diffs.pop()
    return start, start + sum(len(t) for op, t in diffs if op != diff_match_patch.DIFF_DELETE)


def similarity(quote: str, candidate: str) -> float:
    """1 − Levenshtein distance / the quote's length (1.0: the same words)."""
    if not quote:
        return 0.0
    engine = _engine()
    return 1 - engine.diff_levenshtein(engine.diff_main(quote, candidate, False)) / len(quote)


def follow(db: Database, block: dict, new_text: str, new_rev: int, text_at: Callable[[int], str]) -> None:
    """Re-locate every quote on `block` (its state before the revision) in `new_text`, revision `new_rev`.

    Runs inside the revision's write transaction. `text_at(n)` gives the block's text at an
    earlier revision, for a comment anchored on a revision other than the previous one.
    """
    comments = anchor_store.quoted_on_block(db, block["consultation_id"], block["id"])
    if not comments:
        return
    texts = {block["rev"]: block["text"]}
    results: dict[tuple, tuple[str, int | None]] = {}
    moves: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for comment in comments:
        rev = comment["anchor_rev"]
        if rev not in texts:
            texts[rev] = text_at(rev) if 0 <= rev <= block["rev"] else block["text"]
        # Form letters quote the same words at the same place: locate each distinct quote once.
        key = (comment["quote"], comment["anchor_start"], rev, comment["quote_start"])
        if key not in results:
            results[key] = relocate(texts[rev], new_text, comment["quote"], comment["anchor_start"],
                                    hint=comment["quote_start"])
        moves[results[key]].append(comment["id"])
    for (state, start), ids in moves.items():
        anchor_store.set_anchor(db, ids, state, start, new_rev)


def annotate(comments: list[dict], block: dict, text_at: Callable[[int], str]) -> None:
    """Add to each comment on `block` what readers see: `written_on` and `anchor`.

    `block` is the text shown: the editors' current one, or a published version's (issue #12).
    written_on: (before, quote, after) — the text the comment was written on, split around its
    quote — when the block has been revised since (None otherwise). anchor: {start, end, text}
    of its phrase in the shown text, when it is there ('ok' or 'moved'), else None; and
    `anchor_state` is the state in the shown text.
    """
    texts: dict[int, str] = {}

    def text(rev: int) -> str:
        if rev not in texts:
            texts[rev] = block["text"] if rev == block["rev"] else text_at(rev)
        return texts[rev]

    for comment in comments:
        comment["written_on"] = comment["anchor"] = None
        rev = comment.get("block_rev")
        if rev is not None and rev != block["rev"] and 0 <= rev <= block["rev"]:
            comment["written_on"] = _split(text(rev), comment.get("quote"), comment.get("quote_start"))
        comment["anchor"] = _anchor(comment, block, text)


def _anchor(comment: dict, block: dict, text: Callable[[int], str]) -> dict | None:
    """The phrase's place in the shown text, if it is there; sets the comment's anchor_state for that text.

    The stored anchor is in the editors' text at `anchor_rev`. Shown another text — the
    published version the comment was written on, or an editors' text revised since the
    comment came — the phrase is found from the nearest text it is known in.
    """
    quote, state = comment.get("quote"), comment.get("anchor_state")
    start, rev = comment.get("anchor_start"), comment.get("anchor_rev")
    if not quote:
        return None
    written, quote_start = comment.get("block_rev"), comment.get("quote_start")
    if state is None:  # never re-anchored: where it was written
        state, start, rev = OK, quote_start, written
    if rev != block["rev"]:
        if written == block["rev"] and quote_start is not None and block["text"].startswith(quote, quote_start):
            state, start = OK, quote_start  # shown the very text it was written on
        elif rev is not None and 0 <= rev < block["rev"]:  # the text moved on since it was placed
            state, start = relocate(text(rev), block["text"], quote, None if state == ORPHANED else start,
                                    hint=quote_start)
        elif written is not None and 0 <= written < block["rev"]:
            state, start = relocate(text(written), block["text"], quote, quote_start, hint=quote_start)
        else:
            return None
    comment["anchor_state"] = state
    if state == ORPHANED or start is None:
        return None
    begin, end = phrase(block["text"], quote, start)
    return {"start": begin, "end": end, "text": block["text"][begin:end], "state": state}


def _split(text: str, quote: str | None, start: int | None) -> tuple[str, str, str]:
    """text cut into (before, quote, after) when the quote is at `start`, else (text, "", "")."""
    if quote and start is not None and text.startswith(quote, start):
        return text[:start], quote, text[start + len(quote):]
    return text, "", ""


def _fuzzy(text: str, quote: str, near: int) -> int | None:
    """The start of a phrase resembling `quote` near `near`, verified by similarity; None if none."""
    if not text:
        return None
    engine = _engine()
    engine.Match_Threshold = MATCH_THRESHOLD
    engine.Match_Distance = MATCH_DISTANCE
    found = engine.match_main(text, quote, max(0, min(near, len(text))))
    if found < 0:
        return None
    start, end = phrase(text, quote, found)
    return start if end > start and similarity(quote, text[start:end]) >= MIN_SIMILARITY else None


def _occurrences(text: str, quote: str) -> list[int]:
    """Every position where the quote occurs exactly (overlapping ones too)."""
    found, at = [], text.find(quote)
    while at != -1:
        found.append(at)
        at = text.find(quote, at + 1)
    return found


def _nearest(positions: list[int], target: int) -> int | None:
    """The position nearest target (the earlier one on a tie), or None."""
    return min(positions, key=lambda p: (abs(p - target), p)) if positions else None


def _engine() -> diff_match_patch:
    engine = diff_match_patch()
    engine.Diff_Timeout = 1.0  # a block is at most a few thousand characters, a quote 500
    return engine
