"""A parcel's span through the worker: recorded when its trace is sampled, linked both ways with
its batch, and the slow ones kept whatever the sampling; latencies give traces as exemplars."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clearance.domain.parcels import Publication
from clearance.messages import ClearanceDecision, decode_decision
from clearance.metrics import Metrics
from clearance.service.batches import Record
from clearance.service.journeys import SLOW_SPANS_PER_BATCH, Journeys
from clearance.telemetry import inject_headers
from factories import encoded, order

SAMPLED = "4bf92f3577b34da6a3ce929d0e0e4736"
UNSAMPLED = "0af7651916cd43dd8448eb211c80319c"
PLATFORM_SPAN = "00f067aa0ba902b7"
RECEIVED_MS = 1_790_000_000_000
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
EXAMPLE = Path(__file__).resolve().parents[2] / "contracts/examples/clearance.decision.json"


def _record(offset: int, trace_id: str | None, *, sampled: bool, waited_ms: int) -> Record:
    headers = []
    if trace_id is not None:
        flags = "01" if sampled else "00"
        headers.append(("traceparent", f"00-{trace_id}-{PLATFORM_SPAN}-{flags}".encode()))
    return Record(
        topic="orders.v1",
        partition=offset % 2,
        offset=offset,
        key=b"shopmart:buyer-1",
        value=encoded(order(offset)),
        timestamp_ms=RECEIVED_MS - waited_ms,
        headers=headers,
    )


def _decision(status: str = "release") -> ClearanceDecision:
    decision = decode_decision(EXAMPLE.read_bytes())
    return msgspec.structs.replace(decision, decision_id=uuid.uuid4(), status=status)


def _published(journeys: Journeys, record: Record, status: str = "release") -> Publication:
    decision = _decision(status)
    return Publication(
        decision=decision,
        event_id="evt-1",
        body=b"{}",
        payload=b"{}",
        key="shopmart:buyer-1",
        headers=inject_headers(journeys.context_of(record)),
        source_timestamp_ms=record.timestamp_ms,
    )


def _batch_span() -> trace.SpanContext:
    """A recorded span standing for the batch's store (in a trace sampled by its link)."""
    parent = trace.set_span_in_context(
        trace.NonRecordingSpan(
            trace.SpanContext(
                int(SAMPLED[::-1], 16), 0x1234, is_remote=True, trace_flags=trace.TraceFlags(1)
            )
        )
    )
    span = trace.get_tracer("test").start_span("clearance.store", context=parent)
    span.end()
    return span.get_span_context()


def _named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def test_a_sampled_parcel_is_recorded_from_receipt_to_publication_and_linked_to_its_batch(
    span_memory: InMemorySpanExporter,
) -> None:
    span_memory.clear()
    sampled = _record(1, SAMPLED, sampled=True, waited_ms=120)
    quiet = _record(2, UNSAMPLED, sampled=False, waited_ms=80)
    bare = _record(3, None, sampled=False, waited_ms=10)  # no context: a trace starts here
    journeys = Journeys([sampled, quiet, bare], group="clearance", received_ns=RECEIVED_MS * 10**6)
    assert len(journeys.links()) == 1  # the batch links only to what is recorded
    assert journeys.span_of(sampled).is_recording()
    assert not journeys.span_of(quiet).is_recording()
    started_here = journeys.span_of(bare).get_span_context()
    assert started_here.is_valid and format(started_here.trace_id, "032x") != SAMPLED

    store = _batch_span()
    outgoing = [_published(journeys, r) for r in (sampled, quiet, bare)]
    metrics = Metrics()
    published_ns = (RECEIVED_MS + 40) * 10**6
    journeys.finish(outgoing, [], metrics, published_ns=published_ns, batch_spans=[store])

    [consumed] = _named(span_memory.get_finished_spans(), "process orders.v1")
    assert consumed.kind == trace.SpanKind.CONSUMER
    assert format(consumed.context.trace_id, "032x") == SAMPLED
    assert consumed.parent is not None and format(consumed.parent.span_id, "016x") == PLATFORM_SPAN
    assert consumed.start_time == RECEIVED_MS * 10**6 and consumed.end_time == published_ns
    attributes: dict[str, Any] = dict(consumed.attributes or {})
    assert attributes["messaging.destination.name"] == "orders.v1"
    assert attributes["messaging.destination.partition.id"] == "1"
    assert attributes["messaging.kafka.offset"] == 1
    assert attributes["messaging.consumer.group.name"] == "clearance"
    assert attributes["clearance.record.waited_ms"] == 120
    assert attributes["clearance.end_to_end_ms"] == 160  # waited 120, then 40 to publish
    assert attributes["clearance.record.timestamp"] == datetime.fromtimestamp(
        (RECEIVED_MS - 120) / 1000, UTC
    ).isoformat(timespec="milliseconds")
    assert [link.context.span_id for link in consumed.links] == [store.span_id]

    text = metrics.exposition(OPENMETRICS)[0].decode()
    exemplars = [line for line in text.splitlines() if "trace_id=" in line]
    # the sampled parcel is the only exemplar: the others have no span to open
    assert exemplars and all(f'trace_id="{SAMPLED}"' in line for line in exemplars)
    assert any(line.startswith("clearance_decision_latency_seconds_bucket") for line in exemplars)
    assert any(line.startswith("clearance_end_to_end_seconds_bucket") for line in exemplars)
    wait = [line for line in exemplars if line.startswith("clearance_record_wait_seconds")]
    assert wait and all('partition="1"' in line for line in wait)
    assert "clearance_record_wait_seconds_count" in text
    assert "clearance_decision_latency_seconds_count 3.0" in text


def test_slow_parcels_are_kept_whatever_the_sampling_up_to_a_few_per_batch(
    span_memory: InMemorySpanExporter,
) -> None:
    span_memory.clear()
    count = SLOW_SPANS_PER_BATCH + 3
    records = [
        _record(n, f"{n + 1:032x}", sampled=False, waited_ms=1_000 + 100 * n) for n in range(count)
    ]
    fast = _record(99, UNSAMPLED, sampled=False, waited_ms=5)
    journeys = Journeys([*records, fast], received_ns=RECEIVED_MS * 10**6)
    metrics = Metrics()
    outgoing = [_published(journeys, r) for r in [*records, fast]]
    journeys.finish(outgoing, [], metrics, published_ns=RECEIVED_MS * 10**6)

    slow = _named(span_memory.get_finished_spans(), "clearance.slow")
    assert len(slow) == SLOW_SPANS_PER_BATCH  # bounded: a backlog is all slow
    kept = {format(s.context.trace_id, "032x") for s in slow}
    slowest = {f"{n + 1:032x}" for n in range(count - SLOW_SPANS_PER_BATCH, count)}
    assert kept == slowest  # the slowest first, each in its parcel's own trace
    for span in slow:
        attributes: dict[str, Any] = dict(span.attributes or {})
        assert attributes["clearance.always_record"] is True
        assert attributes["clearance.trace_id"] == format(span.context.trace_id, "032x")
        assert attributes["clearance.end_to_end_ms"] >= 1_000
    text = metrics.exposition(OPENMETRICS)[0].decode()
    shown = {line.split('trace_id="')[1][:32] for line in text.splitlines() if "trace_id=" in line}
    assert shown and shown <= kept  # an exemplar always opens a trace that has spans


def test_a_held_parcel_is_an_exemplar_and_a_given_up_batch_ends_its_spans_with_an_error(
    span_memory: InMemorySpanExporter,
) -> None:
    span_memory.clear()
    held = _record(1, UNSAMPLED, sampled=False, waited_ms=5)
    journeys = Journeys([held], received_ns=RECEIVED_MS * 10**6)
    metrics = Metrics()
    journeys.finish(
        [_published(journeys, held, "hold")], [], metrics, published_ns=RECEIVED_MS * 10**6
    )
    assert f'trace_id="{UNSAMPLED}"' in metrics.exposition(OPENMETRICS)[0].decode()

    given_up = Journeys([_record(2, SAMPLED, sampled=True, waited_ms=5)])
    given_up.abandon("batch not stored: its records are read again")
    given_up.abandon("twice")  # ended once
    [span] = _named(span_memory.get_finished_spans(), "process orders.v1")
    assert span.status.status_code == trace.StatusCode.ERROR
    assert span.status.description == "batch not stored: its records are read again"
