"""The engine: ``assess(order, context) -> Assessment``, a pure function (rules.md steps 1-12).

Each legal concept lives in its own module (valuation, de minimis, duty, tax, aggregation,
screening, quality, risk); this module runs them in the order the rules give and assembles one
explained decision: every amount a ``Charge``, every relief or problem a ``Reason``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Final

import msgspec

from clearance.domain.aggregation import aggregation_keys
from clearance.domain.classification import classify_items
from clearance.domain.context import Assessment, AssessmentContext, Contribution
from clearance.domain.deminimis import duty_relief
from clearance.domain.duty import (
    LineRate,
    ad_valorem_amount,
    ad_valorem_charge,
    flat_per_subheading_charges,
    line_rate,
)
from clearance.domain.fx import MissingExchangeRate
from clearance.domain.money import ZERO, format_amount
from clearance.domain.money import zero as money_zero
from clearance.domain.packs import RulePack
from clearance.domain.quality import data_problems
from clearance.domain.risk import COMPLIANCE_SAMPLE, RiskAssessment, assess_risk
from clearance.domain.screening import ScreeningHit, screen_items
from clearance.domain.tax import line_tax_rate, point_of_sale, tax_charge, tax_de_minimis
from clearance.domain.valuation import (
    ConsignmentValue,
    LineValue,
    assessment_date,
    value_consignment,
)
from clearance.messages import (
    Category,
    Charge,
    ClearanceDecision,
    Correction,
    DecisionLine,
    ExchangeRateUsed,
    Item,
    OrderAmended,
    OrderPlaced,
    Reason,
    RulePackRef,
    Status,
    normalise_hs_code,
)

__all__ = ["STATUS_PRECEDENCE", "apply_corrections", "assess", "decide_status"]

#: Highest first: the decision's status is the first one any rule asked for.
STATUS_PRECEDENCE: Final[tuple[Status, ...]] = (
    "refuse",
    "needs_information",
    "hold",
    "formal_entry_required",
    "release_on_payment",
    "release",
)

Order = OrderPlaced | OrderAmended


def decide_status(requested: Iterable[Status]) -> Status:
    """The highest-precedence status among those the rules requested (``release`` if none)."""
    wanted = set(requested)
    for status in STATUS_PRECEDENCE:
        if status in wanted:
            return status
    return "release"


class _Duty(msgspec.Struct, frozen=True, kw_only=True):
    charges: tuple[Charge, ...]
    rates: dict[int, Decimal | None]
    preferences: dict[int, str | None]
    reasons: tuple[Reason, ...]
    unknown_tariff: bool


def _duty(order: Order, context: AssessmentContext, value: ConsignmentValue, day: date) -> _Duty:
    """Duty: tariff per line, then relief (de minimis) or the flat per-subheading regime.

    The tariff amounts come first (the relief may test the duty payable); the tariff's Charges,
    with their formulas, only when no relief or flat regime replaces them.
    """
    pack = context.pack
    line_ids = [line.line_id for line in value.lines]
    rates: dict[int, Decimal | None] = {}
    preferences: dict[int, str | None] = {}
    reasons: list[Reason] = []
    priced: list[tuple[Item, LineValue, LineRate, Decimal]] = []
    tariff_total = ZERO
    unknown: list[Reason] = []
    unpriced = False
    for item, line in zip(order.items, value.lines, strict=True):
        found = line_rate(item, line.line_id, order.origin_proof, pack)
        rates[line.line_id], preferences[line.line_id] = found.rate, found.preference
        reasons.extend(found.reasons)
        if found.rate is None:
            unpriced = True
            if item.hs_code is not None:
                unknown.append(
                    Reason(
                        code="TARIFF_RATE_UNKNOWN",
                        message=f"line {line.line_id}: HS {item.hs_code} is not in this pack's "
                        "tariff; an officer must classify it",
                        reference=found.reference,
                        line_id=line.line_id,
                    )
                )
        else:
            duty_due = ad_valorem_amount(line, item.quantity, found, pack)
            priced.append((item, line, found, duty_due))
            tariff_total += duty_due
    relief = duty_relief(
        order,
        pack,
        value,
        # a line without a rate has a duty not known to be small: no "duty within limit" relief
        None if unpriced else tariff_total,
        (context.consignee_ref, context.totals, day, context.options),
    )
    reasons.extend(relief.reasons)
    if relief.relieved:
        return _without_tariff(line_ids, (), reasons)
    flat = pack.duty.flat_per_subheading
    if flat is not None:
        amount, ceiling = flat.amount.at(day), flat.value_ceiling.at(day)
        if amount is not None and ceiling is not None and value.threshold_value <= ceiling:
            charges = flat_per_subheading_charges(order.items, line_ids, pack, day)
            reasons.append(
                Reason(
                    code="FLAT_DUTY_PER_SUBHEADING",
                    message=(
                        f"value {format_amount(value.threshold_value)} {pack.currency} is within "
                        f"{format_amount(ceiling)}: {amount} {pack.currency} per distinct "
                        f"{flat.digits}-digit subheading ({len(charges)}) instead of the tariff"
                    ),
                    reference=flat.amount.cite(),
                )
            )
            return _without_tariff(line_ids, tuple(charges), reasons)
    reasons.extend(unknown)
    return _Duty(
        charges=tuple(
            ad_valorem_charge(line, item.quantity, found, pack, duty_due)
            for item, line, found, duty_due in priced
        ),
        rates=rates,
        preferences=preferences,
        reasons=tuple(reasons),
        unknown_tariff=bool(unknown),
    )


def _without_tariff(
    line_ids: list[int], charges: tuple[Charge, ...], reasons: list[Reason]
) -> _Duty:
    """Duty relieved or replaced (flat regime): no tariff rate or preference on any line."""
    return _Duty(
        charges=charges,
        rates=dict.fromkeys(line_ids),
        preferences=dict.fromkeys(line_ids),
        reasons=tuple(reasons),
        unknown_tariff=False,
    )


def _formal_entry_reasons(
    order: Order, pack: RulePack, value: ConsignmentValue, day: date, context: AssessmentContext
) -> list[Reason]:
    """Excise goods the pack does not compute, and values above the low-value ceiling."""
    reasons = []
    excise = pack.excise
    for position, item in enumerate(order.items, start=1):
        if item.excise_category in excise.formal_entry_categories:
            reasons.append(
                Reason(
                    code="EXCISE_GOODS_FORMAL_ENTRY",
                    message=f"line {item.line_id or position}: {item.excise_category} is an "
                    "excise good; it needs a full declaration",
                    reference=f"{excise.reference} <{excise.source}>" if excise.source else None,
                    line_id=item.line_id or position,
                )
            )
    ceiling_parameter = pack.low_value_ceiling
    gated = "low_value_ceiling" in pack.options
    if ceiling_parameter is not None and (
        not gated or pack.option("low_value_ceiling", context.options)
    ):
        ceiling = ceiling_parameter.at(day)
        if ceiling is not None and value.threshold_value > ceiling:
            reasons.append(
                Reason(
                    code="LOW_VALUE_CEILING_EXCEEDED",
                    message=(
                        f"value {format_amount(value.threshold_value)} {pack.currency} is above "
                        f"the low-value ceiling of {format_amount(ceiling)}"
                    ),
                    reference=ceiling_parameter.cite(),
                )
            )
    return reasons


def _screening_reasons(hits: Sequence[ScreeningHit]) -> list[Reason]:
    return [
        Reason(
            code="PROHIBITED_GOODS" if hit.kind == "prohibited" else "RESTRICTED_GOODS",
            message=f"line {hit.line_id}: {hit.kind} goods ({hit.code}: {hit.matched})",
            reference=hit.reference,
            line_id=hit.line_id,
        )
        for hit in hits
    ]


def _risk_reasons(risk: RiskAssessment, pack: RulePack) -> list[Reason]:
    """Why risk alone holds a parcel: the score over a band, or the random compliance draw."""
    if COMPLIANCE_SAMPLE in risk.risk.signals:
        share = pack.risk.compliance_sample_share
        message = f"selected at random ({share:%} of green parcels) for a compliance check"
        return [Reason(code=COMPLIANCE_SAMPLE, message=message)]
    if risk.risk.score >= pack.risk.yellow_from:
        band = pack.risk.red_from if risk.channel == "red" else pack.risk.yellow_from
        # each signal with its contribution, so the score can be recomputed from the decision
        signals = ", ".join(f"{s} +{pack.risk_weights.get(s, 0)}" for s in risk.risk.signals)
        message = (
            f"risk score {risk.risk.score} (signals: {signals}) reaches the "
            f"{risk.channel} band ({band})"
        )
        return [Reason(code="RISK_SCORE", message=message)]
    return []


def _risk_hold(risk: RiskAssessment) -> list[Status]:
    """Yellow or red means an officer must act: ``hold`` (rules.md step 11)."""
    return [] if risk.channel == "green" else ["hold"]


def _category(status: Status, total_due: Decimal) -> Category:
    if status == "formal_entry_required":
        return "high_value"
    return "low_value_exempt" if total_due == 0 else "low_value_dutiable"


def _totals(charges: Iterable[Charge], zero: Decimal) -> dict[str, Decimal]:
    """The sum of the charges of each kind (duty, tax, excise, fee), in one pass, from ``zero``
    (the currency's zero in minor units, so a kind without charges reads "0.00" in EUR)."""
    totals = dict.fromkeys(("duty", "tax", "excise", "fee"), zero)
    for charge in charges:
        totals[charge.kind] += charge.amount
    return totals


def assess(order: Order, context: AssessmentContext) -> Assessment:
    """Assess one consignment under ``context.pack``: the decision and the totals to update."""
    pack = context.pack
    day = assessment_date(order, pack)
    classified = classify_items(order, pack, context.classifier)
    order = classified.order  # items without a code carry the suggested one, if confident
    problems = data_problems(order, pack)
    hits = screen_items(order.items, pack)
    requested: list[Status] = []
    reasons: list[Reason] = [*classified.reasons, *_screening_reasons(hits), *problems]
    kinds = {hit.kind for hit in hits}
    if "prohibited" in kinds:
        requested.append("refuse")
    if "restricted" in kinds:
        requested.append("hold")
    if problems:
        requested.append("needs_information")

    exchange_rate: ExchangeRateUsed | None = None
    rate = Decimal(1)
    if order.currency != pack.currency:
        try:
            exchange_rate = context.rates.lookup(order.currency, pack.currency, day)
            rate = exchange_rate.rate
        except MissingExchangeRate as missing:
            return _without_rate(
                order,
                context,
                day,
                reasons,
                requested,
                (hits, problems, classified.signals),
                missing,
            )

    value = value_consignment(order, pack, rate)
    zero = money_zero(pack.currency)  # sums start here so "0" reads "0.00" in EUR
    duty = _duty(order, context, value, day)
    reasons.extend(duty.reasons)
    if duty.unknown_tariff:
        requested.append("hold")

    collected = point_of_sale(order, pack, value, day, rate)
    reasons.extend(collected.reasons)
    de_minimis = tax_de_minimis(order, pack, value, day)
    if de_minimis is not None:
        reasons.append(de_minimis)
    line_duty = dict.fromkeys((line.line_id for line in value.lines), zero)
    for charge in duty.charges:
        line_duty[charge.line_id or value.lines[0].line_id] += charge.amount
    tax_charges: dict[int, Charge] = {}
    tax_rates: dict[int, Decimal | None] = {}
    for item, line in zip(order.items, value.lines, strict=True):
        if de_minimis is not None or line.line_id in collected.covered_lines:
            tax_rates[line.line_id] = None
            continue
        tax_rate, reference = line_tax_rate(item, pack, order.destination_country, day)
        tax_rates[line.line_id] = tax_rate
        tax_charges[line.line_id] = tax_charge(
            line, line_duty[line.line_id], tax_rate, reference, pack
        )

    formal = _formal_entry_reasons(order, pack, value, day, context)
    reasons.extend(formal)
    if formal:
        requested.append("formal_entry_required")
    charges = [*duty.charges, *tax_charges.values()]
    sums = _totals(charges, zero)
    duty_total, tax_total, excise_total, fees_total = (
        sums["duty"],
        sums["tax"],
        sums["excise"],
        sums["fee"],
    )
    total_due = duty_total + tax_total + excise_total + fees_total
    requested.append("release_on_payment" if total_due > 0 else "release")
    risk = assess_risk(order, context, value, day, hits, problems, classified.signals)
    reasons.extend(_risk_reasons(risk, context.pack))
    requested.extend(_risk_hold(risk))
    status = decide_status(requested)
    lines = [
        DecisionLine(
            line_id=line.line_id,
            hs_code=item.hs_code,
            quantity=item.quantity,
            customs_value=line.customs_value,
            duty_rate=duty.rates[line.line_id],
            duty=line_duty[line.line_id],
            tax_rate=tax_rates[line.line_id],
            tax=tax_charges[line.line_id].amount if line.line_id in tax_charges else zero,
            preference=duty.preferences[line.line_id],
        )
        for item, line in zip(order.items, value.lines, strict=True)
    ]
    decision = _decision(
        order,
        context,
        day,
        status=status,
        risk=risk,
        exchange_rate=exchange_rate,
        amounts=(value.customs_value, value.threshold_value, duty_total, tax_total),
        collected=collected.collected if collected.covered_lines else zero,
        lines=lines,
        charges=charges,
        reasons=reasons,
    )
    contributions = tuple(
        Contribution(key=key, value=value.threshold_value)
        for key in aggregation_keys(order, pack, context.consignee_ref)
    )
    return Assessment(decision=decision, contributions=contributions)


def _decision(
    order: Order,
    context: AssessmentContext,
    day: date,
    *,
    status: Status,
    risk: RiskAssessment,
    exchange_rate: ExchangeRateUsed | None,
    amounts: tuple[Decimal, Decimal, Decimal, Decimal],
    collected: Decimal,
    lines: list[DecisionLine],
    charges: list[Charge],
    reasons: list[Reason],
) -> ClearanceDecision:
    """The decision record. ``amounts`` and ``collected`` come in the currency's minor units
    already: sums of rounded values and charges, started from the currency's zero."""
    pack = context.pack
    zero = money_zero(pack.currency)
    customs_value, threshold_value, duty_total, tax_total = amounts
    total_due = duty_total + tax_total
    return ClearanceDecision(
        decision_id=context.decision_id,
        platform=order.platform,
        order_id=order.order_id,
        shipment_id=order.shipment,
        order_revision=order.revision,
        decision_revision=context.decision_revision,
        decided_at=context.decided_at,
        assessment_date=day,
        destination_country=order.destination_country,
        rule_pack=RulePackRef(id=pack.id, version=pack.version, digest=pack.digest),
        status=status,
        # an officer must act on a held parcel: never green (contracts.md, status ``hold``)
        channel="yellow" if status == "hold" and risk.channel == "green" else risk.channel,
        category=_category(status, total_due),
        currency=pack.currency,
        exchange_rate=exchange_rate,
        customs_value=customs_value,
        threshold_value=threshold_value,
        duty=duty_total,
        tax=tax_total,
        excise=zero,
        fees=zero,
        total_due=total_due,
        collected_at_checkout=collected,
        lines=lines,
        charges=charges,
        reasons=reasons,
        risk=risk.risk,
        trace_id=context.trace_id,
    )


def _without_rate(
    order: Order,
    context: AssessmentContext,
    day: date,
    reasons: list[Reason],
    requested: list[Status],
    found: tuple[Sequence[ScreeningHit], Sequence[Reason], Sequence[str]],
    missing: MissingExchangeRate,
) -> Assessment:
    """No rate to convert with: hold the parcel rather than guess an amount.

    ``found``: the screening hits, data problems and classification signals already known."""
    hits, problems, signals = found
    reasons.append(Reason(code="EXCHANGE_RATE_UNAVAILABLE", message=str(missing)))
    zero = money_zero(context.pack.currency)
    lines = [
        DecisionLine(
            line_id=item.line_id or position,
            hs_code=item.hs_code,
            quantity=item.quantity,
            customs_value=zero,
            duty_rate=None,
            duty=zero,
            tax_rate=None,
            tax=zero,
        )
        for position, item in enumerate(order.items, start=1)
    ]
    risk = assess_risk(order, context, None, day, hits, problems, signals)
    decision = _decision(
        order,
        context,
        day,
        status=decide_status([*requested, "hold"]),
        risk=risk,
        exchange_rate=None,
        amounts=(zero, zero, zero, zero),
        collected=zero,
        lines=lines,
        charges=[],
        reasons=reasons,
    )
    return Assessment(decision=decision)


def apply_corrections(order: Order, corrections: Sequence[Correction]) -> Order:
    """The order with an officer's corrections applied (inspection outcome ``reassess``).

    Raises ``ValueError`` naming a ``line_id`` the order does not have.
    """
    by_line = {correction.line_id: correction for correction in corrections}
    known = {item.line_id for item in order.items}
    unknown = sorted(set(by_line) - known)
    if unknown:
        raise ValueError(f"corrections name unknown line_id(s): {unknown}")
    items = []
    for item in order.items:
        correction = by_line.get(item.line_id or 0)
        if correction is None:
            items.append(item)
            continue
        changes: dict[str, object] = {}
        if correction.hs_code is not None:
            changes["hs_code"] = normalise_hs_code(correction.hs_code)
        if correction.unit_price is not None:
            changes["unit_price"] = correction.unit_price
        if correction.quantity is not None:
            changes["quantity"] = correction.quantity
        if correction.description is not None:
            changes["description"] = correction.description
        items.append(msgspec.structs.replace(item, **changes))
    return msgspec.structs.replace(order, items=items)
