"""The HTTP API (litestar): checkout quotes, rule packs and health; metrics on the ops port.

The API speaks the same msgspec Structs as the Kafka contracts. Errors always have the shape
``{"status_code", "detail", "extra": [{"path", "message"}]}``, where ``path`` is the JSON path of
the field to fix (``$.items[0].unit_price``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from aiokafka import AIOKafkaProducer
from litestar import Litestar, Request, Response, get, post
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, Schema, SecurityScheme
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins import OpenAPISchemaPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.typing import FieldDefinition

from clearance import __version__, bootstrap
from clearance import messages as m
from clearance.domain.fx import MissingExchangeRate
from clearance.domain.packs import RulePack, UnknownPack, UnsupportedDestination, parameters_of
from clearance.entrypoints.http.auth import Authenticator, call_log, caller_of, requires
from clearance.entrypoints.http.console import CONSOLE_ROUTES, csrf_secret
from clearance.entrypoints.http.errors import EXCEPTION_HANDLERS, Unprocessable
from clearance.entrypoints.http.metrics import request_metrics
from clearance.entrypoints.http.records import ROUTES
from clearance.health import Health, serve_ops
from clearance.metrics import Metrics
from clearance.service.assessing import Assessor
from clearance.service.intake import refuse_unstorable
from clearance.service.ports import Publisher
from clearance.settings import Settings
from clearance.telemetry import http_tracing

__all__ = ["ApiServices", "create_app"]

#: Largest accepted request body: 200 items of 512-character descriptions fit well within it.
MAX_BODY_BYTES = 512 * 1024


@dataclass
class ApiServices:
    """What the handlers need: built by ``api_cmd`` (or a test), connected at start-up."""

    assessor: Assessor
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=Health)
    db: bootstrap.Database | None = None
    producer: AIOKafkaProducer | None = None
    publisher: Publisher | None = None
    auth: Authenticator | None = None
    heartbeat_seconds: float = 1.0
    """How often the liveness heartbeat ticks while the event loop turns."""
    ops: asyncio.Server | None = None
    _heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the liveness heartbeat and the ops listener (``/metrics``, probes), connect the
        database (keys, decisions) and the producer (orders, inspections)."""
        self._heartbeat = asyncio.create_task(
            self.health.heartbeat(self.heartbeat_seconds), name="liveness heartbeat"
        )
        self.ops = await serve_ops(
            self.health, self.metrics, self.settings.ops_host, self.settings.ops_port
        )
        self.db = await bootstrap.open_database(self.settings, max_size=8)
        self.auth = Authenticator(
            self.db.keys,
            rate_per_second=self.settings.api_rate_per_key,
            burst=2 * self.settings.api_rate_per_key,
        )
        self.producer = bootstrap.kafka_producer(self.settings, client_id="clearance-api")
        await self.producer.start()
        self.publisher = bootstrap.publisher(self.producer, self.settings)
        self.health.add_check("database", self.db.ping)
        self.health.add_startup_check("schema_current", self.db.schema_is_current)
        self.health.started = True

    async def stop(self) -> None:
        """Flush the producer, close the pool, stop the ops listener and the heartbeat."""
        if self.producer is not None:
            await self.producer.stop()
        if self.db is not None:
            await self.db.close()
        if self.ops is not None:
            self.ops.close()
            await self.ops.wait_closed()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat


def _services(state: State) -> ApiServices:
    services: ApiServices = state.services
    return services


class DecimalStringSchema(OpenAPISchemaPlugin):
    """OpenAPI for ``Money``/``Kilograms``: a string holding a decimal, never a JSON number."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        """Our string-only decimal types."""
        return isinstance(value, type) and issubclass(value, m._DecimalString)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        """The same schema the JSON Schemas in ``contracts/`` use."""
        described = m.schema_hook(field_definition.annotation)
        return Schema(
            type=described["type"],
            pattern=described["pattern"],
            description=described["description"],
            examples=described["examples"],
        )


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


@post(
    "/v1/quotes",
    status_code=200,
    guards=[requires("platform")],
    summary="Quote duty and tax at checkout",
)
async def quote(
    request: Request[Any, Any, Any], data: JSONBody[m.OrderPlaced], state: State
) -> m.ClearanceDecision:
    """Assess an ``order.placed`` body without storing or publishing anything."""
    refuse_unstorable(data)
    caller = caller_of(request)
    if data.platform != caller.platform:
        raise PermissionDeniedException(
            f"this key quotes for platform {caller.platform!r}, not {data.platform!r}"
        )
    services = _services(state)
    try:
        with services.metrics.assessment_seconds.time():
            assessment = services.assessor.assess(data)
    except UnsupportedDestination:
        raise Unprocessable(
            f"destination {data.destination_country} has no rule pack",
            "$.destination_country",
        ) from None
    except MissingExchangeRate as error:
        raise Unprocessable(str(error), "$.currency") from None
    except UnknownPack as error:
        raise Unprocessable(str(error), "$.destination_country") from None
    return assessment.decision


@get("/v1/packs", summary="Rule packs")
async def list_packs(state: State) -> list[PackSummary]:
    """Every rule pack the service knows, in force or proposed."""
    return [_summary(pack) for pack in _services(state).assessor.packs.packs]


@get("/v1/packs/{pack_id:str}", summary="What a rule pack says on a date")
async def show_pack(
    pack_id: FromPath[str], state: State, as_of: FromQuery[date | None] = None
) -> PackInForce:
    """The pack's parameters in force on ``as_of`` (default: today where the pack applies)."""
    try:
        pack = _services(state).assessor.packs.get(pack_id)
    except UnknownPack as error:
        raise NotFoundException(str(error)) from None
    day = as_of or datetime.now(pack.zone).date()
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


@get("/health/live", summary="Liveness", include_in_schema=True)
async def live(state: State) -> Response[dict[str, object]]:
    """The process answers; checks no dependency."""
    ok, detail = _services(state).health.live()
    return Response({"status": "ok" if ok else "fail", **detail}, status_code=200 if ok else 503)


@get("/health/ready", summary="Readiness")
async def ready(state: State) -> Response[dict[str, object]]:
    """Dependencies answer (database, broker once wired)."""
    ok, detail = await _services(state).health.ready()
    return Response({"status": "ok" if ok else "fail", **detail}, status_code=200 if ok else 503)


@get("/health/startup", summary="Start-up finished")
async def startup(state: State) -> Response[dict[str, object]]:
    """Start-up finished and the database schema is the one this code expects."""
    ok, detail = await _services(state).health.startup()
    return Response(detail, status_code=200 if ok else 503)


def create_app(services: ApiServices, *, rate_limit_per_minute: int = 60_000) -> Litestar:
    """The litestar application around ``services`` (connected on start-up, closed on shutdown)."""

    async def on_startup(_: Litestar) -> None:
        await services.start()

    async def on_shutdown(_: Litestar) -> None:
        await services.stop()

    return Litestar(
        route_handlers=[
            quote,
            list_packs,
            show_pack,
            live,
            ready,
            startup,
            *ROUTES,
            *CONSOLE_ROUTES,
        ],
        template_config=TemplateConfig(
            directory=Path(str(importlib.resources.files("clearance") / "templates")),
            engine=JinjaTemplateEngine,
        ),
        # Forms of the console carry a token; the JSON API (bearer keys, no cookies) does not.
        csrf_config=CSRFConfig(
            secret=csrf_secret(services.settings.identity_key),
            cookie_secure=True,
            cookie_samesite="strict",
            exclude=["/v1/", "/health", "/schema"],
        ),
        state=State({"services": services}),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        type_decoders=[(DecimalStringSchema.is_plugin_supported_type, m._dec_hook)],
        plugins=[DecimalStringSchema(), http_tracing()],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        middleware=[
            request_metrics(services.metrics),
            call_log,
            # A coarse limit per client address, before any key is looked up; keys have their own.
            RateLimitConfig(
                rate_limit=("minute", rate_limit_per_minute),
                exclude=["/health"],
            ).middleware,
        ],
        openapi_config=OpenAPIConfig(
            title="parcel-clearance",
            version=__version__,
            path="/schema",
            components=Components(
                security_schemes={
                    "apiKey": SecurityScheme(
                        type="http", scheme="bearer", description="ck_<id>_<secret>"
                    )
                }
            ),
            security=[{"apiKey": []}],
        ),
        debug=False,
    )
