"""The one database access layer: connection pool, migrations, and every query the service runs.

Writes are batched: one transaction per worker batch, ``COPY`` for new rows (the fastest path in
PostgreSQL) and ``unnest`` arrays for the few updates, never a statement per order.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from clearance.domain.parcels import BatchChanges, Order, ParcelKey, ParcelState
from clearance.messages import (
    ClearanceDecision,
    OrderCancelled,
    decode_decision,
    decode_order_event,
    encode,
)
from clearance.service.keys import ApiKey, NewKey

__all__ = [
    "DecisionFilter",
    "MigrationError",
    "OutboxEntry",
    "Store",
    "StreamSummary",
    "connect",
    "expected_migrations",
    "migrate",
    "schema_is_current",
]


class MigrationError(RuntimeError):
    """A migration file failed; the message names it."""


class DecisionFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which current decisions an officer (or a platform, its own) asks for."""

    status: str | None = None
    destination: str | None = None
    channel: str | None = None
    platform: str | None = None
    day_from: date | None = None
    day_to: date | None = None

    def where(
        self, date_column: str = "o.decided_at", table: str = "o"
    ) -> tuple[list[str], list[Any]]:
        """SQL conditions and their values (numbered from $1); ``table`` is the alias of the
        table holding status, destination, channel and platform (orders or decisions)."""
        clauses: list[str] = []
        values: list[Any] = []
        for column, value in (
            ("status", self.status),
            ("destination", self.destination),
            ("channel", self.channel),
            ("platform", self.platform),
        ):
            if value is not None:
                values.append(value)
                clauses.append(f"{table}.{column} = ${len(values)}")
        if self.day_from is not None:
            values.append(self.day_from)
            clauses.append(f"{date_column}::date >= ${len(values)}")
        if self.day_to is not None:
            values.append(self.day_to)
            clauses.append(f"{date_column}::date <= ${len(values)}")
        return clauses, values


class StreamSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Current parcels by destination and outcome, amounts by currency, one held parcel."""

    parcels_by_destination: dict[str, int]
    parcels_by_outcome: dict[str, int]
    """Keyed ``status/channel``."""
    duty_and_tax: dict[str, dict[str, Any]]
    decisions: int
    """Decisions stored, every revision counted."""
    a_held_parcel: tuple[str, str, str] | None


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A stored decision the broker has not yet acknowledged."""

    decision_id: uuid.UUID
    topic: str
    key: str | None
    traceparent: str | None
    payload: bytes


async def connect(
    url: str,
    *,
    schema: str | None = None,
    min_size: int = 1,
    max_size: int = 4,
    statement_cache_size: int = 100,
) -> asyncpg.Pool:
    """A connection pool; ``schema`` puts every table in that schema (tests isolate this way).

    ``statement_cache_size`` is asyncpg's prepared-statement cache (0 behind a transaction-mode
    PgBouncer that does not track prepared statements; see ``CLEARANCE_DB_STATEMENT_CACHE_SIZE``).
    """
    settings = {"search_path": schema} if schema else {}
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        server_settings=settings,
        statement_cache_size=statement_cache_size,
    )
    assert pool is not None
    return pool


def _migration_files() -> list[tuple[str, str]]:
    folder = importlib.resources.files("clearance.adapters") / "migrations"
    files = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
    return files


def expected_migrations() -> list[str]:
    """The migrations this code ships, in order: the schema it expects has every one applied."""
    return [name for name, _ in _migration_files()]


async def schema_is_current(pool: asyncpg.Pool) -> bool:
    """True when every migration this code ships is applied (a newer schema is fine: migrations
    only add, so the previous release keeps running during a rollout)."""
    async with pool.acquire() as connection:
        if await connection.fetchval("SELECT to_regclass('schema_migrations')") is None:
            return False
        applied = {
            row["name"] for row in await connection.fetch("SELECT name FROM schema_migrations")
        }
    return set(expected_migrations()) <= applied


async def migrate(url: str, *, schema: str | None = None) -> list[str]:
    """Apply the migrations not yet applied, in order, under an advisory lock; returns their names.

    Safe to run from several processes at once: they queue on the lock, and each file is applied
    once, in its own transaction, and recorded with its checksum.
    """
    connection = await asyncpg.connect(url)
    applied: list[str] = []
    lock = int.from_bytes(hashlib.sha256(f"clearance:{schema}".encode()).digest()[:8], "big") >> 1
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", lock)
        if schema:
            await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await connection.execute(f'SET search_path TO "{schema}"')
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["name"] for row in await connection.fetch("SELECT name FROM schema_migrations")}
        for name, sql in _migration_files():
            if name in done:
                continue
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            try:
                async with connection.transaction():
                    await connection.execute(sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        name,
                        checksum,
                    )
            except asyncpg.PostgresError as error:
                raise MigrationError(f"migration {name} failed: {error}") from error
            applied.append(name)
    finally:
        await connection.execute("SELECT pg_advisory_unlock_all()")
        await connection.close()
    return applied


def _columns(keys: Iterable[ParcelKey]) -> tuple[list[str], list[str], list[str]]:
    platforms, orders, shipments = [], [], []
    for platform, order_id, shipment_id in keys:
        platforms.append(platform)
        orders.append(order_id)
        shipments.append(shipment_id)
    return platforms, orders, shipments


#: Removing published decisions from the outbox need not wait for the disk: if a crash loses the
#: delete, the drain publishes those decisions again under the same ids (at-least-once, which the
#: contract allows), while the decisions themselves are always committed durably before publishing.
_OUTBOX_DELETE_NEED_NOT_WAIT = "SET LOCAL synchronous_commit = off"

_PARCELS_IN = (
    "(platform, order_id, shipment_id) IN"
    " (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))"
)


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
]


def _decision_row(decision: ClearanceDecision, payload: bytes) -> tuple[Any, ...]:
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
        payload.decode(),
    )


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


class Store:
    """Every query of the service, on one pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def ping(self) -> bool:
        """True when the database answers (readiness)."""
        async with self.pool.acquire() as connection:
            return bool(await connection.fetchval("SELECT true"))

    # --- the worker ------------------------------------------------------------------------------

    async def load_parcels(self, keys: Iterable[ParcelKey]) -> dict[ParcelKey, ParcelState]:
        """The stored state of each parcel that exists (unknown parcels are absent)."""
        columns = _columns(set(keys))
        if not columns[0]:
            return {}
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT o.platform, o.order_id, o.shipment_id, o.event_ids, o.consignee_ref,"
                " o.body AS order_body, d.body AS decision_body"
                " FROM orders o JOIN decisions d USING (decision_id)"
                " WHERE (o.platform, o.order_id, o.shipment_id) IN"
                " (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))",
                *columns,
            )
        return {
            (row["platform"], row["order_id"], row["shipment_id"]): ParcelState(
                order=_stored_order(row["order_body"]),
                consignee_ref=row["consignee_ref"],
                event_ids=list(row["event_ids"]),
                decision=decode_decision(row["decision_body"]),
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
        self, sellers: Iterable[tuple[str, str]], consignee_refs: Iterable[str], since: datetime
    ) -> tuple[set[tuple[str, str]], dict[str, int]]:
        """Sellers (platform, seller id) already seen; each consignee's parcels since ``since``."""
        platforms, seller_ids = [], []
        for platform, seller in set(sellers):
            platforms.append(platform)
            seller_ids.append(seller)
        refs = sorted(set(consignee_refs))
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
                "SELECT c.ref, count(*) FROM unnest($1::text[]) AS c(ref)"
                " JOIN orders o ON o.consignee_ref = c.ref AND o.occurred_at >= $2 GROUP BY 1",
                refs,
                since,
            )
        return {(row[0], row[1]) for row in known}, {row[0]: int(row[1]) for row in recent}

    async def write(self, plan: BatchChanges, decisions_topic: str) -> None:
        """Store one batch in one transaction: parcels, decisions, outbox, totals, inspections.

        Raises ``asyncpg.UniqueViolationError`` when another worker stored the same parcel
        revision first (a zombie after a rebalance); the caller then plans the batch again.
        """
        new_rows: list[tuple[Any, ...]] = []
        changed_rows: list[tuple[Any, ...]] = []
        for key, state in plan.parcels.items():
            row = _order_row(key, state)
            (new_rows if key in plan.new_parcels else changed_rows).append(row)
        async with self.pool.acquire() as connection, connection.transaction():
            if new_rows:
                await connection.copy_records_to_table(
                    "orders", records=new_rows, columns=_ORDER_COLUMNS
                )
            if changed_rows:
                await self._update_orders(connection, changed_rows)
            if plan.outgoing:
                await connection.copy_records_to_table(
                    "decisions",
                    records=[_decision_row(out.decision, out.payload) for out in plan.outgoing],
                    columns=_DECISION_COLUMNS,
                )
                await connection.copy_records_to_table(
                    "outbox",
                    records=[
                        (
                            out.decision.decision_id,
                            decisions_topic,
                            out.key,
                            _header(out.headers, "traceparent"),
                        )
                        for out in plan.outgoing
                    ],
                    columns=["decision_id", "topic", "key", "traceparent"],
                )
            if plan.contributions:
                await self._replace_totals(connection, plan)
            if plan.inspections:
                await self._insert_inspections(connection, plan)

    async def _update_orders(self, connection: asyncpg.Connection, rows: list[Any]) -> None:
        columns = list(zip(*rows, strict=True))
        await connection.execute(
            "UPDATE orders o SET revision = n.revision, event_ids = n.event_ids::text[],"
            " consignee_ref = n.consignee_ref, body = n.body, decision_id = n.decision_id,"
            " decision_revision = n.decision_revision, status = n.status,"
            " channel = n.channel, decided_at = n.decided_at"
            " FROM (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[],"
            " $5::text[], $6::text[], $7::json[], $8::uuid[], $9::int[], $10::text[],"
            " $11::text[], $12::timestamptz[])) AS n(platform, order_id, shipment_id, revision,"
            " event_ids, consignee_ref, body, decision_id, decision_revision, status, channel,"
            " decided_at)"
            " WHERE o.platform = n.platform AND o.order_id = n.order_id"
            " AND o.shipment_id = n.shipment_id AND o.decision_revision <= n.decision_revision",
            columns[0],
            columns[1],
            columns[2],
            columns[3],
            # text[] inside an array of arrays needs a literal: join the ids per row.
            ["{" + ",".join(_quote(e) for e in ids) + "}" for ids in columns[4]],
            columns[6],
            columns[10],
            columns[11],
            columns[12],
            columns[13],
            columns[14],
            columns[15],
        )

    async def _replace_totals(self, connection: asyncpg.Connection, plan: BatchChanges) -> None:
        known = [key for key in plan.contributions if key not in plan.new_parcels]
        if known:
            await connection.execute(
                f"DELETE FROM consignee_totals WHERE {_PARCELS_IN}", *_columns(known)
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

    @asynccontextmanager
    async def claim_outbox(
        self, decision_ids: Sequence[uuid.UUID]
    ) -> AsyncIterator[set[uuid.UUID]]:
        """Lock this batch's outbox rows; yields those still there; deletes them on success.

        Rows another process is draining (locked) or has drained (gone) are left out, so a
        decision is never published twice by two processes. If the body raises, the rows stay
        for the next drain.
        """
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(_OUTBOX_DELETE_NEED_NOT_WAIT)
            rows = await connection.fetch(
                "SELECT decision_id FROM outbox WHERE decision_id = ANY($1::uuid[])"
                " FOR UPDATE SKIP LOCKED",
                list(decision_ids),
            )
            owned = {row["decision_id"] for row in rows}
            yield owned
            if owned:
                await connection.execute(
                    "DELETE FROM outbox WHERE decision_id = ANY($1::uuid[])", list(owned)
                )

    @asynccontextmanager
    async def drain_outbox(
        self, older_than: timedelta, limit: int = 1000
    ) -> AsyncIterator[list[OutboxEntry]]:
        """Lock up to ``limit`` outbox rows older than ``older_than``; deletes them on success.

        The age keeps a drain from racing a live worker that is publishing its own batch.
        """
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(_OUTBOX_DELETE_NEED_NOT_WAIT)
            rows = await connection.fetch(
                "SELECT o.decision_id, o.topic, o.key, o.traceparent, d.body"
                " FROM outbox o JOIN decisions d USING (decision_id)"
                " WHERE o.created_at < now() - $1::interval"
                " ORDER BY o.created_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED",
                older_than,
                limit,
            )
            entries = [
                OutboxEntry(
                    decision_id=row["decision_id"],
                    topic=row["topic"],
                    key=row["key"],
                    traceparent=row["traceparent"],
                    payload=row["body"].encode(),
                )
                for row in rows
            ]
            yield entries
            if entries:
                await connection.execute(
                    "DELETE FROM outbox WHERE decision_id = ANY($1::uuid[])",
                    [entry.decision_id for entry in entries],
                )

    async def outbox_depth(self) -> int:
        """Decisions stored but not yet acknowledged by the broker."""
        async with self.pool.acquire() as connection:
            return int(await connection.fetchval("SELECT count(*) FROM outbox"))

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

    # --- the HTTP API ----------------------------------------------------------------------------

    async def create_api_key(self, new: NewKey) -> None:
        """Store a new key's hash, role and platform."""
        async with self.pool.acquire() as connection:
            await connection.execute(
                "INSERT INTO api_keys (key_id, token_hash, role, platform) VALUES ($1, $2, $3, $4)",
                new.key.key_id,
                new.token_hash,
                new.key.role,
                new.key.platform,
            )

    async def revoke_api_key(self, key_id: str) -> bool:
        """Revoke a key; False when there is no such live key."""
        async with self.pool.acquire() as connection:
            result = await connection.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
                key_id,
            )
        return bool(result == "UPDATE 1")

    async def find_api_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        """A live key and its token hash, or None (unknown or revoked)."""
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT role, platform, token_hash FROM api_keys"
                " WHERE key_id = $1 AND revoked_at IS NULL",
                key_id,
            )
        if row is None:
            return None
        return ApiKey(key_id=key_id, role=row["role"], platform=row["platform"]), row["token_hash"]

    async def list_api_keys(self) -> list[dict[str, Any]]:
        """Every key (never a hash): id, role, platform, created, revoked."""
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT key_id, role, platform, created_at, revoked_at FROM api_keys"
                " ORDER BY created_at"
            )
        return [dict(row) for row in rows]

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
        clauses, values = filters.where()
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
        clauses, values = filters.where(date_column="d.assessment_date")
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
        clauses, values = filters.where(date_column="i.occurred_at", table="d")
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
        clauses, values = filters.where(date_column="o.occurred_at")
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
                    _stored_order(row["body"]),
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
        clauses, values = filters.where(date_column="d.assessment_date")
        return await self._report(
            "SELECT d.assessment_date AS day, d.currency, count(*) AS parcels,"
            " sum(d.duty) AS duty, sum(d.tax) AS tax"
            " FROM orders o JOIN decisions d USING (decision_id)"
            " WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
            [*clauses, "o.status <> 'cancelled'"],
            values,
        )


def _stored_order(body: str) -> Order:
    order = decode_order_event(body)
    if isinstance(order, OrderCancelled):  # pragma: no cover - never stored as an order body
        raise TypeError("a cancellation is not an order")
    return order


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
