"""The console in the officer's language: which language a request gets, and how the pages write
numbers, amounts, dates and durations in it (Vietnamese and English).

The language is the one the officer chose with the console's switch (a cookie), else the first of
the browser's ``Accept-Language`` the console speaks, else English. Interface texts are written
in English in the templates and code (``_("Held parcels")``) and looked up in ``vietnamese.py``;
reason codes and risk signals read the packs' own table (``clearance.domain.reasons``).

Amounts are ``Decimal`` and are never rounded here: an amount shows every digit it has, and at
least its currency's minor unit (``1.200.005 ₫``, ``VND 1,200,005``, ``12,50 EUR``,
``EUR 12.50``). Times are UTC, and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final

from clearance.domain.reasons import LANGUAGES, Language, ReasonTexts, bundled_reason_texts
from clearance.entrypoints.http.vietnamese import VIETNAMESE

__all__ = [
    "LANGUAGE_COOKIE",
    "Ui",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_money",
    "format_number",
    "input_date",
    "language_of",
    "parse_day",
]

#: The console keeps the officer's choice of language in this cookie (a preference, no secret).
LANGUAGE_COOKIE: Final = "clearance_lang"

#: Digits after the decimal point of each currency's minor unit (ISO 4217); 2 for the others.
MINOR_DIGITS: Final[Mapping[str, int]] = {"VND": 0, "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0}

#: How each language writes a number: the group separator and the decimal mark.
_SEPARATORS: Final[Mapping[Language, tuple[str, str]]] = {"en": (",", "."), "vi": (".", ",")}
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def language_of(accept_language: str | None, chosen: str | None = None) -> Language:
    """The console's language for a request: the officer's ``chosen`` one (the cookie), else the
    browser's most preferred that the console speaks (``vi-VN,vi;q=0.9,en;q=0.8``), else English."""
    for language in LANGUAGES:
        if chosen == language:
            return language
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if quality > 0:
            ranked.append((-quality, position, primary))
    for _, _, primary in sorted(ranked):
        for language in LANGUAGES:
            if primary == language:
                return language
    return "en"


def format_number(value: Decimal | int, language: Language, places: int | None = None) -> str:
    """``value`` with the language's group separator and decimal mark; at least ``places``
    decimals (never fewer than the value has: nothing is rounded away)."""
    number = Decimal(value)
    group, mark = _SEPARATORS[language]
    text = f"{abs(number):f}"
    whole, _, fraction = text.partition(".")
    if places is not None and len(fraction) < places:
        fraction = fraction.ljust(places, "0")
    grouped = ""
    while len(whole) > 3:
        whole, grouped = whole[:-3], group + whole[-3:] + grouped
    sign = "-" if number < 0 else ""
    return f"{sign}{whole}{grouped}" + (f"{mark}{fraction}" if fraction else "")


def format_money(amount: Decimal | int, currency: str, language: Language) -> str:
    """An amount in its currency as the language writes it: ``1.200.005 ₫`` and ``12,50 EUR``
    in Vietnamese, ``VND 1,200,005`` and ``EUR 12.50`` in English."""
    number = format_number(amount, language, MINOR_DIGITS.get(currency, 2))
    if language == "vi":
        return f"{number} {'₫' if currency == 'VND' else currency}"
    return f"{currency} {number}"


def format_date(day: date, language: Language) -> str:
    """``20/11/2026`` in Vietnamese, ``20 Nov 2026`` in English."""
    if language == "vi":
        return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year:04d}"


def input_date(day: date | None, language: Language) -> str:
    """A day as the console's date fields show it for typing: ``dd/mm/yyyy`` in Vietnamese,
    ``yyyy-mm-dd`` in English (both are read back by ``parse_day``)."""
    if day is None:
        return ""
    return format_date(day, "vi") if language == "vi" else day.isoformat()


def parse_day(text: str | None) -> date | None:
    """A day typed as ``dd/mm/yyyy`` or ``yyyy-mm-dd``; None for nothing; ``ValueError`` for
    anything else."""
    text = (text or "").strip()
    if not text:
        return None
    if "/" in text:
        day, month, year = (int(part) for part in text.split("/"))
        return date(year, month, day)
    return date.fromisoformat(text)


def format_datetime(moment: datetime, language: Language) -> str:
    """The date and the UTC time to the minute, with its zone: ``20/11/2026 14:05 UTC``."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{format_date(utc.date(), language)} {utc.hour:02d}:{utc.minute:02d} UTC"


def format_duration(length: timedelta, language: Language) -> str:
    """A waiting time to the minute, its two largest units: ``2 d 4 h``, ``3 giờ 05 phút``."""
    minutes = max(0, int(length.total_seconds() // 60))
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    units = {"en": ("d", "h", "min"), "vi": ("ngày", "giờ", "phút")}[language]
    if days:
        return f"{days} {units[0]} {hours} {units[1]}"
    if hours:
        return f"{hours} {units[1]} {minutes:02d} {units[2]}"
    return f"{minutes} {units[2]}"


#: What each status, channel, outcome, category and charge kind is called (English; the
#: Vietnamese comes from the same table as every other text).
LABELS: Final[Mapping[str, str]] = {
    "hold": "Held",
    "needs_information": "Needs information",
    "release": "Released",
    "release_on_payment": "Released on payment",
    "refuse": "Refused",
    "formal_entry_required": "Formal entry required",
    "cancelled": "Cancelled",
    "green": "Green channel",
    "yellow": "Yellow channel",
    "red": "Red channel",
    "documents": "Documents",
    "low_value_exempt": "Low value, exempt",
    "low_value_dutiable": "Low value, dutiable",
    "high_value": "High value",
    "duty": "Duty",
    "tax": "Tax",
    "excise": "Excise",
    "fee": "Fee",
    "master_bill": "Same consignee, same master bill",
    "consignee_day": "Same consignee, same day",
    "consignee_year": "Same consignee, same year",
    "order": "Same order",
    "officer": "Officer",
    "platform": "Platform",
}


#: What an inspection's outcome is called.
OUTCOMES: Final[Mapping[str, str]] = {
    "release": "Release",
    "seize": "Seize",
    "reassess": "Reassess with corrections",
}


@dataclass(frozen=True)
class Ui:
    """What a page writes its text with, in one language (templates get it as ``ui``, and its
    ``t`` as ``_``)."""

    language: Language
    reasons: ReasonTexts

    @classmethod
    def for_language(cls, language: Language) -> Ui:
        """The interface in ``language``, with the bundled reason texts."""
        return cls(language=language, reasons=bundled_reason_texts())

    def t(self, text: str, **values: object) -> str:
        """``text`` (English, as written in the template) in this language, with ``{name}``
        placeholders filled from ``values``."""
        translated = VIETNAMESE.get(text, text) if self.language == "vi" else text
        return translated.format(**values) if values else translated

    def label(self, value: str) -> str:
        """The name of a status, channel, outcome, category or charge kind."""
        return self.t(LABELS.get(value, value))

    def outcome(self, value: str) -> str:
        """The name of an inspection's outcome."""
        return self.t(OUTCOMES.get(value, value))

    def reason(self, code: str) -> str:
        """What a reason code or risk signal means, from the packs' table."""
        return self.reasons.text(code, self.language)

    def number(self, value: Decimal | int, places: int | None = None) -> str:
        """A count or a quantity."""
        return format_number(value, self.language, places)

    def money(self, amount: Decimal | int, currency: str) -> str:
        """An amount in its currency."""
        return format_money(amount, currency, self.language)

    def percent(self, part: int, whole: int) -> str:
        """``part`` of ``whole`` as a percentage with one decimal (``–`` of nothing)."""
        if whole == 0:
            return "–"
        share = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))
        return f"{format_number(share, self.language, 1)} %"

    def input_date(self, day: date | None) -> str:
        """A day as a date field shows it for typing."""
        return input_date(day, self.language)

    @property
    def date_format(self) -> str:
        """How to type a day in this language (the date fields' hint)."""
        return "dd/mm/yyyy" if self.language == "vi" else "yyyy-mm-dd"

    def date(self, day: date) -> str:
        """A calendar day."""
        return format_date(day, self.language)

    def datetime(self, moment: datetime) -> str:
        """A moment, in UTC."""
        return format_datetime(moment, self.language)

    def duration(self, length: timedelta) -> str:
        """How long something has waited."""
        return format_duration(length, self.language)
