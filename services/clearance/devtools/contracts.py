"""Generate ``contracts/`` from the Structs in ``clearance.messages``.

``contracts/`` holds one JSON Schema per message, an AsyncAPI 3 document (topics, keys,
headers, messages) and one valid example per message. ``generate()`` returns every file's
text; the CLI writes them and the tests fail when the committed files differ from what the
code generates.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

import msgspec

from clearance import __version__
from clearance import messages as m

__all__ = ["EXAMPLES", "MESSAGES", "TOPICS", "generate"]

#: message type tag -> Struct
MESSAGES: Final[dict[str, type[msgspec.Struct]]] = {
    "order.placed": m.OrderPlaced,
    "order.amended": m.OrderAmended,
    "order.cancelled": m.OrderCancelled,
    "clearance.decision": m.ClearanceDecision,
    "inspection.result": m.InspectionResult,
    "dead-letter": m.DeadLetter,
}

#: topic -> (channel id, messages, who produces -> who consumes)
TOPICS: Final[dict[str, tuple[str, list[str], str]]] = {
    "orders.v1": (
        "orders",
        ["order.placed", "order.amended", "order.cancelled"],
        "platforms -> clearance",
    ),
    "decisions.v1": ("decisions", ["clearance.decision"], "clearance -> platforms, carriers, ops"),
    "inspections.v1": ("inspections", ["inspection.result"], "officers, scanners -> clearance"),
    "orders.v1.dlt": ("deadLetters", ["dead-letter"], "clearance -> ops"),
}

_ICT = timezone(timedelta(hours=7))
_SELLER = m.Party(id="seller-88", name="Shenzhen Audio Co.", country="CN")
_CONSIGNEE = m.Consignee(
    id="buyer-1024",
    name="Nguyen Van A",
    country="VN",
    address=m.Address(line1="12 Ly Thuong Kiet", city="Ha Noi", postcode="100000"),
    phone="+84900000000",
    identity=m.Identity(type="national_id", number="001099000000"),
)
_ITEM = m.Item(
    line_id=1,
    sku="EP-200",
    description="wireless in-ear earphones",
    hs_code="85183020",
    quantity=1,
    unit_price=m.Money("45.00"),
    origin_country="CN",
    unit_weight_kg=m.Kilograms("0.150"),
)
_PLACED = m.OrderPlaced(
    event_id="evt-7f3a9c",
    platform="shopmart",
    order_id="SM-2026-000123",
    shipment_id="SM-2026-000123-1",
    occurred_at=datetime(2026, 11, 20, 10, 15, tzinfo=_ICT),
    destination_country="VN",
    currency="USD",
    seller=_SELLER,
    consignee=_CONSIGNEE,
    items=[_ITEM],
    shipping_cost=m.Money("5.00"),
    transport=m.Transport(
        mode="express",
        carrier="EXAMPLE-EXPRESS",
        tracking_number="EX123456789VN",
        master_bill="784-12345675",
        arrival_date=date(2026, 11, 22),
        port_of_entry="HAN",
    ),
)
_DECISION_ID = uuid.UUID("0b9d3c1e-6a57-4f0e-9a3b-2f6c1d7e8a90")

# An illustrative decision for the order above: 1 earphone at USD 45 + USD 5 freight = USD 50 CIF
# at an illustrative 25,400 VND/USD = VND 1,270,000, above the VND 1,000,000 express exemption;
# MFN duty 15% (AHTN 8518.30.20), VAT 8% (Decree 174/2025) on customs value + duty.
_DECISION = m.ClearanceDecision(
    decision_id=_DECISION_ID,
    platform="shopmart",
    order_id="SM-2026-000123",
    shipment_id="SM-2026-000123-1",
    order_revision=1,
    decision_revision=1,
    decided_at=datetime(2026, 11, 20, 10, 15, 1, tzinfo=_ICT),
    assessment_date=date(2026, 11, 22),
    destination_country="VN",
    rule_pack=m.RulePackRef(id="VN", version="2026.11.0", digest="0" * 64),
    status="release_on_payment",
    channel="green",
    category="low_value_dutiable",
    currency="VND",
    exchange_rate=m.ExchangeRateUsed(
        from_="USD", to="VND", rate=Decimal("25400"), source="example rate", date=date(2026, 11, 22)
    ),
    customs_value=Decimal("1270000"),
    threshold_value=Decimal("1270000"),
    duty=Decimal("190500"),
    tax=Decimal("116840"),
    excise=Decimal("0"),
    fees=Decimal("0"),
    total_due=Decimal("307340"),
    collected_at_checkout=Decimal("0"),
    lines=[
        m.DecisionLine(
            line_id=1,
            hs_code="85183020",
            quantity=1,
            customs_value=Decimal("1270000"),
            duty_rate=Decimal("0.15"),
            duty=Decimal("190500"),
            tax_rate=Decimal("0.08"),
            tax=Decimal("116840"),
        )
    ],
    charges=[
        m.Charge(
            kind="duty",
            line_id=1,
            amount=Decimal("190500"),
            basis=Decimal("1270000"),
            rate="0.15",
            formula="15% x customs value 1,270,000",
            reference="MFN rate, AHTN 8518.30.20 (Decree 26/2023/ND-CP)",
        ),
        m.Charge(
            kind="tax",
            line_id=1,
            amount=Decimal("116840"),
            basis=Decimal("1460500"),
            rate="0.08",
            formula="8% x (customs value 1,270,000 + duty 190,500)",
            reference="Decree 174/2025/ND-CP (VAT 8%, 2025-07-01..2026-12-31)",
        ),
    ],
    reasons=[
        m.Reason(
            code="ABOVE_EXPRESS_EXEMPTION",
            message="customs value VND 1,270,000 exceeds the VND 1,000,000 express exemption",
            reference="Decree 134/2016/ND-CP Art. 29(2)",
        )
    ],
    risk=m.Risk(score=12, signals=[]),
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
)

EXAMPLES: Final[dict[str, msgspec.Struct]] = {
    "order.placed": _PLACED,
    "order.amended": m.OrderAmended(
        **{
            **msgspec.structs.asdict(_PLACED),
            "event_id": "evt-7f3a9d",
            "revision": 2,
            "items": [msgspec.structs.replace(_ITEM, quantity=2)],
            "occurred_at": datetime(2026, 11, 20, 11, 0, tzinfo=_ICT),
        }
    ),
    "order.cancelled": m.OrderCancelled(
        event_id="evt-7f3a9e",
        platform="shopmart",
        order_id="SM-2026-000123",
        shipment_id="SM-2026-000123-1",
        occurred_at=datetime(2026, 11, 20, 12, 0, tzinfo=_ICT),
        consignee_id="buyer-1024",
        reason="buyer cancelled before dispatch",
    ),
    "clearance.decision": _DECISION,
    "inspection.result": m.InspectionResult(
        event_id="insp-5521",
        platform="shopmart",
        order_id="SM-2026-000123",
        shipment_id="SM-2026-000123-1",
        decision_id=_DECISION_ID,
        officer_id="officer-hn-042",
        occurred_at=datetime(2026, 11, 22, 9, 30, tzinfo=_ICT),
        outcome="reassess",
        corrections=[m.Correction(line_id=1, unit_price=m.Money("65.00"))],
        notes="invoice found in parcel shows USD 65",
    ),
    "dead-letter": m.DeadLetter(
        source_topic="orders.v1",
        partition=3,
        offset=1042,
        key="shopmart:buyer-1024",
        received_at=datetime(2026, 11, 20, 3, 15, 2, tzinfo=UTC),
        error=m.DeadLetterError(
            code="SCHEMA_VIOLATION",
            message='must be a JSON string holding a decimal number (e.g. "12.50"), not 45.0',
            path="$.items[0].unit_price",
        ),
        payload=(
            '{"type":"order.placed","consignee":{"id":"buyer-1024","name":"[redacted]"},'
            '"items":[{"unit_price":45.0}]}'
        ),
        dead_letter_id=uuid.UUID("0b6f7f8e-3c2a-5d1e-8f4b-2a9c6d1e7f30"),
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        payload_bytes=96,
        payload_sha256="5f1c2a7d3e9b8c4a6f0e1d2c3b4a59687f6e5d4c3b2a1908f7e6d5c4b3a29180",
        payload_redacted=True,
    ),
}

_HEADERS_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "traceparent": {
            "type": "string",
            "description": "W3C Trace Context parent, when the producer traces",
        },
        "tracestate": {"type": "string", "description": "W3C Trace Context state"},
        "content-type": {"type": "string", "const": "application/json"},
        "message-type": {
            "type": "string",
            "description": "the message's type tag, e.g. order.placed",
        },
    },
    "required": ["content-type", "message-type"],
}


def _pretty(value: Any) -> str:
    return msgspec.json.format(m.ENCODER.encode(value), indent=2).decode() + "\n"


def _message_id(message_type: str) -> str:
    words = message_type.replace("-", ".").split(".")
    return words[0] + "".join(word.capitalize() for word in words[1:])


def _asyncapi() -> dict[str, Any]:
    types = list(MESSAGES.values())
    _, components = msgspec.json.schema_components(
        types, schema_hook=m.schema_hook, ref_template="#/components/schemas/{name}"
    )
    components["KafkaHeaders"] = _HEADERS_SCHEMA
    messages: dict[str, Any] = {}
    for message_type, struct in MESSAGES.items():
        messages[_message_id(message_type)] = {
            "name": message_type,
            "title": message_type,
            "summary": (struct.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/KafkaHeaders"},
            "payload": {"$ref": f"#/components/schemas/{struct.__name__}"},
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": "platform:consignee.id (the consignee key)",
                    }
                }
            },
            "examples": [
                {
                    "name": message_type,
                    "payload": msgspec.to_builtins(EXAMPLES[message_type], enc_hook=str),
                }
            ],
        }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, (channel_id, types_on_topic, flow) in TOPICS.items():
        refs = {
            _message_id(t): {"$ref": f"#/components/messages/{_message_id(t)}"}
            for t in types_on_topic
        }
        channels[channel_id] = {
            "address": topic,
            "description": f"{flow}; key = platform:consignee.id",
            "messages": refs,
        }
        action = "receive" if flow.endswith("-> clearance") else "send"
        operations[f"{action}{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in refs],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "parcel-clearance",
            "version": __version__,
            "description": (
                "Order events in, explainable clearance decisions out. Money is a JSON string; "
                "unknown fields are ignored; a breaking change is a new .v2 topic."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": components},
    }


def _openapi() -> dict[str, Any]:
    # Imported here: the HTTP layer is heavier than the message contracts.
    from clearance.entrypoints.http.app import create_app
    from clearance.settings import load_settings

    app = create_app(load_settings({}, environment="dev"))
    return app.openapi_schema.to_schema()


def generate() -> dict[str, str]:
    """Every file of ``contracts/`` (relative path -> text), generated from the code."""
    files: dict[str, str] = {
        "asyncapi.json": _pretty(_asyncapi()),
        "openapi.json": _pretty(_openapi()),
    }
    for message_type, struct in MESSAGES.items():
        schema = msgspec.json.schema(struct, schema_hook=m.schema_hook)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://parcel-clearance.example/contracts/{message_type}.json"
        files[f"schemas/{message_type}.json"] = _pretty(schema)
        files[f"examples/{message_type}.json"] = _pretty(EXAMPLES[message_type])
    return files
