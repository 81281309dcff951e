"""Import VAT/GST: point-of-sale schemes, the tax de minimis, the rate per line and its base.

Order of tests (rules.md step 8): a recognised point-of-sale collection (EU IOSS, UK, AU LVIG, SG
OVR) makes import tax 0; else a tax de minimis makes it 0; else ``rate x base`` per line, where the
pack names the base components (VN, EU: customs value + duty + excise; AU adds transport and
insurance because its customs value excludes them).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from msgspec import Struct

from clearance.domain.deminimis import limit_for
from clearance.domain.money import ZERO, format_amount, round_money, zero
from clearance.domain.packs import PointOfSaleScheme, RuleNotInForce, RulePack
from clearance.domain.valuation import ConsignmentValue, LineValue, value_on
from clearance.messages import Charge, Item, OrderAmended, OrderPlaced, Reason

__all__ = ["PointOfSale", "line_tax_rate", "point_of_sale", "tax_charge", "tax_de_minimis"]


class PointOfSale(Struct, frozen=True, kw_only=True):
    """Which lines' tax was collected at checkout, and how much (destination currency)."""

    covered_lines: frozenset[int]
    collected: Decimal
    reasons: tuple[Reason, ...]


_NOT_COLLECTED = PointOfSale(covered_lines=frozenset(), collected=ZERO, reasons=())


def _refused(why: str, scheme: PointOfSaleScheme | None) -> PointOfSale:
    return PointOfSale(
        covered_lines=frozenset(),
        collected=ZERO,
        reasons=(
            Reason(
                code="TAX_COLLECTION_NOT_RECOGNISED",
                message=f"tax collected at checkout not recognised: {why}; import tax is due",
                reference=scheme.ceiling.cite() if scheme is not None else None,
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
    order: OrderPlaced | OrderAmended,
    pack: RulePack,
    value: ConsignmentValue,
    day: date,
    rate: Decimal,
) -> PointOfSale:
    """Recognise tax collected at checkout under the pack's scheme, within its ceiling."""
    if order.tax_collected is None:
        return _NOT_COLLECTED
    scheme = pack.tax.point_of_sale
    ceiling = scheme.ceiling.at(day) if scheme is not None else None
    why = _rejection(order, scheme, ceiling)
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
                reference=scheme.ceiling.cite(),
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
        reference=parameter.cite(),
    )


def line_tax_rate(item: Item, pack: RulePack, country: str, day: date) -> tuple[Decimal, str]:
    """The rate for one line and its reference (the reduced rate unless the line is excluded)."""
    reduced = pack.tax.reduced_rate
    if reduced is not None:
        rate = reduced.rate.at(day)
        excluded = item.excise_category in reduced.excluded_excise or any(
            (item.hs_code or "").startswith(prefix) for prefix in reduced.excluded_hs_prefixes
        )
        if rate is not None and not excluded:
            return rate, reduced.rate.cite()
    standard = pack.tax_rate_parameter(country)
    rate = standard.at(day)
    if rate is None:
        rule = f"the {pack.tax.name} rate for {country}"
        raise RuleNotInForce(pack.id, rule, day, standard)
    return rate, standard.cite()


def tax_charge(
    value: LineValue,
    duty: Decimal,
    rate: Decimal,
    reference: str,
    pack: RulePack,
) -> Charge:
    """``rate x base`` for one line, the base built from the pack's components, rounded once.

    ``duty`` is the line's duty, already in minor units (the sum of its rounded duty charges).
    """
    parts: list[tuple[str, Decimal]] = []
    for component in pack.tax.base:
        if component == "customs_value":
            parts.append(("customs value", value.customs_value))
        elif component == "duty":
            parts.append(("duty", duty))
        elif component == "excise":
            # excise goods go to formal entry (see ExciseRules): nothing to add here
            parts.append(("excise", zero(pack.currency)))
        else:
            parts.append(("transport and insurance", value.transport))
    base = sum([amount for _, amount in parts], ZERO)
    terms = " + ".join([f"{name} {format_amount(amount)}" for name, amount in parts])
    return Charge(
        kind="tax",
        line_id=value.line_id,
        amount=round_money(rate * base, pack.currency, pack.rounding),
        basis=base,
        rate=str(rate),
        formula=f"{rate} x ({terms})",
        reference=reference,
    )
