"""What officers, platforms, reports, the demo's summary and the what-if replay read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from clearance.adapters.postgres.rows import stored_order
from clearance.domain.parcels import Order, ParcelKey
from clearance.domain.views import DecisionFilter
from clearance.messages import ClearanceDecision, decode_decision

__all__ = ["ReadViews", "StreamSummary", "sql_where"]


def sql_where(
    filters: DecisionFilter,
    date_column: str = "o.decided_at",
    table: str = "o",
    dated_by_instant: bool = True,
) -> tuple[list[str], list[Any]]:
    """SQL conditions and their values (numbered from $1) for ``filters``; ``table`` is the alias
    of the table holding status, destination, channel and platform (orders or decisions).

    Days are UTC days. A ``timestamptz`` column (``dated_by_instant``) is compared with instants,
    never cast to a date: the cast depends on the session's time zone and defeats its index.
    """
    clauses: list[str] = []
    values: list[Any] = []
    for column, value in (
        ("status", filters.status),
        ("destination", filters.destination),
        ("channel", filters.channel),
        ("platform", filters.platform),
    ):
        if value is not None:
            values.append(value)
            clauses.append(f"{table}.{column} = ${len(values)}")
    if filters.day_from is not None:
        values.append(_start_of(filters.day_from) if dated_by_instant else filters.day_from)
        clauses.append(f"{date_column} >= ${len(values)}")
    if filters.day_to is not None:
        if dated_by_instant:
            values.append(_start_of(filters.day_to + timedelta(days=1)))
            clauses.append(f"{date_column} < ${len(values)}")
        else:
            values.append(filters.day_to)
            clauses.append(f"{date_column} <= ${len(values)}")
    return clauses, values


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class StreamSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Current parcels by destination and outcome, amounts by currency, one held parcel."""

    parcels_by_destination: dict[str, int]
    parcels_by_outcome: dict[str, int]
    """Keyed ``status/channel``."""
    duty_and_tax: dict[str, dict[str, Any]]
    decisions: int
    """Decisions stored, every revision counted."""
    a_held_parcel: tuple[str, str, str] | None


class ReadViews:
    """The read side: current decisions, histories, reports (never a write)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def stream_summary(self) -> StreamSummary:
        """What the current decisions say, for ``clearance dev``'s summary."""
        async with self.pool.acquire() as connection:
            destinations = await connection.fetch(
                "SELECT destination, count(*) AS n FROM orders GROUP BY 1 ORDER BY 2 DESC"
            )
            outcomes = await connection.fetch(
                "SELECT status, channel, count(*) AS n FROM orders GROUP BY 1, 2 ORDER BY 3 DESC"
            )
            amounts = await connection.fetch(
                "SELECT d.currency, sum(d.duty) AS duty, sum(d.tax) AS tax, count(*) AS n"
                " FROM orders o JOIN decisions d USING (decision_id)"
                " WHERE o.status <> 'cancelled' GROUP BY 1 ORDER BY 1"
            )
            held = await connection.fetchrow(
                "SELECT platform, order_id, shipment_id FROM orders WHERE status = 'hold'"
                " ORDER BY decided_at DESC LIMIT 1"
            )
            decisions = await connection.fetchval("SELECT count(*) FROM decisions")
        return StreamSummary(
            parcels_by_destination={r["destination"]: r["n"] for r in destinations},
            parcels_by_outcome={f"{r['status']}/{r['channel']}": r["n"] for r in outcomes},
            duty_and_tax={
                r["currency"]: {"duty": r["duty"], "tax": r["tax"], "parcels": r["n"]}
                for r in amounts
            },
            decisions=int(decisions),
            a_held_parcel=None if held is None else (held[0], held[1], held[2]),
        )

    async def decision_body(self, parcel: ParcelKey, revision: int | None = None) -> str | None:
        """A parcel's current decision (or the given revision) as published, else None."""
        async with self.pool.acquire() as connection:
            if revision is None:
                value = await connection.fetchval(
                    "SELECT d.body FROM orders o JOIN decisions d USING (decision_id)"
                    " WHERE o.platform = $1 AND o.order_id = $2 AND o.shipment_id = $3",
                    *parcel,
                )
            else:
                value = await connection.fetchval(
                    "SELECT body FROM decisions WHERE platform = $1 AND order_id = $2"
                    " AND shipment_id = $3 AND decision_revision = $4",
                    *parcel,
                    revision,
                )
        return None if value is None else str(value)

    async def current_decisions(
        self, filters: DecisionFilter, after: tuple[datetime, str, str, str] | None, limit: int
    ) -> list[tuple[tuple[datetime, str, str, str], str]]:
        """Current decisions matching ``filters``, newest first, after the ``after`` position."""
        clauses, values = sql_where(filters)
        if after is not None:
            values.extend(after)
            n = len(values)
            clauses.append(
                f"(o.decided_at, o.platform, o.order_id, o.shipment_id)"
                f" < (${n - 3}, ${n - 2}, ${n - 1}, ${n})"
            )
        values.append(limit)
        where = " AND ".join(clauses) or "true"
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT o.decided_at, o.platform, o.order_id, o.shipment_id, d.body"
                " FROM orders o JOIN decisions d USING (decision_id)"
                f" WHERE {where}"
                " ORDER BY o.decided_at DESC, o.platform DESC, o.order_id DESC,"
                f" o.shipment_id DESC LIMIT ${len(values)}",
                *values,
            )
        return [((r[0], r[1], r[2], r[3]), str(r[4])) for r in rows]

    async def consignee_of(self, parcel: ParcelKey) -> str | None:
        """The consignee id of a stored parcel (the Kafka key of its events), else None."""
        async with self.pool.acquire() as connection:
            value = await connection.fetchval(
                "SELECT consignee_id FROM orders"
                " WHERE platform = $1 AND order_id = $2 AND shipment_id = $3",
                *parcel,
            )
        return None if value is None else str(value)

    async def revenue(self, filters: DecisionFilter) -> list[dict[str, Any]]:
        """Duty, tax and total due of current decisions, by currency and status."""
        clauses, values = sql_where(
            filters, date_column="d.assessment_date", dated_by_instant=False
        )
        return await self._report(
            "SELECT d.currency, d.status, count(*) AS parcels, sum(d.duty) AS duty,"
            " sum(d.tax) AS tax, sum(d.total_due) AS total_due"
            " FROM orders o JOIN decisions d USING (decision_id)"
            " WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
            clauses,
            values,
        )

    async def risk_report(self, filters: DecisionFilter) -> list[dict[str, Any]]:
        """Per risk signal: inspected decisions that carried it, and how many ended in seizure."""
        clauses, values = sql_where(filters, date_column="i.occurred_at", table="d")
        return await self._report(
            "SELECT signal, count(*) AS inspected,"
            " count(*) FILTER (WHERE i.outcome = 'seize') AS seized"
            " FROM inspections i JOIN decisions d ON d.decision_id = i.inspected_decision"
            " CROSS JOIN LATERAL json_array_elements_text(d.body->'risk'->'signals') AS signal"
            " WHERE {where} GROUP BY signal ORDER BY signal",
            clauses,
            values,
        )

    async def _report(
        self, sql: str, clauses: list[str], values: list[Any]
    ) -> list[dict[str, Any]]:
        """Run a report query whose ``{where}`` takes the filter's conditions."""
        where = " AND ".join(clauses) or "true"
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(sql.format(where=where), *values)
        return [dict(row) for row in rows]

    async def stored_orders(
        self, filters: DecisionFilter, page: int = 500
    ) -> AsyncIterator[tuple[Order, str, ClearanceDecision]]:
        """Every stored parcel matching ``filters`` (dates on ``occurred_at``), oldest first, with
        its consignee hash and current decision; read page by page (what-if replays)."""
        clauses, values = sql_where(filters, date_column="o.occurred_at")
        where = " AND ".join(clauses) or "true"
        after: tuple[Any, ...] = (datetime.min.replace(tzinfo=UTC), "", "", "")
        while True:
            n = len(values)
            async with self.pool.acquire() as connection:
                rows = await connection.fetch(
                    "SELECT o.occurred_at, o.platform, o.order_id, o.shipment_id,"
                    " o.body, o.consignee_ref, d.body AS decision"
                    " FROM orders o JOIN decisions d USING (decision_id)"
                    f" WHERE {where} AND (o.occurred_at, o.platform, o.order_id, o.shipment_id)"
                    f" > (${n + 1}, ${n + 2}, ${n + 3}, ${n + 4})"
                    " ORDER BY o.occurred_at, o.platform, o.order_id, o.shipment_id"
                    f" LIMIT {int(page)}",
                    *values,
                    *after,
                )
            for row in rows:
                yield (
                    stored_order(row["body"]),
                    row["consignee_ref"],
                    decode_decision(row["decision"]),
                )
            if len(rows) < page:
                return
            last = rows[-1]
            after = (last["occurred_at"], last["platform"], last["order_id"], last["shipment_id"])

    async def decision_history(self, parcel: ParcelKey) -> list[ClearanceDecision]:
        """Every decision revision of a parcel, oldest first."""
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT body FROM decisions WHERE platform = $1 AND order_id = $2"
                " AND shipment_id = $3 ORDER BY decision_revision",
                *parcel,
            )
        return [decode_decision(row["body"]) for row in rows]

    async def revenue_by_day(self, filters: DecisionFilter) -> list[dict[str, Any]]:
        """Duty and tax of current decisions per assessment day and currency (not cancelled)."""
        clauses, values = sql_where(
            filters, date_column="d.assessment_date", dated_by_instant=False
        )
        return await self._report(
            "SELECT d.assessment_date AS day, d.currency, count(*) AS parcels,"
            " sum(d.duty) AS duty, sum(d.tax) AS tax"
            " FROM orders o JOIN decisions d USING (decision_id)"
            " WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
            [*clauses, "o.status <> 'cancelled'"],
            values,
        )
