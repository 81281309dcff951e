"""The one telemetry setup: OpenTelemetry tracing, trace propagation over Kafka headers, JSON logs.

Configured by the standard ``OTEL_*`` environment variables:

* ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``: who is reporting (read by the SDK);
* ``OTEL_EXPORTER_OTLP_ENDPOINT``: export spans over OTLP/HTTP when set;
* ``OTEL_TRACES_SAMPLER_ARG``: the share of traces started here that are recorded (default 0.05).
  Orders that arrive with a ``traceparent`` follow the platform's sampled flag (parent-based).
* ``OTEL_SDK_DISABLED=true``: no tracing at all.

Trace context always travels (``traceparent`` in, ``traceparent`` out, ``trace_id`` in the
decision) whether or not a trace is recorded, so an operator can always find a parcel's trace id.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

__all__ = [
    "JsonLogFormatter",
    "extract_context",
    "inject_headers",
    "setup_logging",
    "setup_tracing",
    "trace_id_of",
]

Headers = Sequence[tuple[str, bytes]]
DEFAULT_SAMPLE_RATIO = 0.05


class _HeaderGetter(Getter[Headers]):
    def get(self, carrier: Headers, key: str) -> list[str] | None:
        values = [value.decode("latin-1") for name, value in carrier if name.lower() == key]
        return values or None

    def keys(self, carrier: Headers) -> list[str]:
        return [name for name, _ in carrier]


class _HeaderSetter(Setter[list[tuple[str, bytes]]]):
    def set(self, carrier: list[tuple[str, bytes]], key: str, value: str) -> None:
        carrier.append((key, value.encode("latin-1")))


_GETTER = _HeaderGetter()
_SETTER = _HeaderSetter()


def extract_context(headers: Headers | None) -> otel_context.Context:
    """The trace context a Kafka record carries (``traceparent``, ``tracestate``), or none."""
    return propagate.extract(list(headers or ()), getter=_GETTER)


def inject_headers(ctx: otel_context.Context | None = None) -> list[tuple[str, bytes]]:
    """Kafka headers (a list, as aiokafka requires) carrying ``ctx`` or the current context."""
    headers: list[tuple[str, bytes]] = []
    propagate.inject(headers, context=ctx, setter=_SETTER)
    return headers


def trace_id_of(span: trace.Span) -> str | None:
    """The 32-hex trace id of ``span``, or None when it carries no valid context."""
    span_context = span.get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x")


def setup_tracing(
    service_name: str,
    exporter: SpanExporter | None = None,
    *,
    sample_ratio: float | None = None,
) -> TracerProvider | None:
    """Install the global tracer provider once per process; returns it (None when disabled).

    ``exporter`` overrides the OTLP exporter (tests pass an in-memory one). With no exporter and no
    ``OTEL_EXPORTER_OTLP_ENDPOINT``, spans are sampled and propagated but not exported.
    """
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    if sample_ratio is None:
        sample_ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", DEFAULT_SAMPLE_RATIO))
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(root=TraceIdRatioBased(sample_ratio))
    )
    if exporter is None and os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    if exporter is not None:
        # Sized for thousands of orders per second: large queue, batched exports.
        provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=20_000, max_export_batch_size=2_000)
        )
    trace.set_tracer_provider(provider)
    return provider


_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the active ``trace_id``/``span_id``; no personal data.

    Only the message and the ``extra`` fields a caller passes are written: never log names,
    addresses, phone or identity numbers (pass the keyed hash instead).
    """

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one JSON line."""
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service.name": self.service_name,
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(service_name: str, level: str | None = None, *, stream: Any = None) -> None:
    """Send this process's logs to stderr (or ``stream``) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter(service_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("CLEARANCE_LOG_LEVEL", "INFO"))


def span_links(contexts: Iterable[otel_context.Context]) -> list[trace.Link]:
    """Links from a batch span to each record's own trace (sampled or not)."""
    links = []
    for ctx in contexts:
        span_context = trace.get_current_span(ctx).get_span_context()
        if span_context.is_valid:
            links.append(trace.Link(span_context))
    return links
