"""The wire contracts: every message parcel-clearance exchanges, as msgspec Structs.

These Structs are the source of truth for ``contracts/`` (JSON Schemas, AsyncAPI, examples),
which is generated from them by ``clearance contracts generate``. They follow
``docs/spec/contracts.md``:

* money travels as a JSON *string* holding a non-negative decimal with at most 4 places; a JSON
  number is refused (floats lose cents), so input money uses the ``Money`` type below;
* unknown fields are ignored (forward compatibility); a new field always gets a default;
* decoding errors name the JSON path of the bad field (``$.items[0].unit_price``).

Decode with the module-level decoders (``ORDER_EVENT_DECODER``...) and encode with ``encode``: they
carry the hooks that make ``Money`` strict, and reusing them is the fast path (msgspec perf tips).
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct, field

__all__ = [
    "DEAD_LETTERS",
    "DEAD_LETTER_MAX_BYTES",
    "DECISIONS",
    "INSPECTIONS",
    "MAX_STORED_INTEGER",
    "ORDERS",
    "ORDER_EVENT_DECODER",
    "TOPICS",
    "Address",
    "Charge",
    "ClearanceDecision",
    "Consignee",
    "Correction",
    "DeadLetter",
    "DeadLetterError",
    "DecisionLine",
    "ExchangeRateUsed",
    "Identity",
    "InspectionNotes",
    "InspectionOutcome",
    "InspectionResult",
    "Item",
    "Kilograms",
    "Money",
    "OrderAmended",
    "OrderCancelled",
    "OrderEvent",
    "OrderPlaced",
    "OriginProof",
    "Party",
    "Reason",
    "Registration",
    "Risk",
    "RulePackRef",
    "TaxCollected",
    "Transport",
    "decode_dead_letter",
    "decode_decision",
    "decode_inspection",
    "decode_order_event",
    "encode",
    "error_path",
    "refine_path",
    "unstorable_value",
]


# --- topics ------------------------------------------------------------------------------------

#: The topics of the contract (an installation may prefix them: ``CLEARANCE_TOPIC_PREFIX``).
ORDERS: Final = "orders.v1"
DECISIONS: Final = "decisions.v1"
INSPECTIONS: Final = "inspections.v1"
DEAD_LETTERS: Final = "orders.v1.dlt"
TOPICS: Final = (ORDERS, DECISIONS, INSPECTIONS, DEAD_LETTERS)


# --- scalar types -------------------------------------------------------------------------------


class _DecimalString(Decimal):
    """A non-negative decimal that must arrive as a JSON string ("12.50"), never as a number."""

    __slots__ = ()
    max_places: int = 4


class Money(_DecimalString):
    """An amount of money in the currency the message names, e.g. ``"12.50"``."""

    __slots__ = ()


class Kilograms(_DecimalString):
    """A weight in kilograms, e.g. ``"0.350"``."""

    __slots__ = ()


_DECIMAL_TEXT: Final = re.compile(r"^\d{1,15}(\.\d{1,4})?$")


def _dec_hook(type_: type, obj: Any) -> Any:
    if isinstance(type_, type) and issubclass(type_, _DecimalString):
        if not isinstance(obj, str):
            raise ValueError(
                f'must be a JSON string holding a decimal number (e.g. "12.50"), not {obj!r}'
            )
        if not _DECIMAL_TEXT.match(obj):
            raise ValueError(
                f"invalid amount {obj!r}: expected a non-negative decimal with at most "
                "4 decimal places"
            )
        return type_(obj)
    raise NotImplementedError(f"cannot decode {type_!r}")


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    raise NotImplementedError(f"cannot encode {type(obj)!r}")


def schema_hook(type_: type) -> dict[str, Any]:
    """JSON Schema for the custom scalar types (used by contract generation and the HTTP API)."""
    if isinstance(type_, type) and issubclass(type_, _DecimalString):
        return {
            "type": "string",
            "pattern": _DECIMAL_TEXT.pattern,
            "description": "non-negative decimal number as a string, at most 4 decimal places",
            "examples": ["12.50"],
        }
    raise NotImplementedError(f"no schema for {type_!r}")


Text64 = Annotated[str, Meta(min_length=1, max_length=64)]
ShortText = Annotated[str, Meta(min_length=1, max_length=256)]
PlatformName = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Country = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")]
Instant = Annotated[datetime, Meta(tz=True, description="RFC 3339 instant with an offset")]
#: PostgreSQL ``integer``: the widest integer the service stores (revisions, line ids).
MAX_STORED_INTEGER: Final = 2**31 - 1
Revision = Annotated[int, Meta(ge=1, le=MAX_STORED_INTEGER)]
LineId = Annotated[int, Meta(ge=1, le=MAX_STORED_INTEGER)]
HsCodeText = Annotated[
    str,
    Meta(
        pattern=r"^[0-9][0-9. ]{4,18}[0-9]$",
        description="6 to 10 digits; dots and spaces are stripped",
    ),
]
TraceId = Annotated[str, Meta(pattern=r"^[0-9a-f]{32}$")]
Description = Annotated[str, Meta(min_length=3, max_length=512)]

RegistrationScheme = Literal["EU_IOSS", "UK_VAT", "AU_GST", "SG_GST", "VN_TAX", "OTHER"]
ExciseCategory = Literal["alcohol", "tobacco", "perfume", "fuel", "none"]
TransportMode = Literal["express", "post", "air_cargo", "road", "rail", "sea"]
OriginDocument = Literal[
    "FORM_D", "FORM_E", "EUR1", "STATEMENT_ON_ORIGIN", "SELF_CERTIFICATION", "OTHER"
]
Status = Literal[
    "release",
    "release_on_payment",
    "hold",
    "refuse",
    "needs_information",
    "formal_entry_required",
    "cancelled",
]
Channel = Literal["green", "yellow", "red"]
Category = Literal["documents", "low_value_exempt", "low_value_dutiable", "high_value"]
ChargeKind = Literal["duty", "tax", "excise", "fee"]
DeadLetterCode = Literal[
    "MALFORMED_JSON",
    "SCHEMA_VIOLATION",
    "UNKNOWN_MESSAGE_TYPE",
    "UNSUPPORTED_DESTINATION",
    "PAYLOAD_TOO_LARGE",
    "UNSTORABLE_VALUE",
    "ENGINE_ERROR",
    "PLATFORM_MISMATCH",
]


def normalise_hs_code(text: str) -> str:
    """Strip dots and spaces from an HS code as the contract allows ("8517.13 00" -> "85171300")."""
    return text.replace(".", "").replace(" ", "")


# --- order events ---------------------------------------------------------------------------------


class Registration(Struct, frozen=True, kw_only=True):
    """A tax registration of a seller (e.g. an EU IOSS number)."""

    scheme: RegistrationScheme
    number: ShortText


class Party(Struct, frozen=True, kw_only=True):
    """The seller (merchant)."""

    id: ShortText
    name: ShortText
    country: Country
    registration: Registration | None = None
    aeo: bool = False


class Address(Struct, frozen=True, kw_only=True):
    line1: ShortText
    line2: ShortText | None = None
    city: ShortText | None = None
    region: ShortText | None = None
    postcode: Annotated[str, Meta(max_length=32)] | None = None


class Identity(Struct, frozen=True, kw_only=True):
    """A consignee identity document. Never stored or logged in clear (only a keyed hash)."""

    type: Literal["national_id", "passport", "tax_id"]
    number: Annotated[str, Meta(min_length=1, max_length=64)]


class Consignee(Struct, frozen=True, kw_only=True):
    """The buyer who receives the parcel."""

    id: ShortText
    name: ShortText
    country: Country
    address: Address | None = None
    phone: Annotated[str, Meta(max_length=32)] | None = None
    identity: Identity | None = None


class Item(Struct, frozen=True, kw_only=True):
    """One line of goods in the parcel. ``line_id`` defaults to the 1-based position."""

    description: Description
    quantity: Annotated[int, Meta(ge=1, le=1_000_000)]
    unit_price: Money
    origin_country: Country
    line_id: LineId | None = None
    sku: ShortText | None = None
    hs_code: HsCodeText | None = None
    category: ShortText | None = None
    unit_weight_kg: Kilograms | None = None
    excise_category: ExciseCategory = "none"

    def __post_init__(self) -> None:
        if self.hs_code is not None:
            digits = normalise_hs_code(self.hs_code)
            if not digits.isdigit() or not 6 <= len(digits) <= 10:
                raise ValueError(f"hs_code: {self.hs_code!r} must have 6 to 10 digits")
            msgspec.structs.force_setattr(self, "hs_code", digits)


class TaxCollected(Struct, frozen=True, kw_only=True):
    """VAT/GST the seller or marketplace already charged at checkout."""

    scheme: RegistrationScheme
    number: ShortText
    amount: Money


class Transport(Struct, frozen=True, kw_only=True):
    mode: TransportMode
    carrier: ShortText | None = None
    tracking_number: ShortText | None = None
    master_bill: ShortText | None = None
    arrival_date: date | None = None
    port_of_entry: ShortText | None = None


class OriginProof(Struct, frozen=True, kw_only=True):
    """Proof of preferential origin, e.g. an ATIGA e-Form D exchanged through the ASW."""

    agreement: Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]
    document: OriginDocument
    reference: ShortText | None = None
    issued_on: date | None = None


class _Order(Struct, frozen=True, kw_only=True, tag_field="type"):
    """Fields shared by ``order.placed`` and ``order.amended``: one consignment (parcel)."""

    event_id: Text64
    platform: PlatformName
    order_id: Text64
    occurred_at: Instant
    destination_country: Country
    currency: Currency
    seller: Party
    consignee: Consignee
    items: Annotated[list[Item], Meta(min_length=1, max_length=200)]
    shipment_id: Text64 | None = None
    revision: Revision = 1
    shipping_cost: Money = field(default_factory=lambda: Money("0"))
    insurance_cost: Money = field(default_factory=lambda: Money("0"))
    prices_include_shipping: bool = False
    tax_collected: TaxCollected | None = None
    incoterm: Literal["DDP", "DAP"] = "DAP"
    transport: Transport | None = None
    origin_proof: OriginProof | None = None
    is_gift: bool = False

    def __post_init__(self) -> None:
        # Fill the contract's defaults that depend on other fields, so every reader sees them.
        if self.shipment_id is None:
            msgspec.structs.force_setattr(self, "shipment_id", self.order_id)
        seen: set[int] = set()
        for position, item in enumerate(self.items, start=1):
            if item.line_id is None:
                msgspec.structs.force_setattr(item, "line_id", position)
            assert item.line_id is not None
            if item.line_id in seen:
                raise ValueError(f"items[{position - 1}].line_id: duplicate line_id {item.line_id}")
            seen.add(item.line_id)

    @property
    def shipment(self) -> str:
        """The shipment id (never None after decoding)."""
        return self.shipment_id or self.order_id


class OrderPlaced(_Order, frozen=True, tag="order.placed"):
    """A new consignment of a platform order."""


class OrderAmended(_Order, frozen=True, tag="order.amended"):
    """The whole corrected consignment, with a higher ``revision``."""


class OrderCancelled(Struct, frozen=True, kw_only=True, tag_field="type", tag="order.cancelled"):
    """The platform cancelled the consignment; its decision is revised to ``cancelled``."""

    event_id: Text64
    platform: PlatformName
    order_id: Text64
    occurred_at: Instant
    consignee_id: ShortText
    shipment_id: Text64 | None = None
    reason: Annotated[str, Meta(max_length=512)] | None = None

    def __post_init__(self) -> None:
        if self.shipment_id is None:
            msgspec.structs.force_setattr(self, "shipment_id", self.order_id)

    @property
    def shipment(self) -> str:
        """The shipment id (never None after decoding)."""
        return self.shipment_id or self.order_id


OrderEvent = OrderPlaced | OrderAmended | OrderCancelled


# --- decisions ------------------------------------------------------------------------------------


class RulePackRef(Struct, frozen=True, kw_only=True):
    """The exact rule pack used: ``digest`` is the SHA-256 of its canonical content."""

    id: str
    version: str
    digest: str


class ExchangeRateUsed(Struct, frozen=True, kw_only=True):
    """1 ``from`` = ``rate`` ``to``, as published by ``source`` for ``date``."""

    from_: Currency = field(name="from")
    to: Currency
    rate: Decimal
    source: str
    date: date


class DecisionLine(Struct, frozen=True, kw_only=True):
    line_id: int
    hs_code: str | None
    quantity: int
    customs_value: Decimal
    duty_rate: Decimal | None
    duty: Decimal
    tax_rate: Decimal | None
    tax: Decimal
    preference: str | None = None


class Charge(Struct, frozen=True, kw_only=True):
    """One amount with everything a reader needs to recompute it by hand."""

    kind: ChargeKind
    line_id: int | None
    amount: Decimal
    basis: Decimal
    rate: str
    formula: str
    reference: str


class Reason(Struct, frozen=True, kw_only=True):
    """Why: a stable UPPER_SNAKE code with a human message."""

    code: Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9_]*$")]
    message: str
    reference: str | None = None
    line_id: int | None = None


class Risk(Struct, frozen=True, kw_only=True):
    score: Annotated[int, Meta(ge=0, le=100)]
    signals: list[str] = field(default_factory=list)


class ClearanceDecision(
    Struct, frozen=True, kw_only=True, tag_field="type", tag="clearance.decision"
):
    """What happens to one parcel, with every amount explained. Published on ``decisions.v1``."""

    decision_id: uuid.UUID
    platform: str
    order_id: str
    shipment_id: str
    order_revision: int
    decision_revision: Revision
    decided_at: Instant
    assessment_date: date
    destination_country: Country
    rule_pack: RulePackRef
    status: Status
    channel: Channel
    category: Category
    currency: Currency
    exchange_rate: ExchangeRateUsed | None
    customs_value: Decimal
    threshold_value: Decimal
    duty: Decimal
    tax: Decimal
    excise: Decimal
    fees: Decimal
    total_due: Decimal
    collected_at_checkout: Decimal
    lines: list[DecisionLine]
    charges: list[Charge]
    reasons: list[Reason]
    risk: Risk
    trace_id: TraceId | None = None


# --- inspections ----------------------------------------------------------------------------------

InspectionOutcome = Literal["release", "seize", "reassess"]
InspectionNotes = Annotated[str, Meta(max_length=2000)]


class Correction(Struct, frozen=True, kw_only=True):
    """An officer's correction of one line, for outcome ``reassess``."""

    line_id: LineId
    hs_code: HsCodeText | None = None
    unit_price: Money | None = None
    quantity: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    description: Description | None = None


class InspectionResult(
    Struct, frozen=True, kw_only=True, tag_field="type", tag="inspection.result"
):
    """An officer's or scanner's result for an inspected parcel."""

    event_id: Text64
    platform: PlatformName
    order_id: Text64
    shipment_id: Text64
    decision_id: uuid.UUID
    officer_id: ShortText
    occurred_at: Instant
    outcome: InspectionOutcome
    corrections: list[Correction] = field(default_factory=list)
    notes: InspectionNotes | None = None


# --- dead letters ---------------------------------------------------------------------------------


class DeadLetterError(Struct, frozen=True, kw_only=True):
    code: DeadLetterCode
    message: str
    path: str | None = None


#: Largest encoded dead letter: under Apache Kafka's default ``max.message.bytes`` (1 MiB) with
#: room for the key, headers and the record batch's overhead.
DEAD_LETTER_MAX_BYTES: Final = 900_000


class DeadLetter(Struct, frozen=True, kw_only=True, tag_field="type", tag="dead-letter"):
    """A message that could not be processed, with the reason, on ``orders.v1.dlt``.

    Safe to keep: ``payload`` is the original with the consignee's name, address, phone and
    identity number replaced by ``"[redacted]"`` (empty when the original is not JSON, so nothing
    personal can hide in it), cut to a bounded size; ``payload_bytes`` and ``payload_sha256``
    describe the original, which stays findable at ``source_topic``/``partition``/``offset``.
    """

    source_topic: str
    partition: int
    offset: int
    key: str | None
    received_at: Instant
    error: DeadLetterError
    payload: str
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    dead_letter_id: uuid.UUID | None = None
    """The same for every redelivery of one record (source topic, partition, offset): consumers
    drop the duplicates that at-least-once delivery makes."""
    trace_id: TraceId | None = None
    """The trace in which this record's processing can be found."""
    payload_bytes: Annotated[int, Meta(ge=0)] = 0
    """Size of the original record value."""
    payload_sha256: str | None = None
    """SHA-256 of the original record value (hex)."""
    payload_redacted: bool = False
    """Personal data was removed from ``payload`` (or the whole payload withheld)."""
    payload_truncated: bool = False
    """``payload`` holds only the beginning of the (redacted) original."""


# --- what storage can hold --------------------------------------------------------------------


def unstorable_value(message: Struct) -> tuple[str, str] | None:
    """The first value of a decoded message that the database cannot hold, as (problem, JSON
    path), or None. PostgreSQL text cannot contain the NUL character, its integers stop at
    2**31 - 1, and an instant is stored in UTC: such an order is refused at the edge
    (``UNSTORABLE_VALUE``), never half-stored."""
    return _unstorable(message, "$")


def _unstorable(value: object, path: str) -> tuple[str, str] | None:
    if isinstance(value, Struct):
        pairs = [
            (getattr(value, name), f"{path}.{json}") for name, json in _field_names(type(value))
        ]
        return _first_unstorable(pairs)
    if isinstance(value, list | tuple):
        return _first_unstorable([(item, f"{path}[{i}]") for i, item in enumerate(value)])
    problem = _unstorable_scalar(value)
    return None if problem is None else (problem, path)


def _first_unstorable(values: list[tuple[object, str]]) -> tuple[str, str] | None:
    for value, path in values:
        found = _unstorable(value, path)
        if found is not None:
            return found
    return None


def _unstorable_scalar(value: object) -> str | None:
    if isinstance(value, str):
        return "text must not contain the NUL character (U+0000)" if "\x00" in value else None
    if isinstance(value, datetime):
        try:
            value.astimezone(UTC)
        except OverflowError:
            return "the instant is outside years 1-9999 in UTC"
        return None
    wide = isinstance(value, int) and not -MAX_STORED_INTEGER - 1 <= value <= MAX_STORED_INTEGER
    return f"integer {value} is beyond the stored range (+-{MAX_STORED_INTEGER})" if wide else None


@functools.cache
def _field_names(type_: type[Struct]) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON name) of each field of a Struct type (looked up once per type)."""
    return tuple(zip(type_.__struct_fields__, type_.__struct_encode_fields__, strict=True))


# --- codecs ---------------------------------------------------------------------------------------

ENCODER: Final = msgspec.json.Encoder(enc_hook=_enc_hook)
ORDER_EVENT_DECODER: Final[msgspec.json.Decoder[OrderEvent]] = msgspec.json.Decoder(
    OrderEvent, dec_hook=_dec_hook
)
DECISION_DECODER: Final = msgspec.json.Decoder(ClearanceDecision, dec_hook=_dec_hook)
INSPECTION_DECODER: Final = msgspec.json.Decoder(InspectionResult, dec_hook=_dec_hook)
DEAD_LETTER_DECODER: Final = msgspec.json.Decoder(DeadLetter, dec_hook=_dec_hook)
ORDER_PLACED_DECODER: Final = msgspec.json.Decoder(OrderPlaced, dec_hook=_dec_hook)


def encode(message: Struct) -> bytes:
    """Encode any contract message to JSON bytes (money as strings)."""
    return ENCODER.encode(message)


def decode_order_event(data: bytes | str) -> OrderEvent:
    """Decode an ``orders.v1`` record; raises ``msgspec.ValidationError``/``DecodeError``."""
    return ORDER_EVENT_DECODER.decode(data)


def decode_decision(data: bytes | str) -> ClearanceDecision:
    """Decode a ``decisions.v1`` record."""
    return DECISION_DECODER.decode(data)


def decode_inspection(data: bytes | str) -> InspectionResult:
    """Decode an ``inspections.v1`` record."""
    return INSPECTION_DECODER.decode(data)


def decode_dead_letter(data: bytes | str) -> DeadLetter:
    """Decode an ``orders.v1.dlt`` record."""
    return DEAD_LETTER_DECODER.decode(data)


def convert(obj: Any, type_: type[Any]) -> Any:
    """Validate already-parsed data (e.g. a YAML golden case) as a contract type, strictly."""
    return msgspec.convert(obj, type_, dec_hook=_dec_hook)


_PATH_SUFFIX: Final = re.compile(r" - at `(\$[^`]*)`$")
_MISSING_FIELD: Final = re.compile(r"^Object missing required field `([^`]+)`$")
_FIELD_PREFIX: Final = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)?): (.+)$")


def error_path(error: msgspec.ValidationError) -> tuple[str, str | None]:
    """Split a msgspec validation error into (message, JSON path of the bad field or None)."""
    text = str(error)
    match = _PATH_SUFFIX.search(text)
    message, path = (text, None) if match is None else (text[: match.start()], match.group(1))
    return refine_path(message, path)


def refine_path(message: str, path: str | None) -> tuple[str, str | None]:
    """Point at the field itself where msgspec's message names it (it points at the object)."""
    missing = _MISSING_FIELD.match(message)
    if missing is not None:
        return message, f"{path or '$'}.{missing.group(1)}"
    own_check = _FIELD_PREFIX.match(message)  # errors raised by __post_init__: "field: problem"
    if own_check is not None:
        return own_check.group(2), f"{path or '$'}.{own_check.group(1)}"
    return message, path
