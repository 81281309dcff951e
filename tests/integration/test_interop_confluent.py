"""A platform's client that nobody here wrote: confluent-kafka (librdkafka, which most Java, Go
and .NET producers share) produces orders with every compression codec and reads the decisions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import aiokafka.codec
import asyncpg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from clearance.entrypoints.worker import loop as worker_loop
from clearance.entrypoints.worker import run_worker
from clearance.messages import decode_decision
from clearance.metrics import Metrics
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import wait_for

pytestmark = pytest.mark.integration

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
PER_CODEC = 40


def _traceparent(n: int) -> str:
    return f"00-{n:032x}-{n:016x}-01"


def _produce(settings: Settings, codec: str, numbers: range, partition: int | None = None) -> None:
    producer = Producer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "compression.type": codec,
            "linger.ms": 20,
        }
    )
    for n in numbers:
        body = order(n)
        extra: dict[str, Any] = {} if partition is None else {"partition": partition}
        producer.produce(
            settings.topic("orders.v1"),
            value=encoded(body),
            key=key_of(body),
            headers=[("traceparent", _traceparent(n + 1).encode())],
            **extra,
        )
    assert producer.flush(30) == 0, "records not acknowledged"


def _decisions(settings: Settings, count: int, within: float = 60) -> Iterator[Any]:
    """Read ``decisions.v1`` from the beginning with librdkafka until ``count`` records."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": f"{settings.consumer_group}-platform",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
        }
    )
    topic = settings.topic("decisions.v1")
    consumer.assign([TopicPartition(topic, p, 0) for p in range(settings.partitions)])
    seen = 0
    deadline = time.monotonic() + within
    try:
        while seen < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None or message.error() is not None:
                continue
            seen += 1
            yield message
    finally:
        consumer.close()


@pytest.mark.usefixtures("running_worker")
async def test_every_codec_a_platform_may_use_is_decided_and_traced(
    settings: Settings, db: asyncpg.Connection
) -> None:
    for index, codec in enumerate(CODECS):
        numbers = range(index * PER_CODEC, (index + 1) * PER_CODEC)
        await asyncio.to_thread(_produce, settings, codec, numbers)
    total = len(CODECS) * PER_CODEC
    assert await wait_for(db, "SELECT count(*) FROM decisions", total, within=60) == total

    messages = await asyncio.to_thread(lambda: list(_decisions(settings, total)))
    decisions = [decode_decision(message.value()) for message in messages]
    assert len({d.order_id for d in decisions}) == total
    for message, decision in zip(messages, decisions, strict=True):
        n = int(decision.order_id.removeprefix("ORD-"))
        assert decision.trace_id == f"{n + 1:032x}", "the platform's trace continues"
        headers = dict(message.headers() or [])
        assert headers["traceparent"].decode().split("-")[1] == decision.trace_id


async def test_a_batch_the_worker_cannot_decompress_is_reported_and_the_rest_goes_on(
    settings: Settings, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker without the zstd codec: the zstd partition is reported (fetch errors, stalled
    seconds), the other partitions are decided, the worker keeps running; with the codec back,
    the stalled records are decided too."""
    # The paused partition is tried again after 2 s rather than production's 30 s.
    monkeypatch.setattr(worker_loop, "UNREADABLE_RETRY_SECONDS", 2.0)
    without_zstd = pytest.MonkeyPatch()
    without_zstd.setattr(aiokafka.codec, "has_zstd", lambda: False)
    metrics = Metrics()
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop, metrics=metrics))
    try:
        await asyncio.to_thread(_produce, settings, "zstd", range(0, 10), 0)
        await asyncio.to_thread(_produce, settings, "none", range(10, 40), 1)
        assert await wait_for(db, "SELECT count(*) FROM decisions", 30, within=60) == 30
        await asyncio.sleep(1)
        assert not task.done(), "the worker must not stop"
        assert await db.fetchval("SELECT count(*) FROM decisions") == 30
        errors = metrics.registry.get_sample_value("clearance_fetch_errors_total")
        assert errors is not None and errors >= 1
        stalled = metrics.registry.get_sample_value(
            "clearance_partition_stalled_seconds",
            {"topic": settings.topic("orders.v1"), "partition": "0"},
        )
        assert stalled is not None and stalled > 0

        without_zstd.undo()  # the codec is back (a fixed image rolled out)
        assert await wait_for(db, "SELECT count(*) FROM decisions", 40, within=60) == 40
    finally:
        without_zstd.undo()
        stop.set()
        await asyncio.wait_for(task, timeout=25)
