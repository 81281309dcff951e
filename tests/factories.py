"""Small builders of contract messages for tests, on the one order builder
(``clearance.devtools.orders``) the generator and the benches use too."""

from __future__ import annotations

from typing import Any

from clearance.devtools.orders import encoded, example_order, key_of

__all__ = ["encoded", "key_of", "order"]


def order(n: int, **changes: Any) -> dict[str, Any]:
    """The contract's example order, made parcel ``n`` of consignee ``buyer-{n % 97}``."""
    body = example_order()
    body["event_id"] = f"evt-{n}"
    body["order_id"] = f"ORD-{n}"
    body["shipment_id"] = f"ORD-{n}-1"
    body["consignee"]["id"] = f"buyer-{n % 97}"
    body["consignee"]["identity"] = None
    body.update(changes)
    return body
