"""The one builder of synthetic ``order.placed`` events: the generator, the benches, the risk
evaluation and the tests all make their orders here, so a change to the contract is made once.

Bodies are plain dicts, as a platform would send them (``encoded`` gives the bytes, ``decoded``
the contract Struct): a test can still break one on purpose.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from clearance.messages import ORDER_PLACED_DECODER, OrderPlaced, encode

__all__ = [
    "consignee",
    "decoded",
    "encoded",
    "example_order",
    "item",
    "key_of",
    "order",
    "seller",
]


def item(
    description: str,
    unit_price: str,
    *,
    quantity: int = 1,
    origin: str = "CN",
    hs_code: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One line of goods (``extra``: any other field of the contract's ``Item``)."""
    line: dict[str, Any] = {
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "origin_country": origin,
        **extra,
    }
    if hs_code is not None:
        line["hs_code"] = hs_code
    return line


def seller(seller_id: str = "s", country: str = "CN", name: str = "Seller") -> dict[str, Any]:
    """The seller (merchant)."""
    return {"id": seller_id, "name": name, "country": country}


def consignee(
    consignee_id: str,
    country: str,
    *,
    name: str = "Buyer",
    identity: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The buyer; ``identity`` a national ID number (kept only as a keyed hash by the service)."""
    body: dict[str, Any] = {"id": consignee_id, "name": name, "country": country, **extra}
    if identity is not None:
        body["identity"] = {"type": "national_id", "number": identity}
    return body


def order(
    n: int,
    *,
    destination: str,
    currency: str,
    items: list[dict[str, Any]],
    buyer: dict[str, Any],
    platform: str = "shop",
    occurred_at: str = "2026-11-20T10:00:00+07:00",
    merchant: dict[str, Any] | None = None,
    mode: str = "express",
    **extra: Any,
) -> dict[str, Any]:
    """Order ``n`` (event ``e{n}``, order ``o{n}`` unless ``extra`` names them)."""
    body: dict[str, Any] = {
        "type": "order.placed",
        "event_id": f"e{n}",
        "platform": platform,
        "order_id": f"o{n}",
        "occurred_at": occurred_at,
        "destination_country": destination,
        "currency": currency,
        "seller": merchant or seller(),
        "consignee": buyer,
        "items": items,
        "transport": {"mode": mode},
    }
    body.update(extra)
    return body


def example_order() -> dict[str, Any]:
    """A copy of the contract's example ``order.placed`` (contracts/examples)."""
    from clearance.devtools.contracts import EXAMPLES

    body: dict[str, Any] = json.loads(encode(EXAMPLES["order.placed"]))
    return body


def key_of(body: dict[str, Any]) -> bytes:
    """The Kafka key of an order event: ``platform:consignee.id``."""
    consignee_id = body.get("consignee_id") or body["consignee"]["id"]
    return f"{body['platform']}:{consignee_id}".encode()


def encoded(body: dict[str, Any]) -> bytes:
    """JSON bytes of a message body."""
    return json.dumps(body).encode()


def decoded(body: dict[str, Any]) -> OrderPlaced:
    """The body as the contract Struct (validated as the worker would)."""
    return ORDER_PLACED_DECODER.decode(msgspec.json.encode(body))
