"""Officers' reports: which decisions a report reads, and the refusal of a period too long."""

from __future__ import annotations

from datetime import UTC, date, datetime

from clearance.domain.views import DecisionFilter, report_period
from clearance.service.errors import Refused

__all__ = ["report_filter"]


def report_filter(
    destination: str | None,
    day_from: date | None,
    day_to: date | None,
    today: date | None = None,
) -> DecisionFilter:
    """The decisions a report over ``destination`` and the period reads (a year up to today when
    no dates are given); ``Refused`` (422) for a period the report will not cover."""
    try:
        first, last = report_period(day_from, day_to, today or datetime.now(UTC).date())
    except ValueError as error:
        raise Refused(str(error), path="from") from None
    return DecisionFilter(destination=destination, day_from=first, day_to=last)
