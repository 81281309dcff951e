"""Risk signals, bands and the compliance sample; a labelled evaluation set with planted risks."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from clearance.devtools.risk_eval import KNOWN, SAMPLE_KEY, decide, evaluate, item, order
from clearance.domain.aeo import AeoCertificate
from clearance.domain.context import SellerHistory
from clearance.domain.packs import PackRegistry
from clearance.domain.risk import in_compliance_sample
from clearance.messages import OrderAmended, OrderPlaced, decode_order_event, encode
from clearance.service.assessing import compliance_draw

VN = PackRegistry.bundled().get("vn")


def _assess(
    parcel: OrderPlaced | OrderAmended, history: SellerHistory | None = KNOWN, **options: bool
) -> Any:
    return decide(parcel, VN, history, options=options)


_order = order
_item = item


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


def test_a_high_risk_origin_counts_only_where_the_pack_lists_it() -> None:
    parcel = _order(4, [_item("33049930", "Face cream", 200_000)])  # origin CN
    assert "HIGH_RISK_ORIGIN" not in _assess(parcel).risk.signals  # VN lists no origins
    listing = msgspec.structs.replace(VN.risk, high_risk_origins=["CN"])
    strict = msgspec.structs.replace(VN, risk=listing)
    flagged = decide(parcel, strict, KNOWN)
    assert "HIGH_RISK_ORIGIN" in flagged.risk.signals
    assert flagged.risk.score == _assess(parcel).risk.score + VN.risk_weights["HIGH_RISK_ORIGIN"]
    elsewhere = msgspec.structs.replace(
        VN, risk=msgspec.structs.replace(listing, high_risk_origins=["XX"])
    )
    assert "HIGH_RISK_ORIGIN" not in decide(parcel, elsewhere, KNOWN).risk.signals


def test_a_trusted_seller_is_one_the_aeo_registry_lists_not_one_that_says_so() -> None:
    items = [_item("85183020", "Wireless earphones", 20_000)]
    plain = _assess(_order(3, items))
    claimed = _assess(
        _order(3, items, seller={"id": "s", "name": "S", "country": "CN", "aeo": True})
    )
    assert claimed.risk.score == plain.risk.score  # the platform's word takes nothing off
    valid = AeoCertificate(number="VN-AEO-1", valid_from=date(2025, 1, 1))
    registered = decide(_order(3, items), VN, KNOWN, seller_aeo=(valid,))
    assert registered.risk.score == plain.risk.score - VN.risk.aeo_discount
    expired = AeoCertificate(
        number="VN-AEO-2", valid_from=date(2020, 1, 1), valid_until=date(2025, 12, 31)
    )
    assert decide(_order(3, items), VN, KNOWN, seller_aeo=(expired,)).risk == plain.risk
    later = AeoCertificate(number="VN-AEO-3", valid_from=date(2027, 1, 1))
    assert decide(_order(3, items), VN, KNOWN, seller_aeo=(later, expired)).risk == plain.risk


def test_the_compliance_sample_is_keyed_drawn_per_parcel_and_about_one_percent() -> None:
    orders = [_order(n, [_item("33049930", "Face cream", 200_000)]) for n in range(4000)]
    share = VN.risk.compliance_sample_share

    def drawn(key: str) -> list[OrderPlaced]:
        return [o for o in orders if in_compliance_sample(compliance_draw(o, key), share)]

    sampled = drawn(SAMPLE_KEY)
    assert 20 <= len(sampled) <= 60  # 1% of 4,000, give or take chance
    assert drawn(SAMPLE_KEY) == sampled  # a replay draws the same
    # Without the server's key the ids say nothing: another key draws other parcels.
    assert len(set(map(id, drawn("another-secret-key"))) & set(map(id, sampled))) <= 3
    parcel = sampled[0]
    decision = _assess(parcel)
    assert (decision.channel, decision.status) == ("yellow", "hold")
    assert "COMPLIANCE_SAMPLE" in decision.risk.signals
    assert _assess(parcel, compliance_sample=False).channel == "green"
    # Once per parcel: no amendment redraws it (issue #20: one amendment turned it green).
    for revision in (2, 3, 17):
        body = {**json.loads(encode(parcel)), "type": "order.amended", "revision": revision}
        amended = decode_order_event(json.dumps(body))
        assert isinstance(amended, OrderAmended)
        assert _assess(amended).channel == "yellow", revision
    # No draw (a quote): never sampled, so a quote cannot tell whether a parcel would be.
    assert not in_compliance_sample(None, share)


def test_signals_on_a_labelled_evaluation_set() -> None:
    # Measured (seed 20261125, 400 parcels): recall and precision 1.0 for every planted signal;
    # clean parcels held only by the 1% compliance sample. Floors leave room to tune weights.
    report = evaluate()
    for signal, measured in report["signals"].items():
        assert measured["recall"] >= 0.95 and measured["precision"] >= 0.9, (signal, measured)
    for signal in (
        "UNDERVALUATION_SUSPECTED",
        "SCREENING_PROHIBITED",
        "MISSING_CONSIGNEE_IDENTITY",
    ):
        assert report["signals"][signal]["held"] == 1.0  # weights at or over the yellow band
    assert report["clean_parcels"] >= 150
    assert report["clean_held_share"] <= 0.05  # honest trade flows


@pytest.mark.parametrize("price", [300_000, 20_000])
def test_risk_is_part_of_the_same_decision_every_time(price: int) -> None:
    order = _order(9, [_item("85183020", "Wireless earphones", price)])
    first, second = _assess(order), _assess(order)
    assert (first.risk, first.channel, first.status) == (second.risk, second.channel, second.status)
    assert Decimal(first.total_due) == Decimal(second.total_due)
