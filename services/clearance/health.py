"""Health for Kubernetes probes, and a tiny HTTP listener that serves it with ``/metrics``.

Three probes with distinct meanings (Kubernetes conventions):

* **startup** (``/health/startup``): start-up finished (migrations checked, clients started);
* **liveness** (``/health/live``): the process makes progress: the main loop ticked recently. It
  checks no dependency, so a database outage never restarts every pod at once;
* **readiness** (``/health/ready``): dependencies answer: each named check passes (database
  reachable, consumer group joined with partitions assigned or none to assign).

The worker serves these on a small listener of its own; the API serves the same ``Health`` object
through its own routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable

from clearance.metrics import CONTENT_TYPE, Metrics

__all__ = ["Health", "serve_ops"]

Check = Callable[[], Awaitable[bool]]
LiveCheck = Callable[[], bool]


class Health:
    """What the probes report for one process."""

    def __init__(self, stall_after_seconds: float = 60.0) -> None:
        self.started = False
        self.stall_after_seconds = stall_after_seconds
        self._last_tick = time.monotonic()
        self._checks: dict[str, Check] = {}
        self._live_checks: dict[str, LiveCheck] = {}

    def tick(self) -> None:
        """Called by the main loop on every turn: proof of progress for liveness."""
        self._last_tick = time.monotonic()

    def add_check(self, name: str, check: Check) -> None:
        """Register a readiness check (an async callable answering True when healthy)."""
        self._checks[name] = check

    def add_live_check(self, name: str, check: LiveCheck) -> None:
        """Register a liveness check (a plain callable: liveness never waits on I/O)."""
        self._live_checks[name] = check

    def live(self) -> tuple[bool, dict[str, object]]:
        """Liveness: the loop ticked within ``stall_after_seconds`` and every live check passes."""
        idle = time.monotonic() - self._last_tick
        detail: dict[str, object] = {"seconds_since_progress": round(idle, 3)}
        healthy = idle < self.stall_after_seconds
        for name, check in self._live_checks.items():
            passed = check()
            detail[name] = passed
            healthy = healthy and passed
        return healthy, detail

    async def ready(self) -> tuple[bool, dict[str, object]]:
        """Readiness: started, and every check passes (a failing or raising check is False)."""
        results: dict[str, object] = {"started": self.started}
        healthy = self.started
        for name, check in self._checks.items():
            try:
                passed = await asyncio.wait_for(check(), timeout=2.0)
            except Exception:  # noqa: BLE001 - any failure of a dependency means "not ready"
                passed = False
            results[name] = passed
            healthy = healthy and passed
        return healthy, results


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


async def serve_ops(health: Health, metrics: Metrics, host: str, port: int) -> asyncio.Server:
    """Start the worker's ops listener (``/metrics``, ``/health/{startup,live,ready}``)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5.0)
        except (TimeoutError, ConnectionError):
            writer.close()
            return
        parts = request_line.decode("latin-1").split()
        path = parts[1] if len(parts) >= 2 else ""
        if path == "/metrics":
            await _answer(writer, 200, metrics.render(), CONTENT_TYPE)
            return
        if path == "/health/live":
            ok, detail = health.live()
        elif path == "/health/startup":
            ok, detail = health.started, {"started": health.started}
        elif path == "/health/ready":
            ok, detail = await health.ready()
        else:
            await _answer(writer, 404, b'{"detail":"not found"}', "application/json")
            return
        body = json.dumps({"status": "ok" if ok else "fail", **detail}).encode()
        await _answer(writer, 200 if ok else 503, body, "application/json")

    return await asyncio.start_server(handle, host, port)
