"""The platforms' side of a parcel's trace, played by the demo.

A real platform's checkout starts the trace: its producer sends the order to ``orders.v1`` inside
a PRODUCER span, and the record carries that span's ``traceparent``. ``clearance dev`` (and the
tests) play that part so a run's span file holds the whole journey, from the platform's send to
the published decision: each platform reports under its own service name
(``<platform>-platform``), samples as a platform would (parent-based, the same ratio as the
service, ``OTEL_TRACES_SAMPLER_ARG``), and exports where the service's spans go.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from clearance.adapters.kafka import platform_producer
from clearance.telemetry import DEFAULT_SAMPLE_RATIO, configured_exporter, inject_headers

__all__ = ["Platforms", "send_as_platforms"]


class Platforms:
    """One tracer provider per platform, each under the platform's own service name."""

    def __init__(
        self,
        exporter: Callable[[], SpanExporter | None] = configured_exporter,
        *,
        sample_ratio: float | None = None,
    ) -> None:
        if sample_ratio is None:
            sample_ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", DEFAULT_SAMPLE_RATIO))
        self.sampler = ParentBased(root=TraceIdRatioBased(sample_ratio))
        self.exporter = exporter
        """Makes each platform's exporter (the environment's, like the service's)."""
        self.disabled = os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true"
        self._providers: dict[str, TracerProvider] = {}

    def tracer(self, platform: str) -> trace.Tracer:
        """The tracer of ``platform`` (a no-op one when tracing is off)."""
        if self.disabled:
            return trace.NoOpTracer()
        provider = self._providers.get(platform)
        if provider is None:
            resource = Resource.create({"service.name": f"{platform}-platform"})
            provider = TracerProvider(resource=resource, sampler=self.sampler)
            exporter = self.exporter()
            if exporter is not None:
                provider.add_span_processor(BatchSpanProcessor(exporter))
            self._providers[platform] = provider
        return provider.get_tracer("clearance.devtools.platform")

    def shutdown(self) -> None:
        """Export what is pending and stop the exporters."""
        for provider in self._providers.values():
            provider.shutdown()
        self._providers.clear()


def _platform_of(key: bytes | None) -> str:
    """The platform of a record keyed ``platform:consignee`` (the contract's key)."""
    if not key:
        return "unknown"
    return key.split(b":", 1)[0].decode("utf-8", "replace") or "unknown"


async def send_as_platforms(
    bootstrap_servers: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes]],
    platforms: Platforms,
) -> None:
    """Send ``(key, value)`` records as their platforms would: each in a PRODUCER span of its
    platform, with the span's context in the record's headers; the span ends when the broker
    acknowledges the record. Waits for every acknowledgement."""
    producer = platform_producer(bootstrap_servers)
    await producer.start()
    try:
        sent = []
        for key, value in records:
            span = platforms.tracer(_platform_of(key)).start_span(
                f"send {topic}",
                kind=trace.SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "send",
                    "messaging.operation.name": "send",
                    "messaging.destination.name": topic,
                },
            )
            headers = inject_headers(trace.set_span_in_context(span))
            future = await producer.send(topic, value=value, key=key, headers=headers)
            future.add_done_callback(lambda done, span=span: _acknowledged(span, done))
            sent.append(future)
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def _acknowledged(span: trace.Span, done: asyncio.Future[Any]) -> None:
    """End the PRODUCER span when the broker answers, with where the record went."""
    if done.cancelled() or done.exception() is not None:
        span.set_status(trace.Status(trace.StatusCode.ERROR, "not acknowledged"))
    else:
        metadata = done.result()
        span.set_attributes(
            {
                "messaging.destination.partition.id": str(metadata.partition),
                "messaging.kafka.offset": metadata.offset,
            }
        )
    span.end()
