"""Kafka: the topics, and consumers and producers configured the one way the service uses them.

The embedded broker (Tansu) cannot add partitions to a topic, so topics are created up front with
their final partition count. It also refuses idempotent producers: ``enable_idempotence`` is a
setting, true for Apache Kafka and false under ``clearance dev`` and the tests.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import DefaultPartitioner

from clearance.domain.parcels import Publication
from clearance.messages import (
    DEAD_LETTER_MAX_BYTES,
    DEAD_LETTERS,
    DECISIONS,
    INSPECTIONS,
    ORDERS,
    TOPICS,
    DeadLetter,
    InspectionResult,
    OrderEvent,
    encode,
)
from clearance.settings import Settings

__all__ = [
    "DEAD_LETTERS",
    "DEAD_LETTER_MAX_BYTES",
    "DECISIONS",
    "INSPECTIONS",
    "KAFKA_DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_MESSAGE_BYTES",
    "ORDERS",
    "TOPICS",
    "TOPIC_SPECS",
    "KafkaPublisher",
    "TopicSpec",
    "ensure_topics",
    "make_consumer",
    "make_producer",
    "message_headers",
    "platform_producer",
    "read_until_idle",
    "security_options",
    "send_records",
]

log = logging.getLogger(__name__)


#: Largest record the service reads: a poison payload of a few MB must still be read, to be
#: dead-lettered (orders themselves are limited to 1 MiB, see ``processing``); what the service
#: writes is far smaller (a dead letter is at most ``DEAD_LETTER_MAX_BYTES``).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
#: Apache Kafka's default ``max.message.bytes`` (1 MiB plus the 12-byte batch log overhead).
KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588

_DAY_MS = 24 * 60 * 60 * 1000


class TopicSpec(msgspec.Struct, frozen=True, kw_only=True):
    """How one topic is configured in production: the one definition that ``clearance migrate
    --topics`` creates and the prod overlay's Strimzi ``KafkaTopic``s declare (a test compares).

    Every topic is keyed by consignee (one buyer's records in order on one partition) and holds
    events, not the latest state of a key, so none is compacted: compaction would keep one record
    per consignee and drop the others.
    """

    retention_ms: int
    max_message_bytes: int = KAFKA_DEFAULT_MAX_MESSAGE_BYTES
    replicas: int = 3
    min_insync_replicas: int = 2
    cleanup_policy: str = "delete"

    def config(self, *, single_broker: bool = False) -> dict[str, str]:
        """The topic-level Kafka configuration (``min.insync.replicas`` 1 on a single broker)."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            "max.message.bytes": str(self.max_message_bytes),
            "min.insync.replicas": "1" if single_broker else str(self.min_insync_replicas),
        }


#: Retention is the replay window: an offset reset or a re-processing after an incident can go
#: back this far (decisions are kept in PostgreSQL for good); dead letters stay a month for triage.
TOPIC_SPECS: dict[str, TopicSpec] = {
    ORDERS: TopicSpec(retention_ms=7 * _DAY_MS),
    INSPECTIONS: TopicSpec(retention_ms=7 * _DAY_MS),
    DECISIONS: TopicSpec(retention_ms=7 * _DAY_MS),
    DEAD_LETTERS: TopicSpec(retention_ms=30 * _DAY_MS),
}


def security_options(settings: Settings) -> dict[str, Any]:
    """The TLS and SASL options of every client the service makes (consumer, producer, admin).

    ``SSL`` with a client certificate is mutual TLS (Strimzi's ``tls`` authentication: the
    certificate's subject is the principal); ``SASL_SSL`` logs in with SCRAM over TLS (Strimzi's
    ``scram-sha-512``). The brokers' certificates are always verified, host name included.
    """
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol.endswith("SSL"):
        options["ssl_context"] = _tls_context(settings)
    if protocol.startswith("SASL_"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password
    return options


def _tls_context(settings: Settings) -> ssl.SSLContext:
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ssl_cafile or None,
        certfile=settings.kafka_ssl_certfile or None,
        keyfile=settings.kafka_ssl_keyfile or None,
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _new_topic(settings: Settings, name: str, full_name: str | None = None) -> NewTopic:
    """``name`` with its spec: three replicas in production, one on a dev or test broker."""
    spec = TOPIC_SPECS[name]
    single_broker = settings.environment != "prod"
    return NewTopic(
        full_name or settings.topic(name),
        settings.partitions,
        replication_factor=1 if single_broker else spec.replicas,
        topic_configs=spec.config(single_broker=single_broker),
    )


def service_topics(settings: Settings, names: Iterable[str] = TOPICS) -> list[NewTopic]:
    """The topics to create: with per-platform order topics, ``orders.v1.<platform>`` for each
    platform of ``CLEARANCE_PLATFORMS`` (with the spec of ``orders.v1``) instead of
    ``orders.v1``."""
    topics = []
    for name in names:
        if name == ORDERS and settings.per_platform:
            topics += [
                _new_topic(settings, ORDERS, settings.orders_topic(platform))
                for platform in settings.platform_list
            ]
        else:
            topics.append(_new_topic(settings, name))
    return topics


async def ensure_topics(settings: Settings, names: Iterable[str] = TOPICS) -> list[str]:
    """Create the service's topics (with ``settings.partitions`` and their ``TOPIC_SPECS``) when
    missing; returns those made. Existing topics are left as they are.

    On Strimzi the prod overlay's ``KafkaTopic``s declare the same specs; this is for other
    Kafka installations, ``clearance dev`` and the tests.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, **security_options(settings)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        topics = service_topics(settings, names)
        missing = [topic for topic in topics if topic.name not in existing]
        if missing:
            await admin.create_topics(missing)
            log.info(
                "created topics",
                extra={"topics": [t.name for t in missing], "partitions": settings.partitions},
            )
        return [topic.name for topic in missing]
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
        fetch_min_bytes=settings.fetch_min_bytes,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
        fetch_max_bytes=4 * MAX_MESSAGE_BYTES,
        **security_options(settings),
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
        **security_options(settings),
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


def platform_producer(bootstrap_servers: str) -> AIOKafkaProducer:
    """A producer as a platform's (the demo, the benches, the tests) sends orders: batched
    briefly, records up to the size the contract allows."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        linger_ms=10,
        max_batch_size=256 * 1024,
        max_request_size=MAX_MESSAGE_BYTES,
    )


async def send_records(
    bootstrap_servers: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Send ``(key, value)`` records as a platform would and wait for every acknowledgement."""
    producer = platform_producer(bootstrap_servers)
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


def _append(batch: Any, key: bytes, publication: Publication) -> bool:
    """Add a decision to a record batch (aiokafka's ``BatchBuilder``); False when it is full."""
    headers = message_headers("clearance.decision", publication.headers)
    return (
        batch.append(key=key, value=publication.payload, timestamp=None, headers=headers)
        is not None
    )


class KafkaPublisher:
    """The one place that sends to the service's topics: names (with the installation's prefix),
    keys and headers as the contract gives them. Each send returns the future of its
    acknowledgement, so a batch sends everything first and waits once."""

    def __init__(self, producer: AIOKafkaProducer, settings: Settings) -> None:
        self.producer = producer
        self.settings = settings
        self.partitioner = DefaultPartitioner()
        self.decisions_topic = settings.topic(DECISIONS)
        self.dead_letters_topic = settings.topic(DEAD_LETTERS)
        self.inspections_topic = settings.topic(INSPECTIONS)

    async def decisions(self, publications: Sequence[Publication]) -> list[asyncio.Future[Any]]:
        """Send a batch's decisions as one record batch per partition, each record on the
        partition its key gives (the producer's own partitioner, as ``send`` chooses), in order.
        Appending to a record batch cost about 5.5 us of CPU a decision where a ``send`` each
        cost 14-15 (20,000 decisions to the embedded broker)."""
        if not publications:
            return []
        topic = self.decisions_topic
        partitions = sorted(await self.producer.partitions_for(topic))
        by_partition: dict[int, list[tuple[bytes, Publication]]] = {}
        for publication in publications:
            key = publication.key.encode()
            partition = self.partitioner(key, partitions, partitions)
            by_partition.setdefault(partition, []).append((key, publication))
        sent: list[asyncio.Future[Any]] = []
        for partition, records in by_partition.items():
            batch = self.producer.create_batch()
            for key, publication in records:
                if not _append(batch, key, publication):  # full: send it, start the next
                    sent.append(await self.producer.send_batch(batch, topic, partition=partition))
                    batch = self.producer.create_batch()
                    _append(batch, key, publication)  # the first record always fits
            sent.append(await self.producer.send_batch(batch, topic, partition=partition))
        return sent

    async def dead_letter(
        self, key: bytes | None, letter: DeadLetter, trace_headers: Sequence[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = await self.producer.send(
            self.dead_letters_topic,
            value=encode(letter),
            key=key,
            headers=message_headers("dead-letter", trace_headers),
        )
        return future

    async def submit(
        self,
        event: OrderEvent | InspectionResult,
        key: str,
        trace_headers: Sequence[tuple[str, bytes]],
    ) -> tuple[str, int, int]:
        inspection = isinstance(event, InspectionResult)
        # a platform's order goes to that platform's topic (the caller checked who may send it)
        topic = self.inspections_topic if inspection else self.settings.orders_topic(event.platform)
        future = await self.producer.send(
            topic,
            value=encode(event),
            key=key.encode(),
            headers=message_headers(str(event.__struct_config__.tag), trace_headers),
        )
        stored = await future
        return stored.topic, stored.partition, stored.offset
