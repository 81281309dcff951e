"""One litestar controller per resource: ``API_CONTROLLERS`` (the JSON API) and the console."""

from __future__ import annotations

from litestar import Controller

from clearance.entrypoints.http.controllers.console import ConsoleController
from clearance.entrypoints.http.controllers.console_queue import QueueController
from clearance.entrypoints.http.controllers.decisions import DecisionController
from clearance.entrypoints.http.controllers.health import HealthController
from clearance.entrypoints.http.controllers.inspections import InspectionController
from clearance.entrypoints.http.controllers.keys import KeyController
from clearance.entrypoints.http.controllers.orders import OrderController
from clearance.entrypoints.http.controllers.packs import PackController
from clearance.entrypoints.http.controllers.quotes import QuoteController
from clearance.entrypoints.http.controllers.reports import ReportController

__all__ = ["API_CONTROLLERS", "CONSOLE_CONTROLLERS"]

#: The console's pages (sessions, CSRF tokens on every form).
CONSOLE_CONTROLLERS: list[type[Controller]] = [ConsoleController, QueueController]

#: The JSON API (bearer keys); the console is served apart, behind its CSRF middleware.
API_CONTROLLERS: list[type[Controller]] = [
    QuoteController,
    PackController,
    HealthController,
    DecisionController,
    ReportController,
    OrderController,
    InspectionController,
    KeyController,
]
