"""What officers, platforms, reports, the demo's summary and the what-if replay read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from clearance.adapters.postgres.rows import stored_order
from clearance.domain.parcels import Order, ParcelKey
from clearance.domain.views import (
    QUEUE_STATUSES,
    BillParcel,
    BillTotal,
    DashboardFigures,
    DecisionFilter,
    QueueCounts,
    QueueCursor,
    QueueFilter,
    QueuePage,
    QueueRow,
    QueueSort,
)
from clearance.messages import ClearanceDecision, decode_decision

__all__ = ["ReadViews", "StreamSummary", "queue_where", "sql_where"]

_PARCEL = ["o.platform", "o.order_id", "o.shipment_id"]
#: Each sort's keyset: the columns a page is ordered by (an index of migration 0006 each), and
#: whether it is read backwards (newest first reads the age index from its end).
_QUEUE_KEYS: dict[QueueSort, tuple[list[str], bool]] = {
    "oldest": (["o.decided_at", *_PARCEL], False),
    "newest": (["o.decided_at", *_PARCEL], True),
    "risk": (["(-o.risk_score)", "o.decided_at", *_PARCEL], False),
    "channel": (["o.channel", "o.decided_at", *_PARCEL], False),
    "destination": (["o.destination", "o.decided_at", *_PARCEL], False),
    "platform": (["o.platform", "o.decided_at", "o.order_id", "o.shipment_id"], False),
}


def _statuses_sql(statuses: Sequence[str]) -> str:
    """The status condition written out, not a parameter: the planner can then see that it
    implies the predicate of the queue's partial indexes (statuses come from a fixed list)."""
    unknown = set(statuses) - set(QUEUE_STATUSES)
    if unknown:
        raise ValueError(f"not a queue status: {sorted(unknown)}")
    return "o.status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def queue_where(filters: QueueFilter, *, counting: bool = False) -> tuple[list[str], list[Any]]:
    """SQL conditions and their values (numbered from $1) for the queue's ``filters``.

    ``counting``: a reason or signal is tested as ``= ANY`` rather than with the GIN operator, so
    the counts read the covering index alone: a reason half the queue has would otherwise visit
    50,000 rows through the GIN index (0.56 s against 0.1 s at 100,000 queued parcels)."""
    clauses = [_statuses_sql(filters.statuses)]
    values: list[Any] = []

    def add(condition: str, value: Any) -> None:
        values.append(value)
        clauses.append(condition.replace("$?", f"${len(values)}"))

    for column, value in (
        ("destination", filters.destination),
        ("channel", filters.channel),
        ("platform", filters.platform),
    ):
        if value is not None:
            add(f"o.{column} = $?", value)
    if filters.reason is not None:
        if counting:
            add("$? = ANY(o.reason_codes)", filters.reason)
        else:
            add("o.reason_codes @> $?::text[]", [filters.reason])
    if filters.signal is not None:
        if counting:
            add("$? = ANY(o.risk_signals)", filters.signal)
        else:
            add("o.risk_signals @> $?::text[]", [filters.signal])
    if filters.decided_before is not None:
        add("o.decided_at < $?", filters.decided_before)
    if filters.search is not None:
        add("(o.order_id = $? OR o.tracking_number = $? OR o.master_bill = $?)", filters.search)
    return clauses, values


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

    async def queue_page(
        self,
        filters: QueueFilter,
        *,
        after: QueueCursor | None = None,
        before: QueueCursor | None = None,
        limit: int = 50,
    ) -> QueuePage:
        """A page of queued parcels in ``filters.sort`` order: the first, the one after the row
        at ``after``, or the one before the row at ``before`` (keyset pagination: each page
        costs the same however deep it is)."""
        keys, backwards = _QUEUE_KEYS[filters.sort]
        clauses, values = queue_where(filters)
        cursor = before if before is not None else after
        reverse = backwards != (before is not None)  # which way this read walks the index
        if cursor is not None:
            if len(cursor) != len(keys):
                raise ValueError(f"a {filters.sort} cursor has {len(keys)} values")
            marks = ", ".join(f"${len(values) + i + 1}" for i in range(len(keys)))
            values.extend(cursor)
            clauses.append(f"({', '.join(keys)}) {'<' if reverse else '>'} ({marks})")
        direction = " DESC" if reverse else ""
        order = ", ".join(f"{key}{direction}" for key in keys)
        keyset = ", ".join(f"{key} AS k{i}" for i, key in enumerate(keys))
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                f"SELECT {keyset}, o.status, o.channel, o.destination, o.decided_at,"
                " o.platform, o.order_id, o.shipment_id, o.risk_score, o.reason_codes,"
                " o.risk_signals, o.master_bill, o.tracking_number, d.total_due, d.currency"
                " FROM orders o JOIN decisions d USING (decision_id)"
                f" WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT {int(limit) + 1}",
                *values,
            )
        more = len(rows) > limit
        page = [_queue_row(row, len(keys)) for row in rows[:limit]]
        if before is not None:
            page.reverse()
            return QueuePage(rows=page, has_next=True, has_previous=more)
        return QueuePage(rows=page, has_next=more, has_previous=after is not None)

    async def queue_counts(self, filters: QueueFilter) -> QueueCounts:
        """How many queued parcels match ``filters``, by status, channel and reason code (an
        index-only scan of ``orders_queue_counts``)."""
        clauses, values = queue_where(filters, counting=True)
        where = " AND ".join(clauses)
        async with self.pool.acquire() as connection:
            groups = await connection.fetch(
                f"SELECT o.status, o.channel, count(*) FROM orders o WHERE {where} GROUP BY 1, 2",
                *values,
            )
            reasons = await connection.fetch(
                # unnest in the select list (a ProjectSet): a third of the cost of a lateral
                # join over 100,000 rows, all read from the covering index orders_queue_counts
                "SELECT code, count(*) FROM (SELECT unnest(o.reason_codes) AS code"
                f" FROM orders o WHERE {where}) AS codes GROUP BY 1 ORDER BY 2 DESC, 1",
                *values,
            )
        by_status: dict[str, int] = {}
        by_channel: dict[str, int] = {}
        for status, channel, count in groups:
            by_status[status] = by_status.get(status, 0) + count
            by_channel[channel] = by_channel.get(channel, 0) + count
        return QueueCounts(
            total=sum(by_status.values()),
            by_status=by_status,
            by_channel=by_channel,
            by_reason={code: count for code, count in reasons},
        )

    async def transport_of(self, parcel: ParcelKey) -> tuple[str | None, str | None] | None:
        """A stored parcel's master air waybill and tracking number, else None."""
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT master_bill, tracking_number FROM orders"
                " WHERE platform = $1 AND order_id = $2 AND shipment_id = $3",
                *parcel,
            )
        return None if row is None else (row[0], row[1])

    async def find_parcels(
        self, term: str, platform: str | None = None, limit: int = 20
    ) -> list[tuple[ParcelKey, str]]:
        """Parcels of any status whose order id, tracking number or master bill is ``term``."""
        scope = "" if platform is None else " AND platform = $2"
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT platform, order_id, shipment_id, status FROM orders"
                " WHERE (order_id = $1 OR tracking_number = $1 OR master_bill = $1)"
                f"{scope} ORDER BY decided_at DESC LIMIT {int(limit)}",
                *([term] if platform is None else [term, platform]),
            )
        return [((row[0], row[1], row[2]), row[3]) for row in rows]

    async def bill_parcels(
        self, master_bill: str, platform: str | None = None, limit: int = 500
    ) -> tuple[list[BillParcel], int]:
        """The parcels under a master air waybill (by consignee, then order), at most ``limit``
        of them, and how many there are."""
        scope = "" if platform is None else " AND o.platform = $2"
        arguments = [master_bill] if platform is None else [master_bill, platform]
        async with self.pool.acquire() as connection:
            count = await connection.fetchval(
                f"SELECT count(*) FROM orders o WHERE o.master_bill = $1{scope}", *arguments
            )
            rows = await connection.fetch(
                "SELECT o.platform, o.order_id, o.shipment_id, o.status, o.channel,"
                " o.destination, o.consignee_id, o.body -> 'consignee' ->> 'name' AS name,"
                " o.consignee_ref, o.tracking_number, o.reason_codes,"
                " ARRAY(SELECT i ->> 'description' FROM json_array_elements(o.body -> 'items')"
                " AS i) AS descriptions, d.currency, d.customs_value,"
                " (d.body ->> 'threshold_value')::numeric AS threshold_value, d.duty, d.tax,"
                " d.total_due, ARRAY(SELECT t.key FROM consignee_totals t"
                " WHERE t.platform = o.platform AND t.order_id = o.order_id"
                " AND t.shipment_id = o.shipment_id ORDER BY t.key) AS totals_keys"
                " FROM orders o JOIN decisions d USING (decision_id)"
                f" WHERE o.master_bill = $1{scope}"
                f" ORDER BY o.consignee_ref, o.order_id, o.shipment_id LIMIT {int(limit)}",
                *arguments,
            )
        parcels = [
            BillParcel(
                platform=row["platform"],
                order_id=row["order_id"],
                shipment_id=row["shipment_id"],
                status=row["status"],
                channel=row["channel"],
                destination=row["destination"],
                consignee_id=row["consignee_id"],
                consignee_name=row["name"] or "",
                consignee_ref=row["consignee_ref"],
                tracking_number=row["tracking_number"],
                descriptions=list(row["descriptions"]),
                currency=row["currency"],
                customs_value=row["customs_value"],
                threshold_value=row["threshold_value"],
                duty=row["duty"],
                tax=row["tax"],
                total_due=row["total_due"],
                reason_codes=list(row["reason_codes"]),
                totals_keys=list(row["totals_keys"]),
            )
            for row in rows
        ]
        return parcels, int(count)

    async def bill_summary(
        self, master_bill: str
    ) -> tuple[dict[tuple[str, str], int], dict[str, dict[str, Decimal]]]:
        """Every parcel under a master air waybill counted by (status, channel), and their
        customs value, duty, tax and total due per currency (cancelled parcels left out)."""
        async with self.pool.acquire() as connection:
            groups = await connection.fetch(
                "SELECT status, channel, count(*) FROM orders WHERE master_bill = $1 GROUP BY 1, 2",
                master_bill,
            )
            sums = await connection.fetch(
                "SELECT d.currency, sum(d.customs_value), sum(d.duty), sum(d.tax),"
                " sum(d.total_due) FROM orders o JOIN decisions d USING (decision_id)"
                " WHERE o.master_bill = $1 AND o.status <> 'cancelled' GROUP BY 1 ORDER BY 1",
                master_bill,
            )
        return (
            {(row[0], row[1]): row[2] for row in groups},
            {
                row[0]: {"customs_value": row[1], "duty": row[2], "tax": row[3], "due": row[4]}
                for row in sums
            },
        )

    async def running_totals(self, keys: Sequence[str]) -> list[BillTotal]:
        """Each running total under ``keys``: its value and how many parcels it sums."""
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT t.key, sum(t.value), count(*)"
                " FROM unnest($1::text[]) AS k(key) JOIN consignee_totals t ON t.key = k.key"
                " GROUP BY t.key ORDER BY t.key",
                sorted(set(keys)),
            )
        return [BillTotal(key=row[0], value=Decimal(row[1]), parcels=row[2]) for row in rows]

    async def dashboard(
        self, start: datetime, end: datetime, last_day_from: datetime, platform: str | None = None
    ) -> DashboardFigures:
        """Decisions per hour by channel from ``last_day_from`` to ``end`` (the index
        ``decisions_decided`` alone), and inspection results recorded in [start, end)."""
        scope = "" if platform is None else " AND platform = $3"
        async with self.pool.acquire() as connection:
            hours = await connection.fetch(
                "SELECT date_trunc('hour', decided_at, 'UTC'), channel, count(*) FROM decisions"
                f" WHERE decided_at >= $1 AND decided_at < $2{scope}"
                " GROUP BY 1, 2 ORDER BY 1, 2",
                *([last_day_from, end] if platform is None else [last_day_from, end, platform]),
            )
            outcomes = await connection.fetch(
                "SELECT outcome, count(*) FROM inspections"
                f" WHERE occurred_at >= $1 AND occurred_at < $2{scope} GROUP BY 1",
                *([start, end] if platform is None else [start, end, platform]),
            )
        return DashboardFigures(
            decided_per_hour=[(row[0], row[1], row[2]) for row in hours],
            inspections={row[0]: row[1] for row in outcomes},
        )

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


def _queue_row(row: asyncpg.Record, keyset: int) -> QueueRow:
    """A queue row from a result whose first ``keyset`` columns are the sort's keyset."""
    return QueueRow(
        platform=row["platform"],
        order_id=row["order_id"],
        shipment_id=row["shipment_id"],
        status=row["status"],
        channel=row["channel"],
        destination=row["destination"],
        decided_at=row["decided_at"],
        risk_score=row["risk_score"],
        reason_codes=list(row["reason_codes"]),
        risk_signals=list(row["risk_signals"]),
        master_bill=row["master_bill"],
        tracking_number=row["tracking_number"],
        total_due=row["total_due"],
        currency=row["currency"],
        cursor=tuple(row[f"k{i}"] for i in range(keyset)),
    )
