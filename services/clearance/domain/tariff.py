"""National tariffs: every line of a country's schedule, with duty rates as the law writes them.

A duty rate is a *form*, not always a percentage: ad valorem (``12%``), specific per unit, pair or
kilogram (``77 GBP/100kg``), compound (``10% + 77 GBP/100kg``), "the higher of" / "the lower of"
(``max(10%; 2.5 EUR/kg)``, ``min(...)``, which also write the EU's MIN and MAX clauses), a season
(``season(07-01..01-31: 14%; 02-01..06-30: 0%)``), or a text the engine cannot compute
(``?3 EUR/hl``), kept verbatim so the decision can quote it instead of guessing a number.

The tariff of a pack is a tab-separated file beside ``pack.yaml`` (written by
``clearance tariff import``): ``# key: value`` lines say where it comes from, then a header row
(``hs``, ``mfn``, one column per preference schedule, optional ``vat`` and ``note``) and one row
per tariff line. Every cell is parsed and checked when the pack loads, so a malformed rate is a
load error naming the file and the line, never an exception while assessing.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Final, Literal

from msgspec import Struct

__all__ = [
    "AdValorem",
    "Compound",
    "Computed",
    "DutyForm",
    "Goods",
    "Highest",
    "Lowest",
    "NationalTariff",
    "NotComputable",
    "Season",
    "Seasonal",
    "Specific",
    "TariffError",
    "TariffInfo",
    "TariffLine",
    "Uncomputable",
    "ad_valorem_part",
    "describe_form",
    "evaluate",
    "format_form",
    "parse_form",
    "parse_tariff",
    "percent",
]

SpecificUnit = Literal["u", "pair", "kg"]
"""What a specific duty is counted on: units (items, heads, pieces), pairs, or kilograms."""

_UNIT_WORDS: Final[dict[str, str]] = {"u": "unit", "pair": "pair", "kg": "kg"}


class TariffError(ValueError):
    """A tariff file or duty form that cannot be read; the message says where."""


# --- duty forms ---------------------------------------------------------------------------------


class AdValorem(Struct, frozen=True, tag=True):
    """A share of the customs value; ``rate`` is a fraction (``0.12`` = 12%)."""

    rate: Decimal


class Specific(Struct, frozen=True, tag=True):
    """``amount`` in ``currency`` per ``per`` units of ``unit`` (``77 GBP/100kg``)."""

    amount: Decimal
    currency: str
    per: Decimal
    unit: SpecificUnit


class Compound(Struct, frozen=True, tag=True):
    """The sum of its terms (``10% + 77 GBP/100kg``)."""

    terms: tuple[DutyForm, ...]


class Highest(Struct, frozen=True, tag=True):
    """The higher of its options ("whichever is the higher"; a MIN clause: at least ...)."""

    options: tuple[DutyForm, ...]


class Lowest(Struct, frozen=True, tag=True):
    """The lower of its options ("whichever is the lower"; a MAX clause: at most ...)."""

    options: tuple[DutyForm, ...]


class Season(Struct, frozen=True):
    """A form applying on the days of the year in ``ranges`` ((month, day) to (month, day))."""

    ranges: tuple[tuple[tuple[int, int], tuple[int, int]], ...]
    form: DutyForm

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls in one of the ranges (a range may wrap over the year end)."""
        here = (day.month, day.day)
        for start, end in self.ranges:
            inside = start <= here <= end if start <= end else (here >= start or here <= end)
            if inside:
                return True
        return False


class Seasonal(Struct, frozen=True, tag=True):
    """Rates by season of the year (fruit and vegetables, fish)."""

    seasons: tuple[Season, ...]


class NotComputable(Struct, frozen=True, tag=True):
    """A rate the engine cannot compute (per litre, entry prices, conditional text): quoted."""

    text: str


DutyForm = AdValorem | Specific | Compound | Highest | Lowest | Seasonal | NotComputable

_HUNDRED: Final = Decimal(100)
_PERCENT: Final = re.compile(r"(\d+(?:\.\d+)?)%")
_SPECIFIC: Final = re.compile(r"(\d+(?:\.\d+)?) ([A-Z]{3})/(\d+(?:\.\d+)?)?(u|pair|kg)")
_SEASON_RANGE: Final = re.compile(r"(\d\d)-(\d\d)\.\.(\d\d)-(\d\d)")


def percent(text: str) -> Decimal:
    """``"12.5"`` (a percentage) as the fraction ``Decimal("0.125")``, exactly."""
    value = Decimal(text) / _HUNDRED
    return value if value else Decimal(0)


def _plain(number: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``12``, ``0.5``, ``3400000``)."""
    text = format(number.normalize(), "f")
    return text if text != "-0" else "0"


def _split_top(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` outside parentheses."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    parts.append(text[start:])
    return parts


def _parse_season(body: str) -> Seasonal:
    seasons = []
    for part in _split_top(body, "; "):
        ranges_text, _, form_text = part.partition(": ")
        ranges = []
        for piece in ranges_text.split(","):
            match = _SEASON_RANGE.fullmatch(piece.strip())
            if match is None:
                raise TariffError(f"not a season range: {piece!r}")
            month1, day1, month2, day2 = (int(group) for group in match.groups())
            ranges.append(((month1, day1), (month2, day2)))
        seasons.append(Season(ranges=tuple(ranges), form=parse_form(form_text)))
    return Seasonal(seasons=tuple(seasons))


def parse_form(text: str) -> DutyForm:
    """The duty form written as ``text`` in a tariff file (the inverse of ``format_form``)."""
    text = text.strip()
    if text.startswith("?"):
        return NotComputable(text[1:].strip())
    terms = _split_top(text, " + ")
    if len(terms) > 1:
        return Compound(tuple(parse_form(term) for term in terms))
    for prefix, kind in (("max(", Highest), ("min(", Lowest)):
        if text.startswith(prefix) and text.endswith(")"):
            options = tuple(parse_form(part) for part in _split_top(text[4:-1], "; "))
            return kind(options)
    if text.startswith("season(") and text.endswith(")"):
        return _parse_season(text[7:-1])
    try:
        if match := _PERCENT.fullmatch(text):
            return AdValorem(percent(match.group(1)))
        if match := _SPECIFIC.fullmatch(text):
            amount, currency, per, unit = match.groups()
            if per is not None and Decimal(per) == 0:
                raise TariffError(f"a specific duty per zero units: {text!r}")
            return Specific(Decimal(amount), currency, Decimal(per or 1), unit)  # type: ignore[arg-type]
    except InvalidOperation as error:  # pragma: no cover - the patterns admit only numbers
        raise TariffError(f"not a number in {text!r}") from error
    raise TariffError(f"not a duty form: {text!r}")


def _format_range(start: tuple[int, int], end: tuple[int, int]) -> str:
    return f"{start[0]:02d}-{start[1]:02d}..{end[0]:02d}-{end[1]:02d}"


def format_form(form: DutyForm) -> str:
    """The form in the tariff file's notation (``parse_form(format_form(f)) == f``)."""
    if isinstance(form, AdValorem):
        return f"{_plain(form.rate * _HUNDRED)}%"
    if isinstance(form, Specific):
        per = "" if form.per == 1 else _plain(form.per)
        return f"{_plain(form.amount)} {form.currency}/{per}{form.unit}"
    if isinstance(form, Compound):
        return " + ".join(format_form(term) for term in form.terms)
    if isinstance(form, Highest | Lowest):
        name = "max" if isinstance(form, Highest) else "min"
        return f"{name}({'; '.join(format_form(option) for option in form.options)})"
    if isinstance(form, Seasonal):
        seasons = [
            f"{','.join(_format_range(*r) for r in s.ranges)}: {format_form(s.form)}"
            for s in form.seasons
        ]
        return f"season({'; '.join(seasons)})"
    return f"?{form.text}"


def describe_form(form: DutyForm) -> str:
    """The form in words for a decision (``the higher of 10% or 2.5 EUR/kg``)."""
    if isinstance(form, Specific):
        per = "" if form.per == 1 else f"{_plain(form.per)} "
        return f"{_plain(form.amount)} {form.currency} per {per}{_UNIT_WORDS[form.unit]}"
    if isinstance(form, Compound):
        return " + ".join(describe_form(term) for term in form.terms)
    if isinstance(form, Highest | Lowest):
        which = "higher" if isinstance(form, Highest) else "lower"
        return f"the {which} of " + " or ".join(f"({describe_form(o)})" for o in form.options)
    if isinstance(form, NotComputable):
        return form.text
    return format_form(form)


def ad_valorem_part(form: DutyForm) -> Decimal | None:
    """The ad valorem rate of a plain or compound form (``None`` when it has none, or when it
    depends on the goods: the applied branch is then in the charge)."""
    if isinstance(form, AdValorem):
        return form.rate
    if isinstance(form, Compound):
        rates = [term.rate for term in form.terms if isinstance(term, AdValorem)]
        return sum(rates, Decimal(0)) if rates else None
    return None


# --- evaluation -------------------------------------------------------------------------------


class Goods(Struct, frozen=True, kw_only=True):
    """What a duty form is computed on: one order line."""

    customs_value: Decimal
    quantity: int
    unit_weight_kg: Decimal | None
    day: date
    currency: str
    """The pack's currency: a specific duty in another currency is not converted here."""


class Computed(Struct, frozen=True, kw_only=True):
    """The duty of one line (not yet rounded) and how it was computed."""

    amount: Decimal
    formula: str
    ad_valorem: Decimal | None
    """The ad valorem rate applied, if the applied branch has one (for ``DecisionLine``)."""


class Uncomputable(Struct, frozen=True, kw_only=True):
    """Why a form gives no amount; ``missing_weight``: the order lacks ``unit_weight_kg``."""

    why: str
    missing_weight: bool = False


def _specific(form: Specific, goods: Goods) -> Computed | Uncomputable:
    if form.currency != goods.currency:
        why = (
            f"specific duty {format_form(form)} is in {form.currency}, the pack counts in "
            f"{goods.currency}; it is not converted"
        )
        return Uncomputable(why=why)
    if form.unit == "kg":
        if goods.unit_weight_kg is None:
            why = f"specific duty {format_form(form)} needs the weight (unit_weight_kg)"
            return Uncomputable(why=why, missing_weight=True)
        count = goods.unit_weight_kg * goods.quantity
    else:
        count = Decimal(goods.quantity)
    amount = form.amount * count / form.per
    word = _UNIT_WORDS[form.unit]
    formula = f"{describe_form(form)} x {_plain(count)} {word}"
    return Computed(amount=amount, formula=formula, ad_valorem=None)


def _choose(form: Highest | Lowest, goods: Goods) -> Computed | Uncomputable:
    computed = []
    for option in form.options:
        result = evaluate(option, goods)
        if isinstance(result, Uncomputable):
            return result
        computed.append(result)
    pick = max if isinstance(form, Highest) else min
    chosen = pick(computed, key=lambda result: result.amount)
    which = "higher" if isinstance(form, Highest) else "lower"
    listed = "; ".join(f"{result.formula} = {_plain(result.amount)}" for result in computed)
    formula = f"the {which} of ({listed}): {chosen.formula}"
    return Computed(amount=chosen.amount, formula=formula, ad_valorem=chosen.ad_valorem)


def _sum(form: Compound, goods: Goods) -> Computed | Uncomputable:
    parts = []
    for term in form.terms:
        result = evaluate(term, goods)
        if isinstance(result, Uncomputable):
            return result
        parts.append(result)
    rates = [part.ad_valorem for part in parts if part.ad_valorem is not None]
    return Computed(
        amount=sum((part.amount for part in parts), Decimal(0)),
        formula=" + ".join(part.formula for part in parts),
        ad_valorem=sum(rates, Decimal(0)) if rates else None,
    )


def evaluate(form: DutyForm, goods: Goods) -> Computed | Uncomputable:
    """The duty of ``goods`` under ``form``, or why it cannot be computed (never a guess)."""
    if isinstance(form, AdValorem):
        formula = f"{format_form(form)} x customs value {goods.customs_value:,}"
        return Computed(
            amount=form.rate * goods.customs_value, formula=formula, ad_valorem=form.rate
        )
    if isinstance(form, Specific):
        return _specific(form, goods)
    if isinstance(form, Compound):
        return _sum(form, goods)
    if isinstance(form, Highest | Lowest):
        return _choose(form, goods)
    if isinstance(form, Seasonal):
        for season in form.seasons:
            if season.covers(goods.day):
                return evaluate(season.form, goods)
        return Uncomputable(why=f"no season of {format_form(form)} covers {goods.day}")
    return Uncomputable(why=f"the tariff's rate is not computable here: {form.text!r}")


# --- the tariff file ----------------------------------------------------------------------------

_KNOWN_KEYS: Final = frozenset(
    {
        "tariff",
        "title",
        "reference",
        "vintage",
        "source",
        "source_file",
        "source_commit",
        "source_sha256",
        "licence",
        "generated_by",
        "not_modelled",
        "lines",
    }
)
_FIXED_COLUMNS: Final = ("hs", "mfn")
_TRAILING_COLUMNS: Final = frozenset({"vat", "note"})
_HS: Final = re.compile(r"[0-9]{2,10}")


class TariffInfo(Struct, frozen=True, kw_only=True):
    """Where a tariff file comes from (its header) and exactly which bytes (``sha256``)."""

    file: str
    sha256: str
    lines: int
    columns: tuple[str, ...]
    title: str = ""
    reference: str = ""
    vintage: str = ""
    source: str = ""
    source_file: str = ""
    source_commit: str = ""
    source_sha256: str = ""
    licence: str = ""
    generated_by: str = ""
    not_modelled: str = ""


class TariffLine(Struct, frozen=True, kw_only=True):
    """One line of the schedule: MFN form, preferential forms (by column), VAT class, note."""

    hs: str
    mfn: DutyForm
    preferential: tuple[DutyForm | None, ...] = ()
    vat: str = ""
    note: str = ""


class NationalTariff(Struct, frozen=True, kw_only=True, dict=True):
    """A whole national schedule, looked up by HS code."""

    info: TariffInfo
    preference_columns: tuple[str, ...]
    lines: dict[str, TariffLine]

    @cached_property
    def _codes(self) -> list[str]:
        return sorted(self.lines)

    @cached_property
    def _lengths(self) -> list[int]:
        return sorted({len(code) for code in self.lines}, reverse=True)

    @cached_property
    def _leaves(self) -> frozenset[str]:
        """Codes no longer line starts with (the declarable lines)."""
        codes = self._codes
        return frozenset(
            code
            for index, code in enumerate(codes)
            if index + 1 == len(codes) or not codes[index + 1].startswith(code)
        )

    def find(self, hs_code: str) -> TariffLine | None:
        """The line with the longest code that starts ``hs_code``, or ``None``."""
        for length in self._lengths:
            if length <= len(hs_code):
                line = self.lines.get(hs_code[:length])
                if line is not None:
                    return line
        return None

    def leaves_under(self, hs_code: str) -> list[TariffLine]:
        """The declarable lines with more digits than ``hs_code`` that start with it."""
        codes, leaves = self._codes, self._leaves
        found = []
        for index in range(bisect.bisect_right(codes, hs_code), len(codes)):
            code = codes[index]
            if not code.startswith(hs_code):
                break
            if code in leaves:
                found.append(self.lines[code])
        return found

    @cached_property
    def computable_lines(self) -> int:
        """Lines whose MFN duty the engine computes (the others are quoted)."""
        return sum(not isinstance(line.mfn, NotComputable) for line in self.lines.values())

    def column(self, name: str) -> int | None:
        """The index of preference column ``name`` in ``TariffLine.preferential``."""
        try:
            return self.preference_columns.index(name)
        except ValueError:
            return None


def _header(text: str, file: str) -> tuple[dict[str, str], list[str], int]:
    """The ``# key: value`` metadata, the column names and the number of header lines."""
    meta: dict[str, str] = {}
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if line.startswith("#"):
            key, separator, value = line[1:].strip().partition(":")
            if not separator or key.strip() not in _KNOWN_KEYS:
                raise TariffError(f"{file}:{number}: not a '# key: value' header line")
            meta[key.strip()] = value.strip()
            continue
        columns = line.split("\t")
        if tuple(columns[:2]) != _FIXED_COLUMNS:
            raise TariffError(f"{file}:{number}: the header row must start with hs, mfn")
        return meta, columns, number
    raise TariffError(f"{file}: no header row")


class _Forms:
    """Parses each distinct cell text once (most cells repeat: ``0%``, ``Free``...)."""

    def __init__(self) -> None:
        self._seen: dict[str, DutyForm] = {}

    def __call__(self, text: str) -> DutyForm:
        form = self._seen.get(text)
        if form is None:
            form = self._seen[text] = parse_form(text)
        return form


def _rows(lines: Iterable[str], columns: list[str], first: int, file: str) -> dict[str, TariffLine]:
    preference_end = len(columns) - sum(1 for c in columns[-2:] if c in _TRAILING_COLUMNS)
    vat_at = columns.index("vat") if "vat" in columns else None
    note_at = columns.index("note") if "note" in columns else None
    forms = _Forms()
    interned: dict[tuple[DutyForm | None, ...], tuple[DutyForm | None, ...]] = {}
    parsed: dict[str, TariffLine] = {}
    for number, line in enumerate(lines, start=first + 1):
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) != len(columns) or not _HS.fullmatch(cells[0]) or cells[0] in parsed:
            raise TariffError(f"{file}:{number}: expected {len(columns)} cells and a new HS code")
        try:
            preferential = tuple(forms(c) if c else None for c in cells[2:preference_end])
            parsed[cells[0]] = TariffLine(
                hs=cells[0],
                mfn=forms(cells[1]),
                preferential=interned.setdefault(preferential, preferential),
                vat=cells[vat_at] if vat_at is not None else "",
                note=cells[note_at] if note_at is not None else "",
            )
        except TariffError as error:
            raise TariffError(f"{file}:{number}: {error}") from None
    return parsed


def parse_tariff(data: bytes, file: str) -> NationalTariff:
    """Read a tariff file; raises ``TariffError`` naming the file and line of any problem."""
    text = data.decode("utf-8")
    meta, columns, header_lines = _header(text, file)
    body = text.split("\n")[header_lines:]
    lines = _rows(body, columns, header_lines, file)
    declared = meta.pop("lines", None)
    if declared is not None and declared != str(len(lines)):
        raise TariffError(f"{file}: header says {declared} lines, the file has {len(lines)}")
    preference_columns = tuple(c for c in columns[2:] if c not in _TRAILING_COLUMNS)
    info = TariffInfo(
        file=file,
        sha256=hashlib.sha256(data).hexdigest(),
        lines=len(lines),
        columns=tuple(columns),
        title=meta.get("title", ""),
        reference=meta.get("reference", ""),
        vintage=meta.get("vintage", ""),
        source=meta.get("source", ""),
        source_file=meta.get("source_file", ""),
        source_commit=meta.get("source_commit", ""),
        source_sha256=meta.get("source_sha256", ""),
        licence=meta.get("licence", ""),
        generated_by=meta.get("generated_by", ""),
        not_modelled=meta.get("not_modelled", ""),
    )
    return NationalTariff(info=info, preference_columns=preference_columns, lines=lines)
