"""The worker's batch logic: decode, skip what was seen, assess, revise (without I/O), and
the reads of storage a batch needs first (``planner_with_stored``, through the store's port).

The worker (``clearance.entrypoints.worker``) fetches records from Kafka, gets a ``BatchPlanner``
holding what storage knows of them (``planner_with_stored``) and writes what the resulting
``BatchPlan`` says in one transaction. The planner itself does no I/O, so it can be tested record
by record without a broker or a database.

Within a batch, events are applied in offset order and each one sees the state the previous ones
left (an amendment right behind its order, two parcels of one consignee in one batch).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec
from opentelemetry import trace

from clearance.domain import revisions
from clearance.domain.access import platform_view
from clearance.domain.aeo import AeoCertificate
from clearance.domain.assess import apply_corrections
from clearance.domain.context import SellerHistory
from clearance.domain.packs import UnsupportedDestination
from clearance.domain.parcels import (
    BatchChanges,
    InspectionRecord,
    Order,
    ParcelKey,
    ParcelState,
    Publication,
    RiskHistory,
    remember_event,
)
from clearance.domain.totals import RunningTotals
from clearance.messages import (
    ClearanceDecision,
    DeadLetter,
    DeadLetterCode,
    InspectionResult,
    OrderAmended,
    OrderCancelled,
    OrderPlaced,
    decode_inspection,
    decode_order_event,
    encode,
    error_path,
    unstorable_value,
)
from clearance.service.assessing import Assessor, consignee_ref
from clearance.service.dead_letters import make_dead_letter
from clearance.service.journeys import ATTENTION, Journeys
from clearance.service.ports import ParcelStore
from clearance.telemetry import extract_context, inject_headers, record_attention, trace_id_of

__all__ = [
    "MAX_RECORD_BYTES",
    "BatchPlan",
    "BatchPlanner",
    "Decoded",
    "Record",
    "dead_letter",
    "decode_record",
    "parcel_key",
    "planner_with_stored",
    "redacted",
]

log = logging.getLogger(__name__)
tracer = trace.get_tracer("clearance.entrypoints.worker")

#: Records larger than this are dead-lettered as PAYLOAD_TOO_LARGE (an order is a few KB).
MAX_RECORD_BYTES = 1024 * 1024

Event = OrderPlaced | OrderAmended | OrderCancelled | InspectionResult


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """One Kafka record as the worker received it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: Sequence[tuple[str, bytes]] = ()


class Decoded(msgspec.Struct, frozen=True, kw_only=True):
    """A record whose payload decoded to a contract message."""

    record: Record
    event: Event


class BatchPlan(BatchChanges, kw_only=True):
    """Everything one batch writes and publishes: the parcel store's changes, and the records
    that go to the dead-letter topic instead."""

    dead_letters: list[tuple[Record, DeadLetter]] = msgspec.field(default_factory=list)
    skipped: dict[str, int] = msgspec.field(default_factory=dict)
    """Events with nothing to do, by why (duplicate, stale revision, unknown parcel...)."""


def parcel_key(event: Event) -> ParcelKey:
    """The parcel an event is about."""
    if isinstance(event, InspectionResult):
        return (event.platform, event.order_id, event.shipment_id)
    return (event.platform, event.order_id, event.shipment)


#: What replaces an identity number in a stored order: the document's type is kept (a rule may
#: require one), the number never (the keyed hash ``consignee_ref`` stands for it).
REDACTED = "[redacted]"


def redacted(order: Order) -> Order:
    """The order as stored: no phone, and the identity document without its number."""
    consignee = order.consignee
    if consignee.phone is None and consignee.identity is None:
        return order
    identity = consignee.identity
    if identity is not None:
        identity = msgspec.structs.replace(identity, number=REDACTED)
    return msgspec.structs.replace(
        order, consignee=msgspec.structs.replace(consignee, phone=None, identity=identity)
    )


def dead_letter(
    record: Record, code: DeadLetterCode, message: str, path: str | None, received_at: datetime
) -> DeadLetter:
    """The dead letter for ``record`` (redacted and bounded: ``clearance.service.dead_letters``)."""
    return make_dead_letter(record, code, message, path, received_at, trace_id_of_record(record))


def decode_record(
    record: Record, inspections_topic: str, received_at: datetime, platform: str | None = None
) -> Decoded | DeadLetter:
    """Decode one record from ``orders.v1`` or ``inspections.v1``, or say why it is dead.

    ``platform``: the platform whose own topic the record came from (``orders.v1.<platform>``,
    which only that platform's principal may write); an event speaking for another platform is
    dead-lettered (``PLATFORM_MISMATCH``). None: the shared topic, where the claim is not checked.
    """
    value = record.value
    if value is None:
        return dead_letter(record, "SCHEMA_VIOLATION", "empty record", None, received_at)
    if len(value) > MAX_RECORD_BYTES:
        message = f"record of {len(value)} bytes exceeds the {MAX_RECORD_BYTES}-byte limit"
        return dead_letter(record, "PAYLOAD_TOO_LARGE", message, None, received_at)
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"payload is not valid UTF-8 (byte {error.start})"
        return dead_letter(record, "MALFORMED_JSON", message, None, received_at)
    try:
        if record.topic == inspections_topic:
            event: Event = decode_inspection(value)
        else:
            event = decode_order_event(value)
    except msgspec.ValidationError as error:
        message, path = error_path(error)
        code: DeadLetterCode = "SCHEMA_VIOLATION"
        if path == "$.type" and message.startswith("Invalid value"):
            code = "UNKNOWN_MESSAGE_TYPE"
        return dead_letter(record, code, message, path, received_at)
    except msgspec.DecodeError as error:
        return dead_letter(record, "MALFORMED_JSON", str(error), None, received_at)
    if platform is not None and event.platform != platform:
        message = (
            f"the record speaks for platform {event.platform!r} on the topic of {platform!r}:"
            " a platform may only send its own orders"
        )
        return dead_letter(record, "PLATFORM_MISMATCH", message, "$.platform", received_at)
    # Cheap tests first: the one character PostgreSQL text cannot hold, the calendar's ends.
    if _NUL_ESCAPE in value or event.occurred_at.year in (1, 9999):
        unstorable = unstorable_value(event)
        if unstorable is not None:
            problem, path = unstorable
            return dead_letter(record, "UNSTORABLE_VALUE", problem, path, received_at)
    return Decoded(record=record, event=event)


#: How JSON writes the NUL character (a raw NUL byte is malformed JSON).
_NUL_ESCAPE = b"\\u0000"


def trace_id_of_record(record: Record) -> str | None:
    """The trace id the record's producer put in its ``traceparent`` header, if any."""
    span_context = trace.get_current_span(extract_context(record.headers)).get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


class BatchPlanner:
    """Turns one batch of decoded events into a ``BatchPlan``, given the stored state."""

    def __init__(
        self,
        assessor: Assessor,
        *,
        states: Mapping[ParcelKey, ParcelState],
        totals: Iterable[tuple[str, ParcelKey, Decimal]] = (),
        now: datetime,
        journeys: Journeys | None = None,
    ) -> None:
        self.assessor = assessor
        self.journeys = journeys
        """The parcels' spans (the worker starts them before the batch span, to link it)."""
        self.states: dict[ParcelKey, ParcelState] = dict(states)
        self.known = set(states)
        self.totals = RunningTotals(totals)
        self.now = now
        self.plan = BatchPlan()
        self._refs: dict[str, tuple[str, list[str]]] = {}
        """Consignee hash and running-total keys per order event id, computed once."""
        self._needed: list[str] = []
        self._history: RiskHistory | None = None
        self._stored: Mapping[tuple[ParcelKey, str], Sequence[ClearanceDecision]] = {}

    def redelivered(self, items: Sequence[Decoded]) -> list[tuple[ParcelKey, str]]:
        """The events (parcel, event id) already among their parcel's stored events: the broker
        delivered them again, maybe before it acknowledged their decisions. Load the decisions
        they made (``add_stored_decisions``) to publish them again."""
        found = []
        for item in items:
            key = parcel_key(item.event)
            state = self.states.get(key)
            if state is not None and item.event.event_id in state.event_ids:
                found.append((key, item.event.event_id))
        return found

    def add_stored_decisions(
        self, decisions: Mapping[tuple[ParcelKey, str], Sequence[ClearanceDecision]]
    ) -> None:
        """The stored decisions of redelivered events (``redelivered`` says which), by event."""
        self._stored = decisions

    def totals_needed(self, items: Sequence[Decoded]) -> list[str]:
        """The running-total keys this batch reads: load them, then ``add_totals``."""
        keys: list[str] = []
        for item in items:
            event = item.event
            try:
                if isinstance(event, InspectionResult):
                    state = self.states.get(parcel_key(event))
                    if state is not None:
                        keys += self.assessor.totals_keys(state.order, ref=state.consignee_ref)
                elif not isinstance(event, OrderCancelled):
                    keys += self._ref_and_keys(event)[1]
            except UnsupportedDestination:
                continue  # dead-lettered by ``apply``
        self._needed = keys
        return keys

    def history_needed(
        self, items: Sequence[Decoded]
    ) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        """What the risk signals ask of storage (``RiskHistory``): the sellers (platform, seller
        id) of the orders assessed, and their consignees (platform, consignee_ref)."""
        sellers: set[tuple[str, str]] = set()
        consignees: set[tuple[str, str]] = set()
        for item in items:
            event = item.event
            if isinstance(event, OrderPlaced | OrderAmended):
                order, ref = event, self.consignee_ref(event)
            elif isinstance(event, InspectionResult) and parcel_key(event) in self.states:
                state = self.states[parcel_key(event)]  # a reassessment is assessed too
                order, ref = state.order, state.consignee_ref
            else:
                continue
            sellers.add((order.platform, order.seller.id))
            consignees.add((order.platform, ref))
        return sellers, consignees

    def add_history(self, history: RiskHistory) -> None:
        """What storage knows for the risk signals (``history_needed`` says what to ask). Without
        it, no history signal is raised and no AEO certificate is known."""
        self._history = msgspec.structs.replace(
            history,
            known_sellers=set(history.known_sellers),
            recent_parcels={k: set(v) for k, v in history.recent_parcels.items()},
        )

    def _seller_history(self, order: Order, ref: str, key: ParcelKey) -> SellerHistory | None:
        history = self._history
        if history is None:
            return None
        seen = (order.platform, order.seller.id) in history.known_sellers
        others = history.recent_parcels.get((order.platform, ref), set()) - {key}
        return SellerHistory(seller_decisions=1 if seen else 0, consignee_parcels_today=len(others))

    def _remember_history(self, order: Order, ref: str, key: ParcelKey) -> None:
        history = self._history
        if history is not None:
            history.known_sellers.add((order.platform, order.seller.id))
            if key not in self.known:  # a new parcel, first seen now
                history.recent_parcels.setdefault((order.platform, ref), set()).add(key)

    def _aeo(self, order: Order) -> tuple[AeoCertificate, ...]:
        if self._history is None:
            return ()
        return self._history.aeo.get((order.platform, order.seller.id), ())

    def add_totals(self, rows: Iterable[tuple[str, ParcelKey, Decimal]]) -> None:
        """Stored contributions to the running totals (``totals_needed`` says which)."""
        self.totals = RunningTotals(rows)

    def consignee_ref(self, order: Order) -> str:
        """The consignee's keyed hash for ``order`` (computed once per event)."""
        try:
            return self._ref_and_keys(order)[0]
        except UnsupportedDestination:
            return consignee_ref(order, self.assessor.identity_key)

    def _ref_and_keys(self, order: Order) -> tuple[str, list[str]]:
        found = self._refs.get(order.event_id)
        if found is None:
            ref = consignee_ref(order, self.assessor.identity_key)
            found = (ref, self.assessor.totals_keys(order, ref=ref))
            self._refs[order.event_id] = found
        return found

    def overlay(self, contributions: Mapping[ParcelKey, Mapping[str, Decimal]]) -> None:
        """Running-total contributions newer than storage's (batches planned, not yet stored)."""
        for parcel, values in contributions.items():
            self.totals.replace(parcel, values)

    def apply(self, items: Sequence[Decoded]) -> BatchPlan:
        """Apply every event in order; returns the plan."""
        self.plan.totals_seen = self.totals.sums(dict.fromkeys(self._needed))
        if self.journeys is None:
            self.journeys = Journeys(item.record for item in items)
        for item in items:
            self._apply_one(item, self.journeys.span_of(item.record))
        return self.plan

    def _skip(self, why: str) -> None:
        self.plan.skipped[why] = self.plan.skipped.get(why, 0) + 1

    def _apply_one(self, item: Decoded, parcel: trace.Span) -> None:
        event = item.event
        key = parcel_key(event)
        state = self.states.get(key)
        if state is not None and event.event_id in state.event_ids:
            self._skip("duplicate")
            self._republish(item, key, state)
            return
        # Under the parcel's span (its trace); the assessment is a span of its own when recorded.
        with trace.use_span(parcel, end_on_exit=False), _assessment(parcel) as span:
            try:
                if isinstance(event, OrderPlaced | OrderAmended):
                    self._order(item, event, key, state)
                elif isinstance(event, OrderCancelled):
                    self._cancel(item, event, key, state)
                else:
                    self._inspection(item, event, key, state)
            except Exception as error:  # one order's failure is its own (faults.py)
                # The engine and the planner change nothing before an assessment succeeds, so
                # dropping this event leaves the batch's state as it was.
                log.exception(
                    "engine error: the event is dead-lettered",
                    extra={"partition": item.record.partition, "offset": item.record.offset},
                )
                span.record_exception(error)
                why = f"{type(error).__name__} while assessing this event (see the worker log)"
                self._dead(item, "ENGINE_ERROR", why, None)

    # --- the four kinds of event -----------------------------------------------------------------

    def _order(
        self, item: Decoded, order: Order, key: ParcelKey, state: ParcelState | None
    ) -> None:
        if state is not None and state.cancelled:
            self._remember(key, state, order.event_id)
            self._skip("cancelled_parcel")
            return
        if state is not None and order.revision <= state.order.revision:
            self._remember(key, state, order.event_id)
            self._skip("stale_revision")
            return
        if state is not None and revisions.awaits_officer(state.decision):
            change = f"{order.__struct_config__.tag} revision {order.revision}"
            self._refuse_change(item, key, state, order.event_id, change)
            return
        try:
            ref, keys = self._ref_and_keys(order)
            decision = self._assess(order, key, ref, state, keys)
        except UnsupportedDestination as error:
            self._dead(item, "UNSUPPORTED_DESTINATION", str(error), "$.destination_country")
            return
        events = remember_event(state.event_ids if state else [], order.event_id)
        self._publish(
            item,
            key,
            ParcelState(
                order=redacted(order), consignee_ref=ref, event_ids=events, decision=decision
            ),
        )

    def _cancel(
        self, item: Decoded, event: OrderCancelled, key: ParcelKey, state: ParcelState | None
    ) -> None:
        if state is None:
            # Cancellation of a parcel never seen: nothing to revise (same key, same partition,
            # so the order itself would have come first). Logged, not stored.
            # (expected for parcels dead-lettered earlier, e.g. an unsupported destination)
            log.info("cancellation of an unknown parcel", extra={"platform": key[0]})
            self._skip("unknown_parcel")
            return
        if state.cancelled:
            self._remember(key, state, event.event_id)
            self._skip("already_cancelled")
            return
        if revisions.awaits_officer(state.decision):
            self._refuse_change(item, key, state, event.event_id, "order.cancelled")
            return
        decision = revisions.cancelled(
            state.decision,
            decision_id=uuid.uuid4(),
            decided_at=self.now,
            trace_id=self._trace_id(),
            reason=event.reason,
        )
        self.totals.replace(key, {})
        self.plan.contributions[key] = {}
        self._publish(
            item,
            key,
            msgspec.structs.replace(
                state, event_ids=remember_event(state.event_ids, event.event_id), decision=decision
            ),
        )

    def _refuse_change(
        self, item: Decoded, key: ParcelKey, state: ParcelState, event_id: str, change: str
    ) -> None:
        """A platform's amendment or cancellation of a parcel in customs' hands: recorded (its
        event id, a decision saying why) and refused; the order and its totals stay as they are,
        and the decision the officer is looking at stays open to the officer's result."""
        decision = revisions.change_refused(
            state.decision,
            change,
            decision_id=uuid.uuid4(),
            decided_at=self.now,
            trace_id=self._trace_id(),
        )
        self._publish(
            item,
            key,
            msgspec.structs.replace(
                state,
                event_ids=remember_event(state.event_ids, event_id),
                decision=decision,
                control_decision=state.control_decision or state.decision.decision_id,
            ),
        )

    def _inspection(
        self, item: Decoded, event: InspectionResult, key: ParcelKey, state: ParcelState | None
    ) -> None:
        if state is None:
            log.warning("inspection of an unknown parcel", extra={"platform": key[0]})
            self._skip("unknown_parcel")
            return
        if event.decision_id not in (state.decision.decision_id, state.control_decision):
            # The officer inspected a decision that has since been revised: the current one
            # stands, and the result is kept for the record without a new decision.
            self._remember(key, state, event.event_id)
            self._record_inspection(event, item, None)
            self._skip("stale_inspection")
            return
        if event.outcome == "reassess":
            try:
                corrected = apply_corrections(state.order, event.corrections)
            except ValueError as error:
                self._dead(item, "SCHEMA_VIOLATION", str(error), "$.corrections")
                return
            decision = revisions.reassessed(
                self._assess(corrected, key, state.consignee_ref, state, sample=False), event
            )
            order = corrected
        else:
            decision = revisions.inspected(
                state.decision,
                event,
                decision_id=uuid.uuid4(),
                decided_at=self.now,
                trace_id=self._trace_id(),
            )
            order = state.order
        self._record_inspection(event, item, decision.decision_id)
        self._publish(
            item,
            key,
            ParcelState(
                order=order,
                consignee_ref=state.consignee_ref,
                event_ids=remember_event(state.event_ids, event.event_id),
                decision=decision,
            ),
        )

    # --- helpers ---------------------------------------------------------------------------------

    def _assess(
        self,
        order: Order,
        key: ParcelKey,
        ref: str,
        state: ParcelState | None,
        keys: Sequence[str] | None = None,
        *,
        sample: bool = True,
    ) -> ClearanceDecision:
        if keys is None:
            keys = self.assessor.totals_keys(order, ref=ref)
        assessment = self.assessor.assess(
            order,
            totals=self.totals.excluding(keys, key),
            history=self._seller_history(order, ref, key),
            decided_at=self.now,
            decision_revision=1 if state is None else state.decision.decision_revision + 1,
            trace_id=self._trace_id(),
            ref=ref,
            seller_aeo=self._aeo(order),
            sample=sample,
        )
        self._remember_history(order, ref, key)
        contributions = {c.key: c.value for c in assessment.contributions}
        self.totals.replace(key, contributions)
        self.plan.contributions[key] = contributions
        decision = assessment.decision
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes(
                {
                    "clearance.destination": decision.destination_country,
                    "clearance.rule_pack": f"{decision.rule_pack.id}@{decision.rule_pack.version}",
                    "clearance.status": decision.status,
                    "clearance.channel": decision.channel,
                    "clearance.currency": decision.currency,
                    "clearance.duty": str(decision.duty),
                    "clearance.tax": str(decision.tax),
                    "clearance.total_due": str(decision.total_due),
                    "clearance.reasons": [reason.code for reason in decision.reasons],
                }
            )
        return decision

    def _trace_id(self) -> str | None:
        return trace_id_of(trace.get_current_span())

    def _remember(self, key: ParcelKey, state: ParcelState, event_id: str) -> None:
        """Store that an event was seen, so its redelivery is skipped without a lookup."""
        events = remember_event(state.event_ids, event_id)
        updated = msgspec.structs.replace(state, event_ids=events)
        self.states[key] = updated
        self.plan.parcels[key] = updated

    def _record_inspection(
        self, event: InspectionResult, item: Decoded, result: uuid.UUID | None
    ) -> None:
        body = item.record.value or b""
        self.plan.inspections.append(
            InspectionRecord(inspection=event, body=body, result_decision=result)
        )

    def _publish(self, item: Decoded, key: ParcelKey, state: ParcelState) -> None:
        self.states[key] = state
        self.plan.parcels[key] = state
        if key not in self.known:
            self.plan.new_parcels.add(key)
        decision = state.decision
        if decision.status in ATTENTION:
            record_attention(
                f"clearance.{decision.status}",
                trace.get_current_span().get_span_context(),
                {
                    "clearance.status": decision.status,
                    "clearance.channel": decision.channel,
                    "clearance.destination": decision.destination_country,
                    "clearance.reasons": [reason.code for reason in decision.reasons],
                },
            )
        self.plan.outgoing.append(self._publication(item, state, decision))

    def _republish(self, item: Decoded, key: ParcelKey, state: ParcelState) -> None:
        """Publish again what a redelivered event decided (stored, perhaps never acknowledged:
        at-least-once, under the same ``decision_id``, which consumers recognise)."""
        for decision in self._stored.get((key, item.event.event_id), ()):
            self.plan.outgoing.append(self._publication(item, state, decision, republished=True))

    def _publication(
        self,
        item: Decoded,
        state: ParcelState,
        decision: ClearanceDecision,
        *,
        republished: bool = False,
    ) -> Publication:
        return Publication(
            decision=decision,
            event_id=item.event.event_id,
            body=encode(decision),
            payload=encode(platform_view(decision)),
            key=f"{state.order.platform}:{state.order.consignee.id}",
            headers=self._trace_headers(item),
            source_timestamp_ms=item.record.timestamp_ms,
            republished=republished,
        )

    def _trace_headers(self, item: Decoded) -> list[tuple[str, bytes]]:
        """The decision's ``traceparent``: the parcel's span (``Journeys`` finds it by it)."""
        if self.journeys is None:
            return inject_headers()
        return inject_headers(self.journeys.context_of(item.record))

    def _dead(self, item: Decoded, code: DeadLetterCode, message: str, path: str | None) -> None:
        self.plan.dead_letters.append(
            (item.record, dead_letter(item.record, code, message, path, self.now))
        )


def _assessment(parcel: trace.Span) -> contextlib.AbstractContextManager[trace.Span]:
    """``clearance.assess`` under a recorded parcel span; the parcel span itself otherwise (an
    unrecorded span costs nothing, a child of it would cost a sampling decision)."""
    if parcel.is_recording():
        return tracer.start_as_current_span("clearance.assess")
    return contextlib.nullcontext(parcel)


async def planner_with_stored(
    assessor: Assessor,
    store: ParcelStore,
    items: Sequence[Decoded],
    *,
    now: datetime,
    in_flight: Mapping[ParcelKey, ParcelState] | None = None,
    journeys: Journeys | None = None,
) -> BatchPlanner:
    """A planner for ``items`` holding what storage knows of them: their parcels (but those in
    ``in_flight``, planned and not stored yet, whose states are newer), the decisions of events
    delivered again, the running totals and the risk history.

    One read after another: which totals and history a batch needs depends on its parcels (an
    inspection names them through its stored order).
    """
    in_flight = in_flight or {}
    keys = {parcel_key(item.event) for item in items}
    states = await store.load_parcels(keys - in_flight.keys())
    states.update(in_flight)
    planner = BatchPlanner(assessor, states=states, now=now, journeys=journeys)
    if redelivered := planner.redelivered(items):
        planner.add_stored_decisions(await store.stored_decisions(redelivered))
    planner.add_totals(await store.load_totals(planner.totals_needed(items)))
    sellers, consignees = planner.history_needed(items)
    if sellers:
        # velocity counts parcels the service first saw in the last day, on the order's own
        # platform: no order's claimed time widens the window (docs: README, threat model)
        since = now - timedelta(days=1)
        planner.add_history(await store.risk_history(sellers, consignees, since))
    return planner
