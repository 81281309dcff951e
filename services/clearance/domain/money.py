"""Money arithmetic: ``Decimal`` only, minor units per currency, one rounding per charge.

Floats never appear here: a float cannot hold 0.1 exactly, and customs amounts must be
recomputable by hand to the last minor unit.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Final, Literal

__all__ = [
    "ZERO",
    "RoundingRule",
    "format_amount",
    "minor_units",
    "quantum",
    "round_money",
    "zero",
]

RoundingRule = Literal["half_up", "half_even", "down", "up"]

ZERO: Final = Decimal(0)

# ISO 4217 exponents that differ from the usual 2. Only currencies the packs can meet are listed;
# every other currency has 2 minor digits.
_MINOR_UNITS: Final[dict[str, int]] = {
    "VND": 0,
    "JPY": 0,
    "KRW": 0,
    "IDR": 2,
    "CLP": 0,
    "ISK": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
}

_DECIMAL_ROUNDING: Final[dict[str, str]] = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
}

_QUANTA: Final[dict[int, Decimal]] = {digits: Decimal(1).scaleb(-digits) for digits in range(5)}
_ZEROS: Final[dict[int, Decimal]] = {digits: ZERO.quantize(q) for digits, q in _QUANTA.items()}


def minor_units(currency: str) -> int:
    """Number of decimal places of ``currency`` (VND 0, JPY 0, EUR 2...)."""
    return _MINOR_UNITS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency`` as a Decimal exponent (``Decimal('0.01')`` for EUR)."""
    return _QUANTA[minor_units(currency)]


def zero(currency: str) -> Decimal:
    """Zero in the minor units of ``currency`` (``0.00`` EUR, ``0`` VND): sums start here."""
    return _ZEROS[_MINOR_UNITS.get(currency, 2)]


def round_money(amount: Decimal, currency: str, rule: RoundingRule = "half_up") -> Decimal:
    """Round ``amount`` to the minor unit of ``currency`` with the pack's rule (once per charge)."""
    # rounding passed positionally: the keyword form costs twice as much (a hot path)
    return amount.quantize(_QUANTA[_MINOR_UNITS.get(currency, 2)], _DECIMAL_ROUNDING[rule])


def format_amount(amount: Decimal) -> str:
    """Amount with thousands separators for explanations (``1,250,000`` / ``12.50``)."""
    return f"{amount:,}"
