"""``clearance bench --console``: the officer console's pages with 100,000 parcels in the queue.

A generated stream (``clearance generate``'s orders, seed 7) is stored through the worker's own
plan-and-write path (``stored_stream``), batch by batch, with decision times spread over the
last three days, until ``held`` parcels are held or need information (about a third of the
stream). Then a real ``clearance api`` process serves the console on the embedded database and
broker (or ``DATABASE_URL``/``KAFKA_BOOTSTRAP_SERVERS``) and each page is fetched over HTTP by an
officer, one request at a time: the first page, a page deep in the queue (its keyset cursor from
the middle of the queue), each sort, each filter, the searches, a master bill and the dashboard.
The figure is the whole answer, as a browser waits for it: the queries, the page rendered, HTTP
on loopback.

It also times the worker's write with and without the queue's indexes (migration 0006), on the
same batches, so the cost they add to every parcel stored is measured too.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from clearance.adapters.postgres import ParcelStore
from clearance.domain.parcels import BatchChanges

__all__ = ["run_console_bench"]

#: Requests per page measured, after two to warm up.
REQUESTS = 20
#: The queue's indexes of migration 0006 (dropped in a copy of the schema to time the write
#: without them).
QUEUE_INDEXES = (
    "orders_queue_age",
    "orders_queue_risk",
    "orders_queue_channel",
    "orders_queue_destination",
    "orders_queue_platform",
    "orders_queue_reasons",
    "orders_queue_signals",
    "orders_queue_counts",
    "orders_master_bill",
    "orders_tracking_number",
)


def run_console_bench(held: int = 100_000, seed: int = 7) -> dict[str, Any]:
    """Fill the queue to ``held`` parcels, then time each console page over HTTP."""
    from clearance.devtools.devstack import servers

    with servers() as (kafka, database):
        filled = asyncio.run(_fill(database, held, seed))
        write = asyncio.run(_write_cost(database, seed))
        reads = asyncio.run(_time_reads(database, filled))
        pages = _time_pages(kafka, database, filled)
    sizes = {"bill_parcels": filled["bill_parcels"], "middle_position": filled["middle_position"]}
    return {"benchmark": "console", **filled["counts"], **sizes, **write, **reads, **pages}


async def _fill(database: str, held: int, seed: int) -> dict[str, Any]:
    from clearance.adapters.postgres import KeyStore, connect, migrate
    from clearance.devtools.generator import generate_events
    from clearance.devtools.stored_stream import store_events
    from clearance.domain.packs import PackRegistry
    from clearance.service.access import new_key, open_session
    from clearance.service.assessing import Assessor
    from clearance.settings import DEV_IDENTITY_KEY

    await migrate(database)
    pool = await connect(database)
    assessor = Assessor(DEV_IDENTITY_KEY, PackRegistry.bundled())
    # About a third of the stream waits in the queue; generate enough in one go (the generator
    # is deterministic over the whole stream), store it in slices until the queue is full.
    events = generate_events(int(held * 3.3), seed=seed)
    start = datetime.now(UTC) - timedelta(days=3)
    batch, step = 1_000, timedelta(days=3) / (len(events) / 1_000)
    started = time.perf_counter()
    queued, stored = 0, 0
    async with pool.acquire() as connection:
        for offset in range(0, len(events), 50_000):
            chunk = events[offset : offset + 50_000]
            first = offset // batch
            clock = _spread(start + step * first, step)
            await store_events(ParcelStore(pool), assessor, chunk, batch=batch, clock=clock)
            stored += len(chunk)
            queued = await connection.fetchval(
                "SELECT count(*) FROM orders WHERE status IN ('hold', 'needs_information')"
            )
            if queued >= held:
                break
        # As autovacuum leaves a table: statistics, and the visibility map that lets the counts
        # read their index alone.
        await connection.execute("VACUUM ANALYZE")
        counts = {
            "events_stored": stored,
            "parcels": await connection.fetchval("SELECT count(*) FROM orders"),
            "queued": queued,
            "store_seconds": round(time.perf_counter() - started, 1),
        }
        probes = await _probes(connection)
    officer = new_key("officer")
    await KeyStore(pool).create_api_key(officer)
    session, _ = await open_session(KeyStore(pool), officer.key)
    await pool.close()
    return {"counts": counts, "session": session, **probes}


class _TimedStore(ParcelStore):
    """The parcel store, timing its batch writes."""

    seconds = 0.0

    async def write(self, plan: BatchChanges) -> None:
        started = time.perf_counter()
        await super().write(plan)
        self.seconds += time.perf_counter() - started


def _spread(start: datetime, step: timedelta) -> Callable[[int], datetime]:
    """Decision times of successive batches, ``step`` apart from ``start``."""
    return lambda batch: start + step * batch


async def _probes(connection: asyncpg.Connection) -> dict[str, Any]:
    """Values to ask for: a cursor in the middle of the queue, a tracking number, an order id,
    the largest master bill."""
    middle = await connection.fetchval(
        "SELECT count(*) / 2 FROM orders WHERE status IN ('hold', 'needs_information')"
    )
    row = await connection.fetchrow(
        "SELECT decided_at, platform, order_id, shipment_id, tracking_number FROM orders"
        " WHERE status IN ('hold', 'needs_information')"
        " ORDER BY decided_at, platform, order_id, shipment_id OFFSET $1 LIMIT 1",
        middle,
    )
    bill, size = await connection.fetchrow(
        "SELECT master_bill, count(*) FROM orders WHERE destination = 'VN' GROUP BY 1"
        " ORDER BY count(*) DESC LIMIT 1"
    )
    return {"middle": row, "middle_position": middle + 1, "bill": bill, "bill_parcels": size}


async def _write_cost(database: str, seed: int, orders: int = 10_000) -> dict[str, Any]:
    """The parcel store's write (one transaction per batch of 1,000) per order, into a fresh
    schema with the queue's indexes and without them (the same batches; the best of two)."""
    from clearance.adapters.postgres import connect, migrate
    from clearance.devtools.generator import generate_events
    from clearance.devtools.stored_stream import store_events
    from clearance.domain.packs import PackRegistry
    from clearance.service.assessing import Assessor
    from clearance.settings import DEV_IDENTITY_KEY

    assessor = Assessor(DEV_IDENTITY_KEY, PackRegistry.bundled())
    events = generate_events(orders, seed=seed + 1)
    spent: dict[str, float] = {}
    for attempt in range(2):
        for label, drop in (("with", False), ("without", True)):
            schema = f"bench_write_{label}_{attempt}"
            await migrate(database, schema=schema)
            pool = await connect(database, schema=schema)
            if drop:
                async with pool.acquire() as connection:
                    for index in QUEUE_INDEXES:
                        await connection.execute(f"DROP INDEX {index}")
            store = _TimedStore(pool)
            await store_events(store, assessor, events, batch=1_000)
            spent[label] = min(spent.get(label, float("inf")), store.seconds)
            await pool.close()
    return {
        "write_us_per_order_with_queue_indexes": round(spent["with"] / orders * 1e6, 1),
        "write_us_per_order_without_queue_indexes": round(spent["without"] / orders * 1e6, 1),
    }


#: The filters whose reads are timed in-process (the page query and the counts, apart).
READS = {
    "all": {},
    "reason_common": {"reason": "TARIFF_RATE_UNKNOWN"},
    "signal": {"signal": "UNDERVALUATION_SUSPECTED"},
    "combined": {"destination": "VN", "reason": "MISSING_HS_CODE", "sort": "risk"},
}


async def _time_reads(database: str, filled: dict[str, Any]) -> dict[str, Any]:
    """The queue's two reads timed apart (``ReadViews``, no HTTP): one page, and counting
    afresh what the page's counts show (what the first view of a filter pays; paging then
    reads them from the console's 15-second store)."""
    from clearance.adapters.postgres import ReadViews, connect
    from clearance.domain.views import QueueFilter

    pool = await connect(database)
    views = ReadViews(pool)
    results: dict[str, Any] = {}
    try:
        for name, values in READS.items():
            filters = QueueFilter(**values)  # type: ignore[arg-type]
            for label, read in (
                ("page", lambda f=filters: views.queue_page(f)),
                ("counts", lambda f=filters: views.queue_counts(f)),
            ):
                timings = []
                for attempt in range(REQUESTS + 2):
                    started = time.perf_counter()
                    await read()
                    if attempt >= 2:
                        timings.append((time.perf_counter() - started) * 1000)
                results[f"read_{name}_{label}_ms_p50"] = round(statistics.median(timings), 1)
    finally:
        await pool.close()
    return results


def _time_pages(kafka: str, database: str, filled: dict[str, Any]) -> dict[str, Any]:
    from clearance.devtools.bench_api import running_api
    from clearance.entrypoints.http.controllers.console_queue import encode_cursor
    from clearance.entrypoints.http.dependencies import CONSOLE_COOKIE

    middle = filled["middle"]
    cursor = encode_cursor(
        (middle["decided_at"], middle["platform"], middle["order_id"], middle["shipment_id"])
    )
    pages = {
        "first_page": "/console/queue",
        "deep_page": f"/console/queue?after={cursor}",
        "newest_first": "/console/queue?sort=newest",
        "risk_sort": "/console/queue?sort=risk",
        "channel_sort": "/console/queue?sort=channel",
        "destination_sort": "/console/queue?sort=destination",
        "reason_common": "/console/queue?reason=TARIFF_RATE_UNKNOWN",
        "reason_rare": "/console/queue?reason=RESTRICTED_GOODS",
        "signal": "/console/queue?signal=UNDERVALUATION_SUSPECTED",
        "destination_de": "/console/queue?destination=DE",
        "channel_red": "/console/queue?channel=red",
        "waiting_over_24h": "/console/queue?age=24h",
        "filters_combined": "/console/queue?destination=VN&reason=MISSING_HS_CODE&sort=risk",
        "search_tracking": f"/console/queue?q={middle['tracking_number']}",
        "search_order": f"/console/queue?q={middle['order_id']}",
        "master_bill": f"/console/master-bills/{filled['bill']}",
        "dashboard": "/console/dashboard",
    }
    env = {
        "DATABASE_URL": database,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "CLEARANCE_ENABLE_IDEMPOTENCE": "false",  # the embedded broker lacks it
    }
    results: dict[str, Any] = {}
    with running_api(env) as base, httpx.Client(base_url=base) as client:
        client.cookies.set(CONSOLE_COOKIE, filled["session"])
        for name, path in pages.items():
            timings = []
            for attempt in range(REQUESTS + 2):
                started = time.perf_counter()
                answer = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 200:
                    raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
                if attempt >= 2:
                    timings.append(elapsed)
            timings.sort()
            results[f"{name}_ms_p50"] = round(statistics.median(timings), 1)
            results[f"{name}_ms_p95"] = round(timings[int(0.95 * (len(timings) - 1))], 1)
    return results
