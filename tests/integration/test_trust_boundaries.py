"""Trust boundaries on the real broker and database (issue #20): what a platform may not do to
an officer's parcel or to another platform, and the same person planned by two workers at once.

Each test here failed on the code before issue #20 (the report of the branch says how)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from clearance.adapters.kafka import ensure_topics
from clearance.adapters.postgres import migrate
from clearance.domain.parcels import BatchChanges, ParcelKey, ParcelState
from clearance.entrypoints.worker import run_worker
from clearance.messages import ClearanceDecision, decode_dead_letter, decode_decision
from clearance.settings import Settings, to_environment
from factories import encoded, key_of, order
from streams import (
    produce,
    read_topic,
    settings_for,
    stored_decision,
    wait_for,
    worker_in_process,
)

pytestmark = pytest.mark.integration


def held_order(n: int, **changes: Any) -> dict[str, Any]:
    """A VN parcel held for an officer: its line is not in the tariff (VN golden case 13). Its
    description agrees with its code, so no risk signal (``HS_CODE_MISMATCH``) adds to the hold."""
    body = order(n, currency="VND", **changes)
    body["items"][0].update(
        hs_code="61091000", description="cotton T-shirt", unit_price="400000", quantity=3
    )
    body["consignee"]["identity"] = {"type": "national_id", "number": f"00109900{n:04d}"}
    return body


def clean_amendment(n: int, revision: int = 2) -> dict[str, Any]:
    """The same parcel amended to a cheap, clean line: assessed, it would be released."""
    body = held_order(n, type="order.amended", event_id=f"evt-{n}-r{revision}", revision=revision)
    body["items"][0].update(
        hs_code="85183020", description="wireless in-ear earphones", unit_price="100000", quantity=1
    )
    return body


def cancellation(n: int, platform: str = "shopmart") -> dict[str, Any]:
    return {
        "type": "order.cancelled",
        "event_id": f"evt-{n}-cancel",
        "platform": platform,
        "order_id": f"ORD-{n}",
        "shipment_id": f"ORD-{n}-1",
        "occurred_at": "2026-11-21T09:00:00+07:00",
        "consignee_id": f"buyer-{n % 97}",
    }


def inspection(decision: ClearanceDecision, outcome: str, event_id: str) -> dict[str, Any]:
    return {
        "type": "inspection.result",
        "event_id": event_id,
        "platform": decision.platform,
        "order_id": decision.order_id,
        "shipment_id": decision.shipment_id,
        "decision_id": str(decision.decision_id),
        "officer_id": "officer-7",
        "occurred_at": "2026-11-21T09:00:00+07:00",
        "outcome": outcome,
    }


def records(*bodies: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    return [(key_of(body), encoded(body)) for body in bodies]


async def decisions(settings: Settings, count: int) -> list[ClearanceDecision]:
    return [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", count)]


async def as_stored(
    db: asyncpg.Connection, found: list[ClearanceDecision]
) -> list[ClearanceDecision]:
    """The decisions as officers read them: ``decisions.v1`` carries no risk detail."""
    return [await stored_decision(db, decision.decision_id) for decision in found]


def latest(found: Iterable[ClearanceDecision], order_id: str) -> ClearanceDecision:
    return max((d for d in found if d.order_id == order_id), key=lambda d: d.decision_revision)


def codes(decision: ClearanceDecision) -> list[str]:
    return [reason.code for reason in decision.reasons]


# --- a platform cannot undo an officer -------------------------------------------------------


@pytest.mark.usefixtures("running_worker")
async def test_a_platform_cannot_undo_a_seizure_or_a_hold(
    settings: Settings, db: asyncpg.Connection
) -> None:
    await produce(settings, "orders.v1", records(held_order(10), held_order(11)))
    first = await decisions(settings, 2)
    assert {d.status for d in first} == {"hold"}
    await produce(
        settings,
        "inspections.v1",
        [(b"k", encoded(inspection(latest(first, "ORD-10"), "seize", "insp-10")))],
    )
    seized = latest(await decisions(settings, 3), "ORD-10")
    assert seized.status == "refuse"

    # The platform amends the seized parcel to something harmless and cancels the held one.
    await produce(settings, "orders.v1", records(clean_amendment(10), cancellation(11)))
    after = await decisions(settings, 5)
    for order_id, status, why in (
        ("ORD-10", "refuse", "was seized after inspection"),
        ("ORD-11", "hold", "is held for inspection"),
    ):
        refused = latest(after, order_id)
        assert refused.status == status, order_id  # before #20: release_on_payment / cancelled
        assert refused.order_revision == 1
        assert codes(refused)[-1] == "PLATFORM_CHANGE_REFUSED"
        assert why in refused.reasons[-1].message
    row = await db.fetchrow("SELECT revision, status FROM orders WHERE order_id = 'ORD-10'")
    assert (row["revision"], row["status"]) == (1, "refuse")
    assert await db.fetchval("SELECT count(*) FROM consignee_totals WHERE order_id = 'ORD-11'") > 0

    # The officer answers the decision they were shown (before the refusal revised it).
    shown = next(d for d in first if d.order_id == "ORD-11")
    await produce(
        settings, "inspections.v1", [(b"k", encoded(inspection(shown, "release", "insp-11")))]
    )
    released = latest(await decisions(settings, 6), "ORD-11")
    assert released.status in {"release", "release_on_payment"}
    assert "RELEASED_AFTER_INSPECTION" in codes(released)


# --- a platform cannot speak for another -----------------------------------------------------


@contextlib.asynccontextmanager
async def worker_for(settings: Settings) -> AsyncIterator[None]:
    await migrate(settings.database_url, schema=settings.database_schema)
    await ensure_topics(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=25)


@pytest.mark.parametrize("listed", [True, False], ids=["listed-platforms", "topic-pattern"])
async def test_a_record_on_one_platforms_topic_cannot_touch_anothers_parcels(
    kafka_bootstrap: str, database_url: str, unique_name: str, listed: bool
) -> None:
    settings = settings_for(
        kafka_bootstrap,
        database_url,
        unique_name,
        order_topics="per-platform",
        platforms="shopmart,quickcart",
    )
    if not listed:  # topics made first; the worker finds them by their names
        await ensure_topics(settings)
        settings = settings_for(
            kafka_bootstrap, database_url, unique_name, order_topics="per-platform"
        )
        assert settings.consumed_topics()[1] is not None
    theirs = order(1, platform="quickcart")
    async with worker_for(settings):
        await produce(settings, "orders.v1.quickcart", records(theirs))
        [placed] = await decisions(settings, 1)
        assert placed.platform == "quickcart"
        # shopmart's principal may write only orders.v1.shopmart: there it claims quickcart
        spoofed = [
            cancellation(1, platform="quickcart"),
            {**theirs, "event_id": "evt-1-r2", "type": "order.amended", "revision": 2},
        ]
        spoofed[0]["consignee_id"] = theirs["consignee"]["id"]
        await produce(settings, "orders.v1.shopmart", records(*spoofed))
        letters = await read_topic(settings, "orders.v1.dlt", 2)
        found = await decisions(settings, 1)
    assert [decode_dead_letter(r.value).error.code for r in letters] == ["PLATFORM_MISMATCH"] * 2
    assert {decode_dead_letter(r.value).source_topic for r in letters} == {
        settings.orders_topic("shopmart")
    }
    assert [(d.order_id, d.decision_revision, d.status) for d in found] == [
        (placed.order_id, 1, placed.status)
    ]


# --- the same person planned by two workers at once ------------------------------------------


class RacingStore:
    """The real parcel store, but each worker's first write waits until the other worker has
    planned its batch too: both plans read the running totals before either is stored."""

    def __init__(self, inner: Any, barrier: asyncio.Barrier) -> None:
        self.inner = inner
        self.barrier = barrier
        self.raced = False

    async def load_parcels(self, keys: Iterable[ParcelKey]) -> dict[ParcelKey, ParcelState]:
        found: dict[ParcelKey, ParcelState] = await self.inner.load_parcels(keys)
        return found

    async def load_totals(self, keys: Iterable[str]) -> list[tuple[str, ParcelKey, Decimal]]:
        found: list[tuple[str, ParcelKey, Decimal]] = await self.inner.load_totals(keys)
        return found

    async def risk_history(self, *args: Any) -> Any:
        return await self.inner.risk_history(*args)

    async def stored_decisions(self, *args: Any) -> Any:
        return await self.inner.stored_decisions(*args)

    async def write(self, plan: BatchChanges) -> None:
        if plan.outgoing and not self.raced:
            self.raced = True
            await asyncio.wait_for(self.barrier.wait(), timeout=30)
        await self.inner.write(plan)


def racing_worker(
    settings: Settings, barrier: asyncio.Barrier
) -> contextlib.AbstractAsyncContextManager[None]:
    return worker_in_process(settings, parcels=lambda store: RacingStore(store, barrier))


def half_of_a_split_purchase(platform: str) -> dict[str, Any]:
    """USD 25 of earphones to Viet Nam (about VND 660,000, under the VND 1,000,000 relief on its
    own), one person (the same identity) buying on two platforms, one master air waybill."""
    body = order(1 if platform == "shopmart" else 2, platform=platform, shipping_cost="0")
    body["items"][0]["unit_price"] = "25.00"
    body["consignee"]["identity"] = {"type": "national_id", "number": "001099012345"}
    return body


async def test_two_workers_deciding_the_same_person_at_once_cannot_both_pass_a_split_purchase(
    kafka_bootstrap: str, database_url: str, unique_name: str, db: asyncpg.Connection
) -> None:
    # Two workers on one database, each owning other partitions (here: other topics), as two
    # members of a group do; the person's two halves reach them at the same moment.
    shared = {"database_schema": unique_name}
    one, two = (
        settings_for(
            kafka_bootstrap,
            database_url,
            unique_name,
            topic_prefix=f"{unique_name}.{side}.",
            consumer_group=f"{unique_name}-{side}",
            **shared,
        )
        for side in ("a", "b")
    )
    await migrate(database_url, schema=unique_name)
    for settings in (one, two):
        await ensure_topics(settings)
    barrier = asyncio.Barrier(2)
    async with racing_worker(one, barrier), racing_worker(two, barrier):
        await asyncio.gather(
            produce(one, "orders.v1", records(half_of_a_split_purchase("shopmart"))),
            produce(two, "orders.v1", records(half_of_a_split_purchase("quickcart"))),
        )
        [first] = await decisions(one, 1)
        [second] = await decisions(two, 1)
    outcomes = sorted(
        "DUTY_DE_MINIMIS" in codes(d) and "CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD" not in codes(d)
        for d in (first, second)
    )
    assert outcomes == [False, True], [codes(first), codes(second)]  # before #20: both passed
    stored = await db.fetch("SELECT order_id, count(*) FROM decisions GROUP BY 1")
    assert sorted(row[1] for row in stored) == [1, 1]  # the loser was planned again, stored once


# --- velocity: one platform's customers, the service's clock ---------------------------------


def same_person(
    n: int, platform: str, identity: str = "001099055555", **changes: Any
) -> dict[str, Any]:
    body = order(n, platform=platform, **changes)
    body["consignee"]["identity"] = {"type": "national_id", "number": identity}
    body["consignee"]["id"] = f"{platform}-buyer"
    return body


@pytest.mark.usefixtures("running_worker")
async def test_velocity_never_counts_another_platforms_parcels(
    settings: Settings, db: asyncpg.Connection
) -> None:
    # VN raises CONSIGNEE_VELOCITY from a consignee's 5th parcel in a day.
    await produce(settings, "orders.v1", records(*(same_person(n, "quickcart") for n in range(5))))
    busy = await as_stored(db, await decisions(settings, 5))
    assert "CONSIGNEE_VELOCITY" in busy[-1].risk.signals  # on its own platform, it counts
    await produce(settings, "orders.v1", records(same_person(9, "shopmart")))
    mine = latest(await as_stored(db, await decisions(settings, 6)), "ORD-9")
    assert "CONSIGNEE_VELOCITY" not in mine.risk.signals  # before #20: quickcart's five counted


@pytest.mark.usefixtures("running_worker")
async def test_a_backdated_order_does_not_inflate_velocity_for_its_batch(
    settings: Settings, db: asyncpg.Connection
) -> None:
    earlier = [same_person(n, "shopmart", "001099066666") for n in range(4)]
    await produce(settings, "orders.v1", records(*earlier))
    await decisions(settings, 4)
    # Those four were sent, and first seen, days ago (occurred_at is the platform's claim).
    await db.execute("UPDATE orders SET occurred_at = timestamptz '2026-11-10T10:00:00+07:00'")
    await db.execute("UPDATE orders SET first_seen_at = now() - interval '3 days'")
    # One batch: the same person's new parcel, and another's order backdated by years (one key,
    # so one partition and one fetch).
    backdated = order(50, occurred_at="2020-01-01T00:00:00+07:00")
    new = same_person(60, "shopmart", "001099066666")
    await produce(
        settings, "orders.v1", [(key_of(new), encoded(backdated)), (key_of(new), encoded(new))]
    )
    found = await as_stored(db, await decisions(settings, 6))
    assert "CONSIGNEE_VELOCITY" not in latest(found, "ORD-60").risk.signals


# --- limits ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("running_worker")
async def test_a_parcels_row_keeps_a_bounded_list_of_event_ids(
    settings: Settings, db: asyncpg.Connection
) -> None:
    placed = order(1, revision=100)
    stale = [
        order(1, type="order.amended", event_id=f"evt-1-old-{n}", revision=2) for n in range(70)
    ]
    await produce(settings, "orders.v1", records(placed, *stale))
    await decisions(settings, 1)
    count = await wait_for(db, "SELECT cardinality(event_ids) FROM orders", 64)
    await asyncio.sleep(1)  # let every stale amendment arrive
    assert await db.fetchval("SELECT cardinality(event_ids) FROM orders") == 64 == count
    await produce(settings, "orders.v1", records(stale[-1]))  # a redelivery: still skipped
    await asyncio.sleep(1)
    assert await db.fetchval("SELECT count(*) FROM decisions") == 1


async def clearance(settings: Settings, *args: str) -> tuple[int, str, str]:
    """``clearance ARGS`` as an operator runs it: (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clearance",
        *args,
        env=to_environment(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


# --- the AEO registry --------------------------------------------------------------------------


@pytest.mark.usefixtures("running_worker")
async def test_only_the_administrations_registry_makes_a_seller_trusted(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    registry = tmp_path / "aeo.csv"
    registry.write_text(
        "certificate,platform,seller_id,valid_from,valid_until,issued_by\n"
        "VNAEO-2025-0001,shopmart,registered,2025-01-01,,VN\n"
        "VNAEO-2019-0002,shopmart,lapsed,2019-01-01,2024-12-31,VN\n"
    )
    loaded = await clearance(settings, "aeo", "load", str(registry))
    assert loaded[0] == 0, loaded[2]
    assert "2 certificates of 2 sellers" in loaded[1]
    sellers = {
        "registered": {"id": "registered", "name": "R", "country": "CN"},
        "lapsed": {"id": "lapsed", "name": "L", "country": "CN", "aeo": True},
        "claims": {"id": "claims", "name": "C", "country": "CN", "aeo": True},
    }
    bodies = [order(n, seller=seller) for n, seller in enumerate(sellers.values())]
    await produce(settings, "orders.v1", records(*bodies))
    scores = {d.order_id: d.risk.score for d in await as_stored(db, await decisions(settings, 3))}
    weight = scores["ORD-2"]  # a new seller, its claim ignored
    assert weight > 0
    assert scores["ORD-1"] == weight  # lapsed: the certificate ended before the assessment date
    assert scores["ORD-0"] == max(0, weight - 30)  # the VN pack's aeo_discount
    listed = await clearance(settings, "aeo", "list")
    assert "VNAEO-2025-0001  shopmart  registered  2025-01-01..-  VN" in listed[1]
    bad = tmp_path / "bad.csv"
    bad.write_text("certificate,platform,seller_id,valid_from,valid_until\nX,shopmart,s,soon,\n")
    refused = await clearance(settings, "aeo", "load", str(bad))
    assert refused[0] == 2 and "line 2: valid_from 'soon'" in refused[2]
    assert await db.fetchval("SELECT count(*) FROM aeo_certificates") == 2  # left as it was
