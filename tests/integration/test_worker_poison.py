"""Poison input lands on the dead-letter topic with the right code, and the stream goes on."""

from __future__ import annotations

import base64
import json

import asyncpg
import pytest

from clearance.messages import decode_dead_letter, decode_decision
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import produce, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("running_worker")]


def _invalid_utf8() -> bytes:
    return encoded(order(3)).replace(b"wireless", b"wire\xff\xfeless")


POISON: dict[str, tuple[bytes, str, str | None]] = {
    "not-json": (b"{this is not json", "MALFORMED_JSON", None),
    "wrong-schema": (
        encoded({**order(4), "items": [{**order(4)["items"][0], "unit_price": 12.5}]}),
        "SCHEMA_VIOLATION",
        "$.items[0].unit_price",
    ),
    "unknown-type": (
        encoded({**order(5), "type": "order.teleported"}),
        "UNKNOWN_MESSAGE_TYPE",
        "$.type",
    ),
    "unknown-destination": (
        encoded(order(6, destination_country="AQ")),
        "UNSUPPORTED_DESTINATION",
        "$.destination_country",
    ),
    "two-megabytes": (
        encoded(order(7, notes="x" * (2 * 1024 * 1024))),
        "PAYLOAD_TOO_LARGE",
        None,
    ),
    "invalid-utf8": (_invalid_utf8(), "MALFORMED_JSON", None),
}


async def test_each_poison_message_is_dead_lettered_and_the_stream_continues(
    settings: Settings, db: asyncpg.Connection
) -> None:
    records = [(name.encode(), payload) for name, (payload, _, _) in POISON.items()]
    good = order(99)
    records.append((key_of(good), encoded(good)))
    await produce(settings, "orders.v1", records)

    letters = [decode_dead_letter(r.value) for r in await read_topic(settings, "orders.v1.dlt", 6)]
    by_key = {letter.key: letter for letter in letters}
    assert set(by_key) == set(POISON)
    for name, (payload, code, path) in POISON.items():
        letter = by_key[name]
        assert (letter.error.code, letter.error.path) == (code, path), name
        assert letter.source_topic == settings.topic("orders.v1")
        original = (
            base64.b64decode(letter.payload)
            if letter.payload_encoding == "base64"
            else letter.payload.encode()
        )
        assert original == payload, f"{name}: the dead letter must keep the original bytes"
    assert by_key["invalid-utf8"].payload_encoding == "base64"

    decisions = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 1)]
    assert [d.order_id for d in decisions] == ["ORD-99"]
    assert await db.fetchval("SELECT count(*) FROM decisions") == 1


async def test_an_inspection_with_an_unknown_line_is_dead_lettered(
    settings: Settings, db: asyncpg.Connection
) -> None:
    placed = order(20)
    await produce(settings, "orders.v1", [(key_of(placed), encoded(placed))])
    [decision] = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 1)]
    bad = {
        "type": "inspection.result",
        "event_id": "insp-bad",
        "platform": "shopmart",
        "order_id": "ORD-20",
        "shipment_id": "ORD-20-1",
        "decision_id": str(decision.decision_id),
        "officer_id": "officer-7",
        "occurred_at": "2026-11-21T09:00:00+07:00",
        "outcome": "reassess",
        "corrections": [{"line_id": 9, "hs_code": "85183020"}],
    }
    await produce(settings, "inspections.v1", [(key_of(placed), json.dumps(bad).encode())])
    [letter] = [decode_dead_letter(r.value) for r in await read_topic(settings, "orders.v1.dlt", 1)]
    assert (letter.error.code, letter.error.path) == ("SCHEMA_VIOLATION", "$.corrections")
    assert "9" in letter.error.message
    assert letter.source_topic == settings.topic("inspections.v1")
