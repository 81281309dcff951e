"""``/v1/packs``: the rule packs and what each says on a date (public: the law in force)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec
from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from clearance.domain.packs import RulePack, parameters_of
from clearance.entrypoints.http.dependencies import Injected
from clearance.service.assessing import Assessor

__all__ = ["PackController"]


class PackSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One rule pack: which law, for which countries, exactly which content (digest)."""

    id: str
    version: str
    name: str
    status: str
    countries: list[str]
    currency: str
    digest: str


class ParameterInForce(msgspec.Struct, frozen=True, kw_only=True):
    """A legal parameter's value on the requested date, with where it comes from."""

    key: str
    value: Decimal | None
    unit: str
    reference: str
    source: str
    note: str = ""


class OptionInForce(msgspec.Struct, frozen=True, kw_only=True):
    """A named option for a disputed or unverified rule, with its default."""

    name: str
    default: bool
    description: str
    reference: str
    note: str = ""


class TariffSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A pack's national tariff file: its size, vintage and where it comes from."""

    file: str
    lines: int
    computable_lines: int
    """Lines whose MFN duty the engine computes (the others are quoted, never guessed)."""
    vintage: str
    reference: str
    source: str
    source_commit: str
    licence: str
    not_modelled: str
    sha256: str


class PackInForce(msgspec.Struct, frozen=True, kw_only=True):
    """What a pack says on ``as_of``."""

    pack: PackSummary
    as_of: date
    parameters: list[ParameterInForce]
    options: list[OptionInForce]
    tariff_lines: int
    """Lines of the national tariff file plus the lines written in the pack."""
    preferences: list[str]
    tariff: TariffSummary | None = None
    """``None`` when the pack has no national tariff file (AU, CA, SG)."""


class PackController(Controller):
    """Every rule pack the service knows, in force or proposed."""

    path = "/v1/packs"

    @get(summary="Rule packs")
    async def list_packs(self, assessor: Injected[Assessor]) -> list[PackSummary]:
        """Every rule pack the service knows, in force or proposed."""
        return [_summary(pack) for pack in assessor.packs.packs]

    @get("/{pack_id:str}", summary="What a rule pack says on a date")
    async def show_pack(
        self,
        pack_id: FromPath[str],
        assessor: Injected[Assessor],
        as_of: FromQuery[date | None] = None,
    ) -> PackInForce:
        """The pack's parameters in force on ``as_of`` (default: today where the pack applies)."""
        pack = assessor.packs.get(pack_id)  # an unknown pack is 404 (errors.py)
        return _in_force(pack, as_of or datetime.now(pack.zone).date())


def _summary(pack: RulePack) -> PackSummary:
    return PackSummary(
        id=pack.id,
        version=pack.version,
        name=pack.name,
        status=pack.status,
        countries=list(pack.countries),
        currency=pack.currency,
        digest=pack.digest,
    )


def _in_force(pack: RulePack, day: date) -> PackInForce:
    national = pack.duty.table.national
    return PackInForce(
        pack=_summary(pack),
        as_of=day,
        parameters=[
            ParameterInForce(
                key=key,
                value=parameter.at(day),
                unit=parameter.unit,
                reference=parameter.reference_at(day)[0],
                source=parameter.reference_at(day)[1],
                note=parameter.note.strip(),
            )
            for key, parameter in parameters_of(pack)
        ],
        options=[
            OptionInForce(
                name=name,
                default=option.default,
                description=option.description.strip(),
                reference=option.reference,
                note=option.note.strip(),
            )
            for name, option in pack.options.items()
        ],
        tariff_lines=len(pack.duty.table.lines) + (national.info.lines if national else 0),
        preferences=sorted(pack.duty.preferences),
        tariff=_tariff_summary(pack),
    )


def _tariff_summary(pack: RulePack) -> TariffSummary | None:
    national = pack.duty.table.national
    if national is None:
        return None
    info = national.info
    return TariffSummary(
        file=info.file,
        lines=info.lines,
        computable_lines=national.computable_lines,
        vintage=info.vintage,
        reference=info.reference,
        source=info.source,
        source_commit=info.source_commit,
        licence=info.licence,
        not_modelled=info.not_modelled,
        sha256=info.sha256,
    )
