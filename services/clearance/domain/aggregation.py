"""Aggregation (anti-splitting): which running totals a parcel counts towards.

A threshold may apply to more than one parcel: all shipments of one order, one consignee's parcels
per day (US 19 CFR 10.151) or under one master bill (VN Dispatch 3923/TCHQ-GSQL), or a yearly quota
(VN draft decree). The shell reads these totals (excluding this parcel) before assessing and
upserts this parcel's contribution afterwards, so the engine stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from clearance.domain.money import ZERO
from clearance.domain.packs import AggregationUnit, RulePack
from clearance.domain.valuation import assessment_date
from clearance.messages import OrderAmended, OrderPlaced

__all__ = ["aggregate_value", "aggregation_keys", "key_for"]


def key_for(
    unit: AggregationUnit, order: OrderPlaced | OrderAmended, pack: RulePack, consignee_ref: str
) -> str | None:
    """The running-total key of ``unit`` for this parcel, or ``None`` when it has no such unit.

    Keys start with the pack currency's country scope so totals in different currencies never mix.
    """
    scope = pack.id.upper()
    if unit == "order":
        return f"{scope}:order:{order.platform}:{order.order_id}"
    if unit == "consignee_day":
        return f"{scope}:consignee_day:{consignee_ref}:{assessment_date(order, pack).isoformat()}"
    if unit == "consignee_year":
        return f"{scope}:consignee_year:{consignee_ref}:{assessment_date(order, pack).year}"
    if unit == "master_bill":
        if order.transport is None or order.transport.master_bill is None:
            return None
        return f"{scope}:master_bill:{order.transport.master_bill}:{consignee_ref}"
    return None  # "consignment": the parcel itself, no running total


def aggregation_keys(
    order: OrderPlaced | OrderAmended, pack: RulePack, consignee_ref: str
) -> list[str]:
    """Every running-total key the pack needs for this parcel (read before, upsert after)."""
    keys = (key_for(unit, order, pack, consignee_ref) for unit in pack.aggregation_units())
    return [key for key in keys if key is not None]


def aggregate_value(own: Decimal, key: str | None, totals: Mapping[str, Decimal]) -> Decimal:
    """This parcel's value plus the running total of the other parcels under ``key``."""
    if key is None:
        return own
    return totals.get(key, ZERO) + own
