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
from datetime import date, tzinfo
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta, Struct, field

from clearance.domain.money import RoundingRule
from clearance.messages import ExciseCategory, RegistrationScheme, TransportMode

__all__ = [
    "AggregationUnit",
    "DirectShipmentLimit",
    "DutyDeMinimis",
    "DutyLine",
    "DutyRules",
    "DutyTable",
    "FlatPerSubheading",
    "Option",
    "PackError",
    "PackRegistry",
    "Parameter",
    "PointOfSaleScheme",
    "Preference",
    "RiskRules",
    "RulePack",
    "ScreeningEntry",
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


class UnknownPack(LookupError):
    """A pack id that is not bundled, or that does not cover the destination asked for."""


class _Strict(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, dict=True):
    """Base of every pack Struct: unknown keys are errors, so typos never pass silently."""


class Parameter(_Strict, frozen=True):
    """A dated legal parameter: the value in force on a day is the latest on or before it."""

    values: dict[date, Decimal | None]
    unit: str
    reference: str
    source: str
    note: str = ""
    status: PackStatus = "in_force"

    @cached_property
    def _days(self) -> list[date]:
        return sorted(self.values)

    def at(self, day: date) -> Decimal | None:
        """The value in force on ``day``; ``None`` before the first date or where set to null."""
        days = self._days
        index = bisect.bisect_right(days, day)
        return self.values[days[index - 1]] if index else None

    @cached_property
    def citation(self) -> str:
        """Reference and source for a Charge or Reason (built once per pack load)."""
        return f"{self.reference} <{self.source}>"

    def cite(self) -> str:
        """Reference and source for a Charge or Reason."""
        return self.citation


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
    direct_shipment: DirectShipmentLimit | None = None
    """A different ``value_limit`` by place of direct shipment and mode."""
    """Name of the pack option that switches this relief on; ``None``: always on."""


class DutyLine(_Strict, frozen=True):
    """One tariff line: an HS prefix and its ad valorem rate (plus an optional specific duty)."""

    hs: HsPrefix
    rate: Rate
    per_unit: Decimal | None = None
    """Specific duty per unit, in the pack currency, added to the ad valorem part."""
    excluded_origins: list[CountryCode] = field(default_factory=list)
    """For preferential lines: origins the concession does not cover ("0 (-KH, ID)")."""
    description: str = ""


class DutyTable(_Strict, frozen=True):
    """HS prefix -> rate; the most specific prefix wins; ``default`` when nothing matches."""

    reference: str
    source: str
    lines: list[DutyLine]
    default: Rate | None = None
    """``None``: an unknown line is held for classification rather than guessed."""
    note: str = ""

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
    """A trade agreement's preferential rates, usable only with an accepted origin proof."""

    parties: list[CountryCode]
    documents: list[str]
    table: DutyTable


class FlatPerSubheading(_Strict, frozen=True):
    """A flat duty per distinct tariff subheading (EU: EUR 3 per HS6 from 2026-07-01)."""

    amount: Parameter
    value_ceiling: Parameter
    """Consignments with threshold value up to this pay the flat duty instead of the tariff."""
    digits: Annotated[int, Meta(ge=4, le=10)] = 6


class DutyRules(_Strict, frozen=True):
    """How duty is computed: relief, special forms, the tariff and preferences."""

    table: DutyTable
    de_minimis: DutyDeMinimis | None = None
    flat_per_subheading: FlatPerSubheading | None = None
    preferences: dict[Code, Preference] = field(default_factory=dict)


class PointOfSaleScheme(_Strict, frozen=True):
    """Tax collected at checkout (EU IOSS, UK, AU LVIG, SG OVR) up to a value ceiling."""

    scheme: RegistrationScheme
    ceiling: Parameter
    per: Literal["consignment", "item"] = "consignment"
    excluded_excise: list[ExciseCategory] = field(default_factory=list)
    number_pattern: str | None = None
    basis: ValuationBasis | None = None
    """The value compared with the ceiling, when not the pack's threshold value (Singapore's OVR
    tests the sales value, without transport, while its import relief tests CIF)."""
    """Regular expression the registration number must match (e.g. IOSS ``^IM\\d{10}$``)."""


class ReducedRate(_Strict, frozen=True):
    """A temporary or category rate replacing the standard rate, with its exclusions."""

    rate: Parameter
    excluded_excise: list[ExciseCategory] = field(default_factory=list)
    excluded_hs_prefixes: list[HsPrefix] = field(default_factory=list)


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


class ScreeningEntry(_Strict, frozen=True):
    """Words (matched as whole normalised words) or HS prefixes that prohibit or restrict goods."""

    code: Code
    reference: str
    source: str
    terms: list[str] = field(default_factory=list)
    hs_prefixes: list[HsPrefix] = field(default_factory=list)
    except_phrases: list[str] = field(default_factory=list)
    """Phrases that start like a term but are not it ("ivory colour")."""
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
    """Points taken off the score for a trusted seller (``aeo``)."""
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
    rounding: RoundingRule = "half_up"
    exchange_rate_source: str = ""
    low_value_ceiling: Parameter | None = None
    """Above this threshold value the low-value route ends: ``formal_entry_required``."""
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
    if duty.flat_per_subheading is not None:
        yield "duty.flat_per_subheading.amount", duty.flat_per_subheading.amount
        yield "duty.flat_per_subheading.value_ceiling", duty.flat_per_subheading.value_ceiling


def _tax_parameters(tax: TaxRules) -> Iterable[tuple[str, Parameter]]:
    if tax.standard_rate is not None:
        yield "tax.standard_rate", tax.standard_rate
    for country, parameter in tax.rates_by_country.items():
        yield f"tax.rates_by_country.{country}", parameter
    if tax.reduced_rate is not None:
        yield "tax.reduced_rate.rate", tax.reduced_rate.rate
    if tax.de_minimis is not None:
        yield "tax.de_minimis", tax.de_minimis
    if tax.de_minimis_direct_shipment is not None:
        yield "tax.de_minimis_direct_shipment", tax.de_minimis_direct_shipment.value_limit
    if tax.point_of_sale is not None:
        yield "tax.point_of_sale.ceiling", tax.point_of_sale.ceiling


def parameters_of(pack: RulePack) -> Iterable[tuple[str, Parameter]]:
    """Every Parameter of a pack with its key path (for validation messages)."""
    yield from _duty_parameters(pack.duty)
    yield from _tax_parameters(pack.tax)
    if pack.low_value_ceiling is not None:
        yield "low_value_ceiling", pack.low_value_ceiling


def _check_numbers(pack: RulePack, fail: _Fail) -> None:
    """No negative rate or value; every parameter dated and cited."""
    tables = [("duty.table", pack.duty.table)]
    tables += [(f"duty.preferences.{k}.table", p.table) for k, p in pack.duty.preferences.items()]
    for key, table in tables:
        if table.default is not None and table.default < 0:
            raise fail(f"{key}.default", "rates must not be negative")
        for index, line in enumerate(table.lines):
            if line.rate < 0 or (line.per_unit is not None and line.per_unit < 0):
                raise fail(f"{key}.lines[{index}]", "rates must not be negative")
    for key, parameter in parameters_of(pack):
        if not parameter.values:
            raise fail(f"{key}.values", "at least one dated value is required")
        if any(value is not None and value < 0 for value in parameter.values.values()):
            raise fail(f"{key}.values", "values must not be negative")
        if not parameter.reference.strip() or not parameter.source.strip():
            raise fail(key, "every parameter needs a reference and a source")


def _check(pack: RulePack, origin: str) -> None:
    """Cross-field rules msgspec cannot express; each failure names the file and the key."""

    def fail(key: str, problem: str) -> PackError:
        return PackError(f"{origin}: {key}: {problem}")

    _check_numbers(pack, fail)
    option = pack.duty.de_minimis.option if pack.duty.de_minimis is not None else None
    if option is not None and option not in pack.options:
        raise fail("duty.de_minimis.option", f"unknown option {option!r}")
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


def load_pack_text(text: str | bytes, origin: str) -> RulePack:
    """Decode, validate and digest one pack; raises ``PackError`` naming ``origin`` and the key."""
    try:
        pack = msgspec.yaml.decode(text, type=RulePack)
    except msgspec.ValidationError as error:
        raise PackError(f"{origin}: {error}") from error
    except msgspec.DecodeError as error:
        raise PackError(f"{origin}: not valid YAML: {error}") from error
    _check(pack, origin)
    canonical = msgspec.json.encode(msgspec.to_builtins(pack, order="sorted"))
    return msgspec.structs.replace(
        pack, digest=hashlib.sha256(canonical).hexdigest(), source_file=origin
    )


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
        packs = []
        for folder in sorted(root.iterdir(), key=lambda entry: entry.name):
            candidate = folder / "pack.yaml"
            if folder.is_dir() and candidate.is_file():
                origin = f"packs/{folder.name}/pack.yaml"
                packs.append(load_pack_text(candidate.read_bytes(), origin))
        return cls(packs)

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
