"""Duty evaluators: the tariff line for an HS code, its duty form computed on the line (with a
preference where one applies), and the flat duty per distinct subheading (EU EUR 3 from 2026-07-01).

Finding the line: the pack's written lines and its national tariff are searched for the longest
listed prefix of the code. A code with fewer digits than the national lines under it is exact
enough only when every one of them has the same duty; otherwise the decision asks for the full
code, listing the candidates (``TARIFF_LINE_AMBIGUOUS``), unless the pack option
``tariff_highest_candidate`` says to take the highest. A rate the engine cannot compute is quoted
(``TARIFF_RATE_UNKNOWN``); a specific duty by weight without ``unit_weight_kg`` asks for the weight
(``MISSING_UNIT_WEIGHT``). Nothing is guessed.

A preference applies only with an accepted origin proof for an agreement the pack lists, an origin
among its parties and not excluded on that line, and a preferential duty lower than the MFN duty
on this line; otherwise the decision says which condition failed (``PREFERENCE_NOT_APPLIED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Final, cast

import msgspec
from msgspec import Struct

from clearance.domain.money import round_money
from clearance.domain.packs import DutyLine, DutyTable, Preference, RulePack
from clearance.domain.rounding import describe, round_to
from clearance.domain.tariff import (
    AdValorem,
    Computed,
    DutyForm,
    Goods,
    NationalTariff,
    TariffLine,
    Uncomputable,
    describe_form,
    evaluate,
    format_form,
)
from clearance.domain.valuation import LineValue
from clearance.messages import Charge, Item, OriginProof, Reason

__all__ = [
    "HIGHEST_CANDIDATE_OPTION",
    "Ambiguous",
    "Found",
    "LineDuty",
    "find_tariff_line",
    "flat_per_subheading_charges",
    "line_duty",
]

HIGHEST_CANDIDATE_OPTION: Final = "tariff_highest_candidate"
"""Pack option: a short code whose lines differ takes the highest duty instead of asking."""

_LISTED_CANDIDATES: Final = 8


class Found(Struct, frozen=True, kw_only=True):
    """The tariff line applying to a code: national (``line``) or written in the pack."""

    hs: str
    mfn: DutyForm
    line: TariffLine | None = None
    written: DutyLine | None = None
    reference: str = ""
    """The citation of the line (filled when found, so a cached lookup carries it)."""
    mfn_text: str = ""
    """``describe_form(mfn)``, likewise."""


class Ambiguous(Struct, frozen=True, kw_only=True):
    """A code with fewer digits than the national lines under it, which differ."""

    candidates: tuple[TariffLine, ...]


class LineDuty(Struct, frozen=True, kw_only=True):
    """The duty of one line, or the problem that stops it being computed."""

    amount: Decimal | None = None
    """Rounded duty (``None`` when there is a problem)."""
    rate: Decimal | None = None
    """Ad valorem rate applied, for ``DecisionLine.duty_rate`` (none for a purely specific duty)."""
    charge: Charge | None = None
    preference: str | None = None
    vat_class: str = ""
    """The line's VAT class in the national tariff (``tax.tariff_classes``), if it has one."""
    reasons: tuple[Reason, ...] = ()
    problem: Reason | None = None
    """``TARIFF_RATE_UNKNOWN``, ``TARIFF_LINE_AMBIGUOUS`` or ``MISSING_UNIT_WEIGHT``."""


def _common_line(code: str, lines: list[TariffLine]) -> TariffLine | None:
    """One line standing for ``lines`` when they all have the same MFN duty, else ``None``.

    Preferences and VAT class are kept where all agree too (otherwise left out)."""
    first = lines[0]
    if any(line.mfn != first.mfn for line in lines[1:]):
        return None
    preferential = tuple(
        column if all(line.preferential[i] == column for line in lines) else None
        for i, column in enumerate(first.preferential)
    )
    vat = first.vat if all(line.vat == first.vat for line in lines) else ""
    note = f"all {len(lines)} lines under {code}" if len(lines) > 1 else f"the one line {first.hs}"
    return TariffLine(hs=code, mfn=first.mfn, preferential=preferential, vat=vat, note=note)


def _national(national: NationalTariff, code: str) -> Found | Ambiguous | None:
    under = national.leaves_under(code)
    if under:
        common = _common_line(code, under)
        if common is None:
            return Ambiguous(candidates=tuple(under))
        return Found(hs=common.hs, mfn=common.mfn, line=common)
    line = national.find(code)
    return Found(hs=line.hs, mfn=line.mfn, line=line) if line is not None else None


_CACHE_LIMIT: Final = 65_536


def find_tariff_line(table: DutyTable, code: str, currency: str) -> Found | Ambiguous | None:
    """The line for ``code`` (see ``_find``), remembered per table: a stream repeats its codes."""
    # a table belongs to one pack, so to one currency: the code alone is the key
    cache = cast("dict[str, Found | Ambiguous | None]", table.lookups)
    try:
        return cache[code]
    except KeyError:
        pass
    if len(cache) >= _CACHE_LIMIT:  # bounded: codes come from the orders
        cache.clear()
    found = _find(table, code, currency)
    if isinstance(found, Found):
        found = msgspec.structs.replace(
            found, reference=_reference(table, found), mfn_text=describe_form(found.mfn)
        )
    cache[code] = found
    return found


def _find(table: DutyTable, code: str, currency: str) -> Found | Ambiguous | None:
    """The line for ``code``: a written line at least as specific as the national one, else the
    national tariff (longest prefix, or the common duty of the lines under a short code), else
    the table's default; ``None`` when the tariff does not know the code."""
    if not code:  # no HS code (a data problem of its own): only a default rate can apply
        return Found(hs="", mfn=AdValorem(table.default)) if table.default is not None else None
    written = table.find(code)
    national = table.national
    best = national.find(code) if national is not None else None
    if written is not None and (best is None or len(written.hs) >= len(best.hs)):
        return Found(hs=written.hs, mfn=written.form(currency), written=written)
    if national is not None:
        found = _national(national, code)
        if found is not None:
            return found
    if table.default is not None:
        return Found(hs="", mfn=AdValorem(table.default))
    return None


def taxable_value(value: LineValue, pack: RulePack) -> Decimal:
    """The customs value duty is computed on: rounded to a multiple where the law says so
    (``statutory_rounding.duty.base``; Japan: truncated to JPY 1,000)."""
    step = pack.statutory_rounding.duty if pack.statutory_rounding is not None else None
    if step is None or step.base is None:
        return value.customs_value
    return round_to(value.customs_value, step.base, step.rule)


def _value_text(value: LineValue, pack: RulePack) -> str:
    """The customs value as a formula shows it (with its statutory rounding, if any)."""
    step = pack.statutory_rounding.duty if pack.statutory_rounding is not None else None
    if step is None or step.base is None:
        return f"{value.customs_value:,}"
    return describe(value.customs_value, step.base, step.rule)


def _goods(item: Item, value: LineValue, day: date, pack: RulePack) -> Goods:
    return Goods(
        customs_value=taxable_value(value, pack),
        quantity=item.quantity,
        unit_weight_kg=item.unit_weight_kg,
        day=day,
        currency=pack.currency,
    )


def _not_applied(line_id: int, agreement: str, why: str, reference: str | None) -> Reason:
    return Reason(
        code="PREFERENCE_NOT_APPLIED",
        message=f"line {line_id}: {agreement} preference not applied: {why}",
        reference=reference,
        line_id=line_id,
    )


def _agreement_refusal(item: Item, proof: OriginProof, agreement: Preference | None) -> str | None:
    """Why the proof does not open the agreement's rates for this item (``None``: it does)."""
    if agreement is None:
        return "agreement not in this pack"
    if proof.document not in agreement.documents:
        return f"origin document {proof.document} not accepted ({', '.join(agreement.documents)})"
    if item.origin_country not in agreement.parties:
        return f"origin {item.origin_country} is not a party"
    return None


def _preferential_form(
    item: Item, agreement: Preference, found: Found, table: DutyTable, currency: str
) -> tuple[DutyForm | None, str]:
    """The agreement's form for the line (a written line first), or why there is none."""
    code = item.hs_code or ""
    written = agreement.table.find(code) if agreement.table is not None else None
    if written is not None:
        if item.origin_country in written.excluded_origins:
            return None, f"HS {written.hs} concession excludes origin {item.origin_country}"
        return written.form(currency), ""
    national, column = table.national, agreement.column_for(item.origin_country)
    index = national.column(column) if national is not None and column is not None else None
    if index is not None and found.line is not None:
        form = found.line.preferential[index]
        if form is not None:
            return form, ""
    return None, f"no preferential rate for HS {item.hs_code} in this pack"


def _reference(table: DutyTable, found: Found) -> str:
    """The table's citation, with the national line (its code, vintage and note) when it is one."""
    if found.line is None or table.national is None:
        return table.citation
    info = table.national.info
    detail = f"tariff line {found.line.hs}"
    if info.vintage:
        detail += f", vintage {info.vintage}"
    if found.line.note:
        detail += f", {found.line.note}"
    return f"{table.citation} ({detail})"


def _candidates_text(candidates: tuple[TariffLine, ...]) -> str:
    shown = [f"{line.hs} {format_form(line.mfn)}" for line in candidates[:_LISTED_CANDIDATES]]
    more = len(candidates) - _LISTED_CANDIDATES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _highest(candidates: tuple[TariffLine, ...], goods: Goods) -> TariffLine | None:
    """The candidate with the highest duty on these goods (``None`` if one cannot be computed)."""
    best: tuple[Decimal, TariffLine] | None = None
    for line in candidates:
        result = evaluate(line.mfn, goods)
        if isinstance(result, Uncomputable):
            return None
        if best is None or result.amount > best[0]:
            best = (result.amount, line)
    return best[1] if best is not None else None


def _locate(
    item: Item,
    line_id: int,
    goods: Goods,
    pack: RulePack,
    options: Mapping[str, bool],
    found: Found | Ambiguous | None,
) -> Found | Reason:
    """The tariff line found for the item, or the reason there is none to apply."""
    table = pack.duty.table
    if isinstance(found, Ambiguous):
        if HIGHEST_CANDIDATE_OPTION in pack.options and pack.option(
            HIGHEST_CANDIDATE_OPTION, options
        ):
            chosen = _highest(found.candidates, goods)
            if chosen is not None:
                return Found(hs=chosen.hs, mfn=chosen.mfn, line=chosen)
        return Reason(
            code="TARIFF_LINE_AMBIGUOUS",
            message=(
                f"line {line_id}: HS {item.hs_code} covers {len(found.candidates)} tariff lines "
                f"with different duties ({_candidates_text(found.candidates)}); give the full "
                "code"
            ),
            reference=table.citation,
            line_id=line_id,
        )
    if found is None:
        why = (
            "is not in this pack's tariff; an officer must classify it"
            if table.lines or table.national is not None
            else f"cannot be rated: this pack has no tariff schedule ({table.note.strip()}); an "
            "officer must assess the duty"
        )
        return Reason(
            code="TARIFF_RATE_UNKNOWN",
            message=f"line {line_id}: HS {item.hs_code} {why}",
            reference=table.citation,
            line_id=line_id,
        )
    return found


def _uncomputable(
    item: Item, line_id: int, found: Found, result: Uncomputable, reference: str
) -> Reason:
    if result.missing_weight:
        return Reason(
            code="MISSING_UNIT_WEIGHT",
            message=f"line {line_id}: HS {item.hs_code} (tariff line {found.hs}): {result.why}",
            reference=reference,
            line_id=line_id,
        )
    return Reason(
        code="TARIFF_RATE_UNKNOWN",
        message=(
            f"line {line_id}: HS {item.hs_code} (tariff line {found.hs}): {result.why}; an "
            "officer must assess the duty"
        ),
        reference=reference,
        line_id=line_id,
    )


class _Applied(Struct, frozen=True, kw_only=True):
    form: DutyForm
    result: Computed
    reference: str
    preference: str | None = None
    reasons: tuple[Reason, ...] = ()


def _with_preference(
    item: Item,
    line_id: int,
    proof: OriginProof,
    goods: Goods,
    pack: RulePack,
    found: Found,
    mfn: Computed | Uncomputable,
) -> _Applied | Reason | None:
    """The preference if it applies, else the reason it does not (``None``: nothing to say)."""
    agreement = pack.duty.preferences.get(proof.agreement)
    refusal = _agreement_refusal(item, proof, agreement)
    if agreement is None or refusal is not None:
        reference = agreement.citation if agreement is not None else None
        return _not_applied(line_id, proof.agreement, refusal or "", reference)
    form, why = _preferential_form(item, agreement, found, pack.duty.table, pack.currency)
    if form is None:
        return _not_applied(line_id, proof.agreement, why, agreement.citation)
    preferential = evaluate(form, goods)
    if isinstance(preferential, Uncomputable):
        return _not_applied(line_id, proof.agreement, preferential.why, agreement.citation)
    if isinstance(mfn, Uncomputable) and preferential.amount > 0:
        why = f"MFN duty not computable here, so {format_form(form)} cannot be compared with it"
        return _not_applied(line_id, proof.agreement, why, agreement.citation)
    if isinstance(mfn, Computed) and preferential.amount >= mfn.amount:
        mfn_text = format_form(found.mfn)
        why = f"preferential duty {format_form(form)} is not lower than MFN {mfn_text}"
        return _not_applied(line_id, proof.agreement, why, agreement.citation)
    claimed = " ".join(filter(None, (proof.document, proof.reference)))
    applied = Reason(
        code="PREFERENCE_APPLIED",
        message=(
            f"line {line_id}: {proof.agreement} {describe_form(form)} instead of MFN "
            f"{describe_form(found.mfn)} ({claimed})"
        ),
        reference=agreement.citation,
        line_id=line_id,
    )
    return _Applied(
        form=form,
        result=preferential,
        reference=agreement.citation,
        preference=proof.agreement,
        reasons=(applied,),
    )


def _ad_valorem(
    found: Found, rate: Decimal, value: LineValue, pack: RulePack, vat_class: str
) -> LineDuty:
    """A plain ad valorem MFN line without a preference claim (most lines: kept short)."""
    basis = taxable_value(value, pack)
    amount = round_money(rate * basis, pack.currency, pack.rounding)
    charge = Charge(
        kind="duty",
        line_id=value.line_id,
        amount=amount,
        basis=basis,
        rate=found.mfn_text,
        formula=f"{found.mfn_text} x customs value {_value_text(value, pack)}",
        reference=found.reference,
    )
    return LineDuty(amount=amount, rate=rate, charge=charge, vat_class=vat_class)


def line_duty(
    item: Item,
    value: LineValue,
    proof: OriginProof | None,
    pack: RulePack,
    day: date,
    options: Mapping[str, bool],
) -> LineDuty:
    """The duty of one line under the pack's tariff (and the claimed preference), explained."""
    looked_up = find_tariff_line(pack.duty.table, item.hs_code or "", pack.currency)
    if isinstance(looked_up, Found):
        vat_class = looked_up.line.vat if looked_up.line is not None else ""
        if proof is None and isinstance(looked_up.mfn, AdValorem):  # the usual line
            return _ad_valorem(looked_up, looked_up.mfn.rate, value, pack, vat_class)
    goods = _goods(item, value, day, pack)
    found = _locate(item, value.line_id, goods, pack, options, looked_up)
    if isinstance(found, Reason):
        return LineDuty(problem=found if item.hs_code is not None else None)
    vat_class = found.line.vat if found.line is not None else ""
    reference = found.reference or _reference(pack.duty.table, found)
    mfn = evaluate(found.mfn, goods)
    reasons: tuple[Reason, ...] = ()
    applied: _Applied | None = None
    if isinstance(mfn, Computed):
        applied = _Applied(form=found.mfn, result=mfn, reference=reference)
    if proof is not None:
        preferred = _with_preference(item, value.line_id, proof, goods, pack, found, mfn)
        if isinstance(preferred, _Applied):
            applied = preferred
        if isinstance(preferred, Reason):
            reasons = (preferred,)
    if applied is None:
        assert isinstance(mfn, Uncomputable)
        problem = _uncomputable(item, value.line_id, found, mfn, reference)
        return LineDuty(vat_class=vat_class, reasons=reasons, problem=problem)
    amount = round_money(applied.result.amount, pack.currency, pack.rounding)
    formula = applied.result.formula
    if applied.preference is not None:
        formula += f" ({applied.preference} preferential rate)"
    charge = Charge(
        kind="duty",
        line_id=value.line_id,
        amount=amount,
        basis=goods.customs_value,
        rate=describe_form(applied.form),
        formula=formula,
        reference=applied.reference,
    )
    return LineDuty(
        amount=amount,
        rate=applied.result.ad_valorem,
        charge=charge,
        preference=applied.preference,
        vat_class=vat_class,
        reasons=(*reasons, *applied.reasons),
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
