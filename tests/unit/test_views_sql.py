"""The read side's SQL conditions: days are UTC days, compared so the indexes serve them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clearance.adapters.postgres.views import sql_where
from clearance.domain.views import DecisionFilter, report_period


def test_days_on_an_instant_column_are_a_half_open_range_of_utc_instants() -> None:
    filters = DecisionFilter(
        destination="VN", day_from=date(2026, 11, 1), day_to=date(2026, 11, 30)
    )
    clauses, values = sql_where(filters, date_column="o.decided_at")
    # before #20: "o.decided_at::date >= $2", a cast that follows the session's time zone and
    # cannot use the index on decided_at
    assert clauses == ["o.destination = $1", "o.decided_at >= $2", "o.decided_at < $3"]
    assert values == [
        "VN",
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),  # the whole of the 30th
    ]


def test_days_on_a_date_column_are_compared_as_dates() -> None:
    filters = DecisionFilter(day_from=date(2026, 11, 1), day_to=date(2026, 11, 30))
    clauses, values = sql_where(filters, date_column="d.assessment_date", dated_by_instant=False)
    assert clauses == ["d.assessment_date >= $1", "d.assessment_date <= $2"]
    assert values == [date(2026, 11, 1), date(2026, 11, 30)]


def test_a_report_period_is_a_year_at_most() -> None:
    today = date(2026, 12, 1)
    assert report_period(None, None, today) == (date(2025, 12, 1), today)  # 366 days
    assert report_period(date(2024, 1, 1), date(2024, 12, 31), today)[0] == date(2024, 1, 1)
    with pytest.raises(ValueError, match="at most 366 days"):
        report_period(date(2024, 1, 1), date(2025, 1, 1), today)
    with pytest.raises(ValueError, match="after"):
        report_period(date(2026, 2, 1), date(2026, 1, 1), today)
