"""Data quality: what the pack needs and the order lacks. One reason per problem, no guessing."""

from __future__ import annotations

from clearance.domain.packs import RulePack
from clearance.messages import OrderAmended, OrderPlaced, Reason

__all__ = ["data_problems"]


def data_problems(order: OrderPlaced | OrderAmended, pack: RulePack) -> list[Reason]:
    """Reasons for ``needs_information``: missing or inconsistent data (empty when all is well)."""
    required = pack.requirements
    reference = required.reference or None
    problems = []
    for position, item in enumerate(order.items, start=1):
        line_id = item.line_id or position
        if required.hs_code and item.hs_code is None:
            problems.append(
                Reason(
                    code="MISSING_HS_CODE",
                    message=f"line {line_id} has no HS code; this destination needs one",
                    reference=reference,
                    line_id=line_id,
                )
            )
        elif item.hs_code is not None and len(item.hs_code) < required.hs_code_min_digits:
            problems.append(
                Reason(
                    code="HS_CODE_TOO_SHORT",
                    message=(
                        f"line {line_id}: HS code {item.hs_code} has {len(item.hs_code)} digits; "
                        f"this destination needs at least {required.hs_code_min_digits}"
                    ),
                    reference=reference,
                    line_id=line_id,
                )
            )
    if required.consignee_identity and order.consignee.identity is None:
        problems.append(
            Reason(
                code="MISSING_CONSIGNEE_IDENTITY",
                message="the consignee's identity number (national ID or passport) is missing",
                reference=reference,
            )
        )
    if order.prices_include_shipping and order.shipping_cost > 0:
        problems.append(
            Reason(
                code="INCONSISTENT_SHIPPING",
                message=(
                    "prices_include_shipping is true but a separate shipping_cost is given; "
                    "say which one is right"
                ),
            )
        )
    return problems
