"""The worker's parcel store: what a batch needs to know, and one transaction to write it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from clearance.adapters.postgres.rows import columns_of, stored_order
from clearance.domain.aeo import AeoCertificate
from clearance.domain.parcels import (
    BatchChanges,
    InspectionRecord,
    ParcelKey,
    ParcelState,
    RiskHistory,
)
from clearance.messages import ClearanceDecision, decode_decision, encode

__all__ = ["RECENT_PARCELS_CAP", "ParcelStore", "TotalsChanged"]

#: Most parcels per consignee read for the velocity signal (far above any pack's threshold).
RECENT_PARCELS_CAP = 1000


#: Above this many new rows (orders, decisions and totals), a batch's new rows go by COPY: below
#: it, the four round trips COPY adds cost more than its cheaper rows save (#23's bench).
COPY_ROWS_FROM = 200

#: The SQLSTATE ``store_batch`` raises when a running total changed since the batch read it.
TOTALS_CHANGED = "CL001"


class TotalsChanged(RuntimeError):
    """Another worker changed a running total this batch read while it was planned (the same
    consignee on two partitions): nothing was written; the batch is planned again."""


#: The columns of the database's row types (migration 0008), in order: what ``_order_row``,
#: ``_decision_row`` and the totals' rows hold, and what COPY names (a test compares them).
ORDER_ROW = (
    "platform",
    "order_id",
    "shipment_id",
    "revision",
    "event_ids",
    "consignee_id",
    "consignee_ref",
    "seller_id",
    "destination",
    "occurred_at",
    "body",
    "decision_id",
    "decision_revision",
    "status",
    "channel",
    "decided_at",
    "control_decision",
    "reason_codes",
    "risk_signals",
    "risk_score",
    "master_bill",
    "tracking_number",
)
DECISION_ROW = (
    "decision_id",
    "platform",
    "order_id",
    "shipment_id",
    "decision_revision",
    "order_revision",
    "status",
    "channel",
    "category",
    "destination",
    "currency",
    "assessment_date",
    "decided_at",
    "customs_value",
    "duty",
    "tax",
    "excise",
    "fees",
    "total_due",
    "collected_at_checkout",
    "risk_score",
    "rule_pack",
    "trace_id",
    "body",
    "event_id",
)
TOTAL_ROW = ("key", "platform", "order_id", "shipment_id", "value")
INSPECTION_ROW = (
    "platform",
    "event_id",
    "order_id",
    "shipment_id",
    "inspected_decision",
    "outcome",
    "officer_id",
    "occurred_at",
    "body",
    "result_decision",
)


def _order_row(key: ParcelKey, state: ParcelState) -> tuple[Any, ...]:
    """A parcel's row, in the order of the database's ``order_row`` (migration 0008)."""
    order, decision = state.order, state.decision
    return (
        *key,
        order.revision,
        state.event_ids,
        order.consignee.id,
        state.consignee_ref,
        order.seller.id,
        order.destination_country,
        order.occurred_at,
        encode(order).decode(),
        decision.decision_id,
        decision.decision_revision,
        decision.status,
        decision.channel,
        decision.decided_at,
        state.control_decision,
        *_queue_columns(state),
    )


def _queue_columns(state: ParcelState) -> tuple[Any, ...]:
    """What the officers' queue filters, sorts and searches on (migration 0006): each reason
    code once (two lines held for the same reason are one reason to count and filter on)."""
    decision, transport = state.decision, state.order.transport
    return (
        list(dict.fromkeys(reason.code for reason in decision.reasons)),
        list(decision.risk.signals),
        decision.risk.score,
        None if transport is None else transport.master_bill,
        None if transport is None else transport.tracking_number,
    )


def _decision_row(decision: ClearanceDecision, body: bytes, event_id: str) -> tuple[Any, ...]:
    """A decision's row, in the order of the database's ``decision_row`` (migration 0008)."""
    return (
        decision.decision_id,
        decision.platform,
        decision.order_id,
        decision.shipment_id,
        decision.decision_revision,
        decision.order_revision,
        decision.status,
        decision.channel,
        decision.category,
        decision.destination_country,
        decision.currency,
        decision.assessment_date,
        decision.decided_at,
        decision.customs_value,
        decision.duty,
        decision.tax,
        decision.excise,
        decision.fees,
        decision.total_due,
        decision.collected_at_checkout,
        decision.risk.score,
        f"{decision.rule_pack.id}@{decision.rule_pack.version}",
        decision.trace_id,
        body.decode(),
        event_id,
    )


#: The worker's reads by a batch's keys (see ``ParcelStore``: one index probe per key).
LOAD_PARCELS = (
    "SELECT p.* FROM unnest($1::text[], $2::text[], $3::text[])"
    " AS k(platform, order_id, shipment_id) CROSS JOIN LATERAL"
    " (SELECT o.platform, o.order_id, o.shipment_id, o.event_ids, o.consignee_ref,"
    " o.control_decision, o.body AS order_body, d.body AS decision_body"
    " FROM orders o JOIN decisions d USING (decision_id)"
    " WHERE o.platform = k.platform AND o.order_id = k.order_id"
    " AND o.shipment_id = k.shipment_id OFFSET 0) AS p"
)
LOAD_TOTALS = (
    "SELECT t.key, t.platform, t.order_id, t.shipment_id, t.value"
    " FROM unnest($1::text[]) AS k(key) CROSS JOIN LATERAL"
    " (SELECT * FROM consignee_totals WHERE key = k.key OFFSET 0) AS t"
)
STORED_DECISIONS = (
    "SELECT d.platform, d.order_id, d.shipment_id, d.event_id, d.body"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
    " AS e(platform, order_id, shipment_id, event_id) CROSS JOIN LATERAL"
    " (SELECT * FROM decisions WHERE platform = e.platform AND order_id = e.order_id"
    " AND shipment_id = e.shipment_id AND event_id = e.event_id OFFSET 0) AS d"
    " ORDER BY d.decision_revision"
)

#: What the risk signals ask of storage, in one round trip (``ParcelStore.risk_history``): a row
#: per seller (known: seen before on its platform; with each AEO certificate it holds), then a row
#: per recent parcel of each consignee (``known`` NULL). One index probe per seller (not EXISTS,
#: which a plan made on an empty table ran as one scan of every order): a big seller has millions
#: of orders, and DISTINCT over them would read every one of them each batch.
RISK_HISTORY = (
    "SELECT s.platform, s.seller_id AS party, seen.known IS NOT NULL AS known,"
    " a.certificate, a.valid_from, a.valid_until, NULL::text AS order_id, NULL::text AS shipment_id"
    " FROM unnest($1::text[], $2::text[]) AS s(platform, seller_id)"
    " LEFT JOIN LATERAL (SELECT true AS known FROM orders o"
    " WHERE o.platform = s.platform AND o.seller_id = s.seller_id LIMIT 1) AS seen ON true"
    " LEFT JOIN aeo_certificates a USING (platform, seller_id)"
    " UNION ALL"
    " SELECT c.platform, c.ref, NULL, NULL, NULL, NULL, r.order_id, r.shipment_id"
    " FROM unnest($3::text[], $4::text[]) AS c(platform, ref)"
    " CROSS JOIN LATERAL (SELECT o.order_id, o.shipment_id FROM orders o"
    " WHERE o.platform = c.platform AND o.consignee_ref = c.ref"
    " AND o.first_seen_at >= $5 LIMIT $6) r"
)


class ParcelStore:
    """Reads a batch's parcels, totals and risk history; writes the batch in one transaction.

    Every read of rows by a batch's keys is "unnest(keys) CROSS JOIN LATERAL (... OFFSET 0)": one
    index probe per key, whatever the plan. A join on the keys was planned, while a table's
    statistics were older than its rows (a new schema, a new deployment), as a sequential scan of
    the whole table on every batch, and the connection kept that plan: at 1,000 orders/s, 400,000
    to 2,000,000 rows read a second, growing with the tables (#23). OFFSET 0 keeps the planner from
    turning the lateral subquery back into a join.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def load_parcels(self, keys: Iterable[ParcelKey]) -> dict[ParcelKey, ParcelState]:
        """The stored state of each parcel that exists (unknown parcels are absent)."""
        columns = columns_of(set(keys))
        if not columns[0]:
            return {}
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                LOAD_PARCELS,
                *columns,
            )
        return {
            (row["platform"], row["order_id"], row["shipment_id"]): ParcelState(
                order=stored_order(row["order_body"]),
                consignee_ref=row["consignee_ref"],
                event_ids=list(row["event_ids"]),
                decision=decode_decision(row["decision_body"]),
                control_decision=row["control_decision"],
            )
            for row in rows
        }

    async def load_totals(self, keys: Iterable[str]) -> list[tuple[str, ParcelKey, Decimal]]:
        """Every stored contribution to the running totals under ``keys``."""
        wanted = sorted(set(keys))
        if not wanted:
            return []
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                # (one probe per key, see the class; "key = ANY(...)" with hundreds of keys was
                # planned as a sequential scan too)
                LOAD_TOTALS,
                wanted,
            )
        return [
            (row["key"], (row["platform"], row["order_id"], row["shipment_id"]), row["value"])
            for row in rows
        ]

    async def risk_history(
        self,
        sellers: Iterable[tuple[str, str]],
        consignees: Iterable[tuple[str, str]],
        since: datetime,
    ) -> RiskHistory:
        """Sellers (platform, seller id) already seen and their AEO certificates; each consignee's
        (platform, consignee_ref) parcels on that platform first seen since ``since``."""
        platforms, seller_ids = columns_of_pairs(set(sellers))
        consignee_platforms, refs = columns_of_pairs(set(consignees))
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                RISK_HISTORY,
                platforms,
                seller_ids,
                consignee_platforms,
                refs,
                since,
                RECENT_PARCELS_CAP,
            )
        history = RiskHistory()
        aeo: dict[tuple[str, str], list[AeoCertificate]] = {}
        for row in rows:
            party = (row["platform"], row["party"])
            if row["known"] is None:  # a consignee's recent parcel
                parcels = history.recent_parcels.setdefault(party, set())
                parcels.add((row["platform"], row["order_id"], row["shipment_id"]))
                continue
            if row["known"]:
                history.known_sellers.add(party)
            if row["certificate"] is not None:
                certificate = AeoCertificate(
                    number=row["certificate"],
                    valid_from=row["valid_from"],
                    valid_until=row["valid_until"],
                )
                aeo.setdefault(party, []).append(certificate)
        history.aeo = {seller: tuple(found) for seller, found in aeo.items()}
        return history

    async def stored_decisions(
        self, events: Iterable[tuple[ParcelKey, str]]
    ) -> dict[tuple[ParcelKey, str], list[ClearanceDecision]]:
        """The decisions each (parcel, event id) made, oldest first (events redelivered)."""
        wanted = list(events)
        if not wanted:
            return {}
        columns = list(zip(*((*key, event_id) for key, event_id in wanted), strict=True))
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                STORED_DECISIONS,
                *columns,
            )
        found: dict[tuple[ParcelKey, str], list[ClearanceDecision]] = {}
        for row in rows:
            key = (row["platform"], row["order_id"], row["shipment_id"])
            found.setdefault((key, row["event_id"]), []).append(decode_decision(row["body"]))
        return found

    async def write(self, plan: BatchChanges) -> None:
        """Store one batch in one transaction: parcels, decisions, totals, inspections.

        ``store_batch`` (migration 0008) does it all. A small batch (what a worker takes at a few
        thousand orders a second or less) passes its rows in that one call: one round trip.
        A larger one sends the new orders, decisions and totals by COPY in the same transaction,
        which costs the worker and the database less per row, for four more round trips.

        Raises ``asyncpg.UniqueViolationError`` when another worker stored the same parcel
        revision first (a zombie after a rebalance), and ``TotalsChanged`` when another worker
        changed a running total the plan read; the caller then plans the batch again.
        """
        new_orders: list[tuple[Any, ...]] = []
        changed_orders: list[tuple[Any, ...]] = []
        for key, state in plan.parcels.items():
            row = _order_row(key, state)
            (new_orders if key in plan.new_parcels else changed_orders).append(row)
        decisions = [
            _decision_row(out.decision, out.body, out.event_id)
            for out in plan.outgoing
            if not out.republished
        ]
        totals = [
            (total_key, *parcel, value)
            for parcel, contributions in plan.contributions.items()
            for total_key, value in contributions.items()
        ]
        async with self.pool.acquire() as connection:
            if len(new_orders) + len(decisions) + len(totals) <= COPY_ROWS_FROM:
                await _store_batch(connection, plan, changed_orders, new_orders, decisions, totals)
                return
            async with connection.transaction():
                await _store_batch(connection, plan, changed_orders, [], [], [])
                for table, rows, columns in (
                    ("orders", new_orders, ORDER_ROW),
                    ("decisions", decisions, DECISION_ROW),
                    ("consignee_totals", totals, TOTAL_ROW),
                ):
                    if rows:
                        await connection.copy_records_to_table(table, records=rows, columns=columns)


async def _store_batch(
    connection: asyncpg.Connection,
    plan: BatchChanges,
    changed_orders: list[tuple[Any, ...]],
    new_orders: list[tuple[Any, ...]],
    decisions: list[tuple[Any, ...]],
    totals: list[tuple[Any, ...]],
) -> None:
    """``store_batch``: the totals' check, the changed parcels, the replaced contributions, the
    inspections, and the new rows given (empty when they are sent by COPY)."""
    replaced = columns_of(key for key in plan.contributions if key not in plan.new_parcels)
    try:
        await connection.execute(
            "SELECT store_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            list(plan.totals_seen),
            list(plan.totals_seen.values()),
            new_orders,
            changed_orders,
            decisions,
            *replaced,
            totals,
            [_inspection_row(row) for row in plan.inspections],
        )
    except asyncpg.PostgresError as error:
        if error.sqlstate == TOTALS_CHANGED:
            raise TotalsChanged(str(error)) from None
        raise


def _inspection_row(row: InspectionRecord) -> tuple[Any, ...]:
    inspection = row.inspection
    return (
        inspection.platform,
        inspection.event_id,
        inspection.order_id,
        inspection.shipment_id,
        inspection.decision_id,
        inspection.outcome,
        inspection.officer_id,
        inspection.occurred_at,
        row.body.decode(),
        row.result_decision,
    )


def columns_of_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    firsts, seconds = [], []
    for first, second in pairs:
        firsts.append(first)
        seconds.append(second)
    return firsts, seconds
