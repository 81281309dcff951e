"""What the API holds: the parts it is built from, and what its lifespan opens and closes.

``create_app`` keeps an ``ApiParts`` (known before start: settings, assessor, metrics, health);
``lifespan`` starts the liveness heartbeat and the ops listener, opens the database pool and the
producer through ``clearance.bootstrap``, and keeps them as ``Running`` until shutdown. Handlers
never read either: ``dependencies.py`` hands each of them what it declares, typed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from litestar import Litestar
from litestar.datastructures import State

from clearance import bootstrap
from clearance.entrypoints.http.auth import Authenticator
from clearance.health import Health, serve_ops
from clearance.metrics import Metrics
from clearance.service.assessing import Assessor
from clearance.service.ports import Publisher
from clearance.settings import Settings

__all__ = ["ApiParts", "Running", "lifespan", "parts_of", "running_of"]

_PARTS = "clearance.parts"
_RUNNING = "clearance.running"


@dataclass(frozen=True)
class ApiParts:
    """What the API is built from, the same for its whole life."""

    settings: Settings
    assessor: Assessor
    metrics: Metrics
    health: Health
    heartbeat_seconds: float = 1.0
    """How often the liveness heartbeat ticks while the event loop turns."""

    def state(self) -> State:
        """The application state that carries these parts."""
        return State({_PARTS: self})


@dataclass(frozen=True)
class Running:
    """What the lifespan started, from start-up to shutdown."""

    db: bootstrap.Database
    publisher: Publisher
    authenticator: Authenticator
    ops: asyncio.Server
    """The ops listener: ``/metrics`` and the probes, never on the public port."""
    heartbeat: asyncio.Task[None]


def parts_of(state: State) -> ApiParts:
    """The parts of the application whose state this is."""
    parts: ApiParts = state[_PARTS]
    return parts


def running_of(state: State) -> Running:
    """What the lifespan opened (requests are served only between start-up and shutdown)."""
    running: Running = state[_RUNNING]
    return running


@contextlib.asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Heartbeat, ops listener, database and producer for as long as the application serves;
    closed in the reverse order, also when start-up fails half way."""
    parts = parts_of(app.state)
    settings, health = parts.settings, parts.health
    async with contextlib.AsyncExitStack() as stack:
        heartbeat = asyncio.create_task(
            health.heartbeat(parts.heartbeat_seconds), name="liveness heartbeat"
        )
        stack.push_async_callback(_cancel, heartbeat)
        ops = await serve_ops(health, parts.metrics, settings.ops_host, settings.ops_port)
        stack.push_async_callback(_close, ops)
        ports = await stack.enter_async_context(bootstrap.api_ports(settings))
        authenticator = Authenticator(
            ports.db.keys,
            rate_per_second=settings.api_rate_per_key,
            burst=2 * settings.api_rate_per_key,
        )
        health.add_check("database", ports.db.ping)
        health.add_startup_check("schema_current", ports.db.schema_is_current)
        app.state[_RUNNING] = Running(
            db=ports.db,
            publisher=ports.publisher,
            authenticator=authenticator,
            ops=ops,
            heartbeat=heartbeat,
        )
        health.started = True
        yield


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()
