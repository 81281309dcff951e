"""The worker on the real broker and database: orders decided, stored once, published once."""

from __future__ import annotations

import json

import asyncpg
import pytest
from aiokafka.partitioner import DefaultPartitioner

from clearance.messages import decode_decision
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import produce, read_topic, stored_decision, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("running_worker")]

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01".encode()


async def test_orders_are_decided_stored_and_published_once(
    settings: Settings, db: asyncpg.Connection
) -> None:
    bodies = [order(n) for n in range(40)]
    records = [(key_of(b), encoded(b)) for b in bodies]
    keys = {b["order_id"]: key_of(b) for b in bodies}
    await produce(settings, "orders.v1", records, headers=[("traceparent", TRACEPARENT)])
    await produce(settings, "orders.v1", records[:10])  # redelivered: must change nothing

    published = await read_topic(settings, "decisions.v1", 40)
    partitions = list(range(settings.partitions))
    decisions = [decode_decision(r.value) for r in published]
    assert sorted(d.order_id for d in decisions) == sorted(b["order_id"] for b in bodies)
    assert {d.decision_revision for d in decisions} == {1}
    # the platform's trace continues through the worker to the decision and its headers
    assert {d.trace_id for d in decisions} == {TRACE_ID}
    for record in published:
        headers = dict(record.headers)
        assert headers["traceparent"].decode().split("-")[1] == TRACE_ID
        assert headers["message-type"] == b"clearance.decision"
        assert record.key == keys[json.loads(record.value)["order_id"]]  # same key as the order
        # sent in record batches per partition, yet on the partition a send of its key chooses
        assert record.partition == DefaultPartitioner()(record.key, partitions, partitions)
    assert await db.fetchval("SELECT count(*) FROM decisions") == 40
    assert await db.fetchval("SELECT count(*) FROM orders") == 40
    stored = await db.fetchrow("SELECT body, consignee_ref FROM orders LIMIT 1")
    assert "+84900000000" not in stored["body"]  # the phone number is never stored


async def test_amendment_revises_and_stale_revision_is_ignored(
    settings: Settings, db: asyncpg.Connection
) -> None:
    placed = order(1)
    tricky = 'evt-1-r2 "quoted", {braced} \\ back'  # event ids are free text: stored as given
    amended = order(1, type="order.amended", event_id=tricky, revision=2)
    amended["items"][0]["unit_price"] = "900.00"
    stale = order(1, type="order.amended", event_id="evt-1-r2-late", revision=2)
    await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in (placed, amended)])
    await produce(settings, "orders.v1", [(key_of(stale), encoded(stale))])

    decisions = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 2)]
    assert [(d.order_revision, d.decision_revision) for d in decisions] == [(1, 1), (2, 2)]
    assert decisions[1].customs_value > decisions[0].customs_value
    row = await db.fetchrow("SELECT revision, decision_revision, event_ids FROM orders")
    assert (row["revision"], row["decision_revision"]) == (2, 2)
    assert list(row["event_ids"]) == ["evt-1", tricky, "evt-1-r2-late"]


async def test_cancellation_publishes_cancelled_and_removes_running_totals(
    settings: Settings, db: asyncpg.Connection
) -> None:
    placed = order(2)
    cancel = {
        "type": "order.cancelled",
        "event_id": "evt-2-cancel",
        "platform": "shopmart",
        "order_id": "ORD-2",
        "shipment_id": "ORD-2-1",
        "occurred_at": "2026-11-20T11:00:00+07:00",
        "consignee_id": placed["consignee"]["id"],
        "reason": "buyer changed their mind",
    }
    await produce(settings, "orders.v1", [(key_of(placed), encoded(placed))])
    await wait_for(db, "SELECT count(*) FROM consignee_totals", 1)
    await produce(settings, "orders.v1", [(key_of(cancel), encoded(cancel))] * 2)

    decisions = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 2)]
    assert [d.status for d in decisions][-1] == "cancelled"
    assert len(decisions) == 2  # the redelivered cancellation made no third decision
    assert "ORDER_CANCELLED" in {r.code for r in decisions[-1].reasons}
    assert await db.fetchval("SELECT count(*) FROM consignee_totals") == 0


async def test_inspection_release_seize_and_reassess(
    settings: Settings, db: asyncpg.Connection
) -> None:
    # An unknown tariff line is held for classification (VN golden case 13).
    held = [order(n, currency="VND") for n in (10, 11, 12)]
    for body in held:
        body["items"][0].update(hs_code="61091000", unit_price="400000", quantity=3)
        body["consignee"]["identity"] = {
            "type": "national_id",
            "number": f"00109900{body['order_id'][-2:]}",
        }
    await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in held])
    first = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 3)]
    assert {d.status for d in first} == {"hold"}
    by_order = {d.order_id: d for d in first}

    def inspection(n: int, outcome: str, **extra: object) -> tuple[bytes, bytes]:
        decision = by_order[f"ORD-{n}"]
        body = {
            "type": "inspection.result",
            "event_id": f"insp-{n}",
            "platform": "shopmart",
            "order_id": f"ORD-{n}",
            "shipment_id": f"ORD-{n}-1",
            "decision_id": str(decision.decision_id),
            "officer_id": "officer-7",
            "occurred_at": "2026-11-21T09:00:00+07:00",
            "outcome": outcome,
            **extra,
        }
        return key_of(held[n - 10]), encoded(body)

    await produce(
        settings,
        "inspections.v1",
        [
            inspection(10, "release"),
            inspection(11, "seize"),
            inspection(12, "reassess", corrections=[{"line_id": 1, "hs_code": "85183020"}]),
        ],
    )
    revised = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 6)]
    latest = {d.order_id: d for d in revised if d.decision_revision == 2}
    assert latest["ORD-10"].status in {"release", "release_on_payment"}
    # the platform reads a released parcel as green and never the score; the officer's record
    # keeps the channel the parcel was held in
    assert (latest["ORD-10"].channel, latest["ORD-10"].risk.score) == ("green", 0)
    held_before = await stored_decision(db, by_order["ORD-10"].decision_id)
    released = await stored_decision(db, latest["ORD-10"].decision_id)
    assert released.channel == held_before.channel != "green"
    assert latest["ORD-11"].status == "refuse"
    assert latest["ORD-12"].lines[0].hs_code == "85183020"
    assert latest["ORD-12"].status != "hold"
    assert "REASSESSED_AFTER_INSPECTION" in {r.code for r in latest["ORD-12"].reasons}
    assert await db.fetchval("SELECT count(*) FROM inspections") == 3
    assert await db.fetchval("SELECT count(*) FROM orders WHERE status = 'hold'") == 0


async def test_risk_history_comes_from_storage(settings: Settings, db: asyncpg.Connection) -> None:
    first = order(40, seller={"id": "brand-new", "name": "New Seller", "country": "CN"})
    await produce(settings, "orders.v1", [(key_of(first), encoded(first))])
    [decision] = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 1)]
    assert decision.risk.signals == []  # the platform is never told which signals fired
    assert "NEW_SELLER" in (await stored_decision(db, decision.decision_id)).risk.signals
    second = order(41, seller={"id": "brand-new", "name": "New Seller", "country": "CN"})
    await produce(settings, "orders.v1", [(key_of(second), encoded(second))])
    decisions = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 2)]
    latest = await stored_decision(db, decisions[-1].decision_id)
    assert "NEW_SELLER" not in latest.risk.signals  # seen in PostgreSQL now
