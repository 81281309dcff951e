"""Request rate, errors and latency of the HTTP API (the RED metrics), as ASGI middleware.

Labels stay bounded: the route is litestar's route template (``/v1/decisions/{platform:str}/...``),
never the raw path, and health probes are not counted (they would drown the traffic).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from clearance.metrics import Metrics

__all__ = ["request_metrics"]


def request_metrics(metrics: Metrics) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware factory counting every answered request and timing it."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if str(scope["type"]) != "http" or scope["path"].startswith("/health"):
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500  # an exception that escapes becomes a 500 further out

            async def capture(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, capture)
            finally:
                method = str(scope.get("method", ""))
                route = str(scope.get("path_template") or "unmatched")
                metrics.http_requests.labels(method, route, str(status)).inc()
                metrics.http_request_seconds.labels(method, route).observe(
                    time.perf_counter() - started
                )

        return middleware

    return wrap
