"""The officers' queue, master-bill view and dashboard as the database reads them (migration
0010 and ``ReadViews``), on a generated stream stored by the worker's own write path: every sort
pages through exactly the queue, forwards and back; each filter, search and count agrees with
the stored decisions read one by one."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import asyncpg
import msgspec
import pytest

from clearance.adapters.postgres import ParcelStore, ReadViews, connect, migrate
from clearance.devtools.generator import generate_events
from clearance.devtools.stored_stream import store_events
from clearance.domain.packs import PackRegistry
from clearance.domain.views import QUEUE_SORTS, QUEUE_STATUSES, QueueFilter, QueueRow, QueueSort
from clearance.service.assessing import Assessor

pytestmark = pytest.mark.integration

#: The stream's batches are decided an hour apart, ending an hour ago.
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=12)
BATCHES = 11


def _clock(batch: int) -> datetime:
    return START + timedelta(hours=batch)


@dataclass
class Stored:
    views: ReadViews
    db: asyncpg.Connection
    queue: list[dict[str, Any]]
    """Every queued parcel as stored: key, columns and its decision's body."""


@pytest.fixture(scope="module")
async def stored(database_url: str) -> AsyncIterator[Stored]:
    schema = f"t{uuid.uuid4().hex[:12]}"
    await migrate(database_url, schema=schema)
    pool = await connect(database_url, schema=schema)
    assessor = Assessor("test-identity-key-0123", PackRegistry.bundled())
    events = generate_events(2_200, seed=3)
    await store_events(ParcelStore(pool), assessor, events, batch=200, clock=_clock)
    db = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    rows = await db.fetch(
        "SELECT o.*, d.body AS decision FROM orders o JOIN decisions d USING (decision_id)"
        " WHERE o.status IN ('hold', 'needs_information')"
    )
    queue = [{**dict(row), "decision": json.loads(row["decision"])} for row in rows]
    try:
        yield Stored(views=ReadViews(pool), db=db, queue=queue)
    finally:
        await db.close()
        await pool.close()


def _key(row: dict[str, Any]) -> tuple[object, ...]:
    return (row["platform"], row["order_id"], row["shipment_id"])


async def _walk(views: ReadViews, filters: QueueFilter, limit: int = 37) -> list[list[QueueRow]]:
    """Every page of the queue, first to last, following the next-page cursors."""
    pages = []
    page = await views.queue_page(filters, limit=limit)
    pages.append(page.rows)
    while page.has_next:
        page = await views.queue_page(filters, after=page.rows[-1].cursor, limit=limit)
        pages.append(page.rows)
    return pages


def test_the_stream_fills_the_queue(stored: Stored) -> None:
    assert len(stored.queue) > 500
    assert {row["status"] for row in stored.queue} == set(QUEUE_STATUSES)
    assert len({row["decided_at"] for row in stored.queue}) == BATCHES


@pytest.mark.parametrize("sort", QUEUE_SORTS)
async def test_each_sort_pages_through_the_whole_queue_in_order_and_back(
    stored: Stored, sort: QueueSort
) -> None:
    filters = QueueFilter(sort=sort)
    pages = await _walk(stored.views, filters)
    rows = [row for page in pages for row in page]
    keys = [(r.platform, r.order_id, r.shipment_id) for r in rows]
    assert sorted(keys) == sorted(_key(row) for row in stored.queue)  # each once, none missed
    cursors = [r.cursor for r in rows]
    assert cursors == sorted(cursors, reverse=sort == "newest")
    if sort == "risk":
        scores = [r.risk_score for r in rows]
        assert scores == sorted(scores, reverse=True)
    # Back from the last page, page by page, to the first: the same pages.
    back = pages[-1]
    for expected in reversed(pages[:-1]):
        page = await stored.views.queue_page(filters, before=back[0].cursor, limit=37)
        assert page.rows == expected and page.has_next
        back = page.rows
    assert not page.has_previous


@pytest.mark.parametrize(
    ("field", "pick"),
    [
        ("reason", lambda row: row["decision"]["reasons"][-1]["code"]),
        ("signal", lambda row: "UNDERVALUATION_SUSPECTED"),
        ("channel", lambda row: "red"),
        ("destination", lambda row: "DE"),
        ("platform", lambda row: "bazaarly"),
        ("status", lambda row: "needs_information"),
    ],
)
async def test_each_filter_keeps_exactly_the_matching_parcels(
    stored: Stored, field: str, pick: Callable[[dict[str, Any]], str]
) -> None:
    value = pick(stored.queue[0])
    expected = {_key(row) for row in stored.queue if _matches(row, field, value)}
    assert expected  # the stream has some of each
    filters = msgspec.convert({field: value}, QueueFilter)  # checked as a form would be
    rows = [row for page in await _walk(stored.views, filters) for row in page]
    assert {(r.platform, r.order_id, r.shipment_id) for r in rows} == expected
    counts = await stored.views.queue_counts(filters)
    assert counts.total == len(expected)


def _matches(row: dict[str, Any], field: str, value: object) -> bool:
    decision = row["decision"]
    assert isinstance(decision, dict)
    if field == "reason":
        return value in [reason["code"] for reason in decision["reasons"]]
    if field == "signal":
        return value in decision["risk"]["signals"]
    return bool(row[field] == value)


async def test_the_age_filter_keeps_the_parcels_decided_before_a_time(stored: Stored) -> None:
    before = _clock(4)
    rows = [r for p in await _walk(stored.views, QueueFilter(decided_before=before)) for r in p]
    expected = {_key(row) for row in stored.queue if row["decided_at"] < before}
    assert {(r.platform, r.order_id, r.shipment_id) for r in rows} == expected
    assert 0 < len(expected) < len(stored.queue)


async def test_the_counts_by_channel_status_and_reason_are_the_stored_decisions(
    stored: Stored,
) -> None:
    counts = await stored.views.queue_counts(QueueFilter())
    assert counts.total == len(stored.queue)
    assert counts.by_channel == Counter(row["channel"] for row in stored.queue)
    assert counts.by_status == Counter(row["status"] for row in stored.queue)
    reasons = Counter(  # parcels per reason: a reason on two lines of a parcel counts once
        code
        for row in stored.queue
        for code in {reason["code"] for reason in row["decision"]["reasons"]}
    )
    assert counts.by_reason == reasons
    assert any(
        len(row["decision"]["reasons"]) > len(row["reason_codes"]) for row in stored.queue
    )  # the stream has parcels with one reason on several lines
    assert list(counts.by_reason.values()) == sorted(reasons.values(), reverse=True)


async def test_search_finds_a_parcel_by_order_id_tracking_number_or_master_bill(
    stored: Stored,
) -> None:
    row = next(r for r in stored.queue if r["tracking_number"])
    for term in (row["order_id"], row["tracking_number"]):
        page = await stored.views.queue_page(QueueFilter(search=str(term)))
        assert [(r.platform, r.order_id, r.shipment_id) for r in page.rows] == [_key(row)]
    bill = str(row["master_bill"])
    in_queue = {_key(r) for r in stored.queue if r["master_bill"] == bill}
    page = await stored.views.queue_page(QueueFilter(search=bill), limit=500)
    assert {(r.platform, r.order_id, r.shipment_id) for r in page.rows} == in_queue
    found = await stored.views.find_parcels(bill)
    assert in_queue <= {key for key, _ in found}
    assert await stored.views.find_parcels("NO-SUCH-ORDER") == []


async def test_a_platform_sees_only_its_own_parcels_under_a_master_bill(stored: Stored) -> None:
    bill = str(stored.queue[0]["master_bill"])
    everyone, count = await stored.views.bill_parcels(bill)
    own, own_count = await stored.views.bill_parcels(bill, platform="shopmart")
    assert count == len(everyone) >= len(own) == own_count
    assert {p.platform for p in own} <= {"shopmart"}


async def test_the_master_bill_view_has_every_parcel_and_the_totals_that_tie_them(
    stored: Stored,
) -> None:
    bill = await stored.db.fetchval(
        "SELECT master_bill FROM orders WHERE destination = 'VN'"
        " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )
    parcels, count = await stored.views.bill_parcels(bill)
    stored_count = await stored.db.fetchval(
        "SELECT count(*) FROM orders WHERE master_bill = $1", bill
    )
    assert count == len(parcels) == stored_count > 5
    keys = {key for parcel in parcels for key in parcel.totals_keys}
    bill_keys = {key for key in keys if f":master_bill:{bill}:" in key}
    assert bill_keys  # the Vietnamese pack aggregates by master bill and consignee
    for parcel in parcels:
        mine = [k for k in parcel.totals_keys if f":master_bill:{bill}:" in k]
        if parcel.status != "cancelled":
            assert mine == [f"VN:master_bill:{bill}:{parcel.consignee_ref}"]
        assert parcel.descriptions and parcel.currency
    groups, amounts = await stored.views.bill_summary(bill)
    assert sum(groups.values()) == count
    live = [p for p in parcels if p.status != "cancelled"]
    assert amounts["VND"]["due"] == sum((p.total_due for p in live), Decimal(0))
    assert amounts["VND"]["customs_value"] == sum((p.customs_value for p in live), Decimal(0))
    capped, capped_count = await stored.views.bill_parcels(bill, limit=3)
    assert len(capped) == 3 and capped_count == count
    totals = {total.key: total for total in await stored.views.running_totals(sorted(keys))}
    for key in bill_keys:
        rows = await stored.db.fetch("SELECT value FROM consignee_totals WHERE key = $1", key)
        assert totals[key].value == sum((row["value"] for row in rows), Decimal(0))
        assert totals[key].parcels == len(rows) and totals[key].kind == "master_bill"


async def test_the_dashboard_counts_decisions_per_hour_by_channel(stored: Stored) -> None:
    end = datetime.now(UTC)
    figures = await stored.views.dashboard(START, end, end - timedelta(hours=24))
    rows = await stored.db.fetch("SELECT channel, count(*) FROM decisions GROUP BY 1")
    assert figures.by_channel == {row["channel"]: row["count"] for row in rows}
    assert len({hour for hour, _, _ in figures.decided_per_hour}) == BATCHES
    assert all(hour.minute == 0 and hour.tzinfo for hour, _, _ in figures.decided_per_hour)
    assert figures.inspections == {}
    recent = await stored.views.dashboard(START, end, _clock(BATCHES - 3))
    assert len({hour for hour, _, _ in recent.decided_per_hour}) == 3
    later = await stored.views.dashboard(end, end + timedelta(hours=1), end)
    assert later.by_channel == {} and later.decided_per_hour == []


async def test_the_migration_fills_the_queue_columns_of_parcels_stored_before_it(
    stored: Stored,
) -> None:
    """Parcels stored by an earlier release get the values the worker now writes."""
    written = await stored.db.fetch(
        "SELECT platform, order_id, shipment_id, reason_codes, risk_signals, risk_score,"
        " master_bill, tracking_number FROM orders ORDER BY 1, 2, 3"
    )
    sql = resources.files("clearance.adapters.postgres") / "migrations" / "0006_console_queue.sql"
    backfill = next(
        statement
        for statement in sql.read_text(encoding="utf-8").split(";")
        if "UPDATE orders" in statement
    )
    async with stored.db.transaction():
        await stored.db.execute(
            "UPDATE orders SET reason_codes = '{}', risk_signals = '{}', risk_score = 0,"
            " master_bill = NULL, tracking_number = NULL"
        )
        await stored.db.execute(backfill)
        again = await stored.db.fetch(
            "SELECT platform, order_id, shipment_id, reason_codes, risk_signals, risk_score,"
            " master_bill, tracking_number FROM orders ORDER BY 1, 2, 3"
        )
    assert again == written
    assert any(row["reason_codes"] for row in written)
    assert all(row["tracking_number"] for row in written)
