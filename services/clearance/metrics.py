"""Prometheus metrics: what operators watch, with low-cardinality labels only.

Labels are bounded sets (status, channel, destination country, currency, dead-letter code, topic,
partition); never an order id, a platform's buyer id or anything personal. Each process builds one
``Metrics`` with its own registry (tests build their own, so they never share counters).

Money totals are exported as floats because Prometheus only has floats: they are for dashboards,
never for accounting (the decisions in PostgreSQL are the record).

The latency histograms carry exemplars (the trace id of a recorded parcel), which only the
OpenMetrics exposition can show: ``exposition`` serves it to a scraper that asks for it
(Prometheus does, and keeps exemplars with ``--enable-feature=exemplar-storage``), and the
classic text format to anyone else.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import choose_encoder

from clearance.messages import ClearanceDecision

_ZERO = Decimal(0)

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
#: Waits in a partition: milliseconds when the workers keep up, minutes to hours after an outage.
_WAIT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class Metrics:
    """The service's metrics, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.orders_consumed = Counter(
            "clearance_orders_consumed",
            "Records consumed from orders.v1 and inspections.v1.",
            ["topic"],
            registry=registry,
        )
        self.decisions = Counter(
            "clearance_decisions",
            "Decisions published, by status, channel and destination.",
            ["status", "channel", "destination"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "clearance_dead_letters",
            "Records sent to the dead-letter topic, by error code.",
            ["code"],
            registry=registry,
        )
        self.duty_assessed = Counter(
            "clearance_duty_assessed",
            "Duty assessed in published decisions, in the decision currency (dashboards only).",
            ["currency"],
            registry=registry,
        )
        self.tax_assessed = Counter(
            "clearance_tax_assessed",
            "Import VAT/GST assessed in published decisions, in the decision currency.",
            ["currency"],
            registry=registry,
        )
        self.assessment_seconds = Histogram(
            "clearance_assessment_seconds",
            "Time to assess one order with the pure engine.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.end_to_end_seconds = Histogram(
            "clearance_end_to_end_seconds",
            "From the order record's timestamp to its decision being published and committed.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.decision_latency_seconds = Histogram(
            "clearance_decision_latency_seconds",
            "From the order record's timestamp (when the platform sent it) to its decision "
            "acknowledged on decisions.v1: what a platform waits. Exemplars: recorded traces.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.record_wait_seconds = Histogram(
            "clearance_record_wait_seconds",
            "Freshness: how long a record waited in its partition (its timestamp to a worker "
            "receiving it), by topic and partition. Exemplars: recorded traces.",
            ["topic", "partition"],
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "clearance_batch_size",
            "Records per worker batch.",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "clearance_consumer_lag",
            "Records behind the partition's high watermark (after every fetch; the series of a "
            "revoked partition is removed).",
            ["topic", "partition"],
            registry=registry,
        )
        self.partition_stalled_seconds = Gauge(
            "clearance_partition_stalled_seconds",
            "Seconds a partition has had records waiting without its committed offset advancing "
            "(0 when it is caught up or moving).",
            ["topic", "partition"],
            registry=registry,
        )
        self.batch_retries = Counter(
            "clearance_batch_retries",
            "Batches given up and read again after a fault of the database or broker, by reason.",
            ["reason"],
            registry=registry,
        )
        self.fetch_errors = Counter(
            "clearance_fetch_errors",
            "Fetches that failed (an unreachable broker, a batch the client cannot decompress).",
            registry=registry,
        )
        self.decisions_republished = Counter(
            "clearance_decisions_republished",
            "Stored decisions published again because the broker redelivered their events (after"
            " a crash, a rebalance or a failed publish; consumers recognise the decision_id).",
            registry=registry,
        )
        self.rebalances = Counter(
            "clearance_rebalances",
            "Consumer-group rebalances this worker took part in (partitions assigned anew).",
            registry=registry,
        )
        # The API's requests (RED): route is the route template, never the raw path.
        self.http_requests = Counter(
            "clearance_http_requests",
            "HTTP API requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_request_seconds = Histogram(
            "clearance_http_request_seconds",
            "Time to answer an HTTP API request, by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def record_decisions(self, decisions: Iterable[ClearanceDecision]) -> None:
        """Count published decisions and the amounts they assessed (summed per batch first:
        a labelled metric costs a lock and a lookup per call)."""
        counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
        duty: dict[str, Decimal] = {}
        tax: dict[str, Decimal] = {}
        for decision in decisions:
            counts[(decision.status, decision.channel, decision.destination_country)] += 1
            if decision.duty:
                duty[decision.currency] = duty.get(decision.currency, _ZERO) + decision.duty
            if decision.tax:
                tax[decision.currency] = tax.get(decision.currency, _ZERO) + decision.tax
        for labels, count in counts.items():
            self.decisions.labels(*labels).inc(count)
        for currency, amount in duty.items():
            self.duty_assessed.labels(currency).inc(float(amount))
        for currency, amount in tax.items():
            self.tax_assessed.labels(currency).inc(float(amount))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition a scraper's ``Accept`` header asks for, and its content type:
        OpenMetrics (with exemplars) when it lists ``application/openmetrics-text``, otherwise
        the Prometheus text format."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
