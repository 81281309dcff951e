"""The generated order stream: deterministic, decodable, and with the mix it promises."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from clearance.devtools.generator import generate_events
from clearance.service.batches import Decoded, Record, decode_record

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _decode(events: list[tuple[str, bytes]]) -> list[Decoded | object]:
    return [
        decode_record(
            Record(
                topic="orders.v1", partition=0, offset=i, key=k.encode(), value=v, timestamp_ms=0
            ),
            "inspections.v1",
            NOW,
        )
        for i, (k, v) in enumerate(events)
    ]


def test_the_same_seed_gives_the_same_stream_and_another_seed_another() -> None:
    assert generate_events(300, seed=4) == generate_events(300, seed=4)
    assert generate_events(300, seed=4) != generate_events(300, seed=5)


def test_every_event_decodes_except_the_malformed_share() -> None:
    events = generate_events(2_000, seed=11, malformed_share=0.02)
    results = _decode(events)
    bad = [
        key
        for (key, _), result in zip(events, results, strict=True)
        if not isinstance(result, Decoded)
    ]
    assert all(key.startswith("malformed:") for key in bad)
    malformed = [key for key, _ in events if key.startswith("malformed:")]
    # the unsupported destination (AQ) decodes: the worker dead-letters it when it finds no pack
    assert 0.5 * len(malformed) <= len(bad) < len(malformed)
    assert 20 <= len(malformed) <= 70  # about 2%


def test_the_mix_is_mostly_vietnam_with_amendments_cancellations_and_splits() -> None:
    events = generate_events(4_000, seed=3, malformed_share=0)
    bodies = [json.loads(value) for _, value in events]
    kinds = Counter(body["type"] for body in bodies)
    assert 0.01 < kinds["order.amended"] / len(bodies) < 0.04
    assert 0.004 < kinds["order.cancelled"] / len(bodies) < 0.02
    placed = [b for b in bodies if b["type"] == "order.placed"]
    destinations = Counter(b["destination_country"] for b in placed)
    assert 0.6 < destinations["VN"] / len(placed) < 0.8
    assert {"DE", "FR", "GB", "AU", "US", "SG"} <= set(destinations)
    # an amendment always follows its order, with a higher revision
    seen: dict[str, int] = {}
    for body in bodies:
        if body["type"] == "order.placed":
            seen[body["order_id"]] = 1
        elif body["type"] == "order.amended":
            assert body["order_id"] in seen and body["revision"] > seen[body["order_id"]]
            seen[body["order_id"]] = body["revision"]
    # some consignees buy twice the same day (anti-splitting has something to find)
    per_day = Counter(
        (b["consignee"]["id"], b["occurred_at"][:10])
        for b in placed
        if b["destination_country"] == "VN"
    )
    assert sum(1 for n in per_day.values() if n > 1) > 50
    descriptions = {item["description"] for b in placed for item in b["items"]}
    assert {"disposable vape pen, mango", "carved ivory bangle"} <= descriptions


def test_keys_are_the_platform_and_the_consignee() -> None:
    for key, value in generate_events(200, seed=2, malformed_share=0):
        body = json.loads(value)
        consignee = body.get("consignee_id") or body["consignee"]["id"]
        assert key == f"{body['platform']}:{consignee}"


def test_an_unknown_destination_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown destination"):
        generate_events(10, destination="XX")


def test_prices_are_plausible_in_the_orders_currency() -> None:
    usd = {"USD": 1, "VND": 25_000, "EUR": 0.92, "GBP": 0.79, "AUD": 1.52, "SGD": 1.34}
    for _, value in generate_events(3_000, seed=9, malformed_share=0):
        body = json.loads(value)
        if body["type"] == "order.cancelled":
            continue
        rate = usd[body["currency"]]
        assert 1 <= float(body["shipping_cost"]) / rate <= 13, body["order_id"]
        for item in body["items"]:
            assert 1 <= float(item["unit_price"]) / rate <= 901, body["order_id"]
