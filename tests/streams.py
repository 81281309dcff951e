"""Helpers for tests on the real broker and database: per-test settings, produce, read, poll."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from clearance import bootstrap
from clearance.adapters.kafka import security_options, send_records
from clearance.adapters.postgres import KeyStore, connect
from clearance.domain.access import NewKey
from clearance.entrypoints.worker import Worker
from clearance.health import Health
from clearance.messages import ClearanceDecision, decode_decision
from clearance.metrics import Metrics
from clearance.service.access import open_session
from clearance.service.assessing import Assessor
from clearance.service.ports import ParcelStore, Publisher
from clearance.settings import Settings, load_settings, to_environment


def settings_for(kafka: str, database_url: str, name: str, **overrides: Any) -> Settings:
    """Settings for one test: its own topics, group and schema; fast group joins and fetches."""
    values: dict[str, Any] = {
        "environment": "test",
        "kafka_bootstrap_servers": kafka,
        "database_url": database_url,
        "topic_prefix": f"{name}.",
        "consumer_group": name,
        "database_schema": name,
        "partitions": 4,
        "enable_idempotence": False,
        "session_timeout_ms": 1000,
        "heartbeat_interval_ms": 200,
        "fetch_max_wait_ms": 20,
        "ops_port": 0,
    }
    values.update(overrides)
    return load_settings({}, **values)


async def produce(
    settings: Settings,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Send ``(key, value)`` records to ``topic`` (prefixed) and wait for the acks."""
    await send_records(settings.kafka_bootstrap_servers, settings.topic(topic), records, headers)


async def read_topic(settings: Settings, topic: str, count: int, within: float = 30.0) -> list[Any]:
    """Read ``topic`` from the beginning until ``count`` records (or the timeout) are seen.

    Counts records rather than trusting end offsets (the embedded broker reports them wrong).
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        **security_options(settings),  # TLS and SASL when the settings speak them
    )
    await consumer.start()
    try:
        name = settings.topic(topic)
        partitions = consumer.partitions_for_topic(name) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(name) or set()
        tps = [TopicPartition(name, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + within
        while len(records) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=100)
            for messages in batch.values():
                records.extend(messages)
        # Anything beyond the count (duplicates, redelivered decisions) until the topic is quiet:
        # one fetch more could leave part of a redelivered tail unread.
        grace = time.monotonic() + 10
        while time.monotonic() < grace:
            extra = await consumer.getmany(timeout_ms=300)
            if not extra:
                break
            for messages in extra.values():
                records.extend(messages)
        return records
    finally:
        await consumer.stop()


async def wait_for(
    connection: asyncpg.Connection, query: str, expected: int, within: float = 30.0
) -> int:
    """Poll ``query`` (a count) until it reaches ``expected`` or the timeout; returns the last."""
    deadline = time.monotonic() + within
    value = -1
    while time.monotonic() < deadline:
        value = int(await connection.fetchval(query))
        if value >= expected:
            return value
        await asyncio.sleep(0.1)
    return value


async def stored_decision(
    connection: asyncpg.Connection, decision_id: uuid.UUID
) -> ClearanceDecision:
    """The whole decision as stored (what an officer reads; ``decisions.v1`` has the platform's
    view, without the risk detail)."""
    query = "SELECT body FROM decisions WHERE decision_id = $1"
    return decode_decision(await connection.fetchval(query, decision_id))


@contextlib.asynccontextmanager
async def worker_in_process(
    settings: Settings,
    *,
    parcels: Callable[[ParcelStore], ParcelStore] = lambda store: store,
    publisher: Callable[[Publisher], Publisher] = lambda publisher: publisher,
    metrics: Metrics | None = None,
) -> AsyncIterator[None]:
    """A worker in this process whose real parcel store or publisher a test wraps (to hold a
    write at a barrier, to have the broker refuse a send); stopped as SIGTERM stops one."""
    db = await bootstrap.open_database(settings)
    producer = bootstrap.kafka_producer(settings)
    consumer = bootstrap.kafka_consumer(settings)
    await producer.start()
    await consumer.start()
    worker = Worker(
        settings,
        parcels=parcels(db.parcels),
        publisher=publisher(bootstrap.publisher(producer, settings)),
        assessor=Assessor(settings.identity_key),
        consumer=consumer,
        metrics=metrics or Metrics(),
        health=Health(),
        faults=bootstrap.faults,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=25)
        await consumer.stop()
        await producer.stop()
        await db.close()


def start_worker_process(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """``clearance worker`` as a child process (as in production), its output added to ``log``."""
    with log.open("ab") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "clearance", "worker"],
            env={**to_environment(settings), "OTEL_SDK_DISABLED": "true"},
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


async def console_session(settings: Settings, key: NewKey) -> str:
    """Make ``key`` (stored with its token) and open a console session of it, as signing in
    would; returns the session's token, for the console's cookie."""
    pool = await connect(settings.database_url, schema=settings.database_schema)
    try:
        keys = KeyStore(pool)
        await keys.create_api_key(key)
        token, _ = await open_session(keys, key.key)
        return token
    finally:
        await pool.close()
