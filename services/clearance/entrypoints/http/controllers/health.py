"""``/health``: the probes on the public port too (``/metrics`` only on the ops port)."""

from __future__ import annotations

from litestar import Controller, Response, get

from clearance.entrypoints.http.dependencies import Injected
from clearance.health import Health

__all__ = ["HealthController"]


class HealthController(Controller):
    """Liveness, readiness and start-up, as Kubernetes asks them."""

    path = "/health"

    @get("/live", summary="Liveness", include_in_schema=True)
    async def live(self, health: Injected[Health]) -> Response[dict[str, object]]:
        """The process answers; checks no dependency."""
        ok, detail = health.live()
        status = {"status": "ok" if ok else "fail", **detail}
        return Response(status, status_code=200 if ok else 503)

    @get("/ready", summary="Readiness")
    async def ready(self, health: Injected[Health]) -> Response[dict[str, object]]:
        """Dependencies answer (database, broker once wired)."""
        ok, detail = await health.ready()
        status = {"status": "ok" if ok else "fail", **detail}
        return Response(status, status_code=200 if ok else 503)

    @get("/startup", summary="Start-up finished")
    async def startup(self, health: Injected[Health]) -> Response[dict[str, object]]:
        """Start-up finished and the database schema is the one this code expects."""
        ok, detail = await health.startup()
        return Response(detail, status_code=200 if ok else 503)
