"""Import VAT/GST: point-of-sale schemes, the tax de minimis, the rate per line and its base.

Order of tests (docs/spec/rules.md step 8): a recognised point-of-sale collection (EU IOSS, UK, AU
LVIG, SG OVR) makes import tax 0; else a tax de minimis makes it 0; else ``rate x base`` per line,
where the pack names the base components (VN, EU: customs value + duty + excise; AU adds transport
and insurance because its customs value excludes them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from msgspec import Struct

from clearance.domain.deminimis import gift_relief, limit_for
from clearance.domain.money import ZERO, format_amount, round_money, zero
from clearance.domain.packs import LocalPart, PointOfSaleScheme, RuleNotInForce, RulePack, TaxClass
from clearance.domain.rounding import describe, round_to
from clearance.domain.valuation import ConsignmentValue, LineValue, value_on
from clearance.messages import Charge, Item, OrderAmended, OrderPlaced, Reason

__all__ = [
    "LineTaxRate",
    "PointOfSale",
    "line_tax_rate",
    "local_part_charge",
    "nominal_rate",
    "point_of_sale",
    "tax_charge",
    "tax_de_minimis",
]

Order = OrderPlaced | OrderAmended


class PointOfSale(Struct, frozen=True, kw_only=True):
    """Which lines' tax was collected at checkout, and how much (destination currency)."""

    covered_lines: frozenset[int]
    collected: Decimal
    reasons: tuple[Reason, ...]


_NOT_COLLECTED = PointOfSale(covered_lines=frozenset(), collected=ZERO, reasons=())


def _not_recognised(why: str, scheme: PointOfSaleScheme | None, consequence: str) -> Reason:
    return Reason(
        code="TAX_COLLECTION_NOT_RECOGNISED",
        message=f"tax collected at checkout not recognised: {why}; {consequence}",
        reference=scheme.ceiling.cite() if scheme is not None else None,
    )


def _refused(why: str, scheme: PointOfSaleScheme | None) -> PointOfSale:
    return PointOfSale(
        covered_lines=frozenset(),
        collected=ZERO,
        reasons=(_not_recognised(why, scheme, "import tax is due"),),
    )


def _seller_liable(
    order: Order,
    pack: RulePack,
    value: ConsignmentValue,
    day: date,
    options: Mapping[str, bool],
) -> PointOfSale | None:
    """A sale within the scheme's ceiling whose tax is the seller's liability, declared or not
    (UK: nothing is paid to the delivery company under GBP 135 unless the goods are gifts over
    GBP 39 or excise goods), unless the pack's border-tax option is switched on."""
    scheme = pack.tax.point_of_sale
    if scheme is None or not scheme.seller_liable or order.is_gift:
        return None
    if scheme.border_tax_option is not None and pack.option(scheme.border_tax_option, options):
        return None
    ceiling = scheme.ceiling.at(day)
    excise = any(item.excise_category in scheme.excluded_excise for item in order.items)
    tested = sum((_tested_value(line, scheme) for line in value.lines), ZERO)
    if ceiling is None or excise or tested > ceiling:
        return None
    return PointOfSale(
        covered_lines=frozenset(line.line_id for line in value.lines),
        collected=ZERO,
        reasons=(
            Reason(
                code="TAX_DUE_FROM_SELLER",
                message=(
                    f"value {format_amount(tested)} {pack.currency} is within "
                    f"{format_amount(ceiling)}: the {pack.tax.name} on this sale is the seller's "
                    "(or the online marketplace's) liability at the point of sale, nothing is "
                    "charged at the border"
                ),
                reference=scheme.ceiling.cite(day),
            ),
        ),
    )


def _rejection(
    order: OrderPlaced | OrderAmended, scheme: PointOfSaleScheme | None, ceiling: Decimal | None
) -> str | None:
    collected = order.tax_collected
    assert collected is not None
    if scheme is None or ceiling is None:
        return "this destination has no point-of-sale scheme in force"
    if collected.scheme != scheme.scheme:
        return f"scheme {collected.scheme} is not {scheme.scheme}"
    if scheme.number_pattern is not None and not re.fullmatch(
        scheme.number_pattern, collected.number
    ):
        return f"registration number {collected.number!r} is not a valid {scheme.scheme} number"
    excluded = [
        i.excise_category for i in order.items if i.excise_category in scheme.excluded_excise
    ]
    if excluded:
        return f"the scheme excludes excise goods ({', '.join(sorted(set(excluded)))})"
    return None


def point_of_sale(
    order: Order,
    pack: RulePack,
    value: ConsignmentValue,
    day: date,
    rate: Decimal,
    options: Mapping[str, bool] | None = None,
) -> PointOfSale:
    """Recognise tax collected at checkout under the pack's scheme, within its ceiling; or a
    sale whose tax is the seller's liability whether declared or not (``seller_liable``)."""
    liable = _seller_liable(order, pack, value, day, options or {})
    if order.tax_collected is None:
        return liable or _NOT_COLLECTED
    scheme = pack.tax.point_of_sale
    ceiling = scheme.ceiling.at(day) if scheme is not None else None
    why = _rejection(order, scheme, ceiling)
    if why is not None and liable is not None:
        unrecognised = _not_recognised(why, scheme, "the tax remains the seller's liability")
        return PointOfSale(
            covered_lines=liable.covered_lines,
            collected=ZERO,
            reasons=(unrecognised, *liable.reasons),
        )
    if why is not None:
        return _refused(why, scheme)
    assert scheme is not None and ceiling is not None
    tested = {line.line_id: _tested_value(line, scheme) for line in value.lines}
    if scheme.per == "item":
        quantities = {item.line_id: item.quantity for item in order.items}
        covered = frozenset(
            line_id for line_id, amount in tested.items() if amount <= ceiling * quantities[line_id]
        )
    else:
        covered = frozenset(tested) if sum(tested.values(), ZERO) <= ceiling else frozenset()
    if not covered:
        return _refused(
            f"value above the scheme ceiling of {format_amount(ceiling)} {pack.currency}", scheme
        )
    collected = round_money(order.tax_collected.amount * rate, pack.currency, pack.rounding)
    return PointOfSale(
        covered_lines=covered,
        collected=collected,
        reasons=(
            Reason(
                code="TAX_COLLECTED_AT_CHECKOUT",
                message=(
                    f"{pack.tax.name} collected at checkout under {scheme.scheme} "
                    f"{order.tax_collected.number} ({format_amount(collected)} {pack.currency})"
                ),
                reference=scheme.ceiling.cite(day),
            ),
        ),
    )


def _tested_value(line: LineValue, scheme: PointOfSaleScheme) -> Decimal:
    """The line's value that the scheme's ceiling applies to."""
    if scheme.basis is None:
        return line.threshold_value
    return value_on(scheme.basis, line.goods, line.transport)


def tax_de_minimis(
    order: OrderPlaced | OrderAmended, pack: RulePack, value: ConsignmentValue, day: date
) -> Reason | None:
    """``TAX_DE_MINIMIS`` when the value is within the tax de minimis in force, else ``None``."""
    gift = gift_relief(order, pack.tax.gift_relief, value, day, pack, pack.tax.name)
    if gift is not None:
        return gift
    parameter = pack.tax.de_minimis
    if parameter is not None:
        parameter = limit_for(order, parameter, pack.tax.de_minimis_direct_shipment)
    limit = parameter.at(day) if parameter is not None else None
    if parameter is None or limit is None or value.threshold_value > limit:
        return None
    modes = pack.tax.de_minimis_transport_modes
    if modes and (order.transport is None or order.transport.mode not in modes):
        return None
    return Reason(
        code="TAX_DE_MINIMIS",
        message=(
            f"value {format_amount(value.threshold_value)} {pack.currency} is within the "
            f"{pack.tax.name} de minimis of {format_amount(limit)}"
        ),
        reference=parameter.cite(day),
    )


class LineTaxRate(Struct, frozen=True, kw_only=True):
    """The tax rate of one line, its reference (with why a reduction does not apply), and a
    reason when the tariff lists a lower rate that depends on facts the order does not give."""

    rate: Decimal
    reference: str
    reason: Reason | None = None


def _reduced_rate(
    item: Item, pack: RulePack, day: date, options: Mapping[str, bool]
) -> tuple[Decimal, str] | str | None:
    """The reduced rate and its citation, or why the line is excluded (``None``: none in force)."""
    reduced = pack.tax.reduced_rate
    if reduced is None:
        return None
    code = item.hs_code or ""
    if item.excise_category in reduced.excluded_excise:
        return f"{item.excise_category} (excise goods) is excluded from the reduced rate"
    if code.startswith(reduced.excluded_prefixes):
        return f"HS {code} is excluded from the reduced rate"
    if reduced.only_hs_prefixes is not None and not code.startswith(
        tuple(reduced.only_hs_prefixes)
    ):
        return None  # a rate for other goods (Japan's 8% for food): the standard rate applies
    if reduced.rate is not None:
        rate = reduced.rate.at(day)
        return (rate, reduced.rate.cite(day)) if rate is not None else None
    period = reduced.period_on(day)
    if period is None:
        return None
    for name in period.excluded:
        group = reduced.exclusion_groups[name]
        if group.option is not None and not pack.option(group.option, options):
            continue
        if code.startswith(group.prefixes):
            return (
                f"{group.description} excluded from {period.rate} by {period.reference} "
                f"({group.reference} <{group.source}>)"
            )
    return period.rate, period.citation


def _conditional(item: Item, line_id: int, tax_class: TaxClass, vat_class: str) -> Reason:
    return Reason(
        code="VAT_RATE_CONDITIONAL",
        message=(
            f"line {line_id}: the tariff lists VAT {vat_class} for HS {item.hs_code}: "
            f"{tax_class.description}; the order does not show the condition, so the general "
            f"rate applies (option {tax_class.option} applies the lower rate)"
        ),
        reference=tax_class.rate.cite() if tax_class.rate is not None else None,
        line_id=line_id,
    )


def line_tax_rate(
    item: Item,
    line_id: int,
    pack: RulePack,
    country: str,
    day: date,
    vat_class: str = "",
    options: Mapping[str, bool] | None = None,
) -> LineTaxRate:
    """The rate for one line: its tariff VAT class, the reduced rate unless the line or the
    period excludes it, else the standard rate."""
    options = options or {}
    tax_class = pack.tax.tariff_classes.get(vat_class) if vat_class else None
    reason = None
    why_standard: str | None = None
    if tax_class is not None:
        if tax_class.exempt:
            return LineTaxRate(rate=ZERO, reference=f"not subject: {tax_class.description}")
        if tax_class.rate is not None and tax_class.option is not None:
            lower = tax_class.rate.at(day)
            if pack.option(tax_class.option, options) and lower is not None:
                return LineTaxRate(rate=lower, reference=tax_class.rate.cite(day))
            reason = _conditional(item, line_id, tax_class, vat_class)
        if not tax_class.reducible:
            why_standard = tax_class.description
    if why_standard is None:
        reduced = _reduced_rate(item, pack, day, options)
        if isinstance(reduced, tuple):
            return LineTaxRate(rate=reduced[0], reference=reduced[1], reason=reason)
        why_standard = reduced
    standard = pack.tax_rate_parameter(country)
    rate = standard.at(day)
    if rate is None:
        rule = f"the {pack.tax.name} rate for {country}"
        raise RuleNotInForce(pack.id, rule, day, standard)
    reference = standard.cite(day)
    if why_standard is not None:
        reference += f"; not reduced: {why_standard}"
    return LineTaxRate(rate=rate, reference=reference, reason=reason)


def nominal_rate(rate: Decimal, pack: RulePack) -> Decimal:
    """The rate a reader knows: with a local part, national + local (7.8% x 100/78 = 10%)."""
    local = pack.tax.local_part
    if local is None:
        return rate
    return (rate * (local.denominator + local.numerator) / local.denominator).normalize()


def tax_charge(
    value: LineValue,
    duty: Decimal,
    rate: Decimal,
    reference: str,
    pack: RulePack,
) -> Charge:
    """``rate x base`` for one line, the base built from the pack's components, rounded once
    (and, where the law says so, the base to a multiple first: ``statutory_rounding.tax``).

    ``duty`` is the line's duty as it enters the tax base, in minor units.
    """
    parts: list[tuple[str, Decimal]] = []
    rounding = pack.statutory_rounding
    duty_step = rounding.duty.line if rounding is not None else None
    # the line's duty as the law carries it into the base (Japan: to a multiple of JPY 100)
    duty_name = "duty" if duty_step is None else f"duty (to a multiple of {duty_step})"
    for component in pack.tax.base:
        if component == "customs_value":
            parts.append(("customs value", value.customs_value))
        elif component == "duty":
            parts.append((duty_name, duty))
        elif component == "excise":
            # excise goods go to formal entry (see ExciseRules): nothing to add here
            parts.append(("excise", zero(pack.currency)))
        else:
            parts.append(("transport and insurance", value.transport))
    base = sum([amount for _, amount in parts], ZERO)
    terms = " + ".join([f"{name} {format_amount(amount)}" for name, amount in parts])
    step = rounding.tax if rounding is not None else None
    if step is not None and step.base is not None:
        terms += f" = {describe(base, step.base, step.rule)}"
        base = round_to(base, step.base, step.rule)
    local = pack.tax.local_part
    prefix = f"{local.national_name}: " if local is not None else ""
    return Charge(
        kind="tax",
        line_id=value.line_id,
        amount=round_money(rate * base, pack.currency, pack.rounding),
        basis=base,
        rate=str(rate),
        formula=f"{prefix}{rate} x ({terms})",
        reference=reference,
    )


def local_part_charge(national: Charge, local: LocalPart, pack: RulePack) -> Charge:
    """The local part of one line's tax: ``numerator/denominator`` of the national amount (as
    carried on: rounded to ``statutory_rounding.tax.line`` first, JPY 100 in Japan)."""
    step = pack.statutory_rounding.tax if pack.statutory_rounding is not None else None
    base = national.amount
    shown = format_amount(base)
    if step is not None and step.line is not None:
        shown = describe(base, step.line, step.rule)
        base = round_to(base, step.line, step.rule)
    amount = round_money(base * local.numerator / local.denominator, pack.currency, pack.rounding)
    return Charge(
        kind="tax",
        line_id=national.line_id,
        amount=amount,
        basis=base,
        rate=f"{local.numerator}/{local.denominator} of the {local.national_name}",
        formula=(
            f"{local.name}: {local.numerator}/{local.denominator} x {local.national_name} ({shown})"
        ),
        reference=f"{local.reference} <{local.source}>",
    )
