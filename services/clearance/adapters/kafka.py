"""Kafka: the topics, and consumers and producers configured the one way the service uses them.

The embedded broker (Tansu) cannot add partitions to a topic, so topics are created up front with
their final partition count. It also refuses idempotent producers: ``enable_idempotence`` is a
setting, true for Apache Kafka and false under ``clearance dev`` and the tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from clearance.settings import Settings

__all__ = [
    "DEAD_LETTERS",
    "DECISIONS",
    "INSPECTIONS",
    "MAX_MESSAGE_BYTES",
    "ORDERS",
    "TOPICS",
    "ensure_topics",
    "make_consumer",
    "make_producer",
    "message_headers",
    "read_until_idle",
    "send_records",
]

log = logging.getLogger(__name__)

ORDERS = "orders.v1"
DECISIONS = "decisions.v1"
INSPECTIONS = "inspections.v1"
DEAD_LETTERS = "orders.v1.dlt"
TOPICS = (ORDERS, DECISIONS, INSPECTIONS, DEAD_LETTERS)

#: Largest record the service reads or writes: a poison payload of a few MB must still reach the
#: dead-letter topic intact (orders themselves are limited to 1 MiB, see ``processing``).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


async def ensure_topics(settings: Settings, names: Iterable[str] = TOPICS) -> list[str]:
    """Create the service's topics (with ``settings.partitions``) when missing; returns those made.

    On Apache Kafka in production the topics usually come from the platform (Strimzi
    ``KafkaTopic``); this is for ``clearance dev``, tests and small installations.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.topic(name) for name in names]
        missing = [name for name in wanted if name not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(name, settings.partitions, replication_factor=1) for name in missing]
            )
            log.info("created topics", extra={"topics": missing, "partitions": settings.partitions})
        return missing
    finally:
        await admin.close()


def make_consumer(
    settings: Settings, *, group_id: str | None = None, client_id: str = "clearance-worker"
) -> AIOKafkaConsumer:
    """A consumer in the worker's group: manual commits, bounded batches, large records allowed."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id or settings.consumer_group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.batch_size,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
        fetch_max_bytes=4 * MAX_MESSAGE_BYTES,
    )


def make_producer(settings: Settings, *, client_id: str = "clearance") -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas and batches briefly (``linger_ms``)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.enable_idempotence,
        linger_ms=settings.linger_ms,
        max_batch_size=256 * 1024,
        max_request_size=MAX_MESSAGE_BYTES,
    )


def message_headers(
    message_type: str, trace_headers: Iterable[tuple[str, bytes]] = ()
) -> list[tuple[str, bytes]]:
    """Kafka headers for a contract message (a list: aiokafka's tracing rejects tuples)."""
    return [
        *trace_headers,
        ("content-type", b"application/json"),
        ("message-type", message_type.encode()),
    ]


async def send_records(
    bootstrap_servers: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Send ``(key, value)`` records as a platform would and wait for every acknowledgement."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        linger_ms=10,
        max_batch_size=256 * 1024,
        max_request_size=MAX_MESSAGE_BYTES,
    )
    await producer.start()
    try:
        sent = [await producer.send(topic, value=v, key=k, headers=headers) for k, v in records]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def read_until_idle(
    bootstrap_servers: str, topic: str, idle_seconds: float = 1.0
) -> list[bytes]:
    """Every record value of ``topic`` from the beginning, until nothing new comes for
    ``idle_seconds`` (for the demo's summary; the embedded broker's end offsets cannot be trusted).
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not assigned:
            return []
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        values: list[bytes] = []
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_seconds * 1000))
            if not batch:
                return values
            values.extend(m.value for messages in batch.values() for m in messages if m.value)
    finally:
        await consumer.stop()
