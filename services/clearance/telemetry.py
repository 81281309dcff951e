"""The one telemetry setup: OpenTelemetry tracing, trace propagation over Kafka headers, JSON logs.

Configured by the standard ``OTEL_*`` environment variables:

* ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``: who is reporting (read by the SDK);
* ``OTEL_EXPORTER_OTLP_ENDPOINT``: export spans over OTLP/HTTP when set;
* ``OTEL_TRACES_EXPORTER=console``: print spans to stdout instead (``none``: record nothing);
* ``CLEARANCE_TRACES_FILE=path``: append spans as JSON lines to a file (``clearance dev`` does);
* ``OTEL_TRACES_SAMPLER_ARG``: the share of traces started here that are recorded (default 0.05).
  Orders that arrive with a ``traceparent`` follow the platform's sampled flag (parent-based).
* ``OTEL_SDK_DISABLED=true``: no tracing at all.

Trace context always travels (``traceparent`` in, ``traceparent`` out, ``trace_id`` in the
decision) whether or not a trace is recorded, so an operator can always find a parcel's trace id.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.util.types import Attributes

__all__ = [
    "JsonLinesSpanExporter",
    "JsonLogFormatter",
    "LinkedOrParentBased",
    "configured_exporter",
    "extract_context",
    "http_tracing",
    "inject_headers",
    "record_attention",
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
    if not headers:
        return otel_context.Context()
    return propagate.extract(list(headers), getter=_GETTER)


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


#: Span attribute: the sampler records the span whatever the ratio (see ``record_attention``).
ALWAYS_RECORD = "clearance.always_record"

_attention_tracer = trace.get_tracer("clearance.attention")


def record_attention(
    name: str,
    about: trace.SpanContext,
    attributes: Attributes,
    *,
    links: Sequence[trace.Link] = (),
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> None:
    """Record a span for something an operator must be able to find even when its parcel's trace
    was not sampled (a hold, a refusal, a dead letter, a slow decision).

    The span goes into the parcel's own trace (a child of ``about``, recorded whatever the
    sampling), so the trace id a decision carries, and the console links to, always opens
    something; it also carries that id as ``clearance.trace_id`` for searches by attribute. A
    record with no trace context gets a trace of its own. Nothing is added when the parcel's trace
    is recorded anyway: its spans already say it.
    """
    if about.is_valid and about.trace_flags.sampled:
        return
    values = dict(attributes or {})
    values[ALWAYS_RECORD] = True
    parent = otel_context.Context()
    if about.is_valid:
        values["clearance.trace_id"] = format(about.trace_id, "032x")
        parent = trace.set_span_in_context(trace.NonRecordingSpan(about), parent)
    span = _attention_tracer.start_span(
        name, context=parent, links=links, attributes=values, start_time=start_ns
    )
    span.end(end_time=end_ns)


class LinkedOrParentBased(Sampler):
    """Parent-based ratio sampling, and a root span linked to a sampled trace is sampled too.

    An order that arrives sampled stays sampled (the platform decided); a worker batch span is a
    root with a link to each of its parcels' spans, and is recorded when any of them is, so a
    sampled parcel's trace always reaches the batch's store and publish spans. A span marked
    ``ALWAYS_RECORD`` is recorded whatever its parent says (``record_attention``).
    """

    def __init__(self, ratio: float) -> None:
        self._root = TraceIdRatioBased(ratio)
        self._parent_based = ParentBased(root=self._root)

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        """Sample a root span with a sampled link; otherwise decide as ``ParentBased``."""
        parent = trace.get_current_span(parent_context).get_span_context()
        if not parent.is_valid and any(link.context.trace_flags.sampled for link in links or ()):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        if attributes and attributes.get(ALWAYS_RECORD):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        return self._parent_based.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        """Name shown by the SDK."""
        return f"LinkedOrParentBased{{{self._root.get_description()}}}"


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as one compact JSON line to a file (for ``clearance dev``).

    One object per span: ``name``, ``trace_id``, ``span_id``, ``parent_span_id``, ``kind``,
    ``start_unix_nano``, ``end_unix_nano``, ``status``, ``attributes``, ``events``, ``links``
    and ``service``. Written with msgspec: the SDK's ``to_json`` re-encodes the resource and
    indents every span, which cost more than the work being traced.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write ``spans``; never raises (telemetry must not break the service)."""
        try:
            lines = b"".join(_SPAN_ENCODER.encode(_span_line(span)) + b"\n" for span in spans)
            with open(self.path, "ab") as stream:
                stream.write(lines)
        except (OSError, TypeError):
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS


_SPAN_ENCODER = msgspec.json.Encoder()


def _span_line(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None
    return {
        "name": span.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
        "start_unix_nano": span.start_time,
        "end_unix_nano": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [
            {
                "name": event.name,
                "unix_nano": event.timestamp,
                "attributes": dict(event.attributes or {}),
            }
            for event in span.events
        ],
        "links": [
            {
                "trace_id": format(link.context.trace_id, "032x"),
                "span_id": format(link.context.span_id, "016x"),
            }
            for link in span.links
        ],
        "service": span.resource.attributes.get("service.name"),
    }


def configured_exporter() -> SpanExporter | None:
    """The exporter the environment configures (``OTEL_TRACES_EXPORTER``, ``CLEARANCE_TRACES_FILE``,
    ``OTEL_EXPORTER_OTLP_ENDPOINT``), or None."""
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").lower()
    if choice == "none":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if path := os.environ.get("CLEARANCE_TRACES_FILE"):
        return JsonLinesSpanExporter(path)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


#: Links a span may carry: a batch's spans link to every sampled parcel of the batch (at most
#: ``CLEARANCE_BATCH_SIZE``, 10,000), where the SDK's default keeps 128.
MAX_LINKS = 10_000


def _span_limits() -> SpanLimits:
    """The SDK's limits (``OTEL_SPAN_*_LIMIT``), with room for a batch's links unless set."""
    if "OTEL_SPAN_LINK_COUNT_LIMIT" in os.environ:
        return SpanLimits()
    return SpanLimits(max_links=MAX_LINKS)


def setup_tracing(
    service_name: str,
    exporter: SpanExporter | None = None,
    *,
    sample_ratio: float | None = None,
    instrument_asyncpg: bool = True,
) -> TracerProvider | None:
    """Install the global tracer provider once per process; returns it (None when disabled).

    ``exporter`` overrides the configured one (tests pass an in-memory one). With no exporter
    configured, spans are sampled and propagated but not exported. Database queries get spans of
    their own (asyncpg instrumentation) inside sampled traces.
    """
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    if sample_ratio is None:
        sample_ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", DEFAULT_SAMPLE_RATIO))
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(
        resource=resource, sampler=LinkedOrParentBased(sample_ratio), span_limits=_span_limits()
    )
    if exporter is None:
        exporter = configured_exporter()
    if instrument_asyncpg:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
    if exporter is not None:
        # Sized for thousands of orders per second: large queue, batched exports.
        provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=20_000, max_export_batch_size=2_000)
        )
    trace.set_tracer_provider(provider)
    return provider


_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


#: Log lines are encoded by msgspec (several times faster than json.dumps); any value it does not
#: know (a UUID in ``extra``, an exception) is written as its ``str``.
_LOG_ENCODER = msgspec.json.Encoder(enc_hook=str)


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
        return _LOG_ENCODER.encode(entry).decode()


def setup_logging(service_name: str, level: str | None = None, *, stream: Any = None) -> None:
    """Send this process's logs to stderr (or ``stream``) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter(service_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("CLEARANCE_LOG_LEVEL", "INFO"))
    # aiokafka logs raw records (names, addresses, identity numbers) at DEBUG: never below INFO.
    logging.getLogger("aiokafka").setLevel(max(logging.INFO, root.level))


def http_tracing() -> Any:
    """Litestar's OpenTelemetry plugin for the HTTP API: a SERVER span per request, continuing the
    caller's ``traceparent``; health probes and metric scrapes are not traced. Request bodies and
    headers are never recorded (orders carry personal data)."""
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    config = OpenTelemetryConfig(
        exclude=[r"^/health", r"^/metrics"], exclude_spans=["receive", "send"]
    )
    return OpenTelemetryPlugin(config)
