"""Poison input lands on the dead-letter topic with the right code, and the stream goes on."""

from __future__ import annotations

import hashlib
import json

import asyncpg
import pytest

from clearance.messages import (
    DEAD_LETTER_MAX_BYTES,
    DeadLetter,
    decode_dead_letter,
    decode_decision,
)
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import produce, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("running_worker")]


def _invalid_utf8() -> bytes:
    return encoded(order(3)).replace(b"wireless", b"wire\xff\xfeless")


def _with_seller_id(n: int, seller_id: str) -> dict[str, object]:
    body = order(n)
    body["seller"] = {**body["seller"], "id": seller_id}
    return body


POISON: dict[str, tuple[bytes, str, str | None]] = {
    "not-json": (b"{this is not json", "MALFORMED_JSON", None),
    "wrong-schema": (
        encoded(
            {
                **order(4),
                "items": [{**order(4)["items"][0], "unit_price": 12.5}],
                "consignee": {
                    **order(4)["consignee"],
                    "identity": {"type": "national_id", "number": "001099000000"},
                },
            }
        ),
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
    "nul-in-order-id": (
        encoded(order(8, order_id="ORD-\u00008")),
        "UNSTORABLE_VALUE",
        "$.order_id",
    ),
    "nul-in-seller-id": (
        encoded(_with_seller_id(9, "seller\u0000x")),
        "UNSTORABLE_VALUE",
        "$.seller.id",
    ),
    "revision-out-of-range": (
        encoded(order(10, revision=2147483648)),
        "SCHEMA_VIOLATION",
        "$.revision",
    ),
}
#: What the example order's consignee carries that must never reach the dead-letter topic.
PERSONAL = [b"Nguyen Van A", b"12 Ly Thuong Kiet", b"+84900000000", b"001099000000"]


async def test_each_poison_message_is_dead_lettered_and_the_stream_continues(
    settings: Settings, db: asyncpg.Connection
) -> None:
    records = [(name.encode(), payload) for name, (payload, _, _) in POISON.items()]
    good = order(99)
    # valid, so decided (held: no rule was in force in year 1), never dead-lettered
    year_one = order(98, occurred_at="0001-01-01T00:00:00Z", currency="VND")
    year_one["transport"] = {**year_one["transport"], "arrival_date": None}
    records += [(key_of(good), encoded(good)), (key_of(year_one), encoded(year_one))]
    await produce(settings, "orders.v1", records)

    dlt = await read_topic(settings, "orders.v1.dlt", len(POISON))
    letters: dict[object, DeadLetter] = {}
    for record in dlt:
        assert len(record.value) < DEAD_LETTER_MAX_BYTES
        assert not any(secret in record.value for secret in PERSONAL), record.value[:300]
        letter = decode_dead_letter(record.value)
        letters.setdefault(letter.dead_letter_id, letter)  # redelivered copies share the id
    by_key = {letter.key: letter for letter in letters.values()}
    assert set(by_key) == set(POISON)
    for name, (payload, code, path) in POISON.items():
        letter = by_key[name]
        assert (letter.error.code, letter.error.path) == (code, path), name
        assert letter.source_topic == settings.topic("orders.v1")
        assert letter.payload_bytes == len(payload), name
        assert letter.payload_sha256 == hashlib.sha256(payload).hexdigest(), name
    assert by_key["two-megabytes"].payload_truncated
    assert by_key["not-json"].payload == "" and by_key["not-json"].payload_redacted
    assert by_key["wrong-schema"].payload_redacted  # the consignee's name and address removed
    assert json.loads(by_key["wrong-schema"].payload)["consignee"]["name"] == "[redacted]"

    decisions = [decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 2)]
    by_order = {d.order_id: d for d in decisions}
    assert set(by_order) == {"ORD-99", "ORD-98"}
    assert by_order["ORD-98"].status in {"hold", "needs_information"}  # it has no identity
    assert "RULE_NOT_IN_FORCE" in {reason.code for reason in by_order["ORD-98"].reasons}
    assert await db.fetchval("SELECT count(*) FROM decisions") == 2


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
