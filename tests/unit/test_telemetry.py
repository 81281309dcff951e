"""Trace context travels through Kafka headers, and logs are JSON lines with trace ids."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from clearance.telemetry import (
    JsonLinesSpanExporter,
    JsonLogFormatter,
    extract_context,
    inject_headers,
    span_links,
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


def test_no_traceparent_gives_no_trace_id_and_no_links() -> None:
    ctx = extract_context(None)
    assert trace_id_of(trace.get_current_span(ctx)) is None
    assert span_links([ctx]) == []
    assert len(span_links([extract_context([("traceparent", PARENT.encode())])])) == 1


def test_a_batch_links_only_the_records_whose_traces_are_recorded() -> None:
    unsampled = PARENT[:-2] + "00"
    contexts = [extract_context([("traceparent", value.encode())]) for value in (PARENT, unsampled)]
    links = span_links(contexts)
    assert [format(link.context.trace_id, "032x") for link in links] == [PARENT.split("-")[1]]


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
