"""``/v1/reports``: for officers, duty and tax assessed, and what inspections found per signal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from clearance.entrypoints.http.dependencies import Injected
from clearance.entrypoints.http.guards import requires
from clearance.service.ports import ReadViews
from clearance.service.reports import report_filter

__all__ = ["ReportController"]

From = Annotated[date | None, QueryParameter(name="from")]


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


class ReportController(Controller):
    """Reports over current decisions and inspections, by assessment date."""

    path = "/v1/reports"
    guards = (requires("officer"),)

    @get("/revenue", summary="Duty and tax assessed")
    async def revenue(
        self,
        views: Injected[ReadViews],
        destination: FromQuery[str | None] = None,
        from_: From = None,
        to: FromQuery[date | None] = None,
    ) -> RevenueReport:
        """Current decisions' duty, tax and total due by currency and status (assessment dates)."""
        filters = report_filter(destination, from_, to)
        rows = await views.revenue(filters)
        return RevenueReport(
            destination=destination,
            from_=filters.day_from,
            to=filters.day_to,
            rows=[RevenueRow(**row) for row in rows],
        )

    @get("/risk", summary="Seizures per risk signal")
    async def risk_report(
        self,
        views: Injected[ReadViews],
        destination: FromQuery[str | None] = None,
        from_: From = None,
        to: FromQuery[date | None] = None,
    ) -> RiskReport:
        """For each signal, the inspected parcels that carried it and the share seized."""
        filters = report_filter(destination, from_, to)
        rows = await views.risk_report(filters)
        return RiskReport(
            destination=destination,
            from_=filters.day_from,
            to=filters.day_to,
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
