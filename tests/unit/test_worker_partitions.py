"""Lag and stuck partitions: what the metrics, the logs and liveness say about each partition."""

from __future__ import annotations

import logging

import pytest
from aiokafka import TopicPartition

from clearance.entrypoints.worker.partitions import Partitions
from clearance.health import Health
from clearance.metrics import Metrics

ORDERS_0 = TopicPartition("orders.v1", 0)
ORDERS_1 = TopicPartition("orders.v1", 1)


class _Consumer:
    def __init__(self, highwater: dict[TopicPartition, int]) -> None:
        self._highwater = highwater

    def highwater(self, tp: TopicPartition) -> int | None:
        return self._highwater.get(tp)


def _sample(metrics: Metrics, name: str, partition: int) -> float | None:
    return metrics.registry.get_sample_value(
        name, {"topic": "orders.v1", "partition": str(partition)}
    )


def test_a_partition_with_records_waiting_and_no_commit_is_reported_stuck(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics()
    partitions = Partitions(metrics, stuck_after=60)
    partitions.assign({ORDERS_0: 100, ORDERS_1: 40})
    consumer = _Consumer({ORDERS_0: 130, ORDERS_1: 40})
    assert partitions.observe(consumer) == []
    assert _sample(metrics, "clearance_consumer_lag", 0) == 30
    partitions.state[ORDERS_0].advanced_at -= 61  # a minute without a commit
    partitions.state[ORDERS_1].advanced_at -= 61  # idle, but nothing waits for it
    with caplog.at_level(logging.ERROR, logger="clearance.entrypoints.worker"):
        stuck = partitions.observe(consumer)
    assert [(tp, committed) for tp, committed, _ in stuck] == [(ORDERS_0, 100)]
    assert _sample(metrics, "clearance_partition_stalled_seconds", 0) >= 61  # type: ignore[operator]
    assert _sample(metrics, "clearance_partition_stalled_seconds", 1) == 0
    [logged] = [r for r in caplog.records if "stuck" in r.getMessage()]
    assert (logged.partition, logged.committed_offset, logged.high_watermark) == (0, 100, 130)  # type: ignore[attr-defined]

    partitions.committed({ORDERS_0: 130})  # progress again
    assert partitions.observe(consumer) == []
    assert _sample(metrics, "clearance_consumer_lag", 0) == 0


def test_revoked_partitions_leave_no_metric_series_behind() -> None:
    metrics = Metrics()
    partitions = Partitions(metrics, stuck_after=60)
    partitions.assign({ORDERS_0: 5, ORDERS_1: 5})
    partitions.observe(_Consumer({ORDERS_0: 9, ORDERS_1: 5}))
    partitions.forget([ORDERS_0])
    assert _sample(metrics, "clearance_consumer_lag", 0) is None
    assert _sample(metrics, "clearance_partition_stalled_seconds", 0) is None
    assert _sample(metrics, "clearance_consumer_lag", 1) == 0


def test_liveness_fails_when_a_live_check_fails() -> None:
    health = Health()
    wedged = {"now": False}
    health.add_live_check("no_stuck_partition", lambda: not wedged["now"])
    assert health.live()[0]
    wedged["now"] = True
    ok, detail = health.live()
    assert not ok and detail["no_stuck_partition"] is False
