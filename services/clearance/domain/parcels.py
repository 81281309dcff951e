"""A parcel as the service keeps it, and what one batch of events changes.

The worker plans a batch without I/O (``clearance.service.batches``) and hands these changes to the
parcel store (an adapter) to write in one transaction; both sides speak these types, so neither
needs the other's.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec

from clearance.messages import ClearanceDecision, InspectionResult, OrderAmended, OrderPlaced

__all__ = [
    "BatchChanges",
    "InspectionRecord",
    "Order",
    "ParcelKey",
    "ParcelState",
    "PendingPublication",
    "Publication",
]

Order = OrderPlaced | OrderAmended
"""An order event that is assessed: the whole consignment, first or amended."""

ParcelKey = tuple[str, str, str]
"""(platform, order_id, shipment_id): one parcel."""


class ParcelState(msgspec.Struct, kw_only=True):
    """What storage (or an earlier event in this batch) knows about one parcel."""

    order: Order
    """The latest revision assessed (without phone or identity number)."""
    consignee_ref: str
    event_ids: list[str]
    decision: ClearanceDecision
    """The current decision."""

    @property
    def cancelled(self) -> bool:
        return self.decision.status == "cancelled"


class Publication(msgspec.Struct, frozen=True, kw_only=True):
    """A new decision to store and publish on ``decisions.v1``."""

    decision: ClearanceDecision
    payload: bytes
    key: str
    headers: list[tuple[str, bytes]]
    source_timestamp_ms: int
    """The Kafka timestamp of the record that caused it (end-to-end latency)."""


class PendingPublication(msgspec.Struct, frozen=True, kw_only=True):
    """A stored decision the broker has not acknowledged (in the outbox): published again."""

    decision_id: uuid.UUID
    topic: str
    key: str | None
    traceparent: str | None
    payload: bytes


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
