"""A parcel as the service keeps it, and what one batch of events changes.

The worker plans a batch without I/O (``clearance.service.batches``) and hands these changes to the
parcel store (an adapter) to write in one transaction; both sides speak these types, so neither
needs the other's.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec

from clearance.domain.aeo import AeoCertificate
from clearance.messages import ClearanceDecision, InspectionResult, OrderAmended, OrderPlaced

__all__ = [
    "MAX_EVENT_IDS",
    "BatchChanges",
    "InspectionRecord",
    "Order",
    "ParcelKey",
    "ParcelState",
    "Publication",
    "RiskHistory",
    "remember_event",
]

Order = OrderPlaced | OrderAmended
"""An order event that is assessed: the whole consignment, first or amended."""

ParcelKey = tuple[str, str, str]
"""(platform, order_id, shipment_id): one parcel."""


#: How many of a parcel's latest event ids are kept to recognise a redelivery. Kafka redelivers
#: what follows the last committed offset, so a redelivered event is among a parcel's latest; an
#: older one is judged by its revision or decision id, which make it a no-op (a stale revision, a
#: stale inspection, an already cancelled parcel). Bounded, so a parcel's row stays small however
#: many events a platform sends about it.
MAX_EVENT_IDS = 64


def remember_event(event_ids: list[str], event_id: str) -> list[str]:
    """``event_ids`` with ``event_id`` added, the oldest dropped beyond ``MAX_EVENT_IDS``."""
    return [*event_ids, event_id][-MAX_EVENT_IDS:]


class ParcelState(msgspec.Struct, kw_only=True):
    """What storage (or an earlier event in this batch) knows about one parcel."""

    order: Order
    """The latest revision assessed (without phone or identity number)."""
    consignee_ref: str
    event_ids: list[str]
    """The parcel's latest event ids (at most ``MAX_EVENT_IDS``), to skip redeliveries."""
    decision: ClearanceDecision
    """The current decision."""
    control_decision: uuid.UUID | None = None
    """While a platform's changes are refused (the parcel awaits an officer), the decision the
    officer was shown: an inspection of it still applies, though refusals revised it since."""

    @property
    def cancelled(self) -> bool:
        return self.decision.status == "cancelled"


class Publication(msgspec.Struct, frozen=True, kw_only=True):
    """A decision to publish on ``decisions.v1``: a new one (stored with it), or one stored
    before whose event the broker delivered again (``republished``)."""

    decision: ClearanceDecision
    event_id: str
    """The event that caused the decision: its redelivery publishes the decision again."""
    body: bytes
    """The whole decision, as stored: what officers read."""
    payload: bytes
    """What ``decisions.v1`` carries: the platform's view (``access.platform_view``)."""
    key: str
    headers: list[tuple[str, bytes]]
    source_timestamp_ms: int
    """The Kafka timestamp of the record that caused it (end-to-end latency)."""
    republished: bool = False
    """Stored by an earlier delivery of its event, which crashed or failed before the broker
    acknowledged it: published again (same ``decision_id``), not stored again."""


class InspectionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An inspection result applied in a batch, with the decision it produced."""

    inspection: InspectionResult
    body: bytes
    result_decision: uuid.UUID | None


class BatchChanges(msgspec.Struct, kw_only=True):
    """Everything one batch stores (in one transaction) and then publishes."""

    parcels: dict[ParcelKey, ParcelState] = msgspec.field(default_factory=dict)
    """Parcels whose row changes, with their new state (upserted)."""
    new_parcels: set[ParcelKey] = msgspec.field(default_factory=set)
    """Of those, the ones storage did not know before this batch (inserted)."""
    outgoing: list[Publication] = msgspec.field(default_factory=list)
    contributions: dict[ParcelKey, dict[str, Decimal]] = msgspec.field(default_factory=dict)
    """Each changed parcel's running-total contributions, replacing what was stored."""
    inspections: list[InspectionRecord] = msgspec.field(default_factory=list)
    totals_seen: dict[str, Decimal] = msgspec.field(default_factory=dict)
    """The running totals the batch's assessments read (key -> total, this worker's batches in
    flight included). Another worker may assess the same consignee at the same time (the same
    person on two platforms, on two partitions): storage refuses the batch when a total changed
    since (``TotalsChanged``) and the worker plans it again on the new totals."""


class RiskHistory(msgspec.Struct, kw_only=True):
    """What storage knows for the risk signals of one batch's orders."""

    known_sellers: set[tuple[str, str]] = msgspec.field(default_factory=set)
    """Sellers (platform, seller id) already seen."""
    recent_parcels: dict[tuple[str, str], set[ParcelKey]] = msgspec.field(default_factory=dict)
    """Per (platform, consignee_ref): the consignee's parcels on that platform first seen since
    the window's start (velocity; one platform's parcels never count for another's)."""
    aeo: dict[tuple[str, str], tuple[AeoCertificate, ...]] = msgspec.field(default_factory=dict)
    """Per seller (platform, seller id): its certificates in the AEO registry."""
