"""Property tests for the invariants of rules.md, on the bundled VN and EU packs."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.domain.assess import assess
from clearance.domain.context import AssessmentContext
from clearance.domain.fx import ExchangeRates, RateRow
from clearance.domain.hs import bundled_classifier
from clearance.domain.money import minor_units
from clearance.domain.packs import PackRegistry
from clearance.messages import ORDER_PLACED_DECODER, ClearanceDecision, OrderPlaced

REGISTRY = PackRegistry.bundled()
CLASSIFIER = bundled_classifier()
RATES = ExchangeRates(
    [
        RateRow(day=dt.date(2024, 1, 1), from_="USD", to="VND", rate=Decimal(25000), source="t"),
        RateRow(day=dt.date(2024, 1, 1), from_="EUR", to="USD", rate=Decimal("1.1"), source="t"),
    ]
)
VN_CODES = ["85183020", "33049930", "85171300", "62064000", "94052190", "33030000"]
EU_CODES = ["610910", "620610", "620620", "640399", "950300", "420221", "851830"]


DESCRIPTIONS = [
    "Gift item",
    "Ivory-coloured scarf",
    "Lamp",
    "Wireless bluetooth earphones",
    "Tai nghe không dây",
    "ao thun nam cotton",
    "toy",
]


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    vn = draw(st.booleans())
    currency = draw(st.sampled_from(["VND", "USD"] if vn else ["EUR", "USD"]))
    day = draw(st.dates(dt.date(2025, 1, 1), dt.date(2027, 6, 30)))
    codes = VN_CODES if vn else EU_CODES
    cents = currency != "VND"
    price = st.integers(0, 3_000_000 if not cents else 40_000)
    items = [
        {
            "description": draw(st.sampled_from(DESCRIPTIONS)),
            "quantity": draw(st.integers(1, 5)),
            "unit_price": str(Decimal(draw(price)) / (100 if cents else 1)),
            "origin_country": draw(st.sampled_from(["CN", "TH", "ID", "KR"])),
            "hs_code": draw(st.sampled_from([*codes, None])),  # None: the classifier suggests
            "excise_category": draw(st.sampled_from(["none", "none", "none", "alcohol"])),
        }
        for _ in range(draw(st.integers(1, 4)))
    ]
    order: dict[str, Any] = {
        "type": "order.placed",
        "event_id": "e",
        "platform": "shop",
        "order_id": "o",
        "occurred_at": f"{day.isoformat()}T12:00:00+00:00",
        "destination_country": "VN" if vn else draw(st.sampled_from(["DE", "FR", "GR", "FI"])),
        "currency": currency,
        "seller": {"id": "s", "name": "S", "country": "CN"},
        "consignee": {
            "id": "c",
            "name": "C",
            "country": "VN",
            "identity": {"type": "passport", "number": "X1"},
        },
        "items": items,
        "shipping_cost": str(Decimal(draw(st.integers(0, 5000))) / 100),
        "prices_include_shipping": draw(st.booleans()),
        "transport": {"mode": draw(st.sampled_from(["express", "post"])), "master_bill": "M"},
    }
    if order["prices_include_shipping"]:
        order["shipping_cost"] = "0"
    if draw(st.booleans()):
        order["origin_proof"] = {
            "agreement": draw(st.sampled_from(["ATIGA", "ACFTA", "RCEP"])),
            "document": draw(st.sampled_from(["FORM_D", "FORM_E"])),
        }
    if not vn and draw(st.booleans()):
        order["tax_collected"] = {"scheme": "EU_IOSS", "number": "IM2760000001", "amount": "5.00"}
    return order


def decide(raw: dict[str, Any], totals: dict[str, Decimal] | None = None) -> ClearanceDecision:
    order: OrderPlaced = ORDER_PLACED_DECODER.decode(msgspec.json.encode(raw))
    context = AssessmentContext(
        decision_id=uuid.UUID(int=0),
        decided_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        consignee_ref="ref",
        totals=totals or {},
        pack=REGISTRY.for_destination(order.destination_country),
        rates=RATES,
        classifier=CLASSIFIER,
    )
    return assess(order, context).decision


@settings(max_examples=300, deadline=None)
@given(orders())
def test_totals_add_up_and_are_non_negative_in_minor_units(raw: dict[str, Any]) -> None:
    decision = decide(raw)
    places = minor_units(decision.currency)
    assert decision.total_due == decision.duty + decision.tax + decision.excise + decision.fees
    for kind, total in (
        ("duty", decision.duty),
        ("tax", decision.tax),
        ("excise", decision.excise),
        ("fee", decision.fees),
    ):
        assert total == sum((c.amount for c in decision.charges if c.kind == kind), Decimal(0))
    amounts = [
        decision.duty,
        decision.tax,
        decision.total_due,
        decision.customs_value,
        decision.threshold_value,
        decision.collected_at_checkout,
        decision.excise,
        decision.fees,
    ]
    amounts += [c.amount for c in decision.charges]
    amounts += [x for line in decision.lines for x in (line.duty, line.tax, line.customs_value)]
    for amount in amounts:
        assert amount >= 0
        assert amount.as_tuple().exponent == -places, amount
    assert decision.duty == sum((line.duty for line in decision.lines), Decimal(0))
    assert decision.tax == sum((line.tax for line in decision.lines), Decimal(0))


@settings(max_examples=200, deadline=None)
@given(orders())
def test_deterministic_apart_from_ids(raw: dict[str, Any]) -> None:
    first, second = decide(raw), decide(raw)
    assert msgspec.json.encode(first) == msgspec.json.encode(second)
    assert first.rule_pack.digest == REGISTRY.for_destination(raw["destination_country"]).digest


@settings(max_examples=300, deadline=None)
@given(orders(), st.integers(101, 400))
def test_raising_the_price_never_lowers_duty_or_tax(raw: dict[str, Any], percent: int) -> None:
    raw["items"] = raw["items"][:1]  # one line: allocation between lines is not at stake here
    raw.pop("tax_collected", None)  # a point-of-sale ceiling is a different monotone step
    cheaper = decide(raw)
    dearer_raw = msgspec.json.decode(msgspec.json.encode(raw))
    item = dearer_raw["items"][0]
    item["unit_price"] = str(
        (Decimal(item["unit_price"]) * percent / 100).quantize(Decimal("0.01"))
    )
    dearer = decide(dearer_raw)
    flat = REGISTRY.get("eu").duty.flat_per_subheading
    assert flat is not None
    crosses_eur3_boundary = (
        cheaper.currency == "EUR"
        and flat.amount.at(cheaper.assessment_date) is not None
        and dearer.threshold_value > 150 >= cheaper.threshold_value
    )
    if not crosses_eur3_boundary:  # the declared exception (packs/eu duty.flat_per_subheading)
        assert dearer.duty >= cheaper.duty
    assert dearer.tax >= cheaper.tax or crosses_eur3_boundary
