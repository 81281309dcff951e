"""Quantities the nomenclature divides goods by, read from a tariff text and from a description.

Some subheadings are bounded by a measure of the goods: engines "of a cylinder capacity
exceeding 250cc but not exceeding 1000cc" (84.07), motors "of an output not exceeding 37.5W"
(85.01), vacuum cleaners "of a power not exceeding 1,500 W" (85.08), switches "for a voltage not
exceeding 1000 volts" (85.36), generating sets of kVA (85.02), portable computers "weighing not
more than 10kg" (84.71), glues "not exceeding a net weight of 1kg" (35.06). A description that
gives the measure ("a 1,500 cc gasoline engine", "power 350W", "12V") fits such a subheading or
does not. The measures read are those whose unit says what they measure: cylinder capacity (cc),
power (W), voltage (V), apparent power (kVA), weight (kg, tonnes) and volume (litres); lengths in
mm or cm are left out, since the nomenclature bounds a thickness, a width or a diameter by them.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

__all__ = ["Bound", "bounds_of", "fit", "quantities_of"]

#: unit (lower case) -> (what it measures, the factor to that measure's base unit)
_UNITS: Final[dict[str, tuple[str, float]]] = {
    "cc": ("cylinder", 1.0),
    "cm3": ("cylinder", 1.0),
    "cm³": ("cylinder", 1.0),
    "w": ("power", 1.0),
    "watt": ("power", 1.0),
    "watts": ("power", 1.0),
    "kw": ("power", 1000.0),
    "v": ("voltage", 1.0),
    "volt": ("voltage", 1.0),
    "volts": ("voltage", 1.0),
    "kv": ("voltage", 1000.0),
    "va": ("apparent_power", 1.0),
    "kva": ("apparent_power", 1000.0),
    "g": ("weight", 0.001),
    "gram": ("weight", 0.001),
    "grams": ("weight", 0.001),
    "kg": ("weight", 1.0),
    "kgs": ("weight", 1.0),
    "tonne": ("weight", 1000.0),
    "tonnes": ("weight", 1000.0),
    "metric tonnes": ("weight", 1000.0),
    "l": ("volume", 1.0),
    "litre": ("volume", 1.0),
    "litres": ("volume", 1.0),
    "liter": ("volume", 1.0),
    "liters": ("volume", 1.0),
    "lít": ("volume", 1.0),
}
_NUMBER: Final = r"(\d+(?:[.,]\d+)*)"
# longest unit first ("kva" before "kv" and "va"); a unit followed by "/" is a rate ("W/m")
_UNIT: Final = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))
_QUANTITY: Final = re.compile(_NUMBER + r"\s*(" + _UNIT + r")(?![\w/])")
#: A bound: its comparison, up to four words ("not exceeding a net weight of 1kg"), the quantity;
#: a lower bound may leave its unit to the upper ("over 1000 but not over 1500cc").
_BOUND: Final = re.compile(
    r"\b(not exceeding|not more than|not over|less than|not less than|at least|exceeding|"
    r"more than|over)\s+(?:[^\W\d]+\s+){0,4}?" + _NUMBER + r"\s*(" + _UNIT + r"|(?=\s+but\b))"
    r"(?![\w/])"
)
_UPPER: Final = frozenset({"not exceeding", "not more than", "not over", "less than"})
_THOUSANDS: Final = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


class Bound(NamedTuple):
    """A tariff text's range of one measure: above ``low`` (exclusive) and up to ``high``."""

    measure: str
    low: float | None
    high: float | None

    def holds(self, value: float) -> bool:
        return (self.low is None or value > self.low) and (self.high is None or value <= self.high)


def _number(text: str) -> float:
    """ "1,500" is a thousand and a half, "0,5" (a decimal comma) a half."""
    if _THOUSANDS.fullmatch(text):
        return float(text.replace(",", ""))
    return float(text.replace(",", ".", 1).replace(",", ""))


def quantities_of(text: str) -> frozenset[tuple[str, float]]:
    """The measures a description gives, in base units: ``{("cylinder", 1500.0)}`` for "a
    1,500 cc engine", ``{("power", 350.0)}`` for "350W"."""
    found = set()
    for number, unit in _QUANTITY.findall(text.lower()):
        measure, factor = _UNITS[unit]
        found.add((measure, _number(number) * factor))
    return frozenset(found)


def bounds_of(text: str) -> tuple[Bound, ...]:
    """The ranges a tariff text sets, one per measure ("exceeding 50cc but not exceeding
    250cc": ``Bound("cylinder", 50.0, 250.0)``)."""
    ranges: dict[str, tuple[float | None, float | None]] = {}
    found = _BOUND.findall(text.lower())
    for at, (comparison, number, unit) in enumerate(found):
        if not unit:  # "over 1000 but not over 1500cc": the unit of the bound after
            unit = found[at + 1][2] if at + 1 < len(found) else ""
            if not unit:
                continue
        measure, factor = _UNITS[unit]
        value = _number(number) * factor
        low, high = ranges.get(measure, (None, None))
        ranges[measure] = (low, value) if comparison in _UPPER else (value, high)
    return tuple(Bound(measure, low, high) for measure, (low, high) in ranges.items())


def fit(quantities: frozenset[tuple[str, float]], bounds: tuple[Bound, ...]) -> int:
    """1 when the description gives a measure that the tariff text bounds and each such measure
    has a value in range, -1 when one has none in range, 0 when they share no measure."""
    agreed = 0
    for bound in bounds:
        values = [value for measure, value in quantities if measure == bound.measure]
        if values:
            if not any(bound.holds(value) for value in values):
                return -1
            agreed = 1
    return agreed
