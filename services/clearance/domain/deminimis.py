"""Duty de minimis: relief when the value (aggregated as the pack says) or the duty is small.

VN Decree 134/2016 Art 29(2): express goods with customs value <= VND 1,000,000 **or** duty payable
<= VND 100,000 are exempt; Dispatch 3923/TCHQ-GSQL: parcels of one owner under one master bill
count together, and when the total exceeds the limit the whole shipment is dutiable. EU (to
2026-06-30): intrinsic value <= EUR 150. The draft VN decree adds a yearly quota per person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from msgspec import Struct

from clearance.domain.aggregation import aggregate_value, key_for
from clearance.domain.money import format_amount
from clearance.domain.packs import (
    DirectShipmentLimit,
    DutyDeMinimis,
    GiftRelief,
    Parameter,
    RulePack,
)
from clearance.domain.valuation import ConsignmentValue
from clearance.messages import OrderAmended, OrderPlaced, Reason

__all__ = ["DutyRelief", "duty_relief", "gift_relief", "limit_for"]


class DutyRelief(Struct, frozen=True, kw_only=True):
    relieved: bool
    reasons: tuple[Reason, ...] = ()


_NONE: DutyRelief = DutyRelief(relieved=False)


def _excluded_origin(
    order: OrderPlaced | OrderAmended, rule: DutyDeMinimis, day: date
) -> Reason | None:
    """Goods of an origin the relief no longer covers on ``day`` (US: China and Hong Kong from
    2025-05-02): the whole parcel is dutiable, its lines named."""
    for exclusion in rule.excluded_origins:
        lines = [
            str(item.line_id or position)
            for position, item in enumerate(order.items, start=1)
            if exclusion.applies(item.origin_country, day)
        ]
        if lines:
            origins = "/".join(exclusion.origins)
            return Reason(
                code="DE_MINIMIS_NOT_ELIGIBLE",
                message=(
                    f"duty relief is not available for goods of {origins} origin since "
                    f"{exclusion.since} (line {', '.join(lines)})"
                ),
                reference=f"{exclusion.reference} <{exclusion.source}>",
            )
    return None


def _eligible(order: OrderPlaced | OrderAmended, rule: DutyDeMinimis, day: date) -> Reason | None:
    """Why the relief cannot apply to this parcel at all (mode, excise, origin), or ``None``."""
    if rule.transport_modes:
        mode = order.transport.mode if order.transport is not None else None
        if mode not in rule.transport_modes:
            return Reason(
                code="DE_MINIMIS_NOT_ELIGIBLE",
                message=(
                    f"duty relief covers {', '.join(rule.transport_modes)} consignments only; "
                    f"transport mode is {mode or 'not given'}"
                ),
                reference=rule.value_limit.cite(day),
            )
    excluded = [i.excise_category for i in order.items if i.excise_category in rule.excluded_excise]
    if excluded:
        return Reason(
            code="DE_MINIMIS_NOT_ELIGIBLE",
            message=f"duty relief excludes excise goods ({', '.join(sorted(set(excluded)))})",
            reference=rule.value_limit.cite(day),
        )
    return _excluded_origin(order, rule, day)


def _over_annual_cap(
    order: OrderPlaced | OrderAmended,
    pack: RulePack,
    rule: DutyDeMinimis,
    own: Decimal,
    context: tuple[str, Mapping[str, Decimal], date],
) -> Reason | None:
    consignee_ref, totals, day = context
    cap = rule.annual_cap.at(day) if rule.annual_cap is not None else None
    if cap is None or rule.annual_cap is None:
        return None
    total = aggregate_value(own, key_for("consignee_year", order, pack, consignee_ref), totals)
    if total <= cap:
        return None
    return Reason(
        code="CONSIGNEE_ANNUAL_CAP_EXCEEDED",
        message=(
            f"the consignee's imports this year reach {format_amount(total)} {pack.currency}, "
            f"above the yearly cap of {format_amount(cap)}: duty is due on the whole order"
        ),
        reference=rule.annual_cap.cite(day),
    )


def gift_relief(
    order: OrderPlaced | OrderAmended,
    relief: GiftRelief | None,
    value: ConsignmentValue,
    day: date,
    pack: RulePack,
    what: str,
) -> Reason | None:
    """``GIFT_RELIEF`` for a gift between private persons within the relief, else ``None``."""
    if relief is None or not order.is_gift:
        return None
    limit = relief.value_limit.at(day)
    if limit is None or value.threshold_value > limit:
        return None
    if any(item.excise_category in relief.excluded_excise for item in order.items):
        return None
    return Reason(
        code="GIFT_RELIEF",
        message=(
            f"a gift between private persons worth {format_amount(value.threshold_value)} "
            f"{pack.currency}, within the {what} relief for gifts of {format_amount(limit)}"
        ),
        reference=relief.value_limit.cite(day),
    )


def limit_for(
    order: OrderPlaced | OrderAmended, base: Parameter, special: DirectShipmentLimit | None
) -> Parameter:
    """The value limit for this parcel: the direct-shipment one when it applies, else ``base``."""
    mode = order.transport.mode if order.transport is not None else None
    if special is not None and special.applies_to(order.seller.country, mode):
        return special.value_limit
    return base


def duty_relief(
    order: OrderPlaced | OrderAmended,
    pack: RulePack,
    value: ConsignmentValue,
    duty_due: Decimal | None,
    context: tuple[str, Mapping[str, Decimal], date, Mapping[str, bool]],
) -> DutyRelief:
    """Whether duty is relieved, with the reasons either way (``context``: ref, totals, day,
    option overrides)."""
    consignee_ref, totals, day, options = context
    rule = pack.duty.de_minimis
    if rule is None or (rule.option is not None and not pack.option(rule.option, options)):
        return _NONE
    limit_parameter = limit_for(order, rule.value_limit, rule.direct_shipment)
    limit = limit_parameter.at(day)
    if limit is None:
        return _NONE
    not_eligible = _eligible(order, rule, day)
    if not_eligible is not None:
        return DutyRelief(relieved=False, reasons=(not_eligible,))
    capped = _over_annual_cap(
        order, pack, rule, value.threshold_value, (consignee_ref, totals, day)
    )
    if capped is not None:
        return DutyRelief(relieved=False, reasons=(capped,))
    own = (
        max(line.threshold_value for line in value.lines)
        if rule.per == "item"
        else value.threshold_value
    )
    if own <= limit:
        for unit in rule.aggregation:
            key = key_for(unit, order, pack, consignee_ref)
            total = aggregate_value(value.threshold_value, key, totals)
            if total > limit:
                return DutyRelief(
                    relieved=False,
                    reasons=(
                        Reason(
                            code="CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD",
                            message=(
                                f"parcels counted together per {unit} reach "
                                f"{format_amount(total)} {pack.currency}, above the duty relief "
                                f"limit of {format_amount(limit)}: this parcel is dutiable"
                            ),
                            reference=limit_parameter.cite(day),
                        ),
                    ),
                )
        return DutyRelief(
            relieved=True,
            reasons=(
                Reason(
                    code="DUTY_DE_MINIMIS",
                    message=(
                        f"value {format_amount(own)} {pack.currency} is within the duty relief "
                        f"limit of {format_amount(limit)}"
                    ),
                    reference=limit_parameter.cite(day),
                ),
            ),
        )
    duty_limit = rule.duty_limit.at(day) if rule.duty_limit is not None else None
    if (
        duty_limit is not None
        and rule.duty_limit is not None
        and duty_due is not None
        and duty_due <= duty_limit
    ):
        return DutyRelief(
            relieved=True,
            reasons=(
                Reason(
                    code="DUTY_DE_MINIMIS",
                    message=(
                        f"duty payable {format_amount(duty_due)} {pack.currency} is within the "
                        f"limit of {format_amount(duty_limit)}"
                    ),
                    reference=rule.duty_limit.cite(day),
                ),
            ),
        )
    return _NONE
