"""Rounding the law prescribes beyond the currency's minor unit (``pack.statutory_rounding``).

Japan Customs FAQ 1111: the taxable value of a line is truncated to JPY 1,000, the duty and the
national consumption tax to JPY 100 before they enter the next base, and each total to JPY 100.
Charges stay per line; when a total is rounded down, the difference is taken off the largest
charges of that kind, and their formulas say so, so the totals remain the sums of the charges.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Final

import msgspec

from clearance.domain.money import ZERO, RoundingRule, format_amount
from clearance.messages import Charge

__all__ = ["describe", "round_to", "round_total"]

_ONE: Final = Decimal(1)
_MODES: Final[dict[RoundingRule, str]] = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
}
_WORDS: Final[dict[RoundingRule, str]] = {
    "half_up": "rounded",
    "half_even": "rounded (half even)",
    "down": "rounded down",
    "up": "rounded up",
}


def round_to(amount: Decimal, quantum: Decimal | None, rule: RoundingRule) -> Decimal:
    """``amount`` rounded to a multiple of ``quantum`` with ``rule``; unchanged without one."""
    if quantum is None:
        return amount
    return (amount / quantum).quantize(_ONE, _MODES[rule]) * quantum


def describe(amount: Decimal, quantum: Decimal, rule: RoundingRule) -> str:
    """``"609,495 rounded down to 609,000"``: how a value became a multiple of ``quantum``."""
    rounded = round_to(amount, quantum, rule)
    return f"{format_amount(amount)} {_WORDS[rule]} to {format_amount(rounded)}"


def round_total(
    charges: list[Charge], quantum: Decimal | None, rule: RoundingRule, currency: str
) -> list[Charge]:
    """``charges`` (of one kind) with their total rounded to a multiple of ``quantum``: a
    reduction comes off the largest charges first (never below zero), an increase goes on the
    largest; each changed formula says by how much and why."""
    if quantum is None or not charges:
        return charges
    total = sum((charge.amount for charge in charges), ZERO)
    target = round_to(total, quantum, rule)
    if target == total:
        return charges
    why = (
        f"the total {format_amount(total)} is {_WORDS[rule]} to {format_amount(target)} "
        f"(a multiple of {format_amount(quantum)} {currency})"
    )
    adjusted = list(charges)
    largest_first = sorted(range(len(charges)), key=lambda i: -charges[i].amount)
    if target > total:
        first = largest_first[0]
        extra = target - total
        adjusted[first] = _changed(adjusted[first], extra, f"; plus {format_amount(extra)}: {why}")
        return adjusted
    remaining = total - target
    for index in largest_first:
        taken = min(remaining, adjusted[index].amount)
        if taken <= 0:
            break
        remaining -= taken
        adjusted[index] = _changed(adjusted[index], -taken, f"; less {format_amount(taken)}: {why}")
    return adjusted


def _changed(charge: Charge, change: Decimal, note: str) -> Charge:
    return msgspec.structs.replace(
        charge, amount=charge.amount + change, formula=charge.formula + note
    )
