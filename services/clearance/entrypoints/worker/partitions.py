"""Lag and stuck detection per assigned partition, for the metrics, the logs and liveness."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from clearance.metrics import Metrics

__all__ = ["Partitions"]

log = logging.getLogger("clearance.entrypoints.worker")

#: How often a stuck partition is logged again while it stays stuck.
STUCK_LOG_EVERY_SECONDS = 60.0


class _Partition:
    """What the worker knows of one assigned partition's progress."""

    def __init__(self, committed: int | None) -> None:
        self.committed = committed
        self.advanced_at = time.monotonic()
        self.logged_at = 0.0


class Partitions:
    """Lag and stuck detection per assigned partition, for the metrics, the logs and liveness.

    A partition is stuck when records wait (the high watermark is past the committed offset) and
    no commit has advanced it for ``stuck_after`` seconds.
    """

    def __init__(self, metrics: Metrics, stuck_after: float) -> None:
        self.metrics = metrics
        self.stuck_after = stuck_after
        self.state: dict[TopicPartition, _Partition] = {}

    def assign(self, committed: Mapping[TopicPartition, int | None]) -> None:
        for tp, offset in committed.items():
            self.state[tp] = _Partition(offset)

    def forget(self, revoked: Iterable[TopicPartition]) -> None:
        """Drop revoked partitions and their metric series (another worker reports them now)."""
        for tp in revoked:
            if self.state.pop(tp, None) is not None:
                labels = (tp.topic, str(tp.partition))
                for gauge in (self.metrics.consumer_lag, self.metrics.partition_stalled_seconds):
                    with contextlib.suppress(KeyError):
                        gauge.remove(*labels)

    def committed(self, offsets: Mapping[TopicPartition, int]) -> None:
        now = time.monotonic()
        for tp, offset in offsets.items():
            known = self.state.get(tp)
            if known is not None and (known.committed is None or offset > known.committed):
                known.committed = offset
                known.advanced_at = now

    def observe(self, consumer: AIOKafkaConsumer) -> list[tuple[TopicPartition, int | None, float]]:
        """Update lag and stalled seconds; returns the stuck partitions (tp, committed, seconds)."""
        now = time.monotonic()
        stuck = []
        for tp, known in self.state.items():
            labels = (tp.topic, str(tp.partition))
            highwater = consumer.highwater(tp)
            waiting = highwater is not None and highwater > (known.committed or 0)
            if not waiting:
                known.advanced_at = now  # caught up: nothing is waiting for it
            if highwater is not None and known.committed is not None:
                self.metrics.consumer_lag.labels(*labels).set(max(0, highwater - known.committed))
            stalled = now - known.advanced_at
            self.metrics.partition_stalled_seconds.labels(*labels).set(round(stalled, 1))
            if stalled >= self.stuck_after:
                stuck.append((tp, known.committed, stalled))
                if now - known.logged_at >= STUCK_LOG_EVERY_SECONDS:
                    known.logged_at = now
                    log.error(
                        "partition stuck: records wait and its offset has not moved",
                        extra={
                            "topic": tp.topic,
                            "partition": tp.partition,
                            "committed_offset": known.committed,
                            "high_watermark": highwater,
                            "seconds": round(stalled),
                        },
                    )
        return stuck
