"""A parcel's journey in one trace, read back from the exported span file of a run on the real
broker and database: the platform's send, the worker's consume (with its wait in the topic), the
assessment, and the batch's store and publish reached by links both ways; the published
decision carries the trace; the latency histograms give the trace as their exemplar."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from clearance.devtools.platform import Platforms, send_as_platforms
from clearance.entrypoints.traces_cmd import SpanLine, read_trace, spans_of, waterfall
from clearance.entrypoints.worker import run_worker
from clearance.messages import decode_decision
from clearance.metrics import Metrics
from clearance.settings import Settings
from clearance.telemetry import JsonLinesSpanExporter
from factories import encoded, key_of, order
from streams import read_topic

pytestmark = pytest.mark.integration

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


async def _spans_when_ended(
    path: Path, trace_ids: set[str], within: float = 20.0
) -> list[SpanLine]:
    """The file's spans once each trace's CONSUMER span has ended (after its batch's commit)."""
    deadline = time.monotonic() + within
    while True:
        spans = _spans_of(path, trace_ids)
        done = {s.trace_id for s in spans if s.kind == "CONSUMER"}
        if done >= trace_ids or time.monotonic() > deadline:
            return spans
        await asyncio.sleep(0.1)


async def test_a_sampled_parcel_is_one_trace_from_the_platform_to_the_published_decision(
    settings: Settings, span_file: Path
) -> None:
    metrics = Metrics()
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop, metrics=metrics))
    platforms = Platforms(lambda: JsonLinesSpanExporter(str(span_file)), sample_ratio=1.0)
    held = order(2, currency="VND")  # an unknown tariff line: held for an officer
    held["items"][0].update(hs_code="61091000", unit_price="400000", quantity=3)
    held["consignee"]["identity"] = {"type": "national_id", "number": "079201009999"}
    orders = [order(1), held]
    try:
        await send_as_platforms(
            settings.kafka_bootstrap_servers,
            settings.topic("orders.v1"),
            [(key_of(o), encoded(o)) for o in orders],
            platforms,
        )
        platforms.shutdown()  # the platforms' spans are in the file
        records = await read_topic(settings, "decisions.v1", 2)
        decisions = {
            decode_decision(r.value).order_id: (r, decode_decision(r.value)) for r in records
        }
        trace_ids = {decision.trace_id for _, decision in decisions.values()}
        assert None not in trace_ids and len(trace_ids) == 2
        spans = await _spans_when_ended(span_file, {t for t in trace_ids if t})
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=25)

    record, decision = decisions["ORD-2"]
    assert decision.status == "hold"
    trace_id = decision.trace_id
    assert trace_id is not None
    ours = {s.name: s for s in spans if s.trace_id == trace_id}
    topic = settings.topic("orders.v1")

    # the platform's send: its own service, a PRODUCER span
    send = ours[f"send {topic}"]
    assert send.kind == "PRODUCER" and send.service == "shopmart-platform"
    # our consume, under it: where the record was and how long it waited there
    consume = ours[f"process {topic}"]
    assert consume.kind == "CONSUMER" and consume.parent_span_id == send.span_id
    assert consume.service != send.service
    attributes = consume.attributes
    assert attributes["messaging.system"] == "kafka"
    assert attributes["messaging.destination.name"] == topic
    assert attributes["messaging.kafka.offset"] == send.attributes["messaging.kafka.offset"]
    partition = attributes["messaging.destination.partition.id"]
    assert partition == send.attributes["messaging.destination.partition.id"]
    assert attributes["clearance.record.timestamp"].startswith(str(decision.decided_at.year))
    waited = attributes["clearance.record.waited_ms"]
    assert 0 <= waited <= (consume.start_unix_nano - send.start_unix_nano) / 1e6 + 5
    assert attributes["clearance.status"] == "hold"
    assert attributes["clearance.end_to_end_ms"] >= waited
    # the assessment, under the consume
    assess = ours["clearance.assess"]
    assert assess.parent_span_id == consume.span_id
    assert assess.attributes["clearance.status"] == "hold"

    # the batch's store and publish: another trace, linked both ways
    batch_spans = {s.span_id: s for s in spans_of(span_file) if s.trace_id != trace_id}
    linked = [batch_spans[link.span_id] for link in consume.links if link.span_id in batch_spans]
    assert {s.name for s in linked} == {"clearance.store", "clearance.publish"}
    for step in linked:
        assert step.trace_id != trace_id
        assert any(
            link.trace_id == trace_id and link.span_id == consume.span_id for link in step.links
        ), f"{step.name} does not link back to the parcel"
        assert step.start_unix_nano >= consume.start_unix_nano
        assert step.end_unix_nano <= consume.end_unix_nano  # the consume ends when published

    # the published decision carries that trace: the consume is its parent
    traceparent = dict(record.headers)["traceparent"].decode().split("-")
    assert traceparent[1] == trace_id and traceparent[2] == consume.span_id

    # a latency histogram leads to a recorded parcel's trace (an exemplar: a bucket keeps the
    # last one, so it may be this run's other parcel), and freshness by partition too
    exposition, content_type = metrics.exposition(OPENMETRICS)
    assert content_type.startswith("application/openmetrics-text")
    text = exposition.decode()
    partitions = {
        s.trace_id: s.attributes["messaging.destination.partition.id"]
        for s in spans
        if s.kind == "CONSUMER"
    }
    assert trace_id in partitions and len(partitions) == 2
    assert _exemplars(text, "clearance_decision_latency_seconds_bucket") <= set(partitions)
    assert _exemplars(text, "clearance_decision_latency_seconds_bucket")
    wait = _exemplars(text, "clearance_record_wait_seconds_bucket")
    assert wait and wait <= set(partitions)
    for line in text.splitlines():
        for traced in wait:
            if line.startswith("clearance_record_wait_seconds_bucket") and traced in line:
                assert f'partition="{partitions[traced]}"' in line

    # and ``clearance traces show`` draws it, the batch's steps after it
    drawn = waterfall(*read_trace(span_file, trace_id))
    assert drawn.splitlines()[0].startswith(f"trace {trace_id}: 3 spans")
    assert "shopmart-platform" in drawn and "waited" in drawn and "hold" in drawn
    assert "clearance.store" in drawn and "clearance.publish" in drawn


def _spans_of(path: Path, trace_ids: set[str]) -> list[SpanLine]:
    return [s for s in spans_of(path) if s.trace_id in trace_ids] if path.exists() else []


def _exemplars(text: str, metric: str) -> set[str]:
    """The trace ids of the exemplars on ``metric``'s lines."""
    return set(re.findall(rf'^{metric}{{[^}}]*}} \S+ # {{trace_id="(\w+)"}}', text, re.M))
