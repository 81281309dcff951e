"""Composition root: settings -> adapters -> the worker, wired one way for every entry point."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import asyncpg

from clearance.adapters.kafka import ensure_topics, make_consumer, make_producer
from clearance.adapters.postgres import Store, connect, migrate, schema_is_current
from clearance.entrypoints.worker import Worker
from clearance.health import Health, serve_ops
from clearance.metrics import Metrics
from clearance.service.assessing import Assessor
from clearance.settings import Settings

__all__ = ["run_worker"]

log = logging.getLogger(__name__)


#: Each shutdown step gets this long, so SIGTERM to exit stays inside the 25 s budget.
STEP_SECONDS = 3.0
#: How often a worker started before its migrations looks at the schema again.
SCHEMA_POLL_SECONDS = 2.0


async def _within(step: Awaitable[None], what: str) -> None:
    try:
        await asyncio.wait_for(step, timeout=STEP_SECONDS)
    except TimeoutError:
        log.error("shutdown step timed out", extra={"step": what})


async def _schema_ready(pool: asyncpg.Pool, stop: asyncio.Event) -> bool:
    """Wait until the migrations this code expects are applied (the migration Job may still be
    running when a new worker starts): never join the group with an older schema."""
    while not await schema_is_current(pool):
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
    schema = settings.database_schema or None
    if apply_migrations:
        await migrate(settings.database_url, schema=schema)
    if create_topics:
        await ensure_topics(settings)
    metrics, health = metrics or Metrics(), Health()
    ops = await serve_ops(health, metrics, settings.ops_host, settings.ops_port)
    log.info("ops listener", extra={"port": ops.sockets[0].getsockname()[1]})
    pool = await connect(
        settings.database_url,
        schema=schema,
        statement_cache_size=settings.database_statement_cache_size,
    )
    health.add_startup_check("schema_current", lambda: schema_is_current(pool))
    if not await _schema_ready(pool, stop):
        await pool.close()
        ops.close()
        await ops.wait_closed()
        return
    producer = make_producer(settings)
    consumer = make_consumer(settings)
    await producer.start()
    await consumer.start()
    worker = Worker(
        settings,
        store=Store(pool),
        assessor=Assessor(settings.identity_key),
        consumer=consumer,
        producer=producer,
        metrics=metrics,
        health=health,
    )
    try:
        await worker.run(stop)
    finally:
        # Leave the group first so the partitions move on at once, then flush what is queued.
        log.info("leaving the consumer group")
        await _within(consumer.stop(), "leaving the consumer group")
        log.info("flushing the producer")
        await _within(producer.stop(), "flushing the producer")
        await _within(pool.close(), "closing the database pool")
        ops.close()
        await ops.wait_closed()
