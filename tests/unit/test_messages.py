"""The wire contracts: examples round-trip, and bad input names the field to fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from clearance import messages as m
from clearance.devtools.contracts import EXAMPLES, MESSAGES

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
DECODERS: dict[str, Any] = {
    "order.placed": m.decode_order_event,
    "order.amended": m.decode_order_event,
    "order.cancelled": m.decode_order_event,
    "clearance.decision": m.decode_decision,
    "inspection.result": m.decode_inspection,
    "dead-letter": m.decode_dead_letter,
}


@pytest.mark.parametrize("message_type", sorted(MESSAGES))
def test_committed_example_round_trips_byte_for_byte(message_type: str) -> None:
    text = (CONTRACTS / "examples" / f"{message_type}.json").read_bytes()
    decoded = DECODERS[message_type](text)
    assert type(decoded) is MESSAGES[message_type]
    assert msgspec.json.format(m.encode(decoded), indent=2) + b"\n" == text
    compact = m.encode(decoded)
    assert m.encode(DECODERS[message_type](compact)) == compact


def _order() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(m.encode(EXAMPLES["order.placed"]))
    return body


def _error_for(document: dict[str, Any]) -> tuple[str, str | None]:
    with pytest.raises(msgspec.ValidationError) as caught:
        m.decode_order_event(json.dumps(document))
    return m.error_path(caught.value)


def test_negative_price_is_refused_at_its_path() -> None:
    order = _order()
    order["items"][0]["unit_price"] = "-1.00"
    message, path = _error_for(order)
    assert path == "$.items[0].unit_price"
    assert "non-negative" in message


def test_float_price_is_refused_because_money_is_a_string() -> None:
    order = _order()
    order["items"][0]["unit_price"] = 45.0
    message, path = _error_for(order)
    assert path == "$.items[0].unit_price"
    assert "JSON string" in message


def test_more_than_four_decimal_places_is_refused() -> None:
    order = _order()
    order["shipping_cost"] = "5.00001"
    _, path = _error_for(order)
    assert path == "$.shipping_cost"


def test_missing_consignee_points_at_the_field() -> None:
    order = _order()
    del order["consignee"]
    message, path = _error_for(order)
    assert path == "$.consignee"
    assert "missing required field" in message


def test_unknown_type_is_refused_at_the_tag() -> None:
    order = _order()
    order["type"] = "order.shipped"
    message, path = _error_for(order)
    assert path == "$.type"
    assert "order.shipped" in message


def test_two_hundred_and_one_items_are_refused() -> None:
    order = _order()
    order["items"] = [dict(order["items"][0], line_id=n) for n in range(1, 202)]
    message, path = _error_for(order)
    assert path == "$.items"
    assert "length <= 200" in message


def test_two_hundred_items_are_accepted() -> None:
    order = _order()
    order["items"] = [dict(order["items"][0], line_id=n) for n in range(1, 201)]
    assert len(m.decode_order_event(json.dumps(order)).items) == 200  # type: ignore[union-attr]


def test_naive_timestamp_is_refused() -> None:
    order = _order()
    order["occurred_at"] = "2026-11-20T10:15:00"
    _, path = _error_for(order)
    assert path == "$.occurred_at"


def test_hs_code_dots_and_spaces_are_stripped_and_digits_counted() -> None:
    order = _order()
    order["items"][0]["hs_code"] = "8518.30 20"
    decoded = m.decode_order_event(json.dumps(order))
    assert decoded.items[0].hs_code == "85183020"  # type: ignore[union-attr]
    order["items"][0]["hs_code"] = "85 18 3"
    message, path = _error_for(order)
    assert path == "$.items[0].hs_code"
    assert "6 to 10 digits" in message


def test_defaults_that_depend_on_other_fields_are_filled() -> None:
    order = _order()
    del order["shipment_id"]
    for item in order["items"]:
        del item["line_id"]
    order["items"].append(dict(order["items"][0]))
    decoded = m.decode_order_event(json.dumps(order))
    assert isinstance(decoded, m.OrderPlaced)
    assert decoded.shipment_id == decoded.order_id
    assert [item.line_id for item in decoded.items] == [1, 2]


def test_duplicate_line_ids_are_refused() -> None:
    order = _order()
    order["items"].append(dict(order["items"][0]))
    message, path = _error_for(order)
    assert path == "$.items[1].line_id"
    assert "duplicate" in message


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    order = _order()
    order["loyalty_tier"] = "gold"
    order["items"][0]["colour"] = "red"
    assert isinstance(m.decode_order_event(json.dumps(order)), m.OrderPlaced)


def test_amounts_are_encoded_as_strings() -> None:
    decision = json.loads(m.encode(EXAMPLES["clearance.decision"]))
    assert decision["total_due"] == "307340"
    assert decision["exchange_rate"]["from"] == "USD"
    order = json.loads(m.encode(EXAMPLES["order.placed"]))
    assert order["items"][0]["unit_price"] == "45.00"
