"""Risk signals, bands and the compliance sample; a labelled evaluation set with planted risks."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from clearance.assessor import bundled_rates
from clearance.domain.assess import assess
from clearance.domain.context import AssessmentContext, SellerHistory
from clearance.domain.packs import PackRegistry
from clearance.domain.risk import in_compliance_sample
from clearance.messages import ORDER_PLACED_DECODER, OrderPlaced

VN = PackRegistry.bundled().get("vn")
RATES = bundled_rates()
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
KNOWN = SellerHistory(seller_decisions=12, consignee_parcels_today=0)
# (HS code, description, typical unit price in VND): priced around the pack's reference prices
GOODS = [
    ("85183020", "Wireless earphones", 300_000),
    ("33049930", "Face cream", 200_000),
    ("62064000", "Polyester blouse", 250_000),
    ("94052190", "LED desk lamp", 300_000),
]


def _order(n: int, items: list[dict[str, Any]], **changes: Any) -> OrderPlaced:
    body: dict[str, Any] = {
        "type": "order.placed",
        "event_id": f"e{n}",
        "platform": "eval",
        "order_id": f"o{n}",
        "occurred_at": "2026-11-20T10:00:00+07:00",
        "destination_country": "VN",
        "currency": "VND",
        "seller": {"id": f"s{n % 7}", "name": "Seller", "country": "CN"},
        "consignee": {
            "id": f"c{n}",
            "name": "Buyer",
            "country": "VN",
            "identity": {"type": "national_id", "number": f"0012{n:08d}"},
        },
        "items": items,
        "transport": {"mode": "express"},
    }
    body.update(changes)
    return ORDER_PLACED_DECODER.decode(msgspec.json.encode(body))


def _assess(order: OrderPlaced, history: SellerHistory | None = KNOWN, **options: bool) -> Any:
    context = AssessmentContext(
        decision_id=uuid.uuid4(),
        decided_at=NOW,
        consignee_ref=order.consignee.id,
        pack=VN,
        rates=RATES,
        history=history,
        options=options,
    )
    return assess(order, context).decision


def _item(hs: str, description: str, price: int, quantity: int = 1) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": str(price),
        "origin_country": "CN",
        "hs_code": hs,
    }


def test_an_undervalued_parcel_is_held_with_the_score_explained() -> None:
    fair = _assess(_order(1, [_item("85183020", "Wireless earphones", 300_000)]))
    cheap = _assess(_order(1, [_item("85183020", "Wireless earphones", 20_000)]))
    assert "UNDERVALUATION_SUSPECTED" not in fair.risk.signals
    assert "UNDERVALUATION_SUSPECTED" in cheap.risk.signals
    assert (cheap.channel, cheap.status) == ("yellow", "hold")
    assert "RISK_SCORE" in {reason.code for reason in cheap.reasons}


def test_history_signals_need_history() -> None:
    order = _order(2, [_item("33049930", "Face cream", 200_000)])
    assert "NEW_SELLER" not in _assess(order, history=None).risk.signals  # a quote: unknown
    assert "NEW_SELLER" in _assess(order, history=SellerHistory()).risk.signals
    busy = SellerHistory(seller_decisions=3, consignee_parcels_today=4)
    assert "CONSIGNEE_VELOCITY" in _assess(order, history=busy).risk.signals


def test_a_trusted_seller_scores_lower() -> None:
    items = [_item("85183020", "Wireless earphones", 20_000)]
    plain = _assess(_order(3, items))
    trusted = _assess(
        _order(3, items, seller={"id": "s", "name": "S", "country": "CN", "aeo": True})
    )
    assert trusted.risk.score == plain.risk.score - VN.risk.aeo_discount


def test_the_compliance_sample_is_seeded_and_about_one_percent() -> None:
    orders = [_order(n, [_item("33049930", "Face cream", 200_000)]) for n in range(4000)]
    drawn = [order for order in orders if in_compliance_sample(order, VN)]
    assert 20 <= len(drawn) <= 60  # 1% of 4,000, give or take chance
    again = [order for order in orders if in_compliance_sample(order, VN)]
    assert drawn == again
    decision = _assess(drawn[0])
    assert (decision.channel, decision.status) == ("yellow", "hold")
    assert "COMPLIANCE_SAMPLE" in decision.risk.signals
    assert _assess(drawn[0], compliance_sample=False).channel == "green"


PLANTED = ("UNDERVALUATION_SUSPECTED", "CONSIGNEE_VELOCITY", "MISSING_CONSIGNEE_IDENTITY",
           "SCREENING_PROHIBITED", "VALUE_JUST_UNDER_THRESHOLD")  # fmt: skip


def _evaluation_set(
    seed: int = 20261125, size: int = 400
) -> list[tuple[OrderPlaced, SellerHistory, set[str]]]:
    """Parcels with known planted risks (about half clean), reproducible by seed."""
    rng = random.Random(seed)
    parcels = []
    for n in range(size):
        hs, description, price = rng.choice(GOODS)
        price = int(price * rng.uniform(0.7, 1.3) / 1000) * 1000
        planted: set[str] = set()
        changes: dict[str, Any] = {}
        history = KNOWN
        items = [_item(hs, description, price)]
        roll = rng.random()
        if roll < 0.12:
            items = [_item(hs, description, int(price * 0.1 / 1000) * 1000 or 1000)]
            planted.add("UNDERVALUATION_SUSPECTED")
        elif roll < 0.22:
            history = SellerHistory(seller_decisions=9, consignee_parcels_today=rng.randint(4, 9))
            planted.add("CONSIGNEE_VELOCITY")
        elif roll < 0.32:
            changes["consignee"] = {"id": f"c{n}", "name": "Buyer", "country": "VN"}
            planted.add("MISSING_CONSIGNEE_IDENTITY")
        elif roll < 0.42:
            items.append(_item("85434000", "Disposable vape pen", 80_000))
            planted.add("SCREENING_PROHIBITED")
        elif roll < 0.52:
            value = rng.randint(905, 995) * 1000  # just under VND 1,000,000
            items = [_item("33049930", "Face cream set", value)]
            planted.add("VALUE_JUST_UNDER_THRESHOLD")
        parcels.append((_order(n, items, **changes), history, planted))
    return parcels


def test_signals_on_a_labelled_evaluation_set() -> None:
    # Measured on this set (400 parcels): every planted signal recall 1.0, precision 1.0; clean
    # parcels held only by the compliance sample. The floors leave room for tuning the weights.
    found: Counter[str] = Counter()
    true: Counter[str] = Counter()
    planted_count: Counter[str] = Counter()
    held_clean, clean = 0, 0
    for order, history, planted in _evaluation_set():
        decision = _assess(order, history=history)
        signals = set(decision.risk.signals)
        for signal in PLANTED:
            planted_count[signal] += signal in planted
            found[signal] += signal in signals
            true[signal] += signal in signals and signal in planted
        if not planted:
            clean += 1
            held_clean += decision.channel != "green"
        elif any(VN.risk_weights.get(signal, 0) >= VN.risk.yellow_from for signal in planted):
            assert decision.channel != "green", (planted, decision.risk)
        # velocity (30) or the cliff (15) alone stay green by the pack's weights: a policy choice
    for signal in PLANTED:
        recall = true[signal] / planted_count[signal]
        precision = true[signal] / found[signal]
        assert recall >= 0.95 and precision >= 0.9, (signal, recall, precision)
    assert clean >= 150
    assert held_clean / clean <= 0.05  # honest trade flows: only the random sample stops it


@pytest.mark.parametrize("price", [300_000, 20_000])
def test_risk_is_part_of_the_same_decision_every_time(price: int) -> None:
    order = _order(9, [_item("85183020", "Wireless earphones", price)])
    first, second = _assess(order), _assess(order)
    assert (first.risk, first.channel, first.status) == (second.risk, second.channel, second.status)
    assert Decimal(first.total_due) == Decimal(second.total_due)
