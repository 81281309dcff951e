"""The HTTP API (litestar): checkout quotes, orders, decisions, inspections, reports, rule packs,
keys, health and the officer console; metrics on the ops port.

``create_app`` assembles it: one controller per resource (``controllers/``), the dependencies a
handler may declare (``dependencies.py``), the lifespan that opens the database and the producer
through ``clearance.bootstrap`` (``state.py``), one exception map (``errors.py``), and the
middleware (metrics, call log, a rate limit per client address; CSRF on the console's forms).

The API speaks the same msgspec Structs as the Kafka contracts. Errors always have the shape
``{"status_code", "detail", "extra": [{"path", "message"}]}``, where ``path`` is the JSON path of
the field to fix (``$.items[0].unit_price``).
"""

from __future__ import annotations

import hashlib
import importlib.resources
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from clearance import bootstrap
from clearance import messages as m
from clearance.entrypoints.http.auth import call_log, per_address_limit
from clearance.entrypoints.http.controllers import API_CONTROLLERS, CONSOLE_CONTROLLERS
from clearance.entrypoints.http.dependencies import dependencies
from clearance.entrypoints.http.errors import EXCEPTION_HANDLERS
from clearance.entrypoints.http.metrics import request_metrics
from clearance.entrypoints.http.openapi import DecimalStringSchema, openapi_config
from clearance.entrypoints.http.state import ApiParts, lifespan
from clearance.health import Health
from clearance.metrics import Metrics
from clearance.service.assessing import Assessor
from clearance.settings import Settings
from clearance.telemetry import http_tracing

__all__ = ["CONSOLE_HEADERS", "MAX_BODY_BYTES", "create_app", "csrf_secret"]

#: Largest accepted request body: 200 items of 512-character descriptions fit well within it.
MAX_BODY_BYTES = 512 * 1024


def csrf_secret(identity_key: str) -> str:
    """The CSRF secret, derived from the identity key (the same on every API replica)."""
    return hashlib.sha256(f"console-csrf:{identity_key}".encode()).hexdigest()


#: On every console page: scripts, styles, images and form posts from this origin only, never in a
#: frame (clickjacking), no referrer leaving with a parcel's URL, no content-type guessing, and
#: nothing kept by a shared browser's cache.
CONSOLE_HEADERS = (
    ResponseHeader(
        name="Content-Security-Policy",
        value=(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
            " form-action 'self'; frame-ancestors 'none'"
        ),
    ),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Cache-Control", value="no-store"),
)


def _console(settings: Settings) -> Router:
    """The console's pages, their forms guarded by a CSRF token (cookie + hidden field)."""
    csrf = CSRFConfig(
        secret=csrf_secret(settings.identity_key),
        cookie_name="__Host-csrftoken",
        cookie_secure=True,
        cookie_samesite="strict",
    )
    return Router(
        path="/",
        route_handlers=CONSOLE_CONTROLLERS,
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
        response_headers=CONSOLE_HEADERS,
    )


def create_app(
    settings: Settings,
    *,
    assessor: Assessor | None = None,
    health: Health | None = None,
    metrics: Metrics | None = None,
    heartbeat_seconds: float = 1.0,
    rate_limit_per_minute: int = 60_000,
) -> Litestar:
    """The application for ``settings``; its lifespan connects on start-up and closes on shutdown.

    ``assessor``, ``health``, ``metrics`` and ``heartbeat_seconds`` are for tests (a fake clock,
    a fast heartbeat); the defaults are what ``clearance api`` runs.
    """
    parts = ApiParts(
        settings=settings,
        assessor=assessor if assessor is not None else bootstrap.assessor(settings),
        metrics=metrics if metrics is not None else Metrics(),
        health=health if health is not None else Health(),
        heartbeat_seconds=heartbeat_seconds,
    )
    return Litestar(
        route_handlers=[*API_CONTROLLERS, _console(settings)],
        dependencies=dependencies(),
        lifespan=[lifespan],
        state=parts.state(),
        template_config=TemplateConfig(
            directory=Path(str(importlib.resources.files("clearance") / "templates")),
            engine=JinjaTemplateEngine,
        ),
        # CSRF tokens guard the console's forms only (``CONSOLE_CONTROLLERS``): the JSON API takes
        # bearer keys, not cookies, and must not pay for a middleware it does not need.
        type_decoders=[(DecimalStringSchema.is_plugin_supported_type, m._dec_hook)],
        plugins=[DecimalStringSchema(), http_tracing()],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        middleware=[
            request_metrics(parts.metrics),
            call_log,
            # A coarse limit per client address, before any key is looked up; keys have their own.
            per_address_limit(rate_limit_per_minute / 60),
        ],
        # The service's own JSON logs (clearance.telemetry), not litestar's queue-thread handler:
        # one call-log line per request must not cost a thread hand-off.
        logging_config=None,
        openapi_config=openapi_config(),
        debug=False,
    )
