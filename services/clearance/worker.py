"""The streaming worker: orders and inspections in, decisions stored and published.

Each batch: fetch -> decode (bad input to the dead-letter topic) -> load the parcels' state ->
plan (skip what was seen, assess, revise; ``clearance.processing``) -> store everything in one
transaction, decisions into the outbox too -> publish -> delete from the outbox -> commit offsets.

Two stages overlap: while batch N is stored, published and committed (waiting on PostgreSQL and
the broker), batch N+1 is planned (CPU). Batch N+1 sees batch N's parcels from an in-memory
``_InFlight`` view until N is stored, so an amendment right behind its order is still a revision.
Stores and commits stay strictly in batch order. If a store fails, the worker goes back to its
last committed offsets and plans again from what is stored.

A crash at any point repeats work, never a decision: a redelivered event is found among the
parcel's stored ``event_ids`` and skipped; a stored decision the broker never acknowledged stays in
the outbox and is published by the drain (at start-up and every few seconds, by any worker).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord
from opentelemetry import context as otel_context
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
from clearance.health import Health
from clearance.messages import DeadLetter, OrderAmended, OrderPlaced, encode
from clearance.metrics import Metrics
from clearance.processing import (
    BatchPlan,
    BatchPlanner,
    Decoded,
    ParcelKey,
    ParcelState,
    Record,
    decode_record,
    parcel_key,
)
from clearance.settings import Settings
from clearance.telemetry import extract_context, record_attention, span_links

__all__ = ["Worker"]

log = logging.getLogger(__name__)
tracer = trace.get_tracer("clearance.worker")

Batches = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]

#: How often the outbox drain looks for decisions no worker has published.
DRAIN_INTERVAL_SECONDS = 2.0
#: Longest wait at SIGTERM for planned batches to be stored and committed (the whole stop must
#: fit in Kubernetes' grace period; see deploy/).
STOP_WRITES_SECONDS = 15.0
#: Pause before planning again after a failed store (the database may be restarting).
RETRY_PAUSE_SECONDS = 1.0


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Store, publish and commit every planned batch before partitions are given up."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        log.info("partitions revoked: finishing the batches in flight")
        async with self.worker.batch_lock:  # no new batch is planned meanwhile
            try:
                await asyncio.wait_for(self.worker.writes.join(), timeout=STOP_WRITES_SECONDS)
            except TimeoutError:
                log.error("batches in flight not committed before the rebalance")
            self.worker.in_flight.clear()
        log.info("batches in flight committed", extra={"partitions": len(list(revoked))})

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.worker.joined = True
        log.info("partitions assigned", extra={"partitions": len(list(assigned))})


class _InFlight:
    """Parcels of batches planned but not yet stored: what the next plan must see."""

    def __init__(self) -> None:
        self.states: dict[ParcelKey, tuple[int, ParcelState]] = {}
        self.contributions: dict[ParcelKey, tuple[int, Mapping[str, Decimal]]] = {}

    def add(self, sequence: int, plan: BatchPlan) -> None:
        for key, state in plan.parcels.items():
            self.states[key] = (sequence, state)
        for key, contributions in plan.contributions.items():
            self.contributions[key] = (sequence, contributions)

    def stored(self, sequence: int) -> None:
        """Forget what batch ``sequence`` wrote, unless a later batch changed it again."""
        for key in [k for k, (seq, _) in self.states.items() if seq == sequence]:
            del self.states[key]
        for key in [k for k, (seq, _) in self.contributions.items() if seq == sequence]:
            del self.contributions[key]

    def clear(self) -> None:
        self.states.clear()
        self.contributions.clear()


class _Planned:
    """A planned batch waiting for the write stage."""

    def __init__(self, sequence: int, batches: Batches, plan: BatchPlan, ctx: object) -> None:
        self.sequence = sequence
        self.batches = batches
        self.plan = plan
        self.context = ctx


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
        self.writes: asyncio.Queue[_Planned] = asyncio.Queue(maxsize=1)
        self.in_flight = _InFlight()
        self.failed = False
        self.sequence = 0
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
        """Consume until ``stop`` is set, then store and commit what was planned and return."""
        self.consumer.subscribe(
            [self.orders_topic, self.inspections_topic], listener=_Rebalance(self)
        )
        await self.drain_outbox()
        drain = asyncio.create_task(self._drain_periodically(stop))
        writer = asyncio.create_task(self._write_stage())
        self.health.started = True
        log.info("worker started", extra={"group": self.settings.consumer_group})
        try:
            while not stop.is_set():
                if self.failed:
                    await self._rewind()
                batches = await self._fetch(stop)
                if batches is None:
                    break
                self.health.tick()
                if batches:
                    await self._plan_stage(batches)
            log.info("stopping: storing and committing what was planned")
            try:
                await asyncio.wait_for(self.writes.join(), timeout=STOP_WRITES_SECONDS)
            except TimeoutError:
                # Whatever was not committed is re-read by the next owner and skipped as seen.
                log.error("batches in flight not committed in time; leaving them to the group")
        finally:
            for task in (drain, writer):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        log.info("worker stopped")

    async def _fetch(self, stop: asyncio.Event) -> Batches | None:
        """The next records (maybe none), or None once ``stop`` is set.

        aiokafka's ``getmany`` ignores its timeout while the group rebalances, and a rebalance can
        last (the embedded broker sometimes loops on it): SIGTERM must not wait for it.
        """
        fetch = asyncio.ensure_future(
            self.consumer.getmany(timeout_ms=200, max_records=self.settings.batch_size)
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
            return None
        batches: Batches = fetch.result()
        return batches

    # --- stage 1: decode and plan (CPU) --------------------------------------------------------

    async def _plan_stage(self, batches: Batches) -> None:
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
        for topic, count in collections.Counter(record.topic for record in records).items():
            self.metrics.orders_consumed.labels(topic).inc(count)
        self.metrics.batch_size.observe(len(records))
        links = span_links(extract_context(record.headers) for record in records)
        async with self.batch_lock:
            with tracer.start_as_current_span("clearance.batch", links=links) as span:
                span.set_attribute("messaging.batch.message_count", len(records))
                plan = await self._plan(records)
                ctx = otel_context.get_current()
            self.sequence += 1
            self.in_flight.add(self.sequence, plan)
            planned = _Planned(self.sequence, batches, plan, ctx)
        await self.writes.put(planned)

    async def _plan(self, records: Sequence[Record]) -> BatchPlan:
        now = datetime.now(UTC)
        decoded: list[Decoded] = []
        dead: list[tuple[Record, DeadLetter]] = []
        with tracer.start_as_current_span("clearance.decode"):
            for record in records:
                result = decode_record(record, self.inspections_topic, now)
                if isinstance(result, Decoded):
                    decoded.append(result)
                else:
                    dead.append((record, result))
        keys = {parcel_key(item.event) for item in decoded}
        recent = {
            key: self.in_flight.states[key][1] for key in keys if key in self.in_flight.states
        }
        states = await self.store.load_parcels(keys - recent.keys())
        states.update(recent)
        planner = BatchPlanner(self.assessor, states=states, now=now)
        planner.add_totals(await self.store.load_totals(planner.totals_needed(decoded)))
        orders = [
            item.event for item in decoded if isinstance(item.event, OrderPlaced | OrderAmended)
        ]
        if orders:
            known, lately = await self.store.risk_history(
                ((o.platform, o.seller.id) for o in orders),
                (planner.consignee_ref(o) for o in orders),
                min(o.occurred_at for o in orders) - timedelta(days=1),
            )
            planner.add_history(known, lately)
        planner.overlay({k: c for k, (_, c) in self.in_flight.contributions.items()})
        with tracer.start_as_current_span("clearance.plan"):
            plan = planner.apply(decoded)
        plan.dead_letters[:0] = dead
        return plan

    # --- stage 2: store, publish, commit (I/O), strictly in batch order ------------------------

    async def _write_stage(self) -> None:
        while True:
            planned = await self.writes.get()
            try:
                if not self.failed:
                    await self._write(planned)
            except Exception:  # whatever failed, the stream must go on
                # Later batches were planned on top of this one: drop them too and go back to
                # the last committed offsets (``_rewind``). Nothing was committed past the store.
                log.exception("batch store or publish failed; rewinding")
                self.failed = True
            finally:
                self.in_flight.stored(planned.sequence)
                self.writes.task_done()

    async def _write(self, planned: _Planned) -> None:
        token = otel_context.attach(planned.context)  # type: ignore[arg-type]
        try:
            with tracer.start_as_current_span("clearance.store"):
                await self.store.write(planned.plan, self.decisions_topic)
            await self._publish(planned.plan)
        finally:
            otel_context.detach(token)
        await self._commit(planned.batches)
        self._observe(planned.plan)

    async def _rewind(self) -> None:
        """Forget what was planned and re-read from the last committed offsets."""
        await self.writes.join()
        self.in_flight.clear()
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
        for tp in self.consumer.assignment():
            committed = await self.consumer.committed(tp)
            if committed is None:
                await self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, committed)
        self.failed = False
        log.warning("rewound to the last committed offsets")

    async def _publish(self, plan: BatchPlan) -> None:
        with tracer.start_as_current_span("clearance.publish", kind=trace.SpanKind.PRODUCER):
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
                    record_attention(
                        "clearance.dead_letter",
                        trace.get_current_span(extract_context(record.headers)).get_span_context(),
                        {
                            "clearance.dead_letter.code": letter.error.code,
                            "clearance.dead_letter.path": letter.error.path or "",
                            "messaging.destination.name": record.topic,
                            "messaging.kafka.partition": record.partition,
                            "messaging.kafka.offset": record.offset,
                        },
                    )
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
        except (CommitFailedError, IllegalStateError):
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
