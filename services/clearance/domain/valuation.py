"""Valuation: each line's value in the destination currency, and the consignment's totals.

``goods`` is the line price converted (per line, then rounded once); ``transport`` is the line's
share of international freight and insurance, allocated by value. The pack's bases then say what
the customs value is (``cif`` = goods + transport; ``intrinsic``/``fob`` = goods only) and what the
thresholds compare. Prices that include shipping are not split: freight is already in them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from msgspec import Struct

from clearance.domain.money import ZERO, round_money
from clearance.domain.packs import RulePack, ValuationBasis
from clearance.messages import OrderAmended, OrderPlaced

__all__ = [
    "ConsignmentValue",
    "LineValue",
    "allocate",
    "assessment_date",
    "value_consignment",
    "value_on",
]


class LineValue(Struct, frozen=True, kw_only=True):
    """One line's values in the destination currency (each rounded to minor units)."""

    line_id: int
    goods: Decimal
    transport: Decimal
    customs_value: Decimal
    threshold_value: Decimal


class ConsignmentValue(Struct, frozen=True, kw_only=True):
    lines: tuple[LineValue, ...]
    customs_value: Decimal
    threshold_value: Decimal
    transport: Decimal


def assessment_date(order: OrderPlaced | OrderAmended, pack: RulePack) -> date:
    """``transport.arrival_date`` if given, else the date of ``occurred_at`` at the destination."""
    if order.transport is not None and order.transport.arrival_date is not None:
        return order.transport.arrival_date
    try:
        return order.occurred_at.astimezone(pack.zone).date()
    except OverflowError:  # year 1 or 9999: the offset cannot be applied; the date as written
        return order.occurred_at.date()


def allocate(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` over ``weights`` in proportion, in minor units, summing exactly to it.

    Cumulative rounding (each share = rounded running total minus the previous one) keeps every
    share non-negative and the sum exact, whatever the number of lines.
    """
    if len(weights) == 1:  # the usual parcel: one line takes it all
        return [total]
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        return [ZERO] * (len(weights) - 1) + [total]
    shares = []
    running = ZERO
    previous = ZERO
    for weight in weights:
        running += weight
        cumulative = round_money(total * running / weight_sum, currency)
        shares.append(cumulative - previous)
        previous = cumulative
    return shares


def value_on(basis: ValuationBasis, goods: Decimal, transport: Decimal) -> Decimal:
    """Goods alone (``intrinsic``, ``fob``) or goods with transport and insurance (``cif``)."""
    return goods + transport if basis == "cif" else goods


def value_consignment(
    order: OrderPlaced | OrderAmended, pack: RulePack, rate: Decimal
) -> ConsignmentValue:
    """Convert and value every line of ``order`` with ``rate`` (1 order currency = rate pack)."""
    currency, rounding = pack.currency, pack.rounding
    customs_basis, threshold_basis = pack.valuation.customs_value, pack.valuation.threshold
    goods = [round_money(i.unit_price * i.quantity * rate, currency, rounding) for i in order.items]
    freight = ZERO if order.prices_include_shipping else order.shipping_cost
    transport_total = round_money((freight + order.insurance_cost) * rate, currency, rounding)
    transport = allocate(transport_total, goods, currency)
    lines = tuple(
        LineValue(
            line_id=item.line_id or position,
            goods=line_goods,
            transport=line_transport,
            customs_value=value_on(customs_basis, line_goods, line_transport),
            threshold_value=value_on(threshold_basis, line_goods, line_transport),
        )
        for position, (item, line_goods, line_transport) in enumerate(
            zip(order.items, goods, transport, strict=True), start=1
        )
    )
    # the shares of transport add up to its total exactly (allocate), so the sums need no lines
    goods_total = sum(goods, ZERO)
    return ConsignmentValue(
        lines=lines,
        customs_value=value_on(customs_basis, goods_total, transport_total),
        threshold_value=value_on(threshold_basis, goods_total, transport_total),
        transport=transport_total,
    )
