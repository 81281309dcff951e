"""The worker's parcel store: what a batch needs to know, and one transaction to write it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from clearance.adapters.postgres.rows import PARCELS_IN, columns_of, stored_order
from clearance.domain.aeo import AeoCertificate
from clearance.domain.parcels import BatchChanges, ParcelKey, ParcelState, RiskHistory
from clearance.messages import ClearanceDecision, decode_decision, encode

__all__ = ["RECENT_PARCELS_CAP", "ParcelStore", "TotalsChanged"]

#: Most parcels per consignee read for the velocity signal (far above any pack's threshold).
RECENT_PARCELS_CAP = 1000


class TotalsChanged(RuntimeError):
    """Another worker changed a running total this batch read while it was planned (the same
    consignee on two partitions): nothing was written; the batch is planned again."""


def _order_row(key: ParcelKey, state: ParcelState) -> tuple[Any, ...]:
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


_ORDER_COLUMNS = [
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
]

_DECISION_COLUMNS = [
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
]


def _decision_row(decision: ClearanceDecision, body: bytes, event_id: str) -> tuple[Any, ...]:
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


class ParcelStore:
    """Reads a batch's parcels, totals and risk history; writes the batch in one transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def load_parcels(self, keys: Iterable[ParcelKey]) -> dict[ParcelKey, ParcelState]:
        """The stored state of each parcel that exists (unknown parcels are absent)."""
        columns = columns_of(set(keys))
        if not columns[0]:
            return {}
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT o.platform, o.order_id, o.shipment_id, o.event_ids, o.consignee_ref,"
                " o.control_decision, o.body AS order_body, d.body AS decision_body"
                " FROM orders o JOIN decisions d USING (decision_id)"
                " WHERE (o.platform, o.order_id, o.shipment_id) IN"
                " (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))",
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
                # A join on the keys, not "key = ANY(...)": with an array of hundreds of keys the
                # planner chose a sequential scan of the whole table on every batch.
                "SELECT t.key, t.platform, t.order_id, t.shipment_id, t.value"
                " FROM unnest($1::text[]) AS k(key) JOIN consignee_totals t ON t.key = k.key",
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
            # One index probe per seller: a marketplace's big seller has millions of orders,
            # and DISTINCT over them would read every one of them each batch.
            known = await connection.fetch(
                "SELECT s.platform, s.seller_id FROM unnest($1::text[], $2::text[])"
                " AS s(platform, seller_id) WHERE EXISTS (SELECT 1 FROM orders o"
                " WHERE o.platform = s.platform AND o.seller_id = s.seller_id)",
                platforms,
                seller_ids,
            )
            recent = await connection.fetch(
                "SELECT c.platform, c.ref, r.order_id, r.shipment_id"
                " FROM unnest($1::text[], $2::text[]) AS c(platform, ref)"
                " CROSS JOIN LATERAL (SELECT o.order_id, o.shipment_id FROM orders o"
                " WHERE o.platform = c.platform AND o.consignee_ref = c.ref"
                " AND o.first_seen_at >= $3 LIMIT $4) r",
                consignee_platforms,
                refs,
                since,
                RECENT_PARCELS_CAP,
            )
            certificates = await connection.fetch(
                "SELECT a.platform, a.seller_id, a.certificate, a.valid_from, a.valid_until"
                " FROM unnest($1::text[], $2::text[]) AS s(platform, seller_id)"
                " JOIN aeo_certificates a USING (platform, seller_id)",
                platforms,
                seller_ids,
            )
        history = RiskHistory(known_sellers={(row[0], row[1]) for row in known})
        for row in recent:
            parcels = history.recent_parcels.setdefault((row["platform"], row["ref"]), set())
            parcels.add((row["platform"], row["order_id"], row["shipment_id"]))
        aeo: dict[tuple[str, str], list[AeoCertificate]] = {}
        for row in certificates:
            aeo.setdefault((row["platform"], row["seller_id"]), []).append(
                AeoCertificate(
                    number=row["certificate"],
                    valid_from=row["valid_from"],
                    valid_until=row["valid_until"],
                )
            )
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
                "SELECT d.platform, d.order_id, d.shipment_id, d.event_id, d.body"
                " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
                " AS e(platform, order_id, shipment_id, event_id)"
                " JOIN decisions d USING (platform, order_id, shipment_id, event_id)"
                " ORDER BY d.decision_revision",
                *columns,
            )
        found: dict[tuple[ParcelKey, str], list[ClearanceDecision]] = {}
        for row in rows:
            key = (row["platform"], row["order_id"], row["shipment_id"])
            found.setdefault((key, row["event_id"]), []).append(decode_decision(row["body"]))
        return found

    async def write(self, plan: BatchChanges) -> None:
        """Store one batch in one transaction: parcels, decisions, totals, inspections.

        Raises ``asyncpg.UniqueViolationError`` when another worker stored the same parcel
        revision first (a zombie after a rebalance), and ``TotalsChanged`` when another worker
        changed a running total the plan read; the caller then plans the batch again.
        """
        new_rows: list[tuple[Any, ...]] = []
        changed_rows: list[tuple[Any, ...]] = []
        for key, state in plan.parcels.items():
            row = _order_row(key, state)
            (new_rows if key in plan.new_parcels else changed_rows).append(row)
        async with self.pool.acquire() as connection, connection.transaction():
            if plan.totals_seen:
                await self._check_totals(connection, plan.totals_seen)
            if new_rows:
                await connection.copy_records_to_table(
                    "orders", records=new_rows, columns=_ORDER_COLUMNS
                )
            if changed_rows:
                await self._update_orders(connection, changed_rows)
            decisions = [
                _decision_row(out.decision, out.body, out.event_id)
                for out in plan.outgoing
                if not out.republished
            ]
            if decisions:
                await connection.copy_records_to_table(
                    "decisions", records=decisions, columns=_DECISION_COLUMNS
                )
            if plan.contributions:
                await self._replace_totals(connection, plan)
            if plan.inspections:
                await self._insert_inspections(connection, plan)

    async def _check_totals(self, connection: asyncpg.Connection, seen: dict[str, Decimal]) -> None:
        """Serialise the batches that read the same running totals (a consignee planned by two
        workers at once: the same person on two platforms, a master bill over partitions).

        Each total's key is locked for the transaction (advisory locks, taken in one order so two
        batches never wait on each other in a circle), then the stored totals are compared with
        what the plan read: another worker's batch that committed in between changed one, and
        this batch is refused (``TotalsChanged``) to be planned again on the new totals, where the
        second half of a split purchase meets the first.
        """
        keys = sorted(seen)
        await connection.execute(
            "SELECT pg_advisory_xact_lock(id) FROM"
            " (SELECT DISTINCT hashtextextended(k, 20) AS id FROM unnest($1::text[]) AS k"
            " ORDER BY id) AS locks",
            keys,
        )
        rows = await connection.fetch(
            "SELECT t.key, sum(t.value) FROM unnest($1::text[]) AS k(key)"
            " JOIN consignee_totals t ON t.key = k.key GROUP BY t.key",
            keys,
        )
        stored = {row[0]: row[1] for row in rows}
        changed = [key for key in keys if stored.get(key, Decimal(0)) != seen[key]]
        if changed:
            raise TotalsChanged(f"{len(changed)} running total(s) changed by another worker")

    async def _update_orders(self, connection: asyncpg.Connection, rows: list[Any]) -> None:
        columns = list(zip(*rows, strict=True))
        await connection.execute(
            "UPDATE orders o SET revision = n.revision, event_ids = n.event_ids::text[],"
            " consignee_ref = n.consignee_ref, body = n.body, decision_id = n.decision_id,"
            " decision_revision = n.decision_revision, status = n.status,"
            " channel = n.channel, decided_at = n.decided_at,"
            " control_decision = n.control_decision,"
            " reason_codes = n.reason_codes::text[], risk_signals = n.risk_signals::text[],"
            " risk_score = n.risk_score, master_bill = n.master_bill,"
            " tracking_number = n.tracking_number"
            " FROM (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[],"
            " $5::text[], $6::text[], $7::json[], $8::uuid[], $9::int[], $10::text[],"
            " $11::text[], $12::timestamptz[], $13::uuid[], $14::text[], $15::text[],"
            " $16::int[], $17::text[], $18::text[])) AS n(platform, order_id, shipment_id,"
            " revision, event_ids, consignee_ref, body, decision_id, decision_revision, status,"
            " channel, decided_at, control_decision, reason_codes, risk_signals, risk_score,"
            " master_bill, tracking_number)"
            " WHERE o.platform = n.platform AND o.order_id = n.order_id"
            " AND o.shipment_id = n.shipment_id AND o.decision_revision <= n.decision_revision",
            columns[0],
            columns[1],
            columns[2],
            columns[3],
            # text[] inside an array of arrays needs a literal: join the ids per row.
            [_array_literal(ids) for ids in columns[4]],
            columns[6],
            columns[10],
            columns[11],
            columns[12],
            columns[13],
            columns[14],
            columns[15],
            columns[16],
            [_array_literal(codes) for codes in columns[17]],
            [_array_literal(signals) for signals in columns[18]],
            columns[19],
            columns[20],
            columns[21],
        )

    async def _replace_totals(self, connection: asyncpg.Connection, plan: BatchChanges) -> None:
        known = [key for key in plan.contributions if key not in plan.new_parcels]
        if known:
            await connection.execute(
                f"DELETE FROM consignee_totals WHERE {PARCELS_IN}", *columns_of(known)
            )
        rows = [
            (total_key, *parcel, value)
            for parcel, contributions in plan.contributions.items()
            for total_key, value in contributions.items()
        ]
        if rows:
            await connection.copy_records_to_table(
                "consignee_totals",
                records=rows,
                columns=["key", "platform", "order_id", "shipment_id", "value"],
            )

    async def _insert_inspections(self, connection: asyncpg.Connection, plan: BatchChanges) -> None:
        await connection.executemany(
            "INSERT INTO inspections (platform, event_id, order_id, shipment_id,"
            " inspected_decision, outcome, officer_id, occurred_at, body, result_decision)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            [
                (
                    row.inspection.platform,
                    row.inspection.event_id,
                    row.inspection.order_id,
                    row.inspection.shipment_id,
                    row.inspection.decision_id,
                    row.inspection.outcome,
                    row.inspection.officer_id,
                    row.inspection.occurred_at,
                    row.body.decode(),
                    row.result_decision,
                )
                for row in plan.inspections
            ],
        )


def columns_of_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    firsts, seconds = [], []
    for first, second in pairs:
        firsts.append(first)
        seconds.append(second)
    return firsts, seconds


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_literal(texts: list[str]) -> str:
    return "{" + ",".join(_quote(text) for text in texts) + "}"
