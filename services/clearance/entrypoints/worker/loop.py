"""The streaming worker: orders and inspections in, decisions stored and published.

Each batch: fetch -> decode (bad input to the dead-letter topic) -> load the parcels' state ->
plan (skip what was seen, assess, revise; ``clearance.service.batches``) -> store everything in one
transaction -> publish -> commit offsets once the broker has acknowledged.

Three stages overlap: while batch N waits for the broker's acknowledgement and its commit, batch
N+1 is stored and sent (waiting on PostgreSQL), and batch N+2 is planned (CPU). A batch sees the
parcels of the batches before it from an in-memory ``_InFlight`` view until they are stored, so an
amendment right behind its order is still a revision. Stores, sends and commits stay strictly in
batch order, and once a store or an acknowledgement fails no later batch is committed: the worker
goes back to its last committed offsets and plans again from what is stored.

A crash at any point repeats work, never a decision: offsets are committed only after the broker
acknowledged the batch's decisions, so what was stored but not acknowledged is read again; a
redelivered event is found among the parcel's stored ``event_ids``, is not assessed again, and the
decision it made (stored with its event id) is published again under the same ``decision_id``.

No record stops the stream (``clearance.adapters.faults``): a fault of the database or the broker
is waited out (pauses that grow, readiness false meanwhile, the batch read again, a partition stuck
too long logged with its offsets); a failure that belongs to one record (a value the database
refuses, an engine error) dead-letters that record alone: its batch is planned again one record at
a time to find it, and the rest goes on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord
from opentelemetry import context as otel_context
from opentelemetry import trace

from clearance.domain.parcels import ParcelKey, ParcelState
from clearance.entrypoints.worker.backoff import Backoff
from clearance.entrypoints.worker.partitions import Partitions
from clearance.health import Health
from clearance.messages import (
    INSPECTIONS,
    DeadLetter,
    DeadLetterCode,
)
from clearance.metrics import Metrics
from clearance.service.assessing import Assessor
from clearance.service.batches import (
    BatchPlan,
    Decoded,
    Record,
    dead_letter,
    decode_record,
    parcel_key,
    planner_with_stored,
)
from clearance.service.journeys import Journeys
from clearance.service.ports import ParcelStore, Publisher
from clearance.settings import Settings
from clearance.telemetry import extract_context, record_attention

__all__ = ["Faults", "Worker"]

log = logging.getLogger(__name__)
tracer = trace.get_tracer("clearance.entrypoints.worker")


class Faults(Protocol):
    """Reads a failure (``clearance.adapters.faults``, which knows the clients' errors)."""

    def record_fault(self, error: BaseException) -> DeadLetterCode | None:
        """The dead-letter code when the failure belongs to the record at hand, else None."""
        ...

    def reason(self, error: BaseException, stage: str) -> str:
        """A low-cardinality name for a fault of the world (a metric label)."""
        ...


Batches = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]

#: Longest wait at SIGTERM for planned batches to be stored and committed (the whole stop must
#: fit in Kubernetes' grace period; see deploy/).
STOP_WRITES_SECONDS = 15.0
#: Pause after a fetch that failed on every partition (an unreachable broker).
FETCH_RETRY_SECONDS = 0.5
#: How long a partition whose records the worker cannot read stays paused before a new try.
UNREADABLE_RETRY_SECONDS = 30.0


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Store, publish and commit every planned batch before partitions are given up."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        revoked = list(revoked)
        log.info("partitions revoked: finishing the batches in flight")
        async with self.worker.batch_lock:  # no new batch is planned meanwhile
            try:
                await asyncio.wait_for(self.worker.settled(), timeout=STOP_WRITES_SECONDS)
            except TimeoutError:
                log.error("batches in flight not committed before the rebalance")
            self.worker.in_flight.clear()
        self.worker.partitions.forget(revoked)
        for tp in revoked:
            self.worker.unreadable.pop(tp, None)
        log.info("batches in flight committed", extra={"partitions": len(revoked)})

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        assigned = list(assigned)
        self.worker.joined = True
        self.worker.metrics.rebalances.inc()
        committed = {}
        for tp in assigned:
            try:
                committed[tp] = await self.worker.consumer.committed(tp)
            except KafkaError:
                committed[tp] = None  # learnt at the first commit
        self.worker.partitions.assign(committed)
        log.info("partitions assigned", extra={"partitions": len(assigned)})


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

    def __init__(
        self,
        sequence: int,
        batches: Batches,
        plan: BatchPlan,
        ctx: object,
        journeys: Journeys | None = None,
    ) -> None:
        self.sequence = sequence
        self.batches = batches
        self.plan = plan
        self.context = ctx
        self.journeys = journeys or Journeys(())
        """The parcels' spans, ended when the batch is published (or given up)."""

    @property
    def records(self) -> list[ConsumerRecord[bytes, bytes]]:
        return [message for messages in self.batches.values() for message in messages]


class _Sent:
    """A stored batch whose decisions were sent, waiting for the broker's acknowledgement."""

    def __init__(
        self,
        planned: _Planned,
        sends: list[asyncio.Future[Any]],
        store: trace.SpanContext,
        publish: trace.Span,
    ) -> None:
        self.planned = planned
        self.sends = sends
        self.store = store
        self.publish = publish


class Worker:
    """One worker process's loop; several share the partitions through the consumer group."""

    def __init__(
        self,
        settings: Settings,
        *,
        parcels: ParcelStore,
        publisher: Publisher,
        assessor: Assessor,
        consumer: AIOKafkaConsumer,
        metrics: Metrics,
        health: Health,
        faults: Faults,
    ) -> None:
        self.settings = settings
        self.parcels = parcels
        self.publisher = publisher
        self.assessor = assessor
        self.consumer = consumer
        self.faults = faults
        self.metrics = metrics
        self.health = health
        self.batch_lock = asyncio.Lock()
        self.writes: asyncio.Queue[_Planned] = asyncio.Queue(maxsize=1)
        self.acks: asyncio.Queue[_Sent] = asyncio.Queue(maxsize=1)
        self.in_flight = _InFlight()
        self.failed = False
        self.backoff = Backoff()
        self.refused: dict[tuple[str, int, int] | None, tuple[DeadLetterCode, BaseException]] = {}
        """Records whose lone write the database refused: dead-lettered when planned again."""
        self.isolate: dict[TopicPartition, int] = {}
        """Per partition, the last offset of a batch that failed because of one of its records:
        up to it, records are planned and written one at a time to find which."""
        self.partitions = Partitions(metrics, settings.stuck_after_seconds)
        self.stuck: list[tuple[TopicPartition, int | None, float]] = []
        self.unreadable: dict[TopicPartition, float] = {}
        """Partitions paused because their next records cannot be read, since when."""
        self.sequence = 0
        self.joined = False
        self.inspections_topic = settings.topic(INSPECTIONS)
        health.add_check("consumer_group", self._joined)
        health.add_check("processing", self._processing)
        health.add_live_check("no_stuck_partition", self._not_stuck)

    async def _joined(self) -> bool:
        return self.joined

    async def _processing(self) -> bool:
        """Not ready while a fault of the database or broker is being waited out."""
        return not self.backoff.failing

    def _not_stuck(self) -> bool:
        """A partition stuck while no known fault explains it: the process itself is wedged.

        A database or broker outage stalls every partition too, but it is readiness's business
        (restarting every pod would not bring the database back); a partition paused because its
        records cannot be read is reported by its own log and metrics."""
        if self.backoff.failing:
            return True
        return all(tp in self.unreadable for tp, _, _ in self.stuck)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then store and commit what was planned and return."""
        topics, pattern = self.settings.consumed_topics()
        if pattern is None:
            self.consumer.subscribe(topics, listener=_Rebalance(self))
        else:  # a topic per platform: new platforms' topics are picked up as they appear
            self.consumer.subscribe(pattern=pattern, listener=_Rebalance(self))
        stages = [asyncio.create_task(self._write_stage()), asyncio.create_task(self._ack_stage())]
        self.health.started = True
        log.info("worker started", extra={"group": self.settings.consumer_group})
        try:
            while not stop.is_set():
                if self.failed:
                    await self._rewind(stop)
                    continue
                batches = await self._fetch(stop)
                if batches is None:
                    break
                self.health.tick()
                self.stuck = self.partitions.observe(self.consumer)
                self._retry_unreadable()
                if batches:
                    await self._plan_batches(batches)
            log.info("stopping: storing and committing what was planned")
            try:
                await asyncio.wait_for(self.settled(), timeout=STOP_WRITES_SECONDS)
            except TimeoutError:
                # Whatever was not committed is re-read by the next owner and skipped as seen.
                log.error("batches in flight not committed in time; leaving them to the group")
        finally:
            for stage in stages:
                stage.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stage
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
        try:
            batches: Batches = fetch.result()
        except KafkaError as error:
            log.error("fetch failed", extra={"error": repr(error)})
            self.metrics.fetch_errors.inc()
            # aiokafka has already moved past the records of the partitions it read before the
            # failing one, and drops them with the error: read them again from the last commit.
            if not await self._back_to_committed():
                return {}
            return await self._fetch_around(error)
        return batches

    async def _fetch_around(self, error: KafkaError) -> Batches:
        """After a failed fetch, read the partitions one at a time (the others paused): one whose
        records the client cannot read (a codec it lacks, a corrupt batch) stays paused and is
        reported, so it cannot starve the others. It is tried again every
        ``UNREADABLE_RETRY_SECONDS``; meanwhile it shows as stalled, then stuck, with its offsets
        (``_Partitions``)."""
        assigned = self.consumer.assignment() - self.unreadable.keys()
        wait_ms = 2 * self.settings.fetch_max_wait_ms + 100
        batches: Batches = {}
        self.consumer.pause(*assigned)
        try:
            for tp in assigned:
                self.consumer.resume(tp)
                try:
                    for _ in range(2):  # what the failed fetch left behind, then a fresh fetch
                        found = await self.consumer.getmany(
                            tp, timeout_ms=wait_ms, max_records=self.settings.batch_size
                        )
                        if found:
                            batches.update(found)
                            break
                except KafkaError as refused:
                    self._unreadable(tp, refused)
                self.consumer.pause(tp)
        finally:
            self.consumer.resume(*(assigned - self.unreadable.keys()))
        if not batches and not self.unreadable:  # nothing to blame a partition for: the broker
            log.warning("fetch failed, no partition at fault", extra={"error": repr(error)})
            await asyncio.sleep(FETCH_RETRY_SECONDS)
        return batches

    def _unreadable(self, tp: TopicPartition, error: KafkaError) -> None:
        self.unreadable[tp] = time.monotonic()
        known = self.partitions.state.get(tp)
        log.error(
            "partition paused: the worker cannot read its next records",
            extra={
                "topic": tp.topic,
                "partition": tp.partition,
                "committed_offset": None if known is None else known.committed,
                "error": repr(error),
            },
        )

    def _retry_unreadable(self) -> None:
        """Resume paused partitions now and then: the cause may be gone (a fixed image)."""
        now = time.monotonic()
        for tp, since in list(self.unreadable.items()):
            if now - since >= UNREADABLE_RETRY_SECONDS:
                del self.unreadable[tp]
                if tp in self.consumer.assignment():
                    self.consumer.resume(tp)

    # --- stage 1: decode and plan (CPU) --------------------------------------------------------

    async def _plan_batches(self, batches: Batches) -> None:
        """Plan the fetched records (one at a time up to the ``isolate`` offsets); a failure that
        belongs to one record dead-letters it, any other is waited out (``_rewind``)."""
        isolating = bool(self.isolate)
        for part in self._isolated(batches) if isolating else [batches]:
            try:
                await self._plan_stage(part)
            except Exception as error:  # noqa: BLE001 - sorted below: no error stops the stream
                await self._plan_failed(part, error)
                return
            if isolating:
                await self.settled()  # one record at a time, each on what the last stored
                if self.failed:
                    return

    def _isolated(self, batches: Batches) -> list[Batches]:
        """Each record up to its partition's ``isolate`` offset alone, then the rest together."""
        parts: list[Batches] = []
        rest: Batches = {}
        for tp, messages in batches.items():
            until = self.isolate.get(tp)
            for message in messages:
                if until is not None and message.offset <= until:
                    parts.append({tp: [message]})
                else:
                    rest.setdefault(tp, []).append(message)
            if until is not None and messages[-1].offset >= until:
                del self.isolate[tp]
        return [*parts, rest] if rest else parts

    async def _plan_failed(self, batches: Batches, error: Exception) -> None:
        records = [message for messages in batches.values() for message in messages]
        code = self.faults.record_fault(error)
        if code is None:
            self._retry("plan", error)
        elif len(records) > 1:
            self._find_the_record(batches, error)
        else:
            await self._dead_letter_alone(batches, code, error)

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
        # Each parcel's span first, so the batch span can link to the recorded ones (and is
        # recorded when any of them is).
        journeys = Journeys(records, group=self.settings.consumer_group)
        try:
            async with self.batch_lock:
                with tracer.start_as_current_span(
                    "clearance.batch", links=journeys.links()
                ) as span:
                    span.set_attribute("messaging.batch.message_count", len(records))
                    plan = await self._plan(records, journeys)
                    ctx = otel_context.get_current()
                self.sequence += 1
                self.in_flight.add(self.sequence, plan)
                planned = _Planned(self.sequence, batches, plan, ctx, journeys)
        except BaseException as error:
            journeys.abandon(f"not planned: {type(error).__name__}")
            raise
        await self.writes.put(planned)

    async def _plan(self, records: Sequence[Record], journeys: Journeys) -> BatchPlan:
        now = datetime.now(UTC)
        decoded: list[Decoded] = []
        dead: list[tuple[Record, DeadLetter]] = []
        with tracer.start_as_current_span("clearance.decode"):
            for record in records:
                result = decode_record(
                    record, self.inspections_topic, now, self.settings.platform_of(record.topic)
                )
                if isinstance(result, Decoded):
                    decoded.append(result)
                else:
                    dead.append((record, result))
        keys = {parcel_key(item.event) for item in decoded}
        recent = {
            key: self.in_flight.states[key][1] for key in keys if key in self.in_flight.states
        }
        planner = await planner_with_stored(
            self.assessor, self.parcels, decoded, now=now, in_flight=recent, journeys=journeys
        )
        planner.overlay({k: c for k, (_, c) in self.in_flight.contributions.items()})
        with tracer.start_as_current_span("clearance.plan"):
            plan = planner.apply(decoded)
        plan.dead_letters[:0] = dead
        return plan

    # --- stage 2: store, publish, commit (I/O), strictly in batch order ------------------------

    async def _write_stage(self) -> None:
        while True:
            planned = await self.writes.get()
            handed_on = False
            try:
                if not self.failed:
                    await self._write(planned)
                    handed_on = True
                    self.backoff.succeeded()
            except Exception as error:  # noqa: BLE001 - sorted below: no error stops the stream
                # Later batches were planned on top of this one: they are dropped too, and the
                # worker goes back to its last committed offsets (``_rewind``).
                code = self.faults.record_fault(error)
                if code is None:
                    self._retry("store", error)
                else:
                    self._find_the_record(planned.batches, error)
                    if len(planned.records) == 1:  # found: dead-lettered when read again
                        self.refused[self._single_offset(planned)] = (code, error)
            finally:
                if not handed_on:
                    planned.journeys.abandon("batch not stored: its records are read again")
                self.in_flight.stored(planned.sequence)
                self.writes.task_done()

    async def _write(self, planned: _Planned) -> None:
        """Store the batch and send what it publishes; the acknowledgement is awaited by the
        next stage (``_ack_stage``) while the next batch is stored."""
        refused = self.refused.pop(self._single_offset(planned), None)
        if refused is not None:  # this record was refused before: dead-letter it instead
            planned = self._as_dead_letter(planned, *refused)
        token = otel_context.attach(planned.context)  # type: ignore[arg-type]
        parcels = planned.journeys.links()  # the batch's spans link to every recorded parcel
        try:
            with tracer.start_as_current_span("clearance.store", links=parcels) as store:
                await self.parcels.write(planned.plan)
            publish = tracer.start_span(
                "clearance.publish", kind=trace.SpanKind.PRODUCER, links=parcels
            )
            try:
                with trace.use_span(publish, end_on_exit=False):
                    sends = await self._send(planned.plan)
            except BaseException:
                publish.end()
                raise
        finally:
            otel_context.detach(token)
        await self.acks.put(_Sent(planned, sends, store.get_span_context(), publish))

    async def _ack_stage(self) -> None:
        """Wait for each batch's acknowledgement, in order, then commit its offsets. After a
        failure nothing later is committed (its records would be skipped) until ``_rewind``."""
        while True:
            sent = await self.acks.get()
            try:
                if self.failed:
                    sent.publish.end()
                else:
                    await self._acknowledged(sent)
            except Exception as error:  # noqa: BLE001 - a fault of the broker: waited out
                self._retry("publish", error)
            finally:
                # (a no-op once the batch was published: its journeys are finished)
                sent.planned.journeys.abandon("batch not acknowledged: its records are read again")
                self.acks.task_done()

    async def _acknowledged(self, sent: _Sent) -> None:
        try:
            await asyncio.gather(*sent.sends)
        finally:
            sent.publish.end()
        published_ns = time.time_ns()
        plan = sent.planned.plan
        await self._commit(sent.planned.batches)
        self._observe(plan)
        sent.planned.journeys.finish(
            [out for out in plan.outgoing if not out.republished],
            ((record, letter.error.code) for record, letter in plan.dead_letters),
            self.metrics,
            published_ns=published_ns,
            batch_spans=[sent.store, sent.publish.get_span_context()],
        )

    async def settled(self) -> None:
        """Every planned batch stored, acknowledged and committed (or given up)."""
        await self.writes.join()
        await self.acks.join()

    # --- faults ---------------------------------------------------------------------------------

    def _retry(self, stage: str, error: BaseException) -> None:
        """A fault of the world: give up what is planned; ``_rewind`` waits and reads it again."""
        reason = self.faults.reason(error, stage)
        pause = self.backoff.failed(reason)
        self.metrics.batch_retries.labels(reason).inc()
        log.warning(
            "batch not stored; it will be read again",
            extra={"stage": stage, "reason": reason, "error": repr(error), "pause_s": pause},
        )
        self.failed = True

    def _find_the_record(self, batches: Batches, error: BaseException) -> None:
        """One record of a batch made it fail: plan its records again one at a time."""
        for tp, messages in batches.items():
            self.isolate[tp] = max(self.isolate.get(tp, -1), messages[-1].offset)
        log.warning(
            "a record of the batch was refused; planning its records one at a time",
            extra={"error": repr(error), "records": sum(len(m) for m in batches.values())},
        )
        self.failed = True

    @staticmethod
    def _single_offset(planned: _Planned) -> tuple[str, int, int] | None:
        records = planned.records
        if len(records) != 1:
            return None
        return records[0].topic, records[0].partition, records[0].offset

    def _as_dead_letter(
        self, planned: _Planned, code: DeadLetterCode, error: BaseException
    ) -> _Planned:
        """The planned record's dead letter instead of what was planned for it."""
        (message,) = planned.records
        record = Record(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            value=message.value,
            timestamp_ms=message.timestamp,
            headers=list(message.headers),
        )
        log.error(
            "record dead-lettered: it cannot be processed",
            extra={
                "code": code,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "error": type(error).__name__,
            },
        )
        why = f"{type(error).__name__}: the record could not be processed (see the worker log)"
        if code == "UNSTORABLE_VALUE":
            sqlstate = getattr(error, "sqlstate", None)
            why = f"the database refused a value of this record ({type(error).__name__}"
            why += f", SQLSTATE {sqlstate})" if sqlstate else ")"
        plan = BatchPlan()
        plan.dead_letters.append((record, dead_letter(record, code, why, None, datetime.now(UTC))))
        return _Planned(planned.sequence, planned.batches, plan, planned.context, planned.journeys)

    async def _dead_letter_alone(
        self, batches: Batches, code: DeadLetterCode, error: BaseException
    ) -> None:
        """A lone record whose planning failed: publish its dead letter in its turn."""
        async with self.batch_lock:
            self.sequence += 1
            planned = _Planned(self.sequence, batches, BatchPlan(), otel_context.get_current())
            planned = self._as_dead_letter(planned, code, error)
        await self.writes.put(planned)

    async def _rewind(self, stop: asyncio.Event) -> None:
        """Forget what was planned, wait (longer each time a fault repeats), and read again from
        the last committed offsets."""
        await self.settled()
        pause = self.backoff.pause if self.backoff.failing else 0.0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)
        self.health.tick()  # waiting out a fault is the loop turning, not a wedged process
        self.stuck = self.partitions.observe(self.consumer)
        if await self._back_to_committed():
            self.failed = False
            log.warning("rewound to the last committed offsets")

    async def _back_to_committed(self) -> bool:
        """Let the planned batches finish, forget the rest, and read again from each partition's
        last committed offset; False (and a retry later) when the broker does not answer."""
        await self.settled()
        self.in_flight.clear()
        try:
            for tp in self.consumer.assignment():
                committed = await self.consumer.committed(tp)
                if committed is None:
                    await self.consumer.seek_to_beginning(tp)
                else:
                    self.consumer.seek(tp, committed)
        except KafkaError as error:
            self._retry("fetch", error)
            return False
        return True

    async def _send(self, plan: BatchPlan) -> list[asyncio.Future[Any]]:
        """Send the batch's decisions and dead letters; returns what to await for their
        acknowledgement."""
        sends = await self.publisher.decisions(plan.outgoing)
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
            sends.append(await self.publisher.dead_letter(record.key, letter, record_trace(record)))
        return sends

    async def _commit(self, batches: Batches) -> None:
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batches.items()}
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError):
            # The group rebalanced under us: the next owner re-reads these records and skips
            # them as already seen. Nothing is lost or doubled.
            log.warning("offset commit failed after a rebalance; records will be re-read")
            return
        self.partitions.committed(offsets)

    def _observe(self, plan: BatchPlan) -> None:
        """Count what the batch published (its latencies: ``Journeys.finish``)."""
        self.metrics.record_decisions(out.decision for out in plan.outgoing if not out.republished)
        self.metrics.decisions_republished.inc(sum(out.republished for out in plan.outgoing))
        for _, letter in plan.dead_letters:
            self.metrics.dead_letters.labels(letter.error.code).inc()


def record_trace(record: Record) -> list[tuple[str, bytes]]:
    """The trace headers of a record, carried over to what is published about it."""
    return [(k, v) for k, v in record.headers if k in ("traceparent", "tracestate")]
