"""``/v1/inspections``: an officer's result for a parcel's current decision."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.entrypoints.http.dependencies import Injected
from clearance.entrypoints.http.guards import requires
from clearance.service import intake
from clearance.service.intake import Accepted
from clearance.service.ports import Publisher, ReadViews

__all__ = ["InspectionController"]


class InspectionController(Controller):
    """Inspection results into ``inspections.v1``; the worker revises the decision."""

    path = "/v1/inspections"
    guards = (requires("officer"),)

    @post(status_code=202, summary="Record an inspection")
    async def record_inspection(
        self,
        data: JSONBody[m.InspectionResult],
        caller: Injected[ApiKey],
        views: Injected[ReadViews],
        publisher: Injected[Publisher],
    ) -> Accepted:
        """An officer's result for the parcel's current decision; the worker revises it.

        ``officer_id`` and ``occurred_at`` are set by the server (the calling key, now)."""
        return await intake.submit_inspection(data, caller, views, publisher)
