"""Accepting events from people and platforms that do not produce to Kafka themselves.

A platform submits an order over HTTP; an officer records an inspection over HTTP or in the
console. Both are checked here the same way the worker would judge them (what the database
cannot hold, a destination without a rule pack, a parcel or decision that is not current), so a
caller learns at once what to fix, and then the event goes to its topic like any other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import msgspec
from msgspec import Struct

from clearance.domain.access import ApiKey
from clearance.domain.packs import UnsupportedDestination
from clearance.domain.parcels import Order, ParcelKey
from clearance.messages import (
    InspectionResult,
    OrderCancelled,
    OrderEvent,
    decode_decision,
    unstorable_value,
)
from clearance.service.access import acting_for
from clearance.service.assessing import Assessor
from clearance.service.errors import NotFound, Refused, Stale
from clearance.service.ports import Publisher, ReadViews
from clearance.telemetry import inject_headers

__all__ = [
    "Accepted",
    "NotFound",
    "Refused",
    "Stale",
    "refuse_unstorable",
    "refuse_unsupported",
    "submit_inspection",
    "submit_order",
]


class Accepted(Struct, frozen=True, kw_only=True):
    """Where the event was stored: its decision follows on ``decisions.v1``."""

    topic: str
    partition: int
    offset: int
    key: str
    event_id: str


_NO_PARCEL: Final = "no such parcel"


def refuse_unstorable(message: Struct) -> None:
    """``Refused`` with ``UNSTORABLE_VALUE`` for what the database cannot hold."""
    problem = unstorable_value(message)
    if problem is not None:
        raise Refused(problem[0], problem[1], "UNSTORABLE_VALUE")


def refuse_unsupported(order: Order, assessor: Assessor) -> None:
    """``Refused`` with ``UNSUPPORTED_DESTINATION`` when no rule pack covers the destination."""
    try:
        assessor.pack_for(order)
    except UnsupportedDestination:
        message = f"destination {order.destination_country} has no rule pack"
        raise Refused(message, "$.destination_country", "UNSUPPORTED_DESTINATION") from None


async def submit_order(
    event: OrderEvent, caller: ApiKey, assessor: Assessor, publisher: Publisher
) -> Accepted:
    """An order event from a platform, checked, then sent to ``orders.v1``."""
    refuse_unstorable(event)
    acting_for(caller, event.platform)
    if isinstance(event, OrderCancelled):
        consignee = event.consignee_id
    else:
        consignee = event.consignee.id
        refuse_unsupported(event, assessor)
    return await _send(publisher, event, f"{event.platform}:{consignee}")


async def submit_inspection(
    inspection: InspectionResult,
    officer: ApiKey,
    views: ReadViews,
    publisher: Publisher,
    now: datetime | None = None,
) -> Accepted:
    """An officer's result for the parcel's current decision, sent to ``inspections.v1``.

    The audit trail is the server's, not the caller's: the officer is the key that signed the
    request and the time is now, whatever ``officer_id`` and ``occurred_at`` the body carried.
    """
    inspection = msgspec.structs.replace(
        inspection,
        officer_id=f"key:{officer.key_id}",
        occurred_at=now or datetime.now(UTC),
    )
    refuse_unstorable(inspection)
    parcel: ParcelKey = (inspection.platform, inspection.order_id, inspection.shipment_id)
    consignee = await views.consignee_of(parcel)
    body = await views.decision_body(parcel)
    if consignee is None or body is None:
        raise NotFound(_NO_PARCEL)
    current = decode_decision(body)
    if current.decision_id != inspection.decision_id:
        raise Stale(
            f"decision {inspection.decision_id} is not the parcel's current decision "
            f"({current.decision_id}, revision {current.decision_revision}): reload and retry"
        )
    return await _send(publisher, inspection, f"{inspection.platform}:{consignee}")


async def _send(publisher: Publisher, event: OrderEvent | InspectionResult, key: str) -> Accepted:
    topic, partition, offset = await publisher.submit(event, key, inject_headers())
    return Accepted(
        topic=topic, partition=partition, offset=offset, key=key, event_id=event.event_id
    )
