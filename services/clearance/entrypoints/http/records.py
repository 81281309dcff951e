"""HTTP routes over stored decisions and into the streams: decisions, holds, orders, inspections,
revenue, and key management.

Platforms read only their own decisions (another platform's parcel is 404, as if it did not exist)
and write only their own orders; officers list holds, record inspections and read revenue; admins
manage keys. Orders and inspections posted here go to Kafka like any other: the worker decides.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotFoundException,
)
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from clearance import bootstrap
from clearance import messages as m
from clearance.domain.access import ROLES, ApiKey
from clearance.domain.views import DecisionFilter
from clearance.entrypoints.http.auth import caller_of, requires
from clearance.entrypoints.http.errors import Unprocessable
from clearance.service import access, intake
from clearance.service.access import may_see
from clearance.service.intake import Accepted
from clearance.service.ports import Publisher

__all__ = ["ROUTES"]

Limit = Annotated[int, msgspec.Meta(ge=1, le=500)]


class DecisionPage(msgspec.Struct, frozen=True, kw_only=True):
    """Current decisions, newest first; pass ``next_cursor`` back as ``cursor`` for more."""

    items: list[m.ClearanceDecision]
    next_cursor: str | None


class RevenueRow(msgspec.Struct, frozen=True, kw_only=True):
    """Amounts of current decisions of one currency and status."""

    currency: str
    status: str
    parcels: int
    duty: Decimal
    tax: Decimal
    total_due: Decimal


class RevenueReport(msgspec.Struct, frozen=True, kw_only=True):
    """Duty and tax assessed, by currency and status, for revenue officers."""

    destination: str | None
    from_: date | None = msgspec.field(name="from")
    to: date | None
    rows: list[RevenueRow]


class KeyRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A key to create: a role, and the platform for a platform key."""

    role: str
    platform: m.PlatformName | None = None


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key: the token is shown this once and never again."""

    key_id: str
    role: str
    platform: str | None
    token: str


def _db(state: State) -> bootstrap.Database:
    db: bootstrap.Database | None = state.services.db
    if db is None:  # pragma: no cover - the app connects the database before serving
        raise HTTPException(status_code=503, detail="the database is not connected yet")
    return db


def _publisher(state: State) -> Publisher:
    publisher: Publisher | None = state.services.publisher
    if publisher is None:  # pragma: no cover - the app starts the producer before serving
        raise HTTPException(status_code=503, detail="the broker is not connected yet")
    return publisher


def _visible(caller: ApiKey, platform: str) -> None:
    """A platform key sees its own platform only: anything else does not exist for it (404)."""
    if not may_see(caller, platform):
        raise NotFoundException("no such decision")


# --- decisions -----------------------------------------------------------------------------------


async def _decision(
    request: Request[Any, Any, Any], parcel: tuple[str, str, str], revision: int | None
) -> m.ClearanceDecision:
    _visible(caller_of(request), parcel[0])
    body = await _db(request.app.state).views.decision_body(parcel, revision)
    if body is None:
        raise NotFoundException("no such decision")
    return m.decode_decision(body)


@get(
    "/v1/decisions/{platform:str}/{order_id:str}",
    guards=[requires("platform", "officer")],
    summary="A parcel's decision (shipment = the order)",
)
async def decision_of_order(
    request: Request[Any, Any, Any],
    platform: FromPath[str],
    order_id: FromPath[str],
    revision: FromQuery[int | None] = None,
) -> m.ClearanceDecision:
    """The current decision of the order's single parcel, or revision ``revision``."""
    return await _decision(request, (platform, order_id, order_id), revision)


@get(
    "/v1/decisions/{platform:str}/{order_id:str}/{shipment_id:str}",
    guards=[requires("platform", "officer")],
    summary="A parcel's decision",
)
async def decision_of_shipment(
    request: Request[Any, Any, Any],
    platform: FromPath[str],
    order_id: FromPath[str],
    shipment_id: FromPath[str],
    revision: FromQuery[int | None] = None,
) -> m.ClearanceDecision:
    """The current decision of one parcel, or revision ``revision``."""
    return await _decision(request, (platform, order_id, shipment_id), revision)


def _encode_cursor(position: tuple[datetime, str, str, str]) -> str:
    text = json.dumps([position[0].isoformat(), *position[1:]])
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str, str, str]:
    try:
        when, platform, order_id, shipment_id = json.loads(base64.urlsafe_b64decode(cursor))
        return datetime.fromisoformat(when), str(platform), str(order_id), str(shipment_id)
    except (ValueError, TypeError) as error:
        raise ClientException(f"cursor is not one this API gave: {error}") from None


@get("/v1/decisions", guards=[requires("officer")], summary="Current decisions (holds queue)")
async def list_decisions(
    state: State,
    status: FromQuery[str | None] = None,
    destination: FromQuery[str | None] = None,
    channel: FromQuery[str | None] = None,
    from_: Annotated[date | None, QueryParameter(name="from")] = None,
    to: FromQuery[date | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: FromQuery[Limit] = 100,
) -> DecisionPage:
    """Current decisions (latest revision per parcel), newest first, filtered; keyset pages."""
    filters = DecisionFilter(
        status=status,
        destination=destination,
        channel=channel,
        day_from=from_,
        day_to=to,
    )
    after = _decode_cursor(cursor) if cursor else None
    rows = await _db(state).views.current_decisions(filters, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return DecisionPage(
        items=[m.decode_decision(body) for _, body in rows],
        next_cursor=_encode_cursor(rows[-1][0]) if more and rows else None,
    )


@get("/v1/reports/revenue", guards=[requires("officer")], summary="Duty and tax assessed")
async def revenue(
    state: State,
    destination: FromQuery[str | None] = None,
    from_: Annotated[date | None, QueryParameter(name="from")] = None,
    to: FromQuery[date | None] = None,
) -> RevenueReport:
    """Current decisions' duty, tax and total due by currency and status (assessment dates)."""
    filters = DecisionFilter(destination=destination, day_from=from_, day_to=to)
    rows = await _db(state).views.revenue(filters)
    return RevenueReport(
        destination=destination,
        from_=from_,
        to=to,
        rows=[RevenueRow(**row) for row in rows],
    )


class SignalOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """How often parcels carrying a signal were seized when an officer inspected them."""

    signal: str
    inspected: int
    seized: int
    hit_rate: float


class RiskReport(msgspec.Struct, frozen=True, kw_only=True):
    """Hit rate per risk signal, from inspection results: the evidence for tuning weights."""

    destination: str | None
    from_: date | None = msgspec.field(name="from")
    to: date | None
    signals: list[SignalOutcome]


@get("/v1/reports/risk", guards=[requires("officer")], summary="Seizures per risk signal")
async def risk_report(
    state: State,
    destination: FromQuery[str | None] = None,
    from_: Annotated[date | None, QueryParameter(name="from")] = None,
    to: FromQuery[date | None] = None,
) -> RiskReport:
    """For each signal, the inspected parcels that carried it and the share seized."""
    filters = DecisionFilter(destination=destination, day_from=from_, day_to=to)
    rows = await _db(state).views.risk_report(filters)
    return RiskReport(
        destination=destination,
        from_=from_,
        to=to,
        signals=[
            SignalOutcome(
                signal=row["signal"],
                inspected=row["inspected"],
                seized=row["seized"],
                hit_rate=round(row["seized"] / row["inspected"], 3),
            )
            for row in rows
        ],
    )


# --- into the streams ----------------------------------------------------------------------------


@post("/v1/orders", guards=[requires("platform")], status_code=202, summary="Submit an order")
async def submit_order(request: Request[Any, Any, Any], data: JSONBody[m.OrderEvent]) -> Accepted:
    """For platforms that cannot produce to Kafka: the event goes to ``orders.v1`` as is, with
    the caller's trace context; the decision follows on ``decisions.v1`` (and GET)."""
    services = request.app.state.services
    return await intake.submit_order(
        data, caller_of(request), services.assessor, _publisher(request.app.state)
    )


@post(
    "/v1/inspections", guards=[requires("officer")], status_code=202, summary="Record an inspection"
)
async def record_inspection(state: State, data: JSONBody[m.InspectionResult]) -> Accepted:
    """An officer's result for the parcel's current decision; the worker revises it."""
    return await intake.submit_inspection(data, _db(state).views, _publisher(state))


# --- keys ----------------------------------------------------------------------------------------


@post("/v1/keys", guards=[requires("admin")], status_code=201, summary="Create an API key")
async def create_key(state: State, data: JSONBody[KeyRequest]) -> CreatedKey:
    """A new key; its token is in this answer only."""
    if data.role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}", "$.role")
    try:
        made = await access.create_key(_db(state).keys, data.role, data.platform)  # type: ignore[arg-type]
    except ValueError as error:
        raise Unprocessable(str(error), "$.platform") from None
    key = made.key
    return CreatedKey(key_id=key.key_id, role=key.role, platform=key.platform, token=made.token)


@delete("/v1/keys/{key_id:str}", guards=[requires("admin")], summary="Revoke an API key")
async def revoke_key(state: State, key_id: FromPath[str]) -> None:
    """Revoke a key (it stops working within seconds)."""
    if not await access.revoke_key(_db(state).keys, key_id):
        raise NotFoundException(f"no live key {key_id}")


ROUTES = [
    decision_of_order,
    decision_of_shipment,
    list_decisions,
    revenue,
    risk_report,
    submit_order,
    record_inspection,
    create_key,
    revoke_key,
]
