"""Instants: stored as UTC text, shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc_now() -> datetime:
    """Now, in UTC, to the second (instants are compared to the second)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def to_text(instant: datetime) -> str:
    """The storage form of an aware datetime: UTC, to the second, sortable as text."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone before storing it")
    return instant.astimezone(timezone.utc).strftime(UTC_FORMAT)


@lru_cache(maxsize=4096)
def from_text(text: str) -> datetime:
    """Parse the storage form back into an aware UTC datetime.

    Remembered (datetimes are immutable): a comment window is parsed on every page and POST, and
    strptime costs more than the rest of Window.of (issue #11). Bad text raises every time."""
    return datetime.strptime(text, UTC_FORMAT).replace(tzinfo=timezone.utc)


def utc_now_text() -> str:
    return to_text(utc_now())


def parse_local(value: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """Parse a user-typed instant: ISO 8601, with an offset or else in Asia/Shanghai.

    Accepts "2022-10-08", "2022-10-08 09:00", "2022-10-08T09:00:00+08:00", "...Z". Years
    outside 1900–9998 are refused with ValueError like any other bad input: year 1 in Beijing
    time is year 0 in UTC, which datetime cannot hold (an OverflowError and a 500, issue #10).
    """
    text = value.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if not 1900 <= moment.year <= 9998:
        raise ValueError(f"year out of range: {moment.year}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc).replace(microsecond=0)
