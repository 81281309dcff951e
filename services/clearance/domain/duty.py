"""Duty evaluators: the tariff rate for a line (with preferences), ad valorem and specific duty,
and the flat duty per distinct subheading (EU EUR 3 from 2026-07-01).

A preference applies only with an accepted origin proof for an agreement the pack lists, an origin
among its parties and not excluded on that line, and a preferential rate lower than the MFN rate;
otherwise the decision says which condition failed (``PREFERENCE_NOT_APPLIED``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from msgspec import Struct

from clearance.domain.money import format_amount, round_money
from clearance.domain.packs import DutyLine, RulePack
from clearance.domain.rounding import describe, round_to
from clearance.domain.valuation import LineValue
from clearance.messages import Charge, Item, OriginProof, Reason

__all__ = [
    "LineRate",
    "ad_valorem_amount",
    "ad_valorem_charge",
    "flat_per_subheading_charges",
    "line_rate",
]


class LineRate(Struct, frozen=True, kw_only=True):
    """The rate found for one line, or ``rate=None`` when the tariff has no line for it."""

    rate: Decimal | None
    per_unit: Decimal | None = None
    preference: str | None = None
    reference: str = ""
    reasons: tuple[Reason, ...] = ()


def _not_applied(line_id: int, agreement: str, why: str, reference: str | None) -> Reason:
    return Reason(
        code="PREFERENCE_NOT_APPLIED",
        message=f"line {line_id}: {agreement} preference not applied: {why}",
        reference=reference,
        line_id=line_id,
    )


def _preferential(
    item: Item, line_id: int, proof: OriginProof, pack: RulePack
) -> tuple[DutyLine | None, Reason | None]:
    """The preferential tariff line for ``item`` under ``proof``, or why there is none."""
    agreement = pack.duty.preferences.get(proof.agreement)
    if agreement is None:
        return None, _not_applied(line_id, proof.agreement, "agreement not in this pack", None)
    reference = agreement.table.citation
    if proof.document not in agreement.documents:
        why = f"origin document {proof.document} not accepted ({', '.join(agreement.documents)})"
        return None, _not_applied(line_id, proof.agreement, why, reference)
    if item.origin_country not in agreement.parties:
        why = f"origin {item.origin_country} is not a party"
        return None, _not_applied(line_id, proof.agreement, why, reference)
    found = agreement.table.find(item.hs_code or "")
    if found is None:
        why = f"no preferential rate for HS {item.hs_code} in this pack"
        return None, _not_applied(line_id, proof.agreement, why, reference)
    if item.origin_country in found.excluded_origins:
        why = f"HS {found.hs} concession excludes origin {item.origin_country}"
        return None, _not_applied(line_id, proof.agreement, why, reference)
    return found, None


def line_rate(item: Item, line_id: int, proof: OriginProof | None, pack: RulePack) -> LineRate:
    """MFN (most specific prefix, else the pack default) or a valid, lower preferential rate."""
    table = pack.duty.table
    mfn = table.find(item.hs_code or "")
    mfn_rate = mfn.rate if mfn is not None else table.default
    mfn_reference = table.citation
    if mfn_rate is None:
        return LineRate(rate=None, reference=mfn_reference)
    per_unit = mfn.per_unit if mfn is not None else None
    if proof is None:
        return LineRate(rate=mfn_rate, per_unit=per_unit, reference=mfn_reference)
    preferential, why_not = _preferential(item, line_id, proof, pack)
    if why_not is not None or preferential is None:
        reasons = (why_not,) if why_not is not None else ()
        return LineRate(rate=mfn_rate, per_unit=per_unit, reference=mfn_reference, reasons=reasons)
    if preferential.rate >= mfn_rate:
        why = f"preferential rate {preferential.rate} is not lower than MFN {mfn_rate}"
        reason = _not_applied(line_id, proof.agreement, why, mfn_reference)
        return LineRate(
            rate=mfn_rate, per_unit=per_unit, reference=mfn_reference, reasons=(reason,)
        )
    agreement = pack.duty.preferences[proof.agreement]
    return LineRate(
        rate=preferential.rate,
        per_unit=preferential.per_unit,
        preference=proof.agreement,
        reference=agreement.table.citation,
        reasons=(
            Reason(
                code="PREFERENCE_APPLIED",
                message=(
                    f"line {line_id}: {proof.agreement} rate {preferential.rate} instead of MFN "
                    f"{mfn_rate} ({' '.join(filter(None, (proof.document, proof.reference)))})"
                ),
                reference=agreement.table.citation,
                line_id=line_id,
            ),
        ),
    )


def _taxable_value(value: LineValue, pack: RulePack) -> Decimal:
    """The customs value duty is computed on (rounded to a multiple where the law says so)."""
    step = pack.statutory_rounding.duty if pack.statutory_rounding is not None else None
    if step is None or step.base is None:
        return value.customs_value
    return round_to(value.customs_value, step.base, step.rule)


def ad_valorem_amount(value: LineValue, quantity: int, rate: LineRate, pack: RulePack) -> Decimal:
    """Duty on one line: ``rate x customs value`` (+ ``per_unit x quantity``), rounded once."""
    assert rate.rate is not None
    amount = rate.rate * _taxable_value(value, pack)
    if rate.per_unit is not None:
        amount += rate.per_unit * quantity
    return round_money(amount, pack.currency, pack.rounding)


def ad_valorem_charge(
    value: LineValue, quantity: int, rate: LineRate, pack: RulePack, amount: Decimal
) -> Charge:
    """The Charge for ``amount``, the line's ``ad_valorem_amount``: its formula and reference."""
    assert rate.rate is not None
    formula = f"{rate.rate} x customs value {format_amount(value.customs_value)}"
    step = pack.statutory_rounding.duty if pack.statutory_rounding is not None else None
    if step is not None and step.base is not None:
        rounded = describe(value.customs_value, step.base, step.rule)
        formula = f"{rate.rate} x customs value {rounded}"
    rate_text = str(rate.rate)
    if rate.per_unit is not None:
        formula += f" + {rate.per_unit} {pack.currency} x {quantity} units"
        rate_text += f" + {rate.per_unit} {pack.currency} per unit"
    if rate.preference is not None:
        formula += f" ({rate.preference} preferential rate)"
    return Charge(
        kind="duty",
        line_id=value.line_id,
        amount=amount,
        basis=_taxable_value(value, pack),
        rate=rate_text,
        formula=formula,
        reference=rate.reference,
    )


def flat_per_subheading_charges(
    items: list[Item], line_ids: list[int], pack: RulePack, day: date
) -> list[Charge]:
    """One flat charge per distinct subheading, on the first line that has it."""
    flat = pack.duty.flat_per_subheading
    assert flat is not None
    amount = flat.amount.at(day)
    assert amount is not None
    charges = []
    seen: set[str] = set()
    for item, line_id in zip(items, line_ids, strict=True):
        if item.hs_code is None:
            continue
        subheading = item.hs_code[: flat.digits]
        if subheading in seen:
            continue
        seen.add(subheading)
        charges.append(
            Charge(
                kind="duty",
                line_id=line_id,
                amount=round_money(amount, pack.currency, pack.rounding),
                basis=amount,
                rate=f"{amount} {pack.currency} per subheading",
                formula=(
                    f"{amount} {pack.currency} for subheading {subheading} "
                    f"(distinct {flat.digits}-digit subheading no. {len(seen)})"
                ),
                reference=flat.amount.cite(),
            )
        )
    return charges
