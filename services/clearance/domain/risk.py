"""Risk score and channel (docs/spec/rules.md step 11): named signals with weights from the pack.

Signals: screening hits, data problems (e.g. a missing identity), undervaluation against the
pack's reference price per HS heading, consignee velocity and a seller without history (both from
storage, through the context), a value just under the duty relief (the cliff), a high-risk origin.
A trusted seller (``aeo``) takes points off. The score (0-100) maps to a channel by the pack's
bands; prohibited goods are always red, restricted goods or missing data at least yellow. A seeded
share of green parcels goes to yellow for compliance measurement: the same parcel revision always
draws the same way, so a replay decides the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from msgspec import Struct

from clearance.domain.context import AssessmentContext
from clearance.domain.deminimis import limit_for
from clearance.domain.packs import RulePack
from clearance.domain.screening import ScreeningHit
from clearance.domain.valuation import ConsignmentValue
from clearance.messages import Channel, OrderAmended, OrderPlaced, Reason, Risk

__all__ = ["RiskAssessment", "assess_risk", "in_compliance_sample"]

COMPLIANCE_SAMPLE = "COMPLIANCE_SAMPLE"


class RiskAssessment(Struct, frozen=True, kw_only=True):
    """The decision's risk and channel."""

    risk: Risk
    channel: Channel


def _undervalued(
    order: OrderPlaced | OrderAmended, pack: RulePack, value: ConsignmentValue
) -> bool:
    rules = pack.risk
    for item, line in zip(order.items, value.lines, strict=True):
        reference = rules.reference_prices.get((item.hs_code or "")[:4])
        if reference is None:
            continue
        unit_value = line.threshold_value / item.quantity
        if unit_value < reference * rules.undervaluation_ratio:
            return True
    return False


def _just_under_relief(
    order: OrderPlaced | OrderAmended, pack: RulePack, value: ConsignmentValue, day: date
) -> bool:
    rule = pack.duty.de_minimis
    if rule is None:
        return False
    limit = limit_for(order, rule.value_limit, rule.direct_shipment).at(day)
    if limit is None:
        return False
    return limit * pack.risk.cliff_share <= value.threshold_value <= limit


def _signals(
    order: OrderPlaced | OrderAmended,
    context: AssessmentContext,
    value: ConsignmentValue | None,
    day: date,
    hits: Sequence[ScreeningHit],
    problems: Sequence[Reason],
    raised: Sequence[str],
) -> list[str]:
    pack, history = context.pack, context.history
    signals = [
        "SCREENING_PROHIBITED" if hit.kind == "prohibited" else "SCREENING_RESTRICTED"
        for hit in hits
    ]
    signals.extend(problem.code for problem in problems)
    signals.extend(raised)
    if value is not None and _undervalued(order, pack, value):
        signals.append("UNDERVALUATION_SUSPECTED")
    if value is not None and _just_under_relief(order, pack, value, day):
        signals.append("VALUE_JUST_UNDER_THRESHOLD")
    risky = pack.risk.high_risk_origins
    if risky and any(item.origin_country in risky for item in order.items):
        signals.append("HIGH_RISK_ORIGIN")
    if history is not None:
        if history.seller_decisions == 0:
            signals.append("NEW_SELLER")
        velocity = pack.risk.velocity_per_day
        if velocity and history.consignee_parcels_today + 1 >= velocity:
            signals.append("CONSIGNEE_VELOCITY")
    return list(dict.fromkeys(signals))


def in_compliance_sample(order: OrderPlaced | OrderAmended, pack: RulePack) -> bool:
    """Whether this parcel revision is drawn for the random compliance check (seeded: the same
    parcel revision under the same pack always draws the same way)."""
    share = pack.risk.compliance_sample_share
    if share <= 0:
        return False
    subject = f"{pack.id}:{order.platform}:{order.order_id}:{order.shipment}:{order.revision}"
    draw = int.from_bytes(hashlib.sha256(subject.encode()).digest()[:8], "big")
    return draw < share * 2**64  # exact: an integer against a Decimal


def assess_risk(
    order: OrderPlaced | OrderAmended,
    context: AssessmentContext,
    value: ConsignmentValue | None,
    day: date,
    hits: Sequence[ScreeningHit],
    problems: Sequence[Reason],
    raised: Sequence[str] = (),
) -> RiskAssessment:
    """Signals, score and channel of one parcel; ``raised``: signals found before (e.g.
    ``HS_CODE_MISMATCH`` by the classification)."""
    pack = context.pack
    signals = _signals(order, context, value, day, hits, problems, raised)
    score = sum([pack.risk_weights.get(signal, 0) for signal in signals])
    if order.seller.aeo:
        score -= pack.risk.aeo_discount
    score = max(0, min(100, score))
    channel: Channel = "green"
    if any(hit.kind == "prohibited" for hit in hits) or score >= pack.risk.red_from:
        channel = "red"
    elif hits or problems or score >= pack.risk.yellow_from:
        channel = "yellow"
    elif context.options.get("compliance_sample", True) and in_compliance_sample(order, pack):
        channel = "yellow"
        signals.append(COMPLIANCE_SAMPLE)
    return RiskAssessment(risk=Risk(score=score, signals=signals), channel=channel)
