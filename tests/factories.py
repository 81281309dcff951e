"""Small builders of contract messages for tests (plain dicts, encoded as a platform would)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "contracts" / "examples"
_ORDER = json.loads((EXAMPLES / "order.placed.json").read_text())


def order(n: int, **changes: Any) -> dict[str, Any]:
    """The contract's example order, made parcel ``n`` of consignee ``buyer-{n % 97}``."""
    body = copy.deepcopy(_ORDER)
    body["event_id"] = f"evt-{n}"
    body["order_id"] = f"ORD-{n}"
    body["shipment_id"] = f"ORD-{n}-1"
    body["consignee"]["id"] = f"buyer-{n % 97}"
    body["consignee"]["identity"] = None
    body.update(changes)
    result: dict[str, Any] = body
    return result


def key_of(body: dict[str, Any]) -> bytes:
    """The Kafka key of an order event: ``platform:consignee.id``."""
    consignee = body.get("consignee_id") or body["consignee"]["id"]
    return f"{body['platform']}:{consignee}".encode()


def encoded(body: dict[str, Any]) -> bytes:
    """JSON bytes of a message body."""
    return json.dumps(body).encode()
