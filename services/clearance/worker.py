"""The streaming worker: orders and inspections in, decisions stored and published.

Each batch: fetch -> decode (bad input to the dead-letter topic) -> load the parcels' state ->
plan (skip what was seen, assess, revise; ``clearance.processing``) -> store everything in one
transaction, decisions into the outbox too -> publish -> delete from the outbox -> commit offsets.

A crash at any point repeats work, never a decision: a redelivered event is found among the
parcel's stored ``event_ids`` and skipped; a stored decision the broker never acknowledged stays in
the outbox and is published by the drain (at start-up and every few seconds, by any worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace

from clearance.adapters.kafka import (
    DEAD_LETTERS,
    DECISIONS,
    INSPECTIONS,
    ORDERS,
    message_headers,
)
from clearance.adapters.postgres import OutboxEntry, Store
from clearance.assessor import Assessor
from clearance.domain.packs import UnsupportedDestination
from clearance.health import Health
from clearance.messages import DeadLetter, InspectionResult, OrderCancelled, encode
from clearance.metrics import Metrics
from clearance.processing import (
    BatchPlan,
    BatchPlanner,
    Decoded,
    Record,
    decode_record,
    parcel_key,
)
from clearance.settings import Settings
from clearance.telemetry import extract_context, span_links

__all__ = ["Worker"]

log = logging.getLogger(__name__)
tracer = trace.get_tracer("clearance.worker")

Batches = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]

#: How often the outbox drain looks for decisions no worker has published.
DRAIN_INTERVAL_SECONDS = 2.0
#: How many times a batch is planned again after losing a race to another worker.
REPLAN_ATTEMPTS = 3


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Finish and commit the batch in flight before partitions are given up."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        async with self.worker.batch_lock:  # waits for the batch in flight to commit
            log.info("partitions revoked", extra={"partitions": len(list(revoked))})

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.worker.joined = True
        log.info("partitions assigned", extra={"partitions": len(list(assigned))})


class Worker:
    """One worker process's loop; several share the partitions through the consumer group."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store,
        assessor: Assessor,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        metrics: Metrics,
        health: Health,
    ) -> None:
        self.settings = settings
        self.store = store
        self.assessor = assessor
        self.consumer = consumer
        self.producer = producer
        self.metrics = metrics
        self.health = health
        self.batch_lock = asyncio.Lock()
        self.joined = False
        self.orders_topic = settings.topic(ORDERS)
        self.inspections_topic = settings.topic(INSPECTIONS)
        self.decisions_topic = settings.topic(DECISIONS)
        self.dead_letter_topic = settings.topic(DEAD_LETTERS)
        health.add_check("database", store.ping)
        health.add_check("consumer_group", self._joined)

    async def _joined(self) -> bool:
        return self.joined

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then finish the batch in flight and return."""
        self.consumer.subscribe(
            [self.orders_topic, self.inspections_topic], listener=_Rebalance(self)
        )
        await self.drain_outbox()
        drain = asyncio.create_task(self._drain_periodically(stop))
        self.health.started = True
        log.info("worker started", extra={"group": self.settings.consumer_group})
        try:
            while not stop.is_set():
                batches = await self.consumer.getmany(
                    timeout_ms=200, max_records=self.settings.batch_size
                )
                self.health.tick()
                if not batches:
                    continue
                async with self.batch_lock:
                    await self.process(batches)
        finally:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
        log.info("worker stopped")

    async def process(self, batches: Batches) -> None:
        """Process one fetched batch end to end and commit its offsets."""
        records = [
            Record(
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                key=message.key,
                value=message.value,
                timestamp_ms=message.timestamp,
                headers=list(message.headers),
            )
            for messages in batches.values()
            for message in messages
        ]
        for record in records:
            self.metrics.orders_consumed.labels(record.topic).inc()
        self.metrics.batch_size.observe(len(records))
        links = span_links(extract_context(record.headers) for record in records)
        with tracer.start_as_current_span("clearance.batch", links=links) as span:
            span.set_attribute("messaging.batch.message_count", len(records))
            plan = await self._plan_and_store(records)
            await self._publish(plan)
        await self._commit(batches)
        self._observe(plan)

    async def _plan_and_store(self, records: Sequence[Record]) -> BatchPlan:
        now = datetime.now(UTC)
        decoded: list[Decoded] = []
        dead: list[tuple[Record, DeadLetter]] = []
        for record in records:
            result = decode_record(record, self.inspections_topic, now)
            if isinstance(result, Decoded):
                decoded.append(result)
            else:
                dead.append((record, result))
        for attempt in range(1, REPLAN_ATTEMPTS + 1):
            plan = await self._plan(decoded, now)
            try:
                with tracer.start_as_current_span("clearance.store"):
                    await self.store.write(plan, self.decisions_topic)
                break
            except asyncpg.UniqueViolationError:
                # Another worker stored one of these parcels' revisions first (it still held the
                # partition): plan again from what is stored now.
                log.warning("batch lost a race; planning again", extra={"attempt": attempt})
                if attempt == REPLAN_ATTEMPTS:
                    raise
        plan.dead_letters[:0] = dead
        return plan

    async def _plan(self, decoded: Sequence[Decoded], now: datetime) -> BatchPlan:
        states = await self.store.load_parcels(parcel_key(item.event) for item in decoded)
        totals_keys: list[str] = []
        for item in decoded:
            event = item.event
            try:
                if isinstance(event, InspectionResult):
                    state = states.get(parcel_key(event))
                    if state is not None:
                        totals_keys += self.assessor.totals_keys(
                            state.order, ref=state.consignee_ref
                        )
                elif not isinstance(event, OrderCancelled):
                    totals_keys += self.assessor.totals_keys(event)
            except UnsupportedDestination:
                continue  # the planner dead-letters it
        totals = await self.store.load_totals(totals_keys)
        with tracer.start_as_current_span("clearance.assess_batch"):
            planner = BatchPlanner(self.assessor, states=states, totals=totals, now=now)
            return planner.apply(decoded)

    async def _publish(self, plan: BatchPlan) -> None:
        with tracer.start_as_current_span("clearance.publish"):
            sends = []
            ids = [out.decision.decision_id for out in plan.outgoing]
            async with self.store.claim_outbox(ids) as owned:
                for out in plan.outgoing:
                    if out.decision.decision_id not in owned:
                        continue  # already published by an outbox drain
                    sends.append(
                        await self.producer.send(
                            self.decisions_topic,
                            value=out.payload,
                            key=out.key.encode(),
                            headers=message_headers("clearance.decision", out.headers),
                        )
                    )
                for record, letter in plan.dead_letters:
                    sends.append(
                        await self.producer.send(
                            self.dead_letter_topic,
                            value=encode(letter),
                            key=record.key,
                            headers=message_headers("dead-letter", record_trace(record)),
                        )
                    )
                await asyncio.gather(*sends)

    async def _commit(self, batches: Batches) -> None:
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batches.items()}
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError:
            # The group rebalanced under us: the next owner re-reads these records and skips
            # them as already seen. Nothing is lost or doubled.
            log.warning("offset commit failed after a rebalance; records will be re-read")
            return
        for tp, offset in offsets.items():
            highwater = self.consumer.highwater(tp)
            if highwater is not None:
                self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(
                    max(0, highwater - offset)
                )

    def _observe(self, plan: BatchPlan) -> None:
        now_ms = time.time() * 1000
        self.metrics.record_decisions(out.decision for out in plan.outgoing)
        for out in plan.outgoing:
            latency = max(0.0, now_ms - out.source_timestamp_ms) / 1000
            self.metrics.end_to_end_seconds.observe(latency)
        for _, letter in plan.dead_letters:
            self.metrics.dead_letters.labels(letter.error.code).inc()

    # --- outbox ----------------------------------------------------------------------------------

    async def drain_outbox(self) -> int:
        """Publish stored decisions older than the grace period that nobody published."""
        grace = timedelta(milliseconds=self.settings.outbox_grace_ms)
        published = 0
        while True:
            async with self.store.drain_outbox(grace) as entries:
                if not entries:
                    return published
                await asyncio.gather(*[await self._send_entry(entry) for entry in entries])
                published += len(entries)
            log.info("published decisions from the outbox", extra={"count": len(entries)})

    async def _send_entry(self, entry: OutboxEntry) -> asyncio.Future[object]:
        trace_headers = []
        if entry.traceparent is not None:
            trace_headers.append(("traceparent", entry.traceparent.encode()))
        future: asyncio.Future[object] = await self.producer.send(
            entry.topic,
            value=entry.payload,
            key=None if entry.key is None else entry.key.encode(),
            headers=message_headers("clearance.decision", trace_headers),
        )
        return future

    async def _drain_periodically(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=DRAIN_INTERVAL_SECONDS)
            try:
                await self.drain_outbox()
                self.metrics.outbox_depth.set(await self.store.outbox_depth())
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("outbox drain failed; will retry", extra={"error": str(error)})


def record_trace(record: Record) -> list[tuple[str, bytes]]:
    """The trace headers of a record, carried over to what is published about it."""
    return [(k, v) for k, v in record.headers if k in ("traceparent", "tracestate")]
