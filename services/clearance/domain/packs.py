"""Rule packs: the law of one jurisdiction as validated data, never as Python code.

A pack is a YAML file inside the package (``clearance/packs/<id>/pack.yaml``), decoded straight
into the frozen Structs below with ``msgspec.yaml.decode(..., type=RulePack)``, so a typo in a key
or a wrong type is refused at load with the file and the key named. Every number the law sets is a
``Parameter`` dated OpenFisca-style (``values: {2025-02-18: "0.10", 2027-01-01: null}``, ``null``
meaning "no longer applies from that day") with its ``unit``, legal ``reference`` and ``source``
URL. Facts the research could not confirm are named ``options`` with a ``note`` saying UNVERIFIED,
so the choice is visible and switchable rather than a hidden constant.

The pack's ``digest`` is the SHA-256 of its canonical content (the decoded pack re-encoded as JSON
with sorted keys), so formatting and comments do not change it but any fact does.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.resources
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from functools import cached_property
from importlib.resources.abc import Traversable
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta, Struct, field

from clearance.domain.money import RoundingRule
from clearance.domain.tariff import (
    AdValorem,
    Compound,
    DutyForm,
    NationalTariff,
    Specific,
    TariffError,
    parse_form,
    parse_tariff,
)
from clearance.messages import ExciseCategory, RegistrationScheme, TransportMode

__all__ = [
    "AggregationUnit",
    "DatedValue",
    "DirectShipmentLimit",
    "DutyDeMinimis",
    "DutyLine",
    "DutyRules",
    "DutyTable",
    "ExclusionGroup",
    "FlatPerSubheading",
    "GiftRelief",
    "LocalPart",
    "Option",
    "OriginExclusion",
    "PackError",
    "PackRegistry",
    "Parameter",
    "PointOfSaleScheme",
    "Preference",
    "ReducedRate",
    "ReducedRatePeriod",
    "RiskRules",
    "RoundingStep",
    "RuleNotInForce",
    "RulePack",
    "ScreeningEntry",
    "StatutoryRounding",
    "TaxClass",
    "TaxRules",
    "UnknownPack",
    "UnsupportedDestination",
    "load_pack_text",
    "parameters_of",
]

AggregationUnit = Literal["consignment", "order", "consignee_day", "master_bill", "consignee_year"]
ValuationBasis = Literal["intrinsic", "fob", "cif"]
TaxBaseComponent = Literal["customs_value", "duty", "excise", "transport_and_insurance"]
PackStatus = Literal["in_force", "proposed"]
Rate = Decimal  # non-negative: checked by the loader (msgspec has no bounds on Decimal)
HsPrefix = Annotated[str, Meta(pattern=r"^[0-9]{2,10}$")]
CountryCode = Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]
Code = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9_]*$")]

_PACKAGE: Final = "clearance.packs"


class PackError(ValueError):
    """A pack that cannot be loaded; the message names the file and the key."""


class UnsupportedDestination(LookupError):
    """No pack covers the destination country (dead-letter code ``UNSUPPORTED_DESTINATION``)."""

    code: Final = "UNSUPPORTED_DESTINATION"

    def __init__(self, country: str) -> None:
        super().__init__(f"no rule pack for destination country {country!r}")
        self.country = country


class RuleNotInForce(LookupError):
    """A rule the assessment needs has no value on the assessment date (before the pack's first
    dated value, or ended): the engine answers with a held decision, never with this error."""

    code: Final = "RULE_NOT_IN_FORCE"

    def __init__(self, pack_id: str, rule: str, day: date, parameter: Parameter) -> None:
        dated = sorted(parameter.values)
        since = f"; the pack has values from {dated[0]}" if dated else ""
        super().__init__(f"{pack_id}: no value of {rule} in force on {day}{since}")
        self.rule = rule
        self.day = day
        self.citation = parameter.cite()


class UnknownPack(LookupError):
    """A pack id that is not bundled, or that does not cover the destination asked for."""


class _Strict(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, dict=True):
    """Base of every pack Struct: unknown keys are errors, so typos never pass silently."""


class DatedValue(_Strict, frozen=True):
    """One dated value that carries its own citation (a later instrument, or a reform's change):
    ``values: {2025-02-11: {value: "2000000", reference: ..., source: ...}}``."""

    value: Decimal | None
    reference: str
    source: str
    note: str = ""
    status: PackStatus | None = None

    @cached_property
    def citation(self) -> str:
        return f"{self.reference} <{self.source}>"


class Parameter(_Strict, frozen=True):
    """A dated legal parameter: the value in force on a day is the latest on or before it.

    A dated value may be a ``DatedValue`` with its own reference; a reason then cites the
    instrument of the value it applied (``cite(day)``), else the parameter's reference.
    """

    values: dict[date, Decimal | DatedValue | None]
    unit: str
    reference: str
    source: str
    note: str = ""
    status: PackStatus = "in_force"

    @cached_property
    def _days(self) -> list[date]:
        return sorted(self.values)

    @cached_property
    def _plain(self) -> list[Decimal | None]:
        """The values in date order, without per-value citations (``at`` is on the hot path)."""
        entries = [self.values[day] for day in self._days]
        return [entry.value if isinstance(entry, DatedValue) else entry for entry in entries]

    @cached_property
    def _cited(self) -> list[DatedValue | None]:
        """Per-value citations in date order; empty when no value carries its own."""
        entries = [self.values[day] for day in self._days]
        if not any(isinstance(entry, DatedValue) for entry in entries):
            return []
        return [entry if isinstance(entry, DatedValue) else None for entry in entries]

    def at(self, day: date) -> Decimal | None:
        """The value in force on ``day``; ``None`` before the first date or where set to null."""
        index = bisect.bisect_right(self._days, day)
        return self._plain[index - 1] if index else None

    def plain_values(self) -> dict[date, Decimal | None]:
        """Every dated value, without per-value citations."""
        return dict(zip(self._days, self._plain, strict=True))

    @cached_property
    def citation(self) -> str:
        """Reference and source for a Charge or Reason (built once per pack load)."""
        return f"{self.reference} <{self.source}>"

    def _own_citation(self, day: date) -> DatedValue | None:
        cited = self._cited
        if not cited:
            return None
        index = bisect.bisect_right(self._days, day)
        return cited[index - 1] if index else None

    def cite(self, day: date | None = None) -> str:
        """Reference and source for a Charge or Reason: those of the value in force on ``day``
        when it carries its own, else the parameter's."""
        entry = self._own_citation(day) if day is not None else None
        return entry.citation if entry is not None else self.citation

    def reference_at(self, day: date) -> tuple[str, str]:
        """(reference, source) of the value in force on ``day`` (for listings of a pack)."""
        entry = self._own_citation(day)
        return (
            (entry.reference, entry.source) if entry is not None else (self.reference, self.source)
        )


class Option(_Strict, frozen=True):
    """A named switch for a disputed or unverified rule (the ``note`` says why it is one)."""

    default: bool
    description: str
    reference: str
    source: str
    note: str = ""


class DirectShipmentLimit(_Strict, frozen=True):
    """A different value limit for parcels shipped directly from some countries by some modes
    (Canada: CUSMA courier shipments from the US or Mexico). The place of direct shipment is taken
    to be the seller's country (the contract has no separate field for it)."""

    shipped_from: list[CountryCode]
    transport_modes: list[TransportMode]
    value_limit: Parameter

    def applies_to(self, seller_country: str, mode: TransportMode | None) -> bool:
        """Whether a parcel from ``seller_country`` carried by ``mode`` gets this limit."""
        return seller_country in self.shipped_from and mode in self.transport_modes


class OriginExclusion(_Strict, frozen=True):
    """Goods of these origins lose a relief from ``since`` (until the day before ``until``):
    US EO 14256 ended de minimis for products of China and Hong Kong from 2025-05-02."""

    origins: list[CountryCode]
    since: date
    reference: str
    source: str
    until: date | None = None
    note: str = ""

    def applies(self, origin: str, day: date) -> bool:
        """Whether goods of ``origin`` are excluded on ``day``."""
        return (
            origin in self.origins
            and self.since <= day
            and (self.until is None or day < self.until)
        )


class GiftRelief(_Strict, frozen=True):
    """Relief for gifts between private persons (``order.is_gift``) up to a value."""

    value_limit: Parameter
    excluded_excise: list[ExciseCategory] = field(default_factory=list)


class DutyDeMinimis(_Strict, frozen=True):
    """Duty relief: the value within ``value_limit``, or the duty within ``duty_limit``.

    ``aggregation`` lists the units whose running totals must also stay within ``value_limit``
    (anti-splitting); ``annual_cap`` is a per-consignee yearly quota of relieved value.
    """

    value_limit: Parameter
    duty_limit: Parameter | None = None
    annual_cap: Parameter | None = None
    per: Literal["consignment", "item"] = "consignment"
    aggregation: list[AggregationUnit] = field(default_factory=lambda: ["consignment"])
    transport_modes: list[TransportMode] = field(default_factory=list)
    """Empty: any mode. Otherwise the relief needs ``transport.mode`` in this list."""
    excluded_excise: list[ExciseCategory] = field(default_factory=list)
    option: str | None = None
    """Name of the pack option that switches this relief on; ``None``: always on."""
    direct_shipment: DirectShipmentLimit | None = None
    """A different ``value_limit`` by place of direct shipment and mode."""
    excluded_origins: list[OriginExclusion] = field(default_factory=list)
    """Origins whose goods lose the relief from a date (a parcel with such goods is dutiable)."""


class DutyLine(_Strict, frozen=True):
    """One tariff line written in the pack: an HS prefix and its ad valorem ``rate`` (plus an
    optional specific duty per unit), or a ``duty`` in the tariff files' notation
    (``"max(10%; 2 SGD/kg)"``, ``"?text"`` for a rate the engine cannot compute)."""

    hs: HsPrefix
    rate: Rate | None = None
    per_unit: Decimal | None = None
    """Specific duty per unit, in the pack currency, added to the ad valorem part."""
    duty: str | None = None
    """Instead of ``rate``: any duty form (see ``clearance.domain.tariff``)."""
    excluded_origins: list[CountryCode] = field(default_factory=list)
    """For preferential lines: origins the concession does not cover ("0 (-KH, ID)")."""
    description: str = ""

    def form(self, currency: str) -> DutyForm:
        """The line as a duty form (``rate`` and ``per_unit`` in ``currency``, or ``duty``)."""
        forms = self.__dict__.setdefault("_forms", {})
        found: DutyForm | None = forms.get(currency)
        if found is None:
            found = forms[currency] = self._form(currency)
        return found

    def _form(self, currency: str) -> DutyForm:
        if self.duty is not None:
            return parse_form(self.duty)
        rate: DutyForm = AdValorem(self.rate if self.rate is not None else Decimal(0))
        if self.per_unit is None:
            return rate
        return Compound((rate, Specific(self.per_unit, currency, Decimal(1), "u")))


class DutyTable(_Strict, frozen=True):
    """HS prefix -> rate; the most specific prefix wins; ``default`` when nothing matches."""

    reference: str
    source: str
    lines: list[DutyLine] = field(default_factory=list)
    default: Rate | None = None
    """``None``: an unknown line is held for classification rather than guessed."""
    note: str = ""
    file: str | None = None
    """A national tariff file beside ``pack.yaml`` (``tariff.tsv``, written by
    ``clearance tariff import``). Lines written above take precedence where they are at least as
    specific (a golden case's own rate, a hand-checked exclusion)."""
    national: NationalTariff | None = None
    """Filled by the loader from ``file``; never written in YAML."""

    @cached_property
    def lookups(self) -> dict[str, object]:
        """Codes already looked up and what was found (``clearance.domain.duty`` fills it)."""
        return {}

    @cached_property
    def _by_prefix(self) -> dict[str, DutyLine]:
        return {line.hs: line for line in self.lines}

    @cached_property
    def _lengths(self) -> list[int]:
        return sorted({len(line.hs) for line in self.lines}, reverse=True)

    @cached_property
    def citation(self) -> str:
        """Reference and source of the table (built once per pack load)."""
        return f"{self.reference} <{self.source}>"

    @cached_property
    def _sorted_codes(self) -> list[str]:
        return sorted(self._by_prefix)

    def lines_under(self, prefix: str) -> list[DutyLine]:
        """The lines whose code starts with ``prefix`` (the national lines of a subheading)."""
        codes = self._sorted_codes
        start = bisect.bisect_left(codes, prefix)
        end = bisect.bisect_left(codes, prefix + "\x7f")
        return [self._by_prefix[code] for code in codes[start:end]]

    def find(self, hs_code: str) -> DutyLine | None:
        """The most specific line whose prefix starts ``hs_code``, or ``None``."""
        by_prefix = self._by_prefix
        for length in self._lengths:
            if length <= len(hs_code):
                line = by_prefix.get(hs_code[:length])
                if line is not None:
                    return line
        return None


class Preference(_Strict, frozen=True):
    """A trade agreement's preferential rates, usable only with an accepted origin proof.

    The rates come from ``table`` (lines written in the pack, which may exclude origins) and, for
    lines it does not list, from the national tariff's ``column``."""

    parties: list[CountryCode]
    documents: list[str]
    table: DutyTable | None = None
    column: str | None = None
    """The national tariff's column with this agreement's rates."""
    columns_by_party: dict[CountryCode, str] = field(default_factory=dict)
    """A column per party of origin where the schedule differs by party (Japan's RCEP)."""
    reference: str = ""
    source: str = ""
    note: str = ""

    @cached_property
    def citation(self) -> str:
        """Where the preferential rates come from (the table's citation, else the agreement's)."""
        if self.reference:
            return f"{self.reference} <{self.source}>"
        return self.table.citation if self.table is not None else ""

    def column_for(self, origin: str) -> str | None:
        """The tariff column of this agreement for goods originating in ``origin``."""
        return self.columns_by_party.get(origin, self.column)


class FlatPerSubheading(_Strict, frozen=True):
    """A flat duty per distinct tariff subheading (EU: EUR 3 per HS6 from 2026-07-01)."""

    amount: Parameter
    value_ceiling: Parameter
    """Consignments with threshold value up to this pay the flat duty instead of the tariff."""
    digits: Annotated[int, Meta(ge=4, le=10)] = 6
    distance_sales_only: bool = False
    """Only goods sold at a distance (B2C): a gift between private persons is not a sale."""


class DutyRules(_Strict, frozen=True):
    """How duty is computed: relief, special forms, the tariff and preferences."""

    table: DutyTable
    de_minimis: DutyDeMinimis | None = None
    flat_per_subheading: FlatPerSubheading | None = None
    preferences: dict[Code, Preference] = field(default_factory=dict)
    gift_relief: GiftRelief | None = None
    """Duty relief for gifts between private persons (EU: EUR 45)."""


class PointOfSaleScheme(_Strict, frozen=True):
    """Tax collected at checkout (EU IOSS, UK, AU LVIG, SG OVR) up to a value ceiling."""

    scheme: RegistrationScheme
    ceiling: Parameter
    per: Literal["consignment", "item"] = "consignment"
    excluded_excise: list[ExciseCategory] = field(default_factory=list)
    number_pattern: str | None = None
    """Regular expression the registration number must match (e.g. IOSS ``^IM\\d{10}$``)."""
    basis: ValuationBasis | None = None
    """The value compared with the ceiling, when not the pack's threshold value (Singapore's OVR
    tests the sales value, without transport, while its import relief tests CIF)."""
    seller_liable: bool = False
    """Within the ceiling the tax is the seller's (or marketplace's) liability, declared or not:
    nothing is charged at the border for a sale (UK). Gifts and excluded excise goods are not
    covered."""
    border_tax_option: str | None = None
    """Option that, when on, charges the tax at the border when the seller did not collect it."""


class ExclusionGroup(_Strict, frozen=True):
    """Goods a reduced rate does not cover in some periods (Viet Nam: IT goods, chemicals)."""

    description: str
    hs_prefixes: list[HsPrefix]
    reference: str
    source: str
    option: str | None = None
    """When set, the group excludes goods only while this pack option is on."""
    note: str = ""

    @cached_property
    def prefixes(self) -> tuple[str, ...]:
        """``hs_prefixes`` as a tuple (for ``str.startswith``)."""
        return tuple(self.hs_prefixes)


class ReducedRatePeriod(_Strict, frozen=True):
    """One decree's reduced rate: from ``start`` to ``end`` (both included), with the groups of
    goods it leaves at the standard rate."""

    start: date
    end: date
    rate: Rate
    reference: str
    source: str
    excluded: list[str] = field(default_factory=list)
    """Names of ``reduced_rate.exclusion_groups`` this period excludes."""
    note: str = ""

    @cached_property
    def citation(self) -> str:
        """Reference and source (built once per pack load)."""
        return f"{self.reference} <{self.source}>"


class ReducedRate(_Strict, frozen=True):
    """A temporary or category rate replacing the standard rate, with its exclusions: one dated
    ``rate``, or ``periods`` each with its own decree and exclusions."""

    rate: Parameter | None = None
    periods: list[ReducedRatePeriod] = field(default_factory=list)
    exclusion_groups: dict[str, ExclusionGroup] = field(default_factory=dict)
    excluded_excise: list[ExciseCategory] = field(default_factory=list)
    excluded_hs_prefixes: list[HsPrefix] = field(default_factory=list)
    only_hs_prefixes: list[HsPrefix] | None = None
    """``None``: every line not excluded; a list: only lines under these prefixes (Japan's
    reduced rate for food)."""

    @cached_property
    def excluded_prefixes(self) -> tuple[str, ...]:
        """``excluded_hs_prefixes`` as a tuple (for ``str.startswith``)."""
        return tuple(self.excluded_hs_prefixes)

    def period_on(self, day: date) -> ReducedRatePeriod | None:
        """The period in force on ``day``, if any (remembered per day: a stream has few days)."""
        by_day = self._periods_by_day
        try:
            return by_day[day]
        except KeyError:
            pass
        found = next((p for p in self.periods if p.start <= day <= p.end), None)
        if len(by_day) < 4096:
            by_day[day] = found
        return found

    @cached_property
    def _periods_by_day(self) -> dict[date, ReducedRatePeriod | None]:
        return {}

    @cached_property
    def schedule(self) -> Parameter:
        """The rate by date as one Parameter (``rate``, or the periods joined; for display)."""
        if self.rate is not None:
            return self.rate
        values: dict[date, Decimal | None] = {}
        for period in sorted(self.periods, key=lambda p: p.start):
            values[period.start] = period.rate
            values.setdefault(period.end + timedelta(days=1), None)
        return Parameter(
            values=dict(sorted(values.items())),
            unit="rate",
            reference="; ".join(f"{p.reference} ({p.start}..{p.end})" for p in self.periods),
            source=" ; ".join(dict.fromkeys(p.source for p in self.periods)),
            note="; ".join(p.note for p in self.periods if p.note),
        )


class LocalPart(_Strict, frozen=True):
    """A second tax computed on the first one's amount, so the pack's rate is the first part
    only: Japan's local consumption tax is 22/78 of the national consumption tax (7.8% + 2.2%)."""

    name: str
    national_name: str
    numerator: Annotated[int, Meta(ge=0)]
    denominator: Annotated[int, Meta(ge=1)]
    reference: str
    source: str
    note: str = ""


class TaxClass(_Strict, frozen=True):
    """A VAT class of the national tariff's ``vat`` column (Viet Nam: ``8/10``, ``10``, ...)."""

    description: str
    reducible: bool = True
    """Whether the temporary reduced rate may apply to lines of this class."""
    rate: Parameter | None = None
    """A rate other than the standard one (Viet Nam's 5%), applied while ``option`` is on."""
    option: str | None = None
    exempt: bool = False
    """Lines of this class are not subject to the tax."""
    note: str = ""


class TaxRules(_Strict, frozen=True):
    """Import VAT/GST: rate(s), base components, de minimis and point-of-sale schemes."""

    name: str
    base: list[TaxBaseComponent]
    standard_rate: Parameter | None = None
    rates_by_country: dict[CountryCode, Parameter] = field(default_factory=dict)
    """Member-state rates for a union pack (EU); keys are ISO codes (GR, not EL)."""
    reduced_rate: ReducedRate | None = None
    de_minimis: Parameter | None = None
    de_minimis_transport_modes: list[TransportMode] = field(default_factory=list)
    de_minimis_direct_shipment: DirectShipmentLimit | None = None
    point_of_sale: PointOfSaleScheme | None = None
    tariff_classes: dict[str, TaxClass] = field(default_factory=dict)
    """The meaning of each value of the national tariff's ``vat`` column."""
    gift_relief: GiftRelief | None = None
    """Tax relief for gifts between private persons (UK: GBP 39)."""
    local_part: LocalPart | None = None


class RoundingStep(_Strict, frozen=True):
    """Rounding the law applies beyond the currency's minor unit, with the pack's rule ``rule``:
    the line's taxable ``base`` to a multiple, the line's amount as carried into the next base
    (``line``: the duty into the tax base, the national tax into the local part), and the
    consignment's ``total``."""

    base: Decimal | None = None
    line: Decimal | None = None
    total: Decimal | None = None
    rule: RoundingRule = "down"


class StatutoryRounding(_Strict, frozen=True):
    """Japan Customs FAQ 1111: taxable values truncated to JPY 1,000, duty and tax to JPY 100."""

    reference: str
    source: str
    duty: RoundingStep = field(default_factory=RoundingStep)
    tax: RoundingStep = field(default_factory=RoundingStep)
    note: str = ""


class Valuation(_Strict, frozen=True):
    """What the thresholds compare and what duty is computed on."""

    threshold: ValuationBasis
    customs_value: ValuationBasis
    reference: str
    source: str
    note: str = ""


class Requirements(_Strict, frozen=True):
    """Data the pack needs; a missing item gives ``needs_information`` with one reason each."""

    hs_code: bool = True
    hs_code_min_digits: Annotated[int, Meta(ge=6, le=10)] = 6
    suggested_hs_code_min_confidence: Annotated[float, Meta(ge=0, le=1)] | None = None
    """An item without a code takes the classifier's suggestion from this confidence on
    (``HS_CODE_SUGGESTED``); below it, or when ``None``, the parcel needs the code."""
    consignee_identity: bool = False
    reference: str = ""


ScreeningKind = Literal["substance", "material", "animal", "product"]


class ScreeningEntry(_Strict, frozen=True):
    """Goods a list prohibits or restricts, named by phrases (EN/VI) or HS prefixes.

    ``kind`` says which readings are not the goods themselves (``clearance.domain.screening``):
    a toy or print of an animal, a product or a picture, is not the animal; a faux or colour
    use of a material is not the material; a depiction or a scent of a substance is not it.
    """

    code: Code
    reference: str
    source: str
    kind: ScreeningKind = "product"
    terms: list[str] = field(default_factory=list)
    ambiguous_terms: list[str] = field(default_factory=list)
    """Words with another everyday meaning ("ivory" is a colour, a "revolver" ruler revolves):
    a hit only when the listing points to the goods (``evidence``, ``typical_articles``) or
    the HS code does (``hs_prefixes``)."""
    evidence: list[str] = field(default_factory=list)
    """Words near an ambiguous term that point to the goods (``tusk``, ``carved``)."""
    typical_articles: list[str] = field(default_factory=list)
    """Articles classically made of the material (``bangle``): evidence near an ambiguous term
    unless the listing states another material."""
    hs_prefixes: list[HsPrefix] = field(default_factory=list)
    except_phrases: list[str] = field(default_factory=list)
    """Phrases that contain a term but are not the goods ("glue gun", "bone china")."""
    note: str = ""


class Screening(_Strict, frozen=True):
    prohibited: list[ScreeningEntry] = field(default_factory=list)
    restricted: list[ScreeningEntry] = field(default_factory=list)
    note: str = ""


class RiskRules(_Strict, frozen=True):
    """How signals become a channel, and the parameters of the signals.

    These are policy choices of the administration, not law: the defaults are illustrative and
    each pack says where its values come from.
    """

    yellow_from: Annotated[int, Meta(ge=1, le=100)] = 40
    """A score at or above this is yellow (document check)."""
    red_from: Annotated[int, Meta(ge=1, le=100)] = 80
    """A score at or above this is red (physical inspection)."""
    compliance_sample_share: Decimal = Decimal("0.01")
    """Share of green parcels sent to yellow at random (seeded), to measure compliance."""
    reference_prices: dict[Annotated[str, Meta(pattern=r"^[0-9]{4}$")], Decimal] = field(
        default_factory=dict
    )
    """Typical unit price per HS heading, in the pack currency (undervaluation signal)."""
    undervaluation_ratio: Decimal = Decimal("0.3")
    """A unit value below this share of the reference price raises ``UNDERVALUATION_SUSPECTED``."""
    velocity_per_day: Annotated[int, Meta(ge=0)] = 0
    """Parcels per consignee per day from which ``CONSIGNEE_VELOCITY`` is raised (0: off)."""
    cliff_share: Decimal = Decimal("0.9")
    """A value in [share x limit, limit] of the duty relief: ``VALUE_JUST_UNDER_THRESHOLD``."""
    high_risk_origins: list[CountryCode] = field(default_factory=list)
    aeo_discount: Annotated[int, Meta(ge=0, le=100)] = 30
    """Points taken off the score for a seller with an AEO certificate in the administration's
    registry, valid on the assessment date (``clearance aeo load``; never the order's claim)."""
    hs_mismatch_min_confidence: Annotated[float, Meta(ge=0, le=1)] = 0.5
    """A declared code is ``HS_CODE_MISMATCH`` when the classifier is at least this confident of
    another chapter and none of its five candidates is in the declared heading."""
    note: str = ""


class ExciseRules(_Strict, frozen=True):
    """Excise goods the pack does not compute: they need a formal declaration."""

    formal_entry_categories: list[ExciseCategory] = field(default_factory=list)
    reference: str = ""
    source: str = ""
    note: str = ""


class RulePack(_Strict, frozen=True):
    """One jurisdiction's rules (or a proposed law), as loaded from its YAML file."""

    id: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
    version: str
    name: str
    status: PackStatus
    countries: list[CountryCode]
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
    timezone: str
    valuation: Valuation
    duty: DutyRules
    tax: TaxRules
    extends: str | None = None
    """The id of the pack this one modifies (merged by ``merge_over_base`` before validation)."""
    rounding: RoundingRule = "half_up"
    exchange_rate_source: str = ""
    low_value_ceiling: Parameter | None = None
    """Above this threshold value the low-value route ends: ``formal_entry_required``."""
    high_value_above: Parameter | None = None
    """Above this threshold value a consignment is ``high_value`` (WCO IRG category 4): the
    destination's simplified low-value declaration no longer applies."""
    statutory_rounding: StatutoryRounding | None = None
    options: dict[str, Option] = field(default_factory=dict)
    requirements: Requirements = field(default_factory=Requirements)
    screening: Screening = field(default_factory=Screening)
    excise: ExciseRules = field(default_factory=ExciseRules)
    risk_weights: dict[Code, Annotated[int, Meta(ge=0, le=100)]] = field(default_factory=dict)
    risk: RiskRules = field(default_factory=RiskRules)
    description: str = ""
    digest: str = ""
    """Filled by the loader: SHA-256 of the canonical content."""
    source_file: str = ""
    """Filled by the loader: where the pack came from (for messages)."""

    @cached_property
    def zone(self) -> tzinfo:
        """The destination's time zone (assessment date of ``occurred_at``)."""
        return zoneinfo.ZoneInfo(self.timezone)

    def option(self, name: str, overrides: Mapping[str, bool] | None = None) -> bool:
        """Whether option ``name`` is on: the override if given, else the pack default."""
        if overrides and name in overrides:
            return overrides[name]
        return self.options[name].default

    def aggregation_units(self) -> tuple[AggregationUnit, ...]:
        """Every running-total unit the pack's thresholds use (without ``consignment``)."""
        return self._aggregation_units

    @cached_property
    def _aggregation_units(self) -> tuple[AggregationUnit, ...]:  # once per pack load
        units: list[AggregationUnit] = []
        de_minimis = self.duty.de_minimis
        if de_minimis is not None:
            units.extend(u for u in de_minimis.aggregation if u != "consignment")
            if de_minimis.annual_cap is not None:
                units.append("consignee_year")
        return tuple(dict.fromkeys(units))

    def tax_rate_parameter(self, country: str) -> Parameter:
        """The standard-rate parameter for ``country`` (member-state rate in a union pack)."""
        parameter = self.tax.rates_by_country.get(country, self.tax.standard_rate)
        if parameter is None:  # the loader guarantees one exists per country
            raise UnsupportedDestination(country)
        return parameter


_Fail = Callable[[str, str], PackError]


def _duty_parameters(duty: DutyRules) -> Iterable[tuple[str, Parameter]]:
    if duty.de_minimis is not None:
        yield "duty.de_minimis.value_limit", duty.de_minimis.value_limit
        if duty.de_minimis.duty_limit is not None:
            yield "duty.de_minimis.duty_limit", duty.de_minimis.duty_limit
        if duty.de_minimis.annual_cap is not None:
            yield "duty.de_minimis.annual_cap", duty.de_minimis.annual_cap
        if duty.de_minimis.direct_shipment is not None:
            yield "duty.de_minimis.direct_shipment", duty.de_minimis.direct_shipment.value_limit
    if duty.gift_relief is not None:
        yield "duty.gift_relief.value_limit", duty.gift_relief.value_limit
    if duty.flat_per_subheading is not None:
        yield "duty.flat_per_subheading.amount", duty.flat_per_subheading.amount
        yield "duty.flat_per_subheading.value_ceiling", duty.flat_per_subheading.value_ceiling


def _tax_parameters(tax: TaxRules) -> Iterable[tuple[str, Parameter]]:
    if tax.standard_rate is not None:
        yield "tax.standard_rate", tax.standard_rate
    for country, parameter in tax.rates_by_country.items():
        yield f"tax.rates_by_country.{country}", parameter
    if tax.reduced_rate is not None and (tax.reduced_rate.rate or tax.reduced_rate.periods):
        yield "tax.reduced_rate.rate", tax.reduced_rate.schedule
    for name, tax_class in tax.tariff_classes.items():
        if tax_class.rate is not None:
            yield f"tax.tariff_classes.{name}.rate", tax_class.rate
    if tax.de_minimis is not None:
        yield "tax.de_minimis", tax.de_minimis
    if tax.de_minimis_direct_shipment is not None:
        yield "tax.de_minimis_direct_shipment", tax.de_minimis_direct_shipment.value_limit
    if tax.point_of_sale is not None:
        yield "tax.point_of_sale.ceiling", tax.point_of_sale.ceiling
    if tax.gift_relief is not None:
        yield "tax.gift_relief.value_limit", tax.gift_relief.value_limit


def parameters_of(pack: RulePack) -> Iterable[tuple[str, Parameter]]:
    """Every Parameter of a pack with its key path (for validation messages)."""
    yield from _duty_parameters(pack.duty)
    yield from _tax_parameters(pack.tax)
    if pack.low_value_ceiling is not None:
        yield "low_value_ceiling", pack.low_value_ceiling
    if pack.high_value_above is not None:
        yield "high_value_above", pack.high_value_above


def _tables(pack: RulePack) -> list[tuple[str, DutyTable]]:
    tables = [("duty.table", pack.duty.table)]
    for name, preference in pack.duty.preferences.items():
        if preference.table is not None:
            tables.append((f"duty.preferences.{name}.table", preference.table))
    return tables


def _check_lines(key: str, table: DutyTable, fail: _Fail) -> None:
    """Each written line has a non-negative rate or a readable duty form, not both."""
    if table.default is not None and table.default < 0:
        raise fail(f"{key}.default", "rates must not be negative")
    for index, line in enumerate(table.lines):
        where = f"{key}.lines[{index}]"
        if (line.rate is None) == (line.duty is None):
            raise fail(where, "give either rate or duty")
        if (line.rate is not None and line.rate < 0) or (
            line.per_unit is not None and line.per_unit < 0
        ):
            raise fail(where, "rates must not be negative")
        if line.duty is not None:
            try:
                parse_form(line.duty)
            except TariffError as error:
                raise fail(f"{where}.duty", str(error)) from None


def _check_numbers(pack: RulePack, fail: _Fail) -> None:
    """No negative rate or value; every parameter dated and cited."""
    for key, table in _tables(pack):
        _check_lines(key, table, fail)
    for key, parameter in parameters_of(pack):
        if not parameter.values:
            raise fail(f"{key}.values", "at least one dated value is required")
        if any(value is not None and value < 0 for value in parameter.plain_values().values()):
            raise fail(f"{key}.values", "values must not be negative")
        if not parameter.reference.strip() or not parameter.source.strip():
            raise fail(key, "every parameter needs a reference and a source")
        for day, entry in parameter.values.items():
            if isinstance(entry, DatedValue) and not (entry.reference.strip() and entry.source):
                raise fail(f"{key}.values.{day}", "a dated value needs a reference and a source")


def _check_reduced_rate(pack: RulePack, fail: _Fail) -> None:
    """One dated rate or periods; periods in order, not overlapping, naming known groups."""
    reduced = pack.tax.reduced_rate
    if reduced is None:
        return
    if (reduced.rate is None) == (not reduced.periods):
        raise fail("tax.reduced_rate", "give either rate or periods")
    previous: ReducedRatePeriod | None = None
    for index, period in enumerate(reduced.periods):
        where = f"tax.reduced_rate.periods[{index}]"
        if period.end < period.start or (previous is not None and period.start <= previous.end):
            raise fail(where, "periods must be in order, each ending on or after its start")
        unknown = [name for name in period.excluded if name not in reduced.exclusion_groups]
        if unknown:
            raise fail(f"{where}.excluded", f"unknown exclusion group(s) {unknown}")
        previous = period
    for name, group in reduced.exclusion_groups.items():
        if group.option is not None and group.option not in pack.options:
            raise fail(f"tax.reduced_rate.exclusion_groups.{name}.option", "unknown option")
    for name, tax_class in pack.tax.tariff_classes.items():
        if tax_class.option is not None and tax_class.option not in pack.options:
            raise fail(f"tax.tariff_classes.{name}.option", "unknown option")


def _check_preferences(pack: RulePack, fail: _Fail) -> None:
    """Each agreement has rates: a written table, or a column of the national tariff."""
    national = pack.duty.table.national
    for name, preference in pack.duty.preferences.items():
        where = f"duty.preferences.{name}"
        columns = [preference.column, *preference.columns_by_party.values()]
        if preference.table is None and columns == [None]:
            raise fail(where, "give a table or a column of the national tariff")
        for column in filter(None, columns):
            if national is None or national.column(column) is None:
                raise fail(f"{where}.column", f"no column {column!r} in the tariff file")


def _check(pack: RulePack, origin: str) -> None:
    """Cross-field rules msgspec cannot express; each failure names the file and the key."""

    def fail(key: str, problem: str) -> PackError:
        return PackError(f"{origin}: {key}: {problem}")

    _check_numbers(pack, fail)
    _check_reduced_rate(pack, fail)
    _check_preferences(pack, fail)
    option = pack.duty.de_minimis.option if pack.duty.de_minimis is not None else None
    if option is not None and option not in pack.options:
        raise fail("duty.de_minimis.option", f"unknown option {option!r}")
    scheme = pack.tax.point_of_sale
    border = scheme.border_tax_option if scheme is not None else None
    if border is not None and border not in pack.options:
        raise fail("tax.point_of_sale.border_tax_option", f"unknown option {border!r}")
    if pack.tax.standard_rate is None:
        missing = [c for c in pack.countries if c not in pack.tax.rates_by_country]
        if missing:
            raise fail("tax.rates_by_country", f"no VAT/GST rate for {', '.join(missing)}")
    if pack.valuation.customs_value == "cif" and "transport_and_insurance" in pack.tax.base:
        raise fail("tax.base", "transport_and_insurance is already in a CIF customs value")
    try:
        zoneinfo.ZoneInfo(pack.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise fail("timezone", f"unknown time zone {pack.timezone!r}") from error


ReadFile = Callable[[str], bytes]
"""Reads a file beside the pack's YAML by name (the national tariff)."""


def _with_national_tariff(pack: RulePack, origin: str, read_file: ReadFile | None) -> RulePack:
    """The pack with its national tariff file read and parsed (``duty.table.file``)."""
    table = pack.duty.table
    if table.national is not None:
        raise PackError(f"{origin}: duty.table.national: filled by the loader from duty.table.file")
    if table.file is None:
        return pack
    if read_file is None:
        raise PackError(f"{origin}: duty.table.file: no folder to read {table.file!r} from")
    try:
        national = parse_tariff(read_file(table.file), table.file)
    except (OSError, TariffError, UnicodeDecodeError) as error:
        raise PackError(f"{origin}: duty.table.file: {error}") from error
    duty = msgspec.structs.replace(
        pack.duty, table=msgspec.structs.replace(table, national=national)
    )
    return msgspec.structs.replace(pack, duty=duty)


def _digest(pack: RulePack) -> str:
    """SHA-256 of the canonical content; a national tariff counts by its header and bytes."""
    national = pack.duty.table.national
    if national is not None:  # its lines are in its sha256, not re-encoded line by line
        table = msgspec.structs.replace(pack.duty.table, national=None)
        pack = msgspec.structs.replace(pack, duty=msgspec.structs.replace(pack.duty, table=table))
    content = msgspec.to_builtins(pack, order="sorted")
    if national is not None:
        content["duty"]["table"]["national"] = msgspec.to_builtins(national.info, order="sorted")
    return hashlib.sha256(msgspec.json.encode(content)).hexdigest()


PackReader = Callable[[str], bytes | None]
"""The ``pack.yaml`` text of the pack with this id, or ``None`` if there is none."""


def _merge(base: object, override: object, path: str = "$", *, in_values: bool = False) -> object:
    """``override`` over ``base``: mappings merge key by key, anything else is replaced.

    A ``null`` in the override removes the inherited key (a key the base does not have is a
    typo: ``PackError``), except among a parameter's ``values`` where ``null`` keeps its meaning
    ("no longer applies from that day"); a dated value added there changes the parameter from
    that day on, as an OpenFisca reform updates a baseline.
    """
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    merged = dict(base)
    for key, value in override.items():
        where = f"{path}.{key}"
        if value is None and not in_values:
            if key not in merged:
                raise PackError(f"{where}: null removes an inherited key, but the base has none")
            del merged[key]
        elif key in merged:
            merged[key] = _merge(merged[key], value, where, in_values=key == "values")
        else:
            merged[key] = value
    return merged


def merge_over_base(
    text: str | bytes, origin: str, read_pack: PackReader | None, seen: tuple[str, ...] = ()
) -> dict[str, object] | None:
    """The raw content of a pack that ``extends`` another, merged over its base (and the base
    over its own base); ``None`` for a pack that extends nothing. Raises ``PackError``."""
    if b"extends" not in (text.encode() if isinstance(text, str) else text):
        return None  # most packs: decoded straight into the Structs
    raw = _raw_yaml(text, origin)
    base_id = raw.get("extends")
    if base_id is None:
        return None
    if not isinstance(base_id, str):
        raise PackError(f"{origin}: extends: expected the id of a pack, got {base_id!r}")
    chain = (*seen, str(raw.get("id")))
    if base_id in chain:
        raise PackError(f"{origin}: extends: a cycle ({' -> '.join((*chain, base_id))})")
    base_text = read_pack(base_id) if read_pack is not None else None
    if base_text is None:
        raise PackError(f"{origin}: extends: no pack {base_id!r} to extend")
    base_origin = f"{origin} (extends {base_id})"
    base = merge_over_base(base_text, base_origin, read_pack, chain)
    try:
        merged = _merge(base if base is not None else _raw_yaml(base_text, base_origin), raw)
    except PackError as error:
        raise PackError(f"{origin}: {error}") from error
    assert isinstance(merged, dict)
    return merged


def _raw_yaml(text: str | bytes, origin: str) -> dict[str, object]:
    try:
        raw = msgspec.yaml.decode(text)
    except msgspec.DecodeError as error:
        raise PackError(f"{origin}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise PackError(f"{origin}: a pack is a mapping of keys")
    return raw


def load_pack_text(
    text: str | bytes,
    origin: str,
    read_file: ReadFile | None = None,
    read_pack: PackReader | None = None,
) -> RulePack:
    """Decode, validate and digest one pack; raises ``PackError`` naming ``origin`` and the key.

    A pack that ``extends`` another is merged over it first (``read_pack`` finds the base), so
    validation and the digest see the whole, merged pack. ``read_file`` reads the files beside
    the pack (its national tariff), when it has any.
    """
    merged = merge_over_base(text, origin, read_pack)
    try:
        if merged is None:
            pack = msgspec.yaml.decode(text, type=RulePack)
        else:
            pack = msgspec.convert(merged, type=RulePack)
    except msgspec.ValidationError as error:
        raise PackError(f"{origin}: {error}") from error
    except msgspec.DecodeError as error:
        raise PackError(f"{origin}: not valid YAML: {error}") from error
    pack = _with_national_tariff(pack, origin, read_file)
    _check(pack, origin)
    return msgspec.structs.replace(pack, digest=_digest(pack), source_file=origin)


def _reader(root: Traversable, pack_id: str, texts: Mapping[str, bytes]) -> ReadFile:
    """Reads files of one pack folder (package data, like the YAML itself); a file a pack
    inherits through ``extends`` is read from the folder of the pack that names it."""

    def read(name: str) -> bytes:
        if "/" in name or name.startswith("."):
            raise OSError(f"{name!r}: only a file beside pack.yaml")
        candidate = root / pack_id / name
        if candidate.is_file():
            return candidate.read_bytes()
        base = _extends_of(texts[pack_id], pack_id)
        if base is None or base not in texts:
            raise OSError(f"{name!r}: no such file beside packs/{pack_id}/pack.yaml")
        return _reader(root, base, texts)(name)

    return read


def _extends_of(text: bytes, pack_id: str) -> str | None:
    """The id a pack's YAML ``extends``, if any (read without decoding the whole pack)."""
    if b"extends" not in text:
        return None
    base = _raw_yaml(text, f"packs/{pack_id}/pack.yaml").get("extends")
    return base if isinstance(base, str) else None


class PackRegistry:
    """Every bundled pack by id, and the default (in-force) pack per destination country."""

    __slots__ = ("_by_country", "_packs")

    def __init__(self, packs: Iterable[RulePack]) -> None:
        self._packs: dict[str, RulePack] = {}
        self._by_country: dict[str, RulePack] = {}
        for pack in packs:
            if pack.id in self._packs:
                raise PackError(f"{pack.source_file}: id: duplicate pack id {pack.id!r}")
            self._packs[pack.id] = pack
            if pack.status != "in_force":
                continue  # proposed law is selectable by id, never the default
            for country in pack.countries:
                if country in self._by_country:
                    raise PackError(
                        f"{pack.source_file}: countries: {country} already covered by "
                        f"{self._by_country[country].id!r}"
                    )
                self._by_country[country] = pack

    @classmethod
    def bundled(cls) -> PackRegistry:
        """Load every ``clearance/packs/*/pack.yaml`` shipped in the package."""
        root = importlib.resources.files(_PACKAGE)
        texts = {}
        for folder in sorted(root.iterdir(), key=lambda entry: entry.name):
            candidate = folder / "pack.yaml"
            if folder.is_dir() and candidate.is_file():
                texts[folder.name] = candidate.read_bytes()
        # a pack's folder is named by its id, so ``extends: vn`` reads packs/vn/pack.yaml
        return cls(
            load_pack_text(text, f"packs/{name}/pack.yaml", _reader(root, name, texts), texts.get)
            for name, text in texts.items()
        )

    @property
    def packs(self) -> list[RulePack]:
        """All packs, sorted by id."""
        return [self._packs[key] for key in sorted(self._packs)]

    def get(self, pack_id: str) -> RulePack:
        """The pack with this id; raises ``UnknownPack``."""
        try:
            return self._packs[pack_id]
        except KeyError:
            raise UnknownPack(f"no rule pack with id {pack_id!r}") from None

    def for_destination(self, country: str, pack_id: str | None = None) -> RulePack:
        """The pack for ``country``: ``pack_id`` if given (it must cover it), else the default."""
        if pack_id is not None:
            pack = self.get(pack_id)
            if country not in pack.countries:
                raise UnknownPack(f"rule pack {pack_id!r} does not cover {country!r}")
            return pack
        try:
            return self._by_country[country]
        except KeyError:
            raise UnsupportedDestination(country) from None
