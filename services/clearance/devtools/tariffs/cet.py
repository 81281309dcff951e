"""Duty texts of the EU Common Customs Tariff and the UK Global Tariff, as written in the DIT
comparison file (``ukgt_2021_vs_eu_cet.csv``, and the EU column derived from it).

Forms read: ``12.0%``; ``93.10 EUR / 100 kg``, ``77.00 GBP/100kg``, ``EUR / tonne``, ``per item``
and ``per 1,000 items``; sums (``10.20% + 93.10 EUR / 100 kg``); ``MIN`` (at least: the higher of)
and ``MAX`` (at most: the lower of), ``MAX`` binding loosest; seasonal rates
(``14.00% (01 JUL - 31 JAN), 0.00% (01 FEB - 30 JUN)``). Kept as text for the engine to quote:
per hectolitre or % vol, the agricultural components (``EA``, ``ADSZ``, ``ADFM``), entry prices,
weights other than the gross kilogram (net drained, dry lactic matter, % sucrose...), and a number
without its unit.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from clearance.devtools.tariffs.common import not_computable
from clearance.domain.tariff import (
    AdValorem,
    Compound,
    DutyForm,
    Highest,
    Lowest,
    NotComputable,
    Season,
    Seasonal,
    Specific,
    SpecificUnit,
    percent,
)

__all__ = ["parse_cet_rate"]

_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (("JAN",), ("FEB",), ("MAR",), ("APR",), ("MAY",), ("JUN", "JUNE"), ("JUL", "JULY"),
         ("AUG",), ("SEP", "SEPT"), ("OCT",), ("NOV",), ("DEC",)),
        start=1,
    )
    for name in names
}  # fmt: skip
_PERCENT: Final = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_SPECIFIC: Final = re.compile(
    r"(\d+(?:\.\d+)?)\s*(EUR|GBP|€)\s*/\s*(\d[\d,]*)?\s*(kg|tonne|items?)"
)
_SEASON: Final = re.compile(r"(?:, )?([^()]+?) \(([^()]*)\)")
_DAY: Final = re.compile(r"(\d{1,2})\s*([A-Z]+)")


def _specific(text: str) -> Specific | None:
    match = _SPECIFIC.fullmatch(text)
    if match is None:
        return None
    amount, currency, per, unit = match.groups()
    count = Decimal(per.replace(",", "")) if per else Decimal(1)
    counted: SpecificUnit = "kg" if unit in {"kg", "tonne"} else "u"
    if unit == "tonne":
        count *= 1000
    return Specific(Decimal(amount), "EUR" if currency == "€" else currency, count, counted)


def _term(text: str) -> DutyForm | None:
    text = text.strip()
    if (match := _PERCENT.fullmatch(text)) is not None:
        return AdValorem(percent(match.group(1)))
    return _specific(text)


def _sum(text: str) -> DutyForm | None:
    terms = [_term(part) for part in text.split(" + ")]
    forms = [term for term in terms if term is not None]
    if not forms or len(forms) != len(terms):
        return None
    return forms[0] if len(forms) == 1 else Compound(tuple(forms))


def _bounded(text: str) -> DutyForm | None:
    """``A MIN B MAX C`` = the lower of (the higher of A and B) and C."""
    capped, _, cap = text.partition(" MAX ")
    base, _, floor = capped.partition(" MIN ")
    form = _sum(base)
    if form is None:
        return None
    if floor:
        minimum = _sum(floor)
        if minimum is None:
            return None
        form = Highest((form, minimum))
    if cap:
        maximum = _sum(cap)
        if maximum is None:
            return None
        form = Lowest((form, maximum))
    return form


def _day(text: str) -> tuple[int, int] | None:
    match = _DAY.fullmatch(text.strip())
    if match is None or match.group(2) not in _MONTHS:
        return None
    return _MONTHS[match.group(2)], int(match.group(1))


def _seasonal(text: str) -> DutyForm | None:
    """``R1 (01 JUL - 31 JAN), R2 (01 FEB - 30 JUN)``; ranges may be listed ``a-b, c-d``."""
    seasons, end = [], 0
    for match in _SEASON.finditer(text):
        if match.start() != end:
            return None
        end = match.end()
        form = _bounded(match.group(1))
        if form is None:
            return None
        ranges = []
        for piece in match.group(2).split(","):
            start, _, stop = piece.partition("-")
            first, last = _day(start), _day(stop)
            if first is None or last is None:
                return None
            ranges.append((first, last))
        seasons.append(Season(ranges=tuple(ranges), form=form))
    if not seasons or end != len(text):
        return None
    return Seasonal(tuple(seasons))


def parse_cet_rate(text: str) -> DutyForm:
    """A CET or UKGT duty text as a duty form (the text itself when not computable)."""
    cleaned = " ".join(text.replace("\xa0", " ").split())
    if not cleaned:
        return NotComputable("no rate in the source")
    form = _seasonal(cleaned) if "(" in cleaned else _bounded(cleaned)
    return form if form is not None else not_computable(cleaned)
