"""Risk score and channel (docs/spec/rules.md step 11): named signals with weights from the pack.

Signals: screening hits, data problems (e.g. a missing identity), undervaluation against the
pack's reference price per HS heading, consignee velocity and a seller without history (both from
storage, through the context), a value just under the duty relief (the cliff), a high-risk origin.
A trusted seller takes points off: one the administration's AEO registry lists with a certificate
valid on the assessment date (the shell looks it up), never the order's own ``seller.aeo``. The
score (0-100) maps to a channel by the pack's bands; prohibited goods are always red, restricted
goods or missing data at least yellow. A share of green parcels goes to yellow for compliance
measurement, drawn by the shell once per parcel with a server secret (``compliance_draw``): every
revision of a parcel draws the same way, a replay decides the same, and a platform can neither
predict the draw nor redraw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from msgspec import Struct

from clearance.domain.context import DRAW_RANGE, AssessmentContext
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


def in_compliance_sample(draw: int | None, share: Decimal) -> bool:
    """Whether a parcel whose draw is ``draw`` (``AssessmentContext.compliance_draw``) falls in the
    compliance sample of ``share`` (the pack's ``compliance_sample_share``)."""
    if draw is None or share <= 0:
        return False
    return draw < share * DRAW_RANGE  # exact: an integer against a Decimal


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
    if any(certificate.valid_on(day) for certificate in context.seller_aeo):
        score -= pack.risk.aeo_discount
    score = max(0, min(100, score))
    channel: Channel = "green"
    if any(hit.kind == "prohibited" for hit in hits) or score >= pack.risk.red_from:
        channel = "red"
    elif hits or problems or score >= pack.risk.yellow_from:
        channel = "yellow"
    elif context.options.get("compliance_sample", True) and in_compliance_sample(
        context.compliance_draw, pack.risk.compliance_sample_share
    ):
        channel = "yellow"
        signals.append(COMPLIANCE_SAMPLE)
    return RiskAssessment(risk=Risk(score=score, signals=signals), channel=channel)
