"""What officers and platforms ask to see: which current decisions, and the work queue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final, Literal

import msgspec

__all__ = [
    "MAX_REPORT_DAYS",
    "QUEUE_SORTS",
    "QUEUE_STATUSES",
    "BillParcel",
    "BillTotal",
    "DashboardFigures",
    "DecisionFilter",
    "QueueCounts",
    "QueueFilter",
    "QueuePage",
    "QueueRow",
    "QueueSort",
    "report_period",
]

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


#: The parcels an officer has to act on: held, or waiting for information.
QUEUE_STATUSES: tuple[str, ...] = ("hold", "needs_information")

QueueSort = Literal["oldest", "newest", "risk", "channel", "destination", "platform"]
#: Every order the queue can be read in (the first is the default: a queue is worked oldest first).
QUEUE_SORTS: tuple[QueueSort, ...] = (
    "oldest",
    "newest",
    "risk",
    "channel",
    "destination",
    "platform",
)

#: A position in the queue: the values of the sort's keyset columns of a row (its "bookmark").
QueueCursor = tuple[object, ...]


class QueueFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which queued parcels, in which order. Every field narrows; ``None`` does not."""

    status: Literal["hold", "needs_information"] | None = None
    destination: str | None = None
    channel: str | None = None
    reason: str | None = None
    signal: str | None = None
    platform: str | None = None
    decided_before: datetime | None = None
    """Only parcels whose current decision is older than this (the queue's "age" filter)."""
    search: str | None = None
    """An order id, a tracking number or a master air waybill number (exact)."""
    sort: QueueSort = "oldest"

    @property
    def statuses(self) -> tuple[str, ...]:
        """The statuses the filter keeps."""
        return QUEUE_STATUSES if self.status is None else (self.status,)


class QueueRow(msgspec.Struct, frozen=True, kw_only=True):
    """One queued parcel as the queue lists it."""

    platform: str
    order_id: str
    shipment_id: str
    status: str
    channel: str
    destination: str
    decided_at: datetime
    risk_score: int
    reason_codes: list[str]
    risk_signals: list[str]
    master_bill: str | None
    tracking_number: str | None
    total_due: Decimal
    currency: str
    cursor: QueueCursor
    """The row's position in the sort it was read in."""


class QueuePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the queue and whether there is more on either side."""

    rows: list[QueueRow]
    has_next: bool
    has_previous: bool


class QueueCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How many queued parcels match, by status, channel and reason code."""

    total: int
    by_status: dict[str, int]
    by_channel: dict[str, int]
    by_reason: dict[str, int]


class BillParcel(msgspec.Struct, frozen=True, kw_only=True):
    """A parcel under a master air waybill: what an officer at the bag needs to see."""

    platform: str
    order_id: str
    shipment_id: str
    status: str
    channel: str
    destination: str
    consignee_id: str
    consignee_name: str
    consignee_ref: str
    tracking_number: str | None
    descriptions: list[str]
    currency: str
    customs_value: Decimal
    threshold_value: Decimal
    duty: Decimal
    tax: Decimal
    total_due: Decimal
    reason_codes: list[str]
    totals_keys: list[str]
    """The running totals (anti-splitting) this parcel counts towards."""


class BillTotal(msgspec.Struct, frozen=True, kw_only=True):
    """A running total that parcels of the bill count towards, over every parcel filed under it."""

    key: str
    value: Decimal
    parcels: int
    """Parcels contributing to it anywhere (this bill's and others)."""

    @property
    def kind(self) -> str:
        """``master_bill``, ``consignee_day``, ``order`` or ``consignee_year``."""
        parts = self.key.split(":")
        return parts[1] if len(parts) > 1 else ""


class DashboardFigures(msgspec.Struct, frozen=True, kw_only=True):
    """What the dashboard draws besides the queue's counts and the reports."""

    decided_per_hour: list[tuple[datetime, str, int]]
    """(hour, channel, decisions) of the decisions made in the last 24 hours (a parcel revised,
    by an amendment or an inspection, is decided again)."""
    inspections: dict[str, int]
    """Inspection results in the period by outcome."""

    @property
    def by_channel(self) -> dict[str, int]:
        """The decisions of the last 24 hours by channel (the share of green is from these)."""
        counts: dict[str, int] = {}
        for _, channel, count in self.decided_per_hour:
            counts[channel] = counts.get(channel, 0) + count
        return counts
