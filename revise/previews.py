"""A proposed change as a resident reads it: pure functions of two strings, so they can run in
another process (offload.CpuGate.compute) and never share the interpreter with the event loop."""

from __future__ import annotations

from revise import change_notes, diffing

PREVIEW_CONTEXT = 12  # characters of unchanged text kept beside each change in the short diff


def change_view(kind: str, old: str, new: str) -> dict | None:
    """One-line notes, the changed words with a little context, and the whole paragraph marked
    (shown on demand) — issue #16. The markup is plain strings (picklable); templates mark it safe."""
    if kind == "edit" and new and new != old:
        notes = [{"kind": n.kind, "old": change_notes.shown(n.old), "new": change_notes.shown(n.new),
                  "before": change_notes.shown(n.before), "after": change_notes.shown(n.after)}
                 for n in change_notes.changes(old, new)]
        return {"kind": kind, "notes": notes, "short": diffing.diff_html(old, new, context=PREVIEW_CONTEXT),
                "full": diffing.diff_html(old, new)}
    if kind == "delete" and old:
        return {"kind": kind, "notes": [], "short": None, "full": diffing.diff_html(old, "")}
    if kind == "insert" and new:
        return {"kind": kind, "notes": [], "short": None, "full": diffing.diff_html("", new)}
    return None
