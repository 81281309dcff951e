"""Trace context travels through Kafka headers, and logs are JSON lines with trace ids."""

from __future__ import annotations

import io
import json
import logging

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from clearance.telemetry import (
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
