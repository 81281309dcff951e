"""Helpers the PostgreSQL adapters share: parcel keys as arrays, stored order bodies."""

from __future__ import annotations

from collections.abc import Iterable

from clearance.domain.parcels import Order, ParcelKey
from clearance.messages import OrderCancelled, decode_order_event

__all__ = ["columns_of", "stored_order"]


def columns_of(keys: Iterable[ParcelKey]) -> tuple[list[str], list[str], list[str]]:
    platforms, orders, shipments = [], [], []
    for platform, order_id, shipment_id in keys:
        platforms.append(platform)
        orders.append(order_id)
        shipments.append(shipment_id)
    return platforms, orders, shipments


def stored_order(body: str) -> Order:
    order = decode_order_event(body)
    if isinstance(order, OrderCancelled):  # pragma: no cover - never stored as an order body
        raise TypeError("a cancellation is not an order")
    return order
