"""The streaming worker: orders and inspections in, decisions stored and published.

``run_worker`` wires a ``Worker`` (``loop``) to its ports through ``clearance.bootstrap`` and runs
it until asked to stop, then drains and closes everything in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from clearance import bootstrap
from clearance.entrypoints.worker.loop import Faults, Worker
from clearance.health import Health, serve_ops
from clearance.metrics import Metrics
from clearance.service.assessing import Assessor
from clearance.settings import Settings

__all__ = ["Faults", "Worker", "run_worker"]

log = logging.getLogger("clearance.entrypoints.worker")


#: Each shutdown step gets this long, so SIGTERM to exit stays inside the 25 s budget.
STEP_SECONDS = 3.0
#: How often a worker started before its migrations looks at the schema again.
SCHEMA_POLL_SECONDS = 2.0


async def _within(step: Awaitable[None], what: str) -> None:
    try:
        await asyncio.wait_for(step, timeout=STEP_SECONDS)
    except TimeoutError:
        log.error("shutdown step timed out", extra={"step": what})


async def _schema_ready(db: bootstrap.Database, stop: asyncio.Event) -> bool:
    """Wait until the migrations this code expects are applied (the migration Job may still be
    running when a new worker starts): never join the group with an older schema."""
    while not await db.schema_is_current():
        log.warning("waiting for the database migrations (clearance migrate)")
        try:
            await asyncio.wait_for(stop.wait(), timeout=SCHEMA_POLL_SECONDS)
            return False
        except TimeoutError:
            continue
    return True


async def run_worker(
    settings: Settings,
    stop: asyncio.Event,
    *,
    create_topics: bool = False,
    apply_migrations: bool = False,
    metrics: Metrics | None = None,
) -> None:
    """Run one worker until ``stop`` is set; then drain, close everything and return.

    ``create_topics`` and ``apply_migrations`` are for ``clearance dev`` and small installations;
    in production the migration Job and the platform's topic resources do both.
    """
    if apply_migrations:
        await bootstrap.migrate(settings)
    if create_topics:
        await bootstrap.create_topics(settings)
    metrics, health = metrics or Metrics(), Health()
    ops = await serve_ops(health, metrics, settings.ops_host, settings.ops_port)
    log.info("ops listener", extra={"port": ops.sockets[0].getsockname()[1]})
    db = await bootstrap.open_database(settings)
    health.add_startup_check("schema_current", db.schema_is_current)
    ready = False
    try:
        ready = await _schema_ready(db, stop)  # raises when an applied migration was changed
    finally:
        if not ready:
            await db.close()
            ops.close()
            await ops.wait_closed()
    if not ready:
        return
    producer = bootstrap.kafka_producer(settings)
    consumer = bootstrap.kafka_consumer(settings)
    await producer.start()
    await consumer.start()
    health.add_check("database", db.ping)
    engine = Assessor(settings.identity_key, sample_key=settings.sample_key)
    bootstrap.settle_memory(young_collection_every=bootstrap.WORKER_YOUNG_COLLECTION_EVERY)
    worker = Worker(
        settings,
        parcels=db.parcels,
        publisher=bootstrap.publisher(producer, settings),
        assessor=engine,
        consumer=consumer,
        metrics=metrics,
        health=health,
        faults=bootstrap.faults,
    )
    try:
        await worker.run(stop)
    finally:
        # Leave the group first so the partitions move on at once, then flush what is queued.
        log.info("leaving the consumer group")
        await _within(consumer.stop(), "leaving the consumer group")
        log.info("flushing the producer")
        await _within(producer.stop(), "flushing the producer")
        await _within(db.close(), "closing the database pool")
        ops.close()
        await ops.wait_closed()
