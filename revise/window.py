"""The comment window: when a consultation takes comments. No HTTP, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from revise.i18n import N_
from revise.timeutil import from_text, utc_now

NOT_YET_OPEN = "not_yet_open"
OPEN = "open"
CLOSED = "closed"
STATE_NAMES = {NOT_YET_OPEN: N_("not yet open"), OPEN: N_("open"), CLOSED: N_("closed")}

DEFAULT_LENGTH = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    opens_at: datetime
    closes_at: datetime

    @classmethod
    def of(cls, consultation: dict) -> "Window":
        return cls(from_text(consultation["opens_at"]), from_text(consultation["closes_at"]))

    def state(self, now: datetime | None = None) -> str:
        """open from opens_at (inclusive) until closes_at (exclusive): the closing second is closed."""
        now = now or utc_now()
        if now < self.opens_at:
            return NOT_YET_OPEN
        if now < self.closes_at:
            return OPEN
        return CLOSED


def default_window(now: datetime | None = None) -> Window:
    """The embedded default: open from now for seven days (the seed's own dates are past)."""
    start = now or utc_now()
    return Window(start, start + DEFAULT_LENGTH)

