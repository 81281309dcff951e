"""Health for Kubernetes probes, and a tiny HTTP listener that serves it with ``/metrics``.

Three probes with distinct meanings (Kubernetes conventions):

* **startup** (``/health/startup``): start-up finished (clients started) and every start-up check
  passes (the database schema is at the version this code expects); once passed, it stays passed;
* **liveness** (``/health/live``): the process makes progress: the main loop ticked recently. The
  worker ticks on every turn of its loop; the API runs ``heartbeat()`` in its event loop, so an idle
  API stays alive and only a loop that stops turning (blocked, wedged) goes stale. It checks no
  dependency, so a database outage never restarts every pod at once;
* **readiness** (``/health/ready``): dependencies answer: each named check passes (database
  reachable, consumer group joined with partitions assigned or none to assign).

Both processes serve these with ``/metrics`` on a small internal listener of their own (the ops
port); the API also answers the probes on its public port, never ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from clearance.metrics import Metrics

__all__ = ["Health", "serve_ops"]

Check = Callable[[], Awaitable[bool]]
LiveCheck = Callable[[], bool]


class Health:
    """What the probes report for one process.

    ``clock`` is a monotonic source of seconds (tests pass a fake one to cover minutes of uptime
    without waiting for them).
    """

    def __init__(
        self,
        stall_after_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        ready_for_seconds: float = 2.0,
    ) -> None:
        self.started = False
        self.stall_after_seconds = stall_after_seconds
        self.ready_for_seconds = ready_for_seconds
        self.clock = clock
        self._readiness: tuple[float, tuple[bool, dict[str, object]]] | None = None
        self._checking: asyncio.Task[tuple[bool, dict[str, object]]] | None = None
        self._last_tick = clock()
        self._checks: dict[str, Check] = {}
        self._live_checks: dict[str, LiveCheck] = {}
        self._startup_checks: dict[str, Check] = {}
        self._startup_passed = False

    def tick(self) -> None:
        """Called by the main loop on every turn: proof of progress for liveness."""
        self._last_tick = self.clock()

    async def heartbeat(self, every_seconds: float = 1.0) -> None:
        """Tick every ``every_seconds`` for as long as the event loop turns (run it as a task).

        A process whose work arrives as requests (the API) has no main loop of its own to tick;
        this task is that loop's proof of progress: while the loop is blocked it cannot run.
        """
        while True:
            self.tick()
            await asyncio.sleep(every_seconds)

    def add_check(self, name: str, check: Check) -> None:
        """Register a readiness check (an async callable answering True when healthy)."""
        self._checks[name] = check

    def add_startup_check(self, name: str, check: Check) -> None:
        """Register a start-up check: ``startup()`` fails until it passes once."""
        self._startup_checks[name] = check

    def add_live_check(self, name: str, check: LiveCheck) -> None:
        """Register a liveness check (a plain callable: liveness never waits on I/O)."""
        self._live_checks[name] = check

    def live(self) -> tuple[bool, dict[str, object]]:
        """Liveness: the loop ticked within ``stall_after_seconds`` and every live check passes."""
        idle = self.clock() - self._last_tick
        detail: dict[str, object] = {"seconds_since_progress": round(idle, 3)}
        healthy = idle < self.stall_after_seconds
        for name, check in self._live_checks.items():
            passed = check()
            detail[name] = passed
            healthy = healthy and passed
        return healthy, detail

    async def startup(self) -> tuple[bool, dict[str, object]]:
        """Start-up: ``started``, and every start-up check passed (remembered once passed)."""
        if self._startup_passed:
            return True, {"started": True}
        results: dict[str, object] = {"started": self.started}
        if self.started:
            results |= await _run(self._startup_checks)
        self._startup_passed = all(results.values())
        return self._startup_passed, results

    async def ready(self) -> tuple[bool, dict[str, object]]:
        """Readiness: started, and every check passes (a failing or raising check is False).

        The answer is kept ``ready_for_seconds`` and one check runs at a time, however many ask:
        the probe is unauthenticated, and a flood of it must not become a flood of database pings
        taking the pool (and so the pod) out of service.
        """
        if self._readiness is not None:
            checked_at, answer = self._readiness
            if self.clock() - checked_at < self.ready_for_seconds:
                return answer
        if self._checking is None or self._checking.done():
            self._checking = asyncio.get_running_loop().create_task(self._check_ready())
        return await asyncio.shield(self._checking)

    async def _check_ready(self) -> tuple[bool, dict[str, object]]:
        results: dict[str, object] = {"started": self.started} | await _run(self._checks)
        answer = (all(results.values()), results)
        if self.started:  # before that, the next probe must see start-up finish at once
            self._readiness = (self.clock(), answer)
        return answer


async def _run(checks: dict[str, Check]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, check in checks.items():
        try:
            results[name] = bool(await asyncio.wait_for(check(), timeout=2.0))
        except Exception:  # noqa: BLE001 - any failure of a dependency means "not ready"
            results[name] = False
    return results


async def _answer(
    writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str
) -> None:
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()


#: Request headers read at most (a scraper sends a handful).
_MAX_HEADERS = 64


async def _accept_header(reader: asyncio.StreamReader) -> str | None:
    """The request's ``Accept`` header (how a scraper says it wants OpenMetrics), if any."""
    accept = None
    try:
        for _ in range(_MAX_HEADERS):
            line = await asyncio.wait_for(reader.readline(), timeout=5.0)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "accept":
                accept = value.strip()
    except (TimeoutError, ConnectionError, ValueError):
        return accept
    return accept


async def serve_ops(health: Health, metrics: Metrics, host: str, port: int) -> asyncio.Server:
    """Start the ops listener (``/metrics``, ``/health/{startup,live,ready}``) of a process."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5.0)
        except (TimeoutError, ConnectionError):
            writer.close()
            return
        parts = request_line.decode("latin-1").split()
        path = parts[1] if len(parts) >= 2 else ""
        if path == "/metrics":
            accept = await _accept_header(reader)
            body, content_type = metrics.exposition(accept)
            await _answer(writer, 200, body, content_type)
            return
        if path == "/health/live":
            ok, detail = health.live()
        elif path == "/health/startup":
            ok, detail = await health.startup()
        elif path == "/health/ready":
            ok, detail = await health.ready()
        else:
            await _answer(writer, 404, b'{"detail":"not found"}', "application/json")
            return
        body = json.dumps({"status": "ok" if ok else "fail", **detail}).encode()
        await _answer(writer, 200 if ok else 503, body, "application/json")

    return await asyncio.start_server(handle, host, port)
