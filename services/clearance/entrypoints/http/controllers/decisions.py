"""``/v1/decisions``: a parcel's decision (its platform's, or any for an officer), and the
officers' list of current decisions.

Another platform's parcel does not exist for a platform key (404, not 403): ``may_see`` decides.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.domain.parcels import ParcelKey
from clearance.domain.views import DecisionFilter
from clearance.entrypoints.http.dependencies import Injected
from clearance.entrypoints.http.guards import requires
from clearance.service.access import decision_for, may_see, platform_scope
from clearance.service.ports import ReadViews

__all__ = ["DecisionController"]

Limit = Annotated[int, msgspec.Meta(ge=1, le=500)]
Position = tuple[datetime, str, str, str]


class DecisionPage(msgspec.Struct, frozen=True, kw_only=True):
    """Current decisions, newest first; pass ``next_cursor`` back as ``cursor`` for more."""

    items: list[m.ClearanceDecision]
    next_cursor: str | None


class DecisionController(Controller):
    """Stored decisions, as the worker wrote them."""

    path = "/v1/decisions"

    @get(
        "/{platform:str}/{order_id:str}",
        guards=[requires("platform", "officer")],
        summary="A parcel's decision (shipment = the order)",
    )
    async def decision_of_order(
        self,
        platform: FromPath[str],
        order_id: FromPath[str],
        caller: Injected[ApiKey],
        views: Injected[ReadViews],
        revision: FromQuery[int | None] = None,
    ) -> m.ClearanceDecision:
        """The current decision of the order's single parcel, or revision ``revision``."""
        return await _decision(views, caller, (platform, order_id, order_id), revision)

    @get(
        "/{platform:str}/{order_id:str}/{shipment_id:str}",
        guards=[requires("platform", "officer")],
        summary="A parcel's decision",
    )
    async def decision_of_shipment(
        self,
        platform: FromPath[str],
        order_id: FromPath[str],
        shipment_id: FromPath[str],
        caller: Injected[ApiKey],
        views: Injected[ReadViews],
        revision: FromQuery[int | None] = None,
    ) -> m.ClearanceDecision:
        """The current decision of one parcel, or revision ``revision``."""
        return await _decision(views, caller, (platform, order_id, shipment_id), revision)

    @get(guards=[requires("officer")], summary="Current decisions (holds queue)")
    async def list_decisions(
        self,
        caller: Injected[ApiKey],
        views: Injected[ReadViews],
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
            platform=platform_scope(caller),
        )
        after = _decode_cursor(cursor) if cursor else None
        rows = await views.current_decisions(filters, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return DecisionPage(
            items=[decision_for(caller, m.decode_decision(body)) for _, body in rows],
            next_cursor=_encode_cursor(rows[-1][0]) if more and rows else None,
        )


async def _decision(
    views: ReadViews, caller: ApiKey, parcel: ParcelKey, revision: int | None
) -> m.ClearanceDecision:
    body = await views.decision_body(parcel, revision) if may_see(caller, parcel[0]) else None
    if body is None:
        raise NotFoundException("no such decision")
    return decision_for(caller, m.decode_decision(body))


def _encode_cursor(position: Position) -> str:
    text = json.dumps([position[0].isoformat(), *position[1:]])
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_cursor(cursor: str) -> Position:
    try:
        when, platform, order_id, shipment_id = json.loads(base64.urlsafe_b64decode(cursor))
        return datetime.fromisoformat(when), str(platform), str(order_id), str(shipment_id)
    except (ValueError, TypeError) as error:
        raise ClientException(f"cursor is not one this API gave: {error}") from None
