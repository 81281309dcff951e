"""What officers and platforms ask to see: which current decisions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import msgspec

__all__ = ["MAX_REPORT_DAYS", "DecisionFilter", "report_period"]

#: The longest period a report sums over: a year, leap day included. A report reads every decision
#: of its period; an unbounded one is a way to keep the database busy.
MAX_REPORT_DAYS: Final = 366


class DecisionFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which current decisions an officer (or a platform, its own) asks for."""

    status: str | None = None
    destination: str | None = None
    channel: str | None = None
    platform: str | None = None
    day_from: date | None = None
    day_to: date | None = None


def report_period(day_from: date | None, day_to: date | None, today: date) -> tuple[date, date]:
    """The days (inclusive) a report covers: up to ``today`` and back ``MAX_REPORT_DAYS`` days by
    default; ``ValueError`` if ``day_from`` is after ``day_to`` or the period is longer."""
    last = day_to or today
    first = day_from or last - timedelta(days=MAX_REPORT_DAYS - 1)
    if first > last:
        raise ValueError(f"'from' ({first}) is after 'to' ({last})")
    if (last - first).days + 1 > MAX_REPORT_DAYS:
        raise ValueError(
            f"a report covers at most {MAX_REPORT_DAYS} days; {first} to {last} is "
            f"{(last - first).days + 1}: ask for a shorter period"
        )
    return first, last
