"""Trace context travels through Kafka headers, and logs are JSON lines with trace ids."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from clearance.telemetry import (
    JsonLinesSpanExporter,
    JsonLogFormatter,
    extract_context,
    inject_headers,
    record_attention,
    trace_id_of,
)

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_records_traceparent_becomes_the_parent_of_the_next_span() -> None:
    tracer = TracerProvider(sampler=ALWAYS_ON).get_tracer("test")
    ctx = extract_context([("content-type", b"application/json"), ("traceparent", PARENT.encode())])
    with tracer.start_as_current_span("assess", context=ctx) as span:
        assert trace_id_of(span) == "4bf92f3577b34da6a3ce929d0e0e4736"
        headers = inject_headers()
    assert isinstance(headers, list)
    (name, value), *_ = headers
    assert name == "traceparent"
    assert value.decode().split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_no_traceparent_gives_no_trace_id() -> None:
    for headers in (None, [], [("content-type", b"application/json")]):
        assert trace_id_of(trace.get_current_span(extract_context(headers))) is None


def test_the_json_lines_exporter_writes_one_compact_object_per_span(tmp_path: Path) -> None:
    provider = TracerProvider(sampler=ALWAYS_ON)
    tracer = provider.get_tracer("test")
    parent = extract_context([("traceparent", PARENT.encode())])
    link = trace.Link(trace.get_current_span(parent).get_span_context())
    with tracer.start_as_current_span("assess", context=parent, links=[link]) as span:
        span.set_attribute("clearance.order_id", "o-1")
        span.add_event("held", {"code": "RISK_SCORE"})
    finished = tracer.start_span("other")
    finished.end()
    path = tmp_path / "spans.jsonl"
    exporter = JsonLinesSpanExporter(str(path))
    assert exporter.export([span, finished]).name == "SUCCESS"  # type: ignore[list-item]
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert first["name"] == "assess"
    assert first["trace_id"] == PARENT.split("-")[1]
    assert first["parent_span_id"] == PARENT.split("-")[2]
    assert first["attributes"] == {"clearance.order_id": "o-1"}
    assert first["events"][0]["attributes"] == {"code": "RISK_SCORE"}
    assert first["links"] == [{"trace_id": PARENT.split("-")[1], "span_id": PARENT.split("-")[2]}]
    assert first["end_unix_nano"] >= first["start_unix_nano"] > 0
    assert second["parent_span_id"] is None


def test_json_logs_carry_the_active_trace_and_the_extra_fields() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("clearance.test.json")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("clearance-test"))
    logger.addHandler(handler)
    logger.propagate = False
    tracer = TracerProvider(sampler=ALWAYS_ON).get_tracer("test")
    try:
        with tracer.start_as_current_span(
            "work", context=extract_context([("traceparent", PARENT.encode())])
        ):
            logger.warning("batch stored", extra={"orders": 3})
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "batch stored"
    assert entry["orders"] == 3
    assert entry["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert entry["level"] == "warning"


def _context(flags: str) -> trace.SpanContext:
    ctx = extract_context([("traceparent", (PARENT[:-2] + flags).encode())])
    return trace.get_current_span(ctx).get_span_context()


def test_what_needs_attention_is_recorded_in_the_parcels_own_trace_whatever_the_sampling(
    span_memory: InMemorySpanExporter,
) -> None:
    span_memory.clear()
    trace_id, parent = PARENT.split("-")[1:3]
    record_attention("clearance.hold", _context("00"), {"clearance.status": "hold"})
    record_attention("clearance.hold", _context("01"), {"clearance.status": "hold"})  # sampled
    record_attention("clearance.dead_letter", trace.INVALID_SPAN_CONTEXT, {"code": "X"})
    hold, dead = span_memory.get_finished_spans()
    # the unsampled parcel's trace has this span: the trace id its decision names opens it
    assert format(hold.context.trace_id, "032x") == trace_id
    assert hold.parent is not None and format(hold.parent.span_id, "016x") == parent
    assert dict(hold.attributes or {}) == {
        "clearance.status": "hold",
        "clearance.always_record": True,
        "clearance.trace_id": trace_id,
    }
    # a sampled parcel's trace says it already (nothing more); a record without a trace gets one
    assert dead.name == "clearance.dead_letter" and dead.parent is None
    assert "clearance.trace_id" not in dict(dead.attributes or {})
