"""The engine answers every valid order with a decision: no date, destination, currency or amount
the contract accepts makes it raise (a rule missing on the day is a held decision that says so)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.devtools import orders
from clearance.domain.assess import assess
from clearance.domain.context import AssessmentContext
from clearance.domain.packs import PackRegistry
from clearance.messages import ORDER_PLACED_DECODER, ClearanceDecision, OrderPlaced
from clearance.service.assessing import bundled_rates

REGISTRY = PackRegistry.bundled()
RATES = bundled_rates()
DESTINATIONS = sorted({country for pack in REGISTRY.packs for country in pack.countries})
CURRENCIES = sorted({pack.currency for pack in REGISTRY.packs} | {"USD", "CHF", "XAF"})
# The contract's largest amount: 15 integer digits and 4 decimals.
AMOUNTS = st.decimals(Decimal(0), Decimal("999999999999999.9999"), places=4)


@st.composite
def any_valid_order(draw: st.DrawFn) -> OrderPlaced:
    # hypothesis draws naive datetimes between naive bounds; the offset is drawn apart
    earliest, latest = dt.datetime(1900, 1, 1), dt.datetime(2100, 12, 31, 23, 59)  # noqa: DTZ001
    instant = draw(st.datetimes(earliest, latest)).replace(
        tzinfo=dt.timezone(dt.timedelta(hours=draw(st.integers(-12, 14))))
    )
    items = [
        {
            "description": draw(st.sampled_from(["Phone case", "Ivory carving", "Tea", "Wine"])),
            "quantity": draw(st.integers(1, 1_000_000)),
            "unit_price": str(draw(AMOUNTS)),
            "origin_country": draw(st.sampled_from(["CN", "US", "VN", "DE", "HK", "MX"])),
            "hs_code": draw(st.sampled_from([None, "851713", "61091000", "3304993000", "220421"])),
            "unit_weight_kg": draw(st.sampled_from([None, "0.250", "99999.9999"])),
            "excise_category": draw(st.sampled_from(["none", "alcohol", "tobacco", "perfume"])),
        }
        for _ in range(draw(st.integers(1, 3)))
    ]
    body: dict[str, Any] = {
        "type": "order.placed",
        "event_id": "e",
        "platform": "shop",
        "order_id": "o",
        "occurred_at": instant.isoformat(),
        "destination_country": draw(st.sampled_from(DESTINATIONS)),
        "currency": draw(st.sampled_from(CURRENCIES)),
        "seller": {"id": "s", "name": "S", "country": draw(st.sampled_from(["CN", "US", "MX"]))},
        "consignee": {"id": "c", "name": "C", "country": "VN"},
        "items": items,
        "shipping_cost": str(draw(AMOUNTS)),
        "insurance_cost": str(draw(AMOUNTS)),
        "transport": {"mode": draw(st.sampled_from(["express", "post", "road", "sea"]))},
    }
    if draw(st.booleans()):
        body["transport"]["arrival_date"] = instant.date().isoformat()
    return ORDER_PLACED_DECODER.decode(msgspec.json.encode(body))


@settings(max_examples=400)
@given(any_valid_order(), st.sampled_from([{}, {"x": Decimal("1e15")}]))
def test_no_valid_order_makes_the_engine_raise(
    order: OrderPlaced, totals: dict[str, Decimal]
) -> None:
    decision = _decide(order, totals)
    assert decision.status in {
        "release",
        "release_on_payment",
        "hold",
        "refuse",
        "needs_information",
        "formal_entry_required",
    }
    assert decision.total_due >= 0


def test_a_date_before_the_packs_first_value_is_a_held_decision_naming_the_rule() -> None:
    body = orders.order(
        1,
        occurred_at="1990-06-03T10:00:00+08:00",
        destination="SG",
        currency="SGD",
        buyer=orders.consignee("c", "SG"),
        items=[orders.item("Phone case", "500.00", hs_code="420232")],
        mode="post",
    )
    decision = _decide(orders.decoded(body))
    gaps = [reason for reason in decision.reasons if reason.code == "RULE_NOT_IN_FORCE"]
    assert decision.status == "hold"
    assert len(gaps) == 1 and "1990-06-03" in gaps[0].message
    assert gaps[0].reference, "the missing rule is cited"
    assert decision.total_due == 0


def _decide(order: OrderPlaced, totals: dict[str, Decimal] | None = None) -> ClearanceDecision:
    context = AssessmentContext(
        decision_id=uuid.uuid4(),
        decided_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        consignee_ref="ref",
        pack=REGISTRY.for_destination(order.destination_country),
        rates=RATES,
        totals=totals or {},
    )
    return assess(order, context).decision
