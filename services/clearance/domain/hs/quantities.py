"""Measures the nomenclature divides goods by, read from a tariff text and from a description.

Some subheadings are bounded by a measure of the goods: engines "of a cylinder capacity
exceeding 250cc but not exceeding 1000cc" (84.07), motors "of an output not exceeding 37.5W"
(85.01), vacuum cleaners "of a power not exceeding 1,500 W" (85.08), switches "for a voltage not
exceeding 1000 volts" (85.36), generating sets of kVA (85.02), portable computers "weighing not
more than 10kg" (84.71). A description that gives the measure ("a 1,500 cc gasoline engine",
"power 350W", "12V") fits such a subheading or does not.

Read are the measures whose unit says what they measure: volume (cc, litres), power (W),
voltage (V), apparent power (VA) and weight (g, kg, tonnes). Lengths are left out (the
nomenclature bounds a thickness, a width or a diameter by them), and so are rates ("per m2",
"W/m") and the bounds of a capacity or a packing's content ("a dry linen capacity not exceeding
10kg", "in packings of a content not exceeding 3kg"), which a description's weight of the goods
would be wrongly held against. A number that reads two ways ("1.500": one and a half, or a
thousand and five hundred as Vietnamese writes it) is taken both ways, so it never counts
against a subheading that one of its readings fits.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple, TypeAlias

__all__ = ["Bound", "Measures", "bounds_of", "measures_of", "out_of_range"]

#: What a description gives: (measure, value in the measure's base unit) pairs.
Measures: TypeAlias = frozenset[tuple[str, float]]

#: unit (lower case) -> (what it measures, the factor to that measure's base unit)
_UNITS: Final[dict[str, tuple[str, float]]] = {
    "cc": ("volume", 0.001),
    "cm3": ("volume", 0.001),
    "cm³": ("volume", 0.001),
    "l": ("volume", 1.0),
    "litre": ("volume", 1.0),
    "litres": ("volume", 1.0),
    "liter": ("volume", 1.0),
    "liters": ("volume", 1.0),
    "lít": ("volume", 1.0),
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
}
_NUMBER: Final = r"(\d+(?:[.,]\d+)*)"
# longest unit first ("kva" before "kv" and "va"); a unit followed by a letter is another word,
# followed by "/" and a letter a rate ("W/m", "g/m2"), but "220V/50Hz" is a voltage
_UNIT: Final = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))
_AFTER_UNIT: Final = r"(?!\w|\s*/\s*[^\W\d])"
_QUANTITY: Final = re.compile(_NUMBER + r"\s*(" + _UNIT + r")" + _AFTER_UNIT, re.IGNORECASE)
#: A bound: its comparison, up to four words ("not exceeding a net weight of 1kg"), the quantity;
#: a lower bound may leave its unit to the upper ("over 1000 but not over 1500cc").
_BOUND: Final = re.compile(
    r"\b(not exceeding|not more than|not over|no less than|not less than|less than|at least|"
    r"exceeding|more than|over)\s+(?:[^\W\d]+[\s,]+){0,4}?"
    + _NUMBER
    + r"\s*("
    + _UNIT
    + r"|(?=\s+but\b))"
    + _AFTER_UNIT
)
#: "50l or more", "1kg or less"
_BOUND_AFTER: Final = re.compile(_NUMBER + r"\s*(" + _UNIT + r")\s+or\s+(more|less)\b")
#: comparison -> (upper bound?, the bound itself included?)
_COMPARISONS: Final[dict[str, tuple[bool, bool]]] = {
    "not exceeding": (True, True),
    "not more than": (True, True),
    "not over": (True, True),
    "less": (True, True),  # "or less"
    "less than": (True, False),
    "exceeding": (False, False),
    "more than": (False, False),
    "over": (False, False),
    "more": (False, True),  # "or more"
    "not less than": (False, True),
    "no less than": (False, True),
    "at least": (False, True),
}
#: Words before a bound that make it a rate ("a weight, per m2, of more than 57g"), and before a
#: bound of weight a capacity or a packing's content ("a dry linen capacity not exceeding 10kg",
#: "packings of a content not exceeding 3kg"), not the goods' own measure.
_A_RATE: Final = frozenset({"per"})
_NOT_THE_GOODS_WEIGHT: Final = frozenset(
    {"capacity", "content", "contents", "packing", "packings", "package", "packages"}
)
_THOUSANDS: Final = re.compile(r"[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})*")


class Bound(NamedTuple):
    """A tariff text's range of one measure: from ``low`` to ``high``, each included or not."""

    measure: str
    low: float | None = None
    high: float | None = None
    low_included: bool = False
    high_included: bool = True

    def holds(self, value: float) -> bool:
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_included)
        ):
            return False
        return self.high is None or value < self.high or (value == self.high and self.high_included)


def _readings(text: str) -> tuple[float, ...]:
    """The values a number may mean: "1,500" a thousand and five hundred, "1.500" that (as
    Vietnamese writes it) or one and a half; "2.500.000" two and a half million;
    "1.234,5" a thousand and more; "0,5" a half. None for what is no number."""
    if _THOUSANDS.fullmatch(text):
        whole = float(text.replace(",", "").replace(".", ""))
        if text.count(".") == 1:  # "1.500": a decimal point too (a comma is English thousands)
            return (whole, float(text))
        return (whole,)
    for thousands, decimal in ((".", ","), (",", ".")):
        integer, _, fraction = text.partition(decimal)
        groups = integer.split(thousands)
        if (
            fraction.isdigit()
            and len(groups) > 1
            and groups[0][:1] != "0"
            and all(len(group) == 3 for group in groups[1:])
        ):
            return (float("".join(groups) + "." + fraction),)
    try:
        return (float(text.replace(",", ".")),)
    except ValueError:  # "1.2.3": no number
        return ()


def measures_of(text: str) -> Measures:
    """The measures a description gives, in base units: ``{("volume", 1.5)}`` for "a 1,500 cc
    engine" (litres), ``{("power", 350.0)}`` for "350W". "G" is no gram ("2.4G", "5G")."""
    found: set[tuple[str, float]] = set()
    for match in _QUANTITY.finditer(text):
        number, unit = match.groups()
        if unit == "G":
            continue
        measure, factor = _UNITS[unit.lower()]
        found.update((measure, value * factor) for value in _readings(number))
    return frozenset(found)


def bounds_of(text: str) -> tuple[Bound, ...]:
    """The ranges a tariff text sets on the goods' own measures, one per measure ("exceeding
    50cc but not exceeding 250cc": ``Bound("volume", 0.05, 0.25)``)."""
    lowered = text.lower()
    found: list[tuple[str, str, str, int]] = []  # (comparison, number, unit, where)
    for match in _BOUND.finditer(lowered):
        comparison, number, unit = match.groups()
        found.append((comparison, number, unit, match.start()))
    for match in _BOUND_AFTER.finditer(lowered):
        number, unit, comparison = match.groups()
        found.append((comparison, number, unit, match.start()))
    found.sort(key=lambda bound: bound[3])
    ranges: dict[str, Bound] = {}
    for at, (comparison, number, unit, where) in enumerate(found):
        if not unit:  # "over 1000 but not over 1500cc": the unit of the bound after
            unit = found[at + 1][2] if at + 1 < len(found) else ""
        values = _readings(number)
        if not unit or len(values) != 1:
            continue
        measure, factor = _UNITS[unit]
        # the clause before the bound, and the bound before it in a range ("a weight, per m2,
        # of more than 57g but not more than 65g")
        context = lowered[max(0, where - 50) : where].replace(",", " ").split()
        if not _A_RATE.isdisjoint(context) or (
            measure == "weight" and not _NOT_THE_GOODS_WEIGHT.isdisjoint(context)
        ):
            continue
        value = values[0] * factor
        upper, included = _COMPARISONS[comparison]
        bound = ranges.get(measure, Bound(measure))
        ranges[measure] = (
            bound._replace(high=value, high_included=included)
            if upper
            else bound._replace(low=value, low_included=included)
        )
    return tuple(ranges.values())


def out_of_range(measures: Measures, bounds: tuple[Bound, ...]) -> bool:
    """Whether the description gives a measure that a bound takes and no value of it is in
    range (another measure, or none, says nothing)."""
    for bound in bounds:
        values = [value for measure, value in measures if measure == bound.measure]
        if values and not any(bound.holds(value) for value in values):
            return True
    return False
