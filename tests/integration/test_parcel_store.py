"""The worker's parcel store: a batch is stored the same whether its rows travel in the one call
of ``store_batch`` (a small batch) or by COPY in the same transaction (a large one)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from clearance.adapters import postgres
from clearance.adapters.postgres import migrate, parcels
from clearance.adapters.postgres.parcels import TotalsChanged
from clearance.service.assessing import Assessor
from clearance.service.batches import (
    BatchPlan,
    BatchPlanner,
    Decoded,
    Record,
    decode_record,
    planner_with_stored,
)
from factories import encoded, order

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
ASSESSOR = Assessor("store-test-identity-key")


def _decoded(bodies: list[dict[str, Any]]) -> list[Decoded]:
    items = []
    for offset, body in enumerate(bodies):
        topic = "inspections.v1" if body["type"] == "inspection.result" else "orders.v1"
        record = Record(
            topic=topic, partition=0, offset=offset, key=b"k", value=encoded(body), timestamp_ms=0
        )
        result = decode_record(record, "inspections.v1", NOW)
        assert isinstance(result, Decoded), result
        items.append(result)
    return items


def _plan(bodies: list[dict[str, Any]]) -> BatchPlan:
    """The batch's plan as the worker makes it on an empty store (it read every total as 0)."""
    items = _decoded(bodies)
    planner = BatchPlanner(ASSESSOR, states={}, now=NOW)
    planner.totals_needed(items)
    planner.add_totals(())
    return planner.apply(items)


def _orders(count: int) -> list[dict[str, Any]]:
    """Orders of a few consignees (running totals shared between parcels), then an amendment of
    the first: new parcels, a changed one and replaced contributions in one batch."""
    bodies = [order(n, shipping_cost="0") for n in range(count)]
    for n, body in enumerate(bodies):
        body["consignee"]["identity"] = {"type": "national_id", "number": f"00109901{n % 3:04d}"}
    amended = {**bodies[0], "type": "order.amended", "revision": 2, "event_id": "amend-0"}
    amended["items"] = [{**bodies[0]["items"][0], "quantity": 2}]
    return [*bodies, amended]


async def _stored(connection: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row, minus what differs between two runs (ids and times made when stored)."""
    return {
        "orders": [
            tuple(row)
            for row in await connection.fetch(
                "SELECT platform, order_id, shipment_id, revision, event_ids, status, channel,"
                " reason_codes, risk_score FROM orders ORDER BY 1, 2, 3"
            )
        ],
        "decisions": [
            tuple(row)
            for row in await connection.fetch(
                "SELECT platform, order_id, decision_revision, status, total_due, event_id"
                " FROM decisions ORDER BY 1, 2, 3"
            )
        ],
        "totals": [
            tuple(row)
            for row in await connection.fetch(
                "SELECT platform, order_id, value FROM consignee_totals ORDER BY 1, 2, 3"
            )
        ],
    }


async def _store(database_url: str, schema: str, copy_rows_from: int) -> dict[str, Any]:
    await migrate(database_url, schema=schema)
    pool = await postgres.connect(database_url, schema=schema)
    try:
        store = parcels.ParcelStore(pool)
        parcels.COPY_ROWS_FROM = copy_rows_from
        await store.write(_plan(_orders(12)))
        async with pool.acquire() as connection:
            return await _stored(connection)
    finally:
        await pool.close()


async def test_a_batch_is_stored_the_same_in_one_call_or_by_copy(
    database_url: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parcels, "COPY_ROWS_FROM", parcels.COPY_ROWS_FROM)  # restored after
    in_the_call = await _store(database_url, f"{unique_name}_call", copy_rows_from=10_000)
    by_copy = await _store(database_url, f"{unique_name}_copy", copy_rows_from=0)
    assert len(in_the_call["orders"]) == 12
    assert len(in_the_call["decisions"]) == 13  # the amendment is a second revision
    assert in_the_call["totals"]
    assert by_copy == in_the_call


async def test_the_row_types_name_the_columns_the_adapter_writes(
    database_url: str, unique_name: str
) -> None:
    await migrate(database_url, schema=unique_name)
    connection = await asyncpg.connect(database_url, server_settings={"search_path": unique_name})
    try:
        for type_name, columns in (
            ("order_row", parcels.ORDER_ROW),
            ("decision_row", parcels.DECISION_ROW),
            ("total_row", parcels.TOTAL_ROW),
            ("inspection_row", parcels.INSPECTION_ROW),
        ):
            found = await connection.fetch(
                "SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.typrelid = a.attrelid"
                " WHERE t.typname = $1 AND t.typnamespace = $2::regnamespace AND a.attnum > 0"
                " ORDER BY a.attnum",
                type_name,
                unique_name,
            )
            assert tuple(row[0] for row in found) == columns, type_name
    finally:
        await connection.close()


@pytest.fixture
async def store(database_url: str, unique_name: str) -> AsyncIterator[parcels.ParcelStore]:
    """A parcel store on a new schema."""
    await migrate(database_url, schema=unique_name)
    pool = await postgres.connect(database_url, schema=unique_name)
    try:
        yield parcels.ParcelStore(pool)
    finally:
        await pool.close()


async def _first_parcel(store: parcels.ParcelStore) -> BatchPlan:
    """Parcel 1 (consignee buyer-1), planned on the empty store and stored."""
    first = _plan([order(1, shipping_cost="0")])
    await store.write(first)
    return first


async def test_a_total_changed_since_it_was_read_refuses_the_batch(
    store: parcels.ParcelStore,
) -> None:
    first = await _first_parcel(store)
    # The same consignee's next parcel, planned as if the first were not stored yet.
    stale = _plan([order(1 + 97, shipping_cost="0")])
    assert first.totals_seen.keys() & stale.totals_seen.keys()
    with pytest.raises(TotalsChanged):
        await store.write(stale)
    async with store.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM orders") == 1


@pytest.mark.parametrize(
    "query",
    [parcels.LOAD_PARCELS, parcels.LOAD_TOTALS, parcels.STORED_DECISIONS, parcels.RISK_HISTORY],
    ids=["parcels", "totals", "stored_decisions", "risk_history"],
)
async def test_reads_by_key_probe_an_index_even_in_a_plan_made_on_empty_tables(
    database_url: str, unique_name: str, query: str
) -> None:
    # A connection keeps a generic plan of a prepared statement: made on a new schema's empty
    # tables, a join on the keys scanned the whole table on every batch ever after.
    await migrate(database_url, schema=unique_name)
    connection = await asyncpg.connect(database_url, server_settings={"search_path": unique_name})
    try:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        await connection.execute(f"PREPARE read_by_keys AS {query}")
        arguments = ", ".join(["NULL"] * max(int(n) for n in re.findall(r"\$(\d+)", query)))
        explained = await connection.fetch(f"EXPLAIN EXECUTE read_by_keys({arguments})")
        plan = "\n".join(row[0] for row in explained)
    finally:
        await connection.close()
    for table in ("orders", "decisions", "consignee_totals"):
        assert f"Seq Scan on {table}" not in plan, plan


async def test_an_inspection_gets_the_totals_its_stored_parcel_names(
    store: parcels.ParcelStore,
) -> None:
    # An inspection names its running totals only through its stored parcel: they are read
    # once the parcel is.
    first = await _first_parcel(store)
    stored = first.outgoing[0].decision
    parcel = (stored.platform, stored.order_id, stored.shipment_id)
    reassess = {
        "type": "inspection.result",
        "event_id": "inspect-1",
        "platform": stored.platform,
        "order_id": stored.order_id,
        "shipment_id": stored.shipment_id,
        "decision_id": str(stored.decision_id),
        "officer_id": "officer-7",
        "occurred_at": "2026-11-21T09:00:00+07:00",
        "outcome": "reassess",
    }
    items = _decoded([reassess, order(2, shipping_cost="0")])
    planner = await planner_with_stored(ASSESSOR, store, items, now=NOW)
    plan = planner.apply(items)
    assert parcel in planner.states
    own = first.contributions[parcel]
    assert own and all(value > 0 for value in own.values())
    # the other order's consignee shares none of them: read for the inspected parcel
    assert {key: plan.totals_seen[key] for key in own} == own
    assert len(plan.outgoing) == 2  # the reassessment and the new order's decision
