"""The engine: ``assess(order, context) -> Assessment``, a pure function (the steps 1-12 of
docs/spec/rules.md).

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
from clearance.domain.deminimis import duty_relief, gift_relief
from clearance.domain.duty import LineDuty, flat_per_subheading_charges, line_duty
from clearance.domain.fx import MissingExchangeRate
from clearance.domain.money import ZERO, format_amount
from clearance.domain.money import zero as money_zero
from clearance.domain.packs import RuleNotInForce, RulePack
from clearance.domain.parcels import Order
from clearance.domain.quality import data_problems
from clearance.domain.risk import COMPLIANCE_SAMPLE, RiskAssessment, assess_risk
from clearance.domain.rounding import round_to, round_total
from clearance.domain.screening import ScreeningHit, screen_items
from clearance.domain.tax import (
    PointOfSale,
    line_tax_rate,
    local_part_charge,
    nominal_rate,
    point_of_sale,
    tax_charge,
    tax_de_minimis,
)
from clearance.domain.valuation import (
    ConsignmentValue,
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
    vat_classes: dict[int, str]
    reasons: tuple[Reason, ...]
    requested: tuple[Status, ...]
    """``hold`` for a rate unknown, ``needs_information`` for a code too short or a weight."""


_PROBLEM_STATUS: Final[dict[str, Status]] = {
    "TARIFF_RATE_UNKNOWN": "hold",
    "TARIFF_LINE_AMBIGUOUS": "needs_information",
    "MISSING_UNIT_WEIGHT": "needs_information",
}


def _duty(order: Order, context: AssessmentContext, value: ConsignmentValue, day: date) -> _Duty:
    """Duty: tariff per line, then relief (de minimis) or the flat per-subheading regime.

    The tariff amounts come first (the relief may test the duty payable); the tariff's Charges,
    with their formulas, only when no relief or flat regime replaces them.
    """
    pack = context.pack
    line_ids = [line.line_id for line in value.lines]
    found: dict[int, LineDuty] = {}
    reasons: list[Reason] = []
    problems: list[Reason] = []
    unpriced, tariff_total = False, ZERO
    for item, line in zip(order.items, value.lines, strict=True):
        duty = found[line.line_id] = line_duty(
            item, line, order.origin_proof, pack, day, context.options
        )
        reasons.extend(duty.reasons)
        if duty.problem is not None:
            problems.append(duty.problem)
        if duty.amount is None:
            unpriced = True
        else:
            tariff_total += duty.amount
    vat_classes = {line_id: duty.vat_class for line_id, duty in found.items()}
    gift = gift_relief(order, pack.duty.gift_relief, value, day, pack, "duty")
    if gift is not None:
        return _without_tariff(line_ids, vat_classes, (), [*reasons, gift])
    relief = duty_relief(
        order,
        pack,
        value,
        # a line without a duty has a duty not known to be small: no "duty within limit" relief
        None if unpriced else tariff_total,
        (context.consignee_ref, context.totals, day, context.options),
    )
    reasons.extend(relief.reasons)
    if relief.relieved:
        return _without_tariff(line_ids, vat_classes, (), reasons)
    flat = pack.duty.flat_per_subheading
    # a gift between private persons is not a distance sale (EU EUR 3: B2C sales only)
    if flat is not None and not (flat.distance_sales_only and order.is_gift):
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
                    reference=flat.amount.cite(day),
                )
            )
            return _without_tariff(line_ids, vat_classes, tuple(charges), reasons)
    reasons.extend(problems)
    return _Duty(
        charges=tuple(duty.charge for duty in found.values() if duty.charge is not None),
        rates={line_id: duty.rate for line_id, duty in found.items()},
        preferences={line_id: duty.preference for line_id, duty in found.items()},
        vat_classes=vat_classes,
        reasons=tuple(reasons),
        requested=tuple(_PROBLEM_STATUS[problem.code] for problem in problems),
    )


def _without_tariff(
    line_ids: list[int],
    vat_classes: dict[int, str],
    charges: tuple[Charge, ...],
    reasons: list[Reason],
) -> _Duty:
    """Duty relieved or replaced (flat regime): no tariff rate or preference on any line."""
    return _Duty(
        charges=charges,
        rates=dict.fromkeys(line_ids),
        preferences=dict.fromkeys(line_ids),
        vat_classes=vat_classes,
        reasons=tuple(reasons),
        requested=(),
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
                    reference=ceiling_parameter.cite(day),
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
    """Yellow or red means an officer must act: ``hold`` (docs/spec/rules.md step 11)."""
    return [] if risk.channel == "green" else ["hold"]


def _category(status: Status, total_due: Decimal, high_value: bool) -> Category:
    """WCO Immediate Release Guidelines categories 2-4 (documents are not modelled)."""
    if status == "formal_entry_required" or high_value:
        return "high_value"
    return "low_value_exempt" if total_due == 0 else "low_value_dutiable"


def _high_value(pack: RulePack, value: Decimal, day: date) -> bool:
    """Above the pack's formal-entry ceiling (``high_value_above``): WCO category 4."""
    ceiling = pack.high_value_above.at(day) if pack.high_value_above is not None else None
    return ceiling is not None and value > ceiling


def _totals(charges: Iterable[Charge], zero: Decimal) -> dict[str, Decimal]:
    """The sum of the charges of each kind (duty, tax, excise, fee), in one pass, from ``zero``
    (the currency's zero in minor units, so a kind without charges reads "0.00" in EUR)."""
    totals = dict.fromkeys(("duty", "tax", "excise", "fee"), zero)
    for charge in charges:
        totals[charge.kind] += charge.amount
    return totals


def _sums_per_line(
    charges: Iterable[Charge], value: ConsignmentValue, zero: Decimal
) -> dict[int, Decimal]:
    """Each line's share of ``charges`` (a charge without a line belongs to the first line)."""
    sums = dict.fromkeys((line.line_id for line in value.lines), zero)
    for charge in charges:
        sums[charge.line_id or value.lines[0].line_id] += charge.amount
    return sums


def _duty_with_statutory_rounding(
    charges: Sequence[Charge], value: ConsignmentValue, pack: RulePack, zero: Decimal
) -> tuple[list[Charge], dict[int, Decimal], dict[int, Decimal]]:
    """The duty charges with their total rounded as the law says, each line's duty, and each
    line's duty as it enters the tax base (rounded per line first: Japan Customs FAQ 1111)."""
    step = pack.statutory_rounding.duty if pack.statutory_rounding is not None else None
    per_line = _sums_per_line(charges, value, zero)
    if step is None:
        return list(charges), per_line, per_line
    into_tax = {line: round_to(amount, step.line, step.rule) for line, amount in per_line.items()}
    rounded = round_total(list(charges), step.total, step.rule, pack.currency)
    return rounded, _sums_per_line(rounded, value, zero), into_tax


def _tax(
    order: Order,
    context: AssessmentContext,
    value: ConsignmentValue,
    day: date,
    given: tuple[dict[int, Decimal], dict[int, str], PointOfSale, Reason | None],
) -> tuple[list[Charge], dict[int, Decimal | None], list[Reason]]:
    """Import tax per line (none where collected at sale or within the de minimis), with the
    line's tariff VAT class, the pack's local part and statutory rounding; each line's nominal
    rate; and the reasons the rates give (a lower rate the order's facts cannot confirm)."""
    pack = context.pack
    duty_into_tax, vat_classes, collected, de_minimis = given
    national: list[Charge] = []
    rates: dict[int, Decimal | None] = {}
    reasons: list[Reason] = []
    for item, line in zip(order.items, value.lines, strict=True):
        if de_minimis is not None or line.line_id in collected.covered_lines:
            rates[line.line_id] = None
            continue
        found = line_tax_rate(
            item,
            line.line_id,
            pack,
            order.destination_country,
            day,
            vat_classes[line.line_id],
            context.options,
        )
        if found.reason is not None:
            reasons.append(found.reason)
        rates[line.line_id] = nominal_rate(found.rate, pack)
        national.append(
            tax_charge(line, duty_into_tax[line.line_id], found.rate, found.reference, pack)
        )
    local = pack.tax.local_part
    step = pack.statutory_rounding.tax if pack.statutory_rounding is not None else None
    parts = [national]
    if local is not None:
        parts.append([local_part_charge(charge, local, pack) for charge in national])
    if step is not None:
        parts = [round_total(part, step.total, step.rule, pack.currency) for part in parts]
    return [charge for part in parts for charge in part], rates, reasons


class _Controls(msgspec.Struct, frozen=True, kw_only=True):
    """What classification, screening and the data checks found, before any amount is computed.

    ``order`` is the order as assessed: items without a code carry the classifier's suggestion
    where it is confident enough (``HS_CODE_SUGGESTED``)."""

    order: Order
    hits: tuple[ScreeningHit, ...]
    problems: tuple[Reason, ...]
    signals: tuple[str, ...]
    reasons: tuple[Reason, ...]
    requested: tuple[Status, ...]


def _controls(order: Order, context: AssessmentContext) -> _Controls:
    pack = context.pack
    classified = classify_items(order, pack, context.classifier)
    order = classified.order
    problems = tuple(data_problems(order, pack))
    hits = tuple(screen_items(order.items, pack))
    requested: list[Status] = []
    kinds = {hit.kind for hit in hits}
    if "prohibited" in kinds:
        requested.append("refuse")
    if "restricted" in kinds:
        requested.append("hold")
    if problems:
        requested.append("needs_information")
    return _Controls(
        order=order,
        hits=hits,
        problems=problems,
        signals=tuple(classified.signals),
        reasons=(*classified.reasons, *_screening_reasons(hits), *problems),
        requested=tuple(requested),
    )


def assess(order: Order, context: AssessmentContext) -> Assessment:
    """Assess one consignment under ``context.pack``: the decision and the totals to update.

    Never raises on a valid order: a rule or exchange rate missing on the assessment date gives a
    held decision that names what is missing, instead of an amount guessed or an error.
    """
    day = assessment_date(order, context.pack)
    controls = _controls(order, context)
    try:
        return _assess_amounts(controls.order, context, day, controls)
    except MissingExchangeRate as missing:
        gap = Reason(code="EXCHANGE_RATE_UNAVAILABLE", message=str(missing))
    except RuleNotInForce as not_in_force:
        gap = Reason(
            code=not_in_force.code, message=str(not_in_force), reference=not_in_force.citation
        )
    return _unassessed(controls.order, context, day, controls, gap)


def _assess_amounts(
    order: Order, context: AssessmentContext, day: date, controls: _Controls
) -> Assessment:
    """Value, duty, tax and risk; raises ``MissingExchangeRate`` or ``RuleNotInForce``."""
    pack = context.pack
    hits, problems = controls.hits, controls.problems
    requested: list[Status] = list(controls.requested)
    reasons: list[Reason] = list(controls.reasons)
    exchange_rate: ExchangeRateUsed | None = None
    rate = Decimal(1)
    if order.currency != pack.currency:
        exchange_rate = context.rates.lookup(order.currency, pack.currency, day)
        rate = exchange_rate.rate

    value = value_consignment(order, pack, rate)
    zero = money_zero(pack.currency)  # sums start here so "0" reads "0.00" in EUR
    duty = _duty(order, context, value, day)
    reasons.extend(duty.reasons)
    requested.extend(duty.requested)

    collected = point_of_sale(order, pack, value, day, rate, context.options)
    reasons.extend(collected.reasons)
    de_minimis = tax_de_minimis(order, pack, value, day)
    if de_minimis is not None:
        reasons.append(de_minimis)
    duty_charges, line_duty, duty_into_tax = _duty_with_statutory_rounding(
        duty.charges, value, pack, zero
    )
    tax_charges, tax_rates, tax_reasons = _tax(
        order, context, value, day, (duty_into_tax, duty.vat_classes, collected, de_minimis)
    )
    reasons.extend(tax_reasons)
    line_tax = _sums_per_line(tax_charges, value, zero)

    formal = _formal_entry_reasons(order, pack, value, day, context)
    reasons.extend(formal)
    if formal:
        requested.append("formal_entry_required")
    charges = [*duty_charges, *tax_charges]
    sums = _totals(charges, zero)
    duty_total, tax_total, excise_total, fees_total = (
        sums["duty"],
        sums["tax"],
        sums["excise"],
        sums["fee"],
    )
    total_due = duty_total + tax_total + excise_total + fees_total
    requested.append("release_on_payment" if total_due > 0 else "release")
    risk = assess_risk(order, context, value, day, hits, problems, controls.signals)
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
            tax=line_tax[line.line_id],
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
        # an officer must act on a held parcel: never green (docs/spec/contracts.md, ``hold``)
        channel="yellow" if status == "hold" and risk.channel == "green" else risk.channel,
        category=_category(status, total_due, _high_value(pack, threshold_value, day)),
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


def _unassessed(
    order: Order, context: AssessmentContext, day: date, controls: _Controls, gap: Reason
) -> Assessment:
    """No amount can be computed (``gap`` says what is missing): hold the parcel for an officer
    rather than guess, keeping what screening and the data checks found."""
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
    risk = assess_risk(
        order, context, None, day, controls.hits, controls.problems, controls.signals
    )
    decision = _decision(
        order,
        context,
        day,
        status=decide_status([*controls.requested, "hold"]),
        risk=risk,
        exchange_rate=None,
        amounts=(zero, zero, zero, zero),
        collected=zero,
        lines=lines,
        charges=[],
        reasons=[*controls.reasons, gap],
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
