"""Sharing the work (issue #13): administrators give sections and single comments to editors.

The rules; the SQL is in revise/store/assignments.py. Every change is audited with the names
before and after (`section.assign` on `block:ID`, `comment.assign` on `comment:ID`).
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlite_utils import Database

from revise import charts
from revise.i18n import N_, gettext
from revise.store import assignments as store
from revise.store import audit as audit_store
from revise.store import queue as queue_store
from revise.timeutil import SHANGHAI, from_text, utc_now_text


class AssignError(Exception):
    """An assignment that cannot be made; .field names the form field, .message is a msgid."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def parse_account(db: Database, value: object) -> int | None:
    """The account chosen in a form ("" : nobody / follow the section); a bad one is an error."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.isdigit() or len(value) > 11:
        raise AssignError("account", N_("Choose an editor from the list."))
    found = store.account(db, int(value))
    if found is None or found["disabled_at"]:
        raise AssignError("account", N_("Choose an editor from the list."))
    return found["id"]


def assign_section(db: Database, consultation: dict, heading_id: int, account_id: int | None, actor: str) -> int | None:
    """Give a section (a heading and every block under it) to an account, or take its own
    assignment away (None); returns how many comments changed hands, None when nothing changed."""
    if store.heading(db, consultation["id"], heading_id) is None:
        raise AssignError("section", N_("That section is not in this draft."))
    at = utc_now_text()
    audit = audit_store.event(actor, "section.assign", consultation["id"], at=at)
    return store.set_section(db, consultation["id"], heading_id, account_id, audit, at, actor)


def assign_comment(db: Database, consultation: dict, comment_id: int, account_id: int | None, actor: str) -> bool:
    """Give one comment to an account over its section's assignee (None: follow the section)."""
    audit = audit_store.event(actor, "comment.assign", consultation["id"], at=utc_now_text())
    return store.set_comment(db, consultation["id"], comment_id, account_id, audit)


def sections(db: Database, consultation: dict) -> list[dict]:
    """The headings with their own assignee and the one they inherit from a section above."""
    rows = store.sections(db, consultation["id"])
    assigned = {r["id"]: r["account_id"] for r in rows if r["account_id"] is not None}
    for r in rows:
        outline = json.loads(r["outline"] or "[]")
        r["inherited"], r["inherited_from"] = store.nearest(r["id"], outline, {k: v for k, v in assigned.items()
                                                                                 if k != r["id"]})
    return rows


def of_comment(db: Database, consultation: dict, comment: dict) -> dict:
    """What the comment page shows and offers: who has the comment, whether by its own
    assignment, who its section would give it to, and the accounts to choose from."""
    cid = consultation["id"]
    assignee, own = store.of_comment(db, cid, comment["id"])
    section_account, section_heading = store.of_block(db, cid, comment["block_id"])
    who = store.names(db)
    return {"assignee": {"id": assignee, "name": who.get(assignee), "own": own,
                         "section_id": section_account, "section_name": who.get(section_account),
                         "section_heading": section_heading},
            "assignees": store.accounts(db)}


MAX_DAYS = 366  # a longer window is charted over its first year


def _days(opens_at: str, closes_at: str) -> list[str]:
    """The Beijing dates of the window, first to last."""
    first = from_text(opens_at).astimezone(SHANGHAI).date()
    last = (from_text(closes_at) - timedelta(seconds=1)).astimezone(SHANGHAI).date()
    n = max(0, min((last - first).days + 1, MAX_DAYS))
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


def overview(db: Database, consultation: dict, locale: str, queue_url: str,
             per_block: dict, sections_total: dict[int, int]) -> dict:
    """The overview's progress (decided / total per editor and per section) and its two charts,
    from counts kept by triggers (m011, m018): no comment is read."""
    cid = consultation["id"]

    def _(message: str, **params: object) -> str:
        return gettext(message, locale, **params)

    totals = queue_store.counts_by(db, cid, "assignee")
    decided = queue_store.counts_by(db, cid, "assignee_decided")
    names = store.names(db)
    editors = [{"id": a["id"], "name": a["display_name"], "total": totals.get(str(a["id"]), 0),
                "decided": decided.get(str(a["id"]), 0), "href": f"{queue_url}?assignee={a['id']}"}
               for a in store.accounts(db)]
    for key in totals:  # work still held by a disabled account
        if key and int(key) not in {e["id"] for e in editors}:
            editors.append({"id": int(key), "name": names.get(int(key), key), "total": totals[key],
                            "decided": decided.get(key, 0), "href": f"{queue_url}?assignee={key}"})
    nobody = {"id": None, "name": _("Nobody (not assigned)"), "total": totals.get("", 0),
              "decided": decided.get("", 0), "href": f"{queue_url}?assignee=none"}
    section_decided = queue_store.section_counts(db, cid, "block_decided")
    headings = queue_store.headings(db, cid)
    highest = min((h["level"] for h in headings), default=1)
    top = [h for h in headings if h["level"] == highest]
    section_bars = [charts.Bar(h["text"], sections_total.get(h["id"], 0), section_decided.get(h["id"], 0),
                               _("%(section)s: %(total)s comments, %(decided)s decided", section=h["text"],
                                 total=sections_total.get(h["id"], 0), decided=section_decided.get(h["id"], 0)),
                               f"{queue_url}?section={h['id']}&sort=block") for h in top]
    by_day = queue_store.counts_by(db, cid, "day")
    days = _days(consultation["opens_at"], consultation["closes_at"])
    day_bars = [charts.Bar(d[5:], by_day.get(d, 0), tip=_("%(day)s: %(n)s comments", day=d, n=by_day.get(d, 0)))
                for d in days]
    in_window = set(days)
    outside = sum(n for d, n in by_day.items() if d not in in_window)
    busiest_day = max(days, key=lambda d: by_day.get(d, 0)) if days else None
    return {
        "editors_progress": editors, "nobody_progress": nobody, "section_decided": section_decided,
        "top_sections": [(h, b) for h, b in zip(top, section_bars)],
        "section_chart": charts.bars(
            "chart-sections", _("Comments per section"),
            _("Comments on each top-level section and, darker, how many of them are decided."), section_bars),
        "days": [(d, by_day.get(d, 0)) for d in days], "days_outside": outside,
        "day_chart": charts.columns(
            "chart-days", _("Comments per day of the comment period"),
            _("Comments received on each day (Beijing time) from %(first)s to %(last)s; the busiest day was "
              "%(day)s with %(n)s.", first=days[0], last=days[-1], day=busiest_day, n=by_day.get(busiest_day, 0))
            if days else _("The comment period has no days."), day_bars),
    }
