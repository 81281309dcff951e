"""A parcel's journey through one worker, as its trace and the latency metrics show it.

Each record a worker takes gets a CONSUMER span, ``process <topic>``, in the trace the record's
``traceparent`` names (the platform's), or in a trace started here when it has none. The span
starts when the batch is received and ends when the decision is published; it carries the
messaging attributes (topic, partition, offset, the record's timestamp, how long the record
waited in the topic) and, at the end, the decision's end-to-end latency. Under it the planner
opens ``clearance.assess``; the published decision carries its context (``traceparent``).

A batch is stored and published once for all its records, in a trace of its own
(``clearance.batch`` > decode, plan, store, publish). The two meet by links, both ways: the batch's
spans link to every recorded parcel span of the batch, and each parcel span links to the batch's
store and publish spans.

Only recorded (sampled) parcels cost more than a context: the others get a non-recording span
that carries their trace id to the decision. A parcel that needs attention is recorded whatever
the sampling (``record_attention``): holds and refusals when planned, dead letters when
published, and here the slow ones, whose decision took longer than the latency objective.

Milliseconds are whole numbers in spans (the collector's numeric policies read integers). The
same place observes the latency histograms, with the parcel's trace id as the exemplar
whenever that trace has spans to open: a p99 spike on a dashboard leads to a trace.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace

from clearance.domain.parcels import Publication
from clearance.metrics import Metrics
from clearance.telemetry import extract_context, record_attention

__all__ = [
    "ATTENTION",
    "SLOW_DECISION_SECONDS",
    "SLOW_SPANS_PER_BATCH",
    "ConsumedRecord",
    "Journeys",
]

tracer = trace.get_tracer("clearance.entrypoints.worker")

#: Decisions an officer must act on: always traced (``record_attention``), sampled or not.
ATTENTION = frozenset({"hold", "refuse"})

#: A decision slower than this (the latency objective, deploy/k8s/components/monitoring) is
#: recorded whatever the sampling, as ``clearance.slow``.
SLOW_DECISION_SECONDS = 1.0
#: At most this many ``clearance.slow`` spans per batch, the slowest first: after an outage every
#: parcel of a backlog is slow, and tracing must not grow with the backlog.
SLOW_SPANS_PER_BATCH = 10


class ConsumedRecord(Protocol):
    """What a journey needs of a Kafka record (``clearance.service.batches.Record``)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp_ms(self) -> int: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


RecordKey = tuple[str, int, int]


def _key(record: ConsumedRecord) -> RecordKey:
    return (record.topic, record.partition, record.offset)


class Journeys:
    """The CONSUMER span of each record of one batch, from receipt to publication."""

    def __init__(
        self,
        records: Iterable[ConsumedRecord],
        *,
        group: str | None = None,
        received_ns: int | None = None,
    ) -> None:
        self.received_ns = time.time_ns() if received_ns is None else received_ns
        self.group = group
        self.records: list[ConsumedRecord] = []
        self._spans: dict[RecordKey, trace.Span] = {}
        self._recorded: dict[int, tuple[ConsumedRecord, trace.Span]] = {}
        """Recorded parcel spans by span id (what a decision's ``traceparent`` names)."""
        self._links: list[trace.Link] | None = None
        self._open = True
        for record in records:
            self._start(record)

    def _start(self, record: ConsumedRecord) -> trace.Span:
        span = tracer.start_span(
            f"process {record.topic}",
            context=extract_context(record.headers),
            kind=trace.SpanKind.CONSUMER,
            start_time=self.received_ns,
        )
        self.records.append(record)
        self._spans[_key(record)] = span
        if span.is_recording():
            span.set_attributes(self._messaging(record))
            self._recorded[span.get_span_context().span_id] = (record, span)
            self._links = None
        return span

    def _messaging(self, record: ConsumedRecord) -> dict[str, str | int | float]:
        """The OpenTelemetry messaging attributes of a consumed Kafka record, and its wait."""
        stamp = datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)
        attributes: dict[str, str | int | float] = {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": record.topic,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
            "clearance.record.timestamp": stamp.isoformat(timespec="milliseconds"),
            "clearance.record.waited_ms": round(self._waited_ms(record)),
        }
        if self.group:
            attributes["messaging.consumer.group.name"] = self.group
        return attributes

    def _waited_ms(self, record: ConsumedRecord) -> float:
        """Milliseconds from the record's timestamp to its receipt here (0 if clocks disagree)."""
        return max(0.0, self.received_ns / 1e6 - record.timestamp_ms)

    # --- what the planner uses -------------------------------------------------------------------

    def span_of(self, record: ConsumedRecord) -> trace.Span:
        """The parcel span of ``record`` (started now if the batch did not include it)."""
        span = self._spans.get(_key(record))
        return span if span is not None else self._start(record)

    def context_of(self, record: ConsumedRecord) -> otel_context.Context:
        """A context whose current span is the parcel span of ``record`` (what its decision
        carries)."""
        return trace.set_span_in_context(self.span_of(record))

    # --- what the batch's spans use --------------------------------------------------------------

    def links(self) -> list[trace.Link]:
        """Links to every recorded parcel span of the batch (made once: three spans carry them,
        and a batch of 1,000 recorded parcels makes 1,000 links)."""
        if self._links is None:
            self._links = [
                trace.Link(span.get_span_context()) for _, span in self._recorded.values()
            ]
        return self._links

    def finish(
        self,
        outgoing: Sequence[Publication],
        dead_letters: Iterable[tuple[ConsumedRecord, str]],
        metrics: Metrics,
        *,
        published_ns: int,
        batch_spans: Sequence[trace.SpanContext] = (),
    ) -> None:
        """The batch is published: end the parcel spans at ``published_ns`` with their outcome,
        their latency and links to ``batch_spans`` (its store and publish), record the slow
        parcels, and observe the latencies (exemplar: the parcel's trace, when it has spans)."""
        if not self._open:
            return
        self._open = False
        links = [trace.Link(context) for context in batch_spans if context.is_valid]
        decided = [self._decided(p, published_ns) for p in outgoing]
        exemplars: dict[RecordKey, str] = {}
        slow = sorted(
            (d for d in decided if d.recorded is None and d.slow),
            key=lambda d: d.latency_ms,
            reverse=True,
        )[:SLOW_SPANS_PER_BATCH]
        for item in slow:
            self._slow(item, links, published_ns)
        committed_ms = time.time_ns() / 1e6
        for item in decided:
            exemplar = item.exemplar(slow_recorded=item in slow)
            if item.recorded is not None and exemplar is not None:
                exemplars[_key(item.recorded)] = exemplar
            _observe(metrics.decision_latency_seconds, item.latency_ms / 1000, exemplar)
            end_to_end = max(0.0, committed_ms - item.publication.source_timestamp_ms) / 1000
            _observe(metrics.end_to_end_seconds, end_to_end, exemplar)
        for record, code in dead_letters:
            span = self._spans.get(_key(record))
            if span is not None and span.is_recording():
                span.set_attributes(
                    {"clearance.outcome": "dead_letter", "clearance.dead_letter.code": code}
                )
        for _, span in self._recorded.values():
            for link in links:
                span.add_link(link.context)
            span.end(end_time=published_ns)
        self._observe_freshness(metrics, exemplars)

    def _decided(self, publication: Publication, published_ns: int) -> _Decided:
        """A published decision and its parcel: its latency on its span when recorded."""
        latency_ms = max(0.0, published_ns / 1e6 - publication.source_timestamp_ms)
        item = _Decided(publication, latency_ms, _traceparent(publication.headers))
        if item.parent is None or not item.parent[2]:
            return item
        found = self._recorded.get(item.parent[1])
        if found is not None:
            record, span = found
            decision = publication.decision
            span.set_attributes(
                {
                    "clearance.outcome": "decision",
                    "clearance.status": decision.status,
                    "clearance.decision_id": str(decision.decision_id),
                    "clearance.end_to_end_ms": round(latency_ms),
                }
            )
            item.recorded = record
        return item

    def _slow(self, item: _Decided, links: Sequence[trace.Link], published_ns: int) -> None:
        """A decision over the latency objective in a trace not recorded: record it anyway."""
        publication = item.publication
        about = trace.get_current_span(extract_context(publication.headers)).get_span_context()
        decision = publication.decision
        record_attention(
            "clearance.slow",
            about,
            {
                "clearance.end_to_end_ms": round(item.latency_ms),
                "clearance.status": decision.status,
                "clearance.decision_id": str(decision.decision_id),
            },
            links=links,
            start_ns=min(self.received_ns, published_ns),
            end_ns=published_ns,
        )

    def _observe_freshness(self, metrics: Metrics, exemplars: dict[RecordKey, str]) -> None:
        """How long each record waited in its partition, by partition (a child per partition:
        a labelled metric costs a lookup per call)."""
        by_partition: dict[tuple[str, int], list[ConsumedRecord]] = {}
        for record in self.records:
            by_partition.setdefault((record.topic, record.partition), []).append(record)
        for (topic, partition), records in by_partition.items():
            histogram = metrics.record_wait_seconds.labels(topic, str(partition))
            for record in records:
                exemplar = exemplars.get(_key(record))
                _observe(histogram, self._waited_ms(record) / 1000, exemplar)

    def abandon(self, why: str) -> None:
        """The batch will not be published as planned (a fault; it is read again): end the
        recorded parcel spans with an error saying so."""
        if not self._open:
            return
        self._open = False
        for _, span in self._recorded.values():
            span.set_status(trace.Status(trace.StatusCode.ERROR, why))
            span.end()


class _Decided:
    """A published decision as ``Journeys.finish`` sees it."""

    __slots__ = ("latency_ms", "parent", "publication", "recorded")

    def __init__(
        self,
        publication: Publication,
        latency_ms: float,
        parent: tuple[int, int, bool] | None,
    ) -> None:
        self.publication = publication
        self.latency_ms = latency_ms
        self.parent = parent
        """Trace id, span id and sampled flag of the decision's ``traceparent``."""
        self.recorded: ConsumedRecord | None = None
        """The record, when its parcel span is recorded."""

    @property
    def slow(self) -> bool:
        return self.latency_ms >= SLOW_DECISION_SECONDS * 1000

    def exemplar(self, *, slow_recorded: bool) -> str | None:
        """The trace id to give as an exemplar: only a trace with spans to open (the parcel's,
        a hold's or refusal's recorded when planned, a slow decision's recorded here)."""
        if self.parent is None:
            return None
        attention = self.publication.decision.status in ATTENTION
        if self.recorded is not None or attention or slow_recorded:
            return format(self.parent[0], "032x")
        return None


class _Histogram(Protocol):
    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None: ...


def _observe(histogram: _Histogram, value: float, trace_id: str | None) -> None:
    if trace_id is None:
        histogram.observe(value)
    else:
        histogram.observe(value, {"trace_id": trace_id})


def _traceparent(headers: Sequence[tuple[str, bytes]]) -> tuple[int, int, bool] | None:
    """Trace id, parent span id and sampled flag of a ``traceparent`` header, if well formed."""
    for name, value in headers:
        if name == "traceparent":
            parts = value.split(b"-")
            if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
                return None
            try:
                return int(parts[1], 16), int(parts[2], 16), bool(int(parts[3], 16) & 1)
            except ValueError:
                return None
    return None
