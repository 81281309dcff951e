"""The engine pieces behind the law as checked (#19): statutory rounding (Japan Customs FAQ 1111),
the local part of a tax, the category of a consignment above the formal-entry ceiling."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import msgspec
from golden import with_case_reduced_rate_lines, with_case_tariff_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.domain.assess import assess
from clearance.domain.context import AssessmentContext
from clearance.domain.fx import ExchangeRates
from clearance.domain.packs import PackRegistry
from clearance.domain.rounding import round_to, round_total
from clearance.messages import ORDER_PLACED_DECODER, Charge, ClearanceDecision

REGISTRY = PackRegistry.bundled()
JP = with_case_reduced_rate_lines(
    with_case_tariff_lines(
        REGISTRY.get("jp"),
        [
            {"hs": "420221", "rate": "0.14", "reference": "test rate"},
            {"hs": "210690", "rate": "0.09", "reference": "test rate"},
        ],
    ),
    [{"hs": "210690", "reference": "test"}],
)


def _charge(line: int, amount: str) -> Charge:
    return Charge(
        kind="tax",
        line_id=line,
        amount=Decimal(amount),
        basis=Decimal(0),
        rate="0.1",
        formula="f",
        reference="r",
    )


def test_a_total_rounded_down_comes_off_the_largest_charges_never_below_zero() -> None:
    assert round_to(Decimal(609495), Decimal(1000), "down") == 609000
    charges = [_charge(1, "47502"), _charge(2, "8923")]
    rounded = round_total(charges, Decimal(100), "down", "JPY")
    assert [c.amount for c in rounded] == [Decimal(47477), Decimal(8923)]
    assert "less 25" in rounded[0].formula and rounded[1] == charges[1]
    small = round_total([_charge(1, "40"), _charge(2, "50")], Decimal(100), "down", "JPY")
    assert [c.amount for c in small] == [0, 0]  # a total under JPY 100 is not collected
    assert round_total(charges, None, "down", "JPY") == charges
    up = round_total(charges, Decimal(100), "up", "JPY")  # a law rounding up adds to the largest
    assert [c.amount for c in up] == [Decimal(47577), Decimal(8923)] and "plus 75" in up[0].formula


def _decide(raw: dict[str, Any]) -> ClearanceDecision:
    order = ORDER_PLACED_DECODER.decode(msgspec.json.encode(raw))
    context = AssessmentContext(
        decision_id=uuid.UUID(int=0),
        decided_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        consignee_ref="ref",
        pack=JP,
        rates=ExchangeRates([]),
    )
    return assess(order, context).decision


@st.composite
def jp_orders(draw: st.DrawFn) -> dict[str, Any]:
    items = [
        {
            "description": "Goods",
            "quantity": draw(st.integers(1, 3)),
            "unit_price": str(draw(st.integers(1, 400_000))),
            "origin_country": "CN",
            "hs_code": draw(st.sampled_from(["420221", "210690"])),
        }
        for _ in range(draw(st.integers(1, 4)))
    ]
    return {
        "type": "order.placed",
        "event_id": "e",
        "platform": "shop",
        "order_id": "o",
        "occurred_at": "2026-10-05T10:00:00+09:00",
        "destination_country": "JP",
        "currency": "JPY",
        "seller": {"id": "s", "name": "S", "country": "CN"},
        "consignee": {"id": "c", "name": "C", "country": "JP"},
        "shipping_cost": str(draw(st.integers(0, 5_000))),
        "items": items,
    }


@settings(max_examples=200, deadline=None)
@given(jp_orders())
def test_japanese_amounts_add_up_and_totals_are_multiples_of_100(raw: dict[str, Any]) -> None:
    decision = _decide(raw)
    for kind, total in (("duty", decision.duty), ("tax", decision.tax)):
        charges = [c for c in decision.charges if c.kind == kind]
        assert total == sum((c.amount for c in charges), Decimal(0))
        assert all(c.amount >= 0 for c in charges)
    assert decision.duty % 100 == 0
    national = [c for c in decision.charges if c.formula.startswith("national")]
    local = [c for c in decision.charges if c.formula.startswith("local")]
    assert sum((c.amount for c in national), Decimal(0)) % 100 == 0
    assert sum((c.amount for c in local), Decimal(0)) % 100 == 0
    assert decision.duty == sum((line.duty for line in decision.lines), Decimal(0))
    assert decision.tax == sum((line.tax for line in decision.lines), Decimal(0))
    assert (decision.category == "high_value") == (decision.threshold_value > 200_000)


@settings(max_examples=200, deadline=None)
@given(jp_orders(), st.integers(101, 300))
def test_japanese_truncation_never_lowers_duty_or_tax_when_the_price_rises(
    raw: dict[str, Any], percent: int
) -> None:
    raw["items"] = raw["items"][:1]
    cheaper = _decide(raw)
    item = raw["items"][0]
    item["unit_price"] = str(int(item["unit_price"]) * percent // 100)
    dearer = _decide(raw)
    assert dearer.duty >= cheaper.duty and dearer.tax >= cheaper.tax
