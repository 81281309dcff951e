"""``clearance bench --api``: checkout-quote latency at a fixed request rate, open loop.

Starts ``clearance api`` as a separate process (one server process, as production runs one per
pod), then sends ``POST /v1/quotes`` at a fixed rate regardless of how fast answers come back
(open loop: a slow server cannot slow the load down and hide its own latency). Latency is measured
from each request's *scheduled* send time, so queueing in the client counts against the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

import httpx

from clearance.devtools.devstack import free_port

__all__ = ["percentile", "run_api_bench", "running_api"]


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``samples`` (nearest rank)."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


@contextlib.contextmanager
def running_api(env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run ``clearance api`` on a free loopback port; yields its base URL; stops it on exit."""
    port = free_port()
    process_env = {
        **os.environ,
        "CLEARANCE_ENV": "dev",
        "OTEL_SDK_DISABLED": "true",
        "CLEARANCE_OPS_PORT": str(free_port()),  # its /metrics listener, clear of any worker's
        **(env or {}),
    }
    # Its logs (one line per call) go to a file: an unread pipe would fill and stall the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "clearance", "api", "--port", str(port)],
            env=process_env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            yield _wait_until_started(f"http://127.0.0.1:{port}", process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_started(base: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            stderr = log.read().decode(errors="replace")
            raise RuntimeError(f"clearance api exited at start-up: {stderr[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health/startup", timeout=0.5).status_code == 200:
                return base
        time.sleep(0.1)
    raise RuntimeError("clearance api did not start within 30 s")


#: Keep-alive connections the load client holds open (a platform's checkout fleet behind a pool).
CONNECTIONS = 32


async def _load(
    base: str, bodies: Sequence[bytes], rate: float, seconds: float, headers: Mapping[str, str]
) -> tuple[list[float], dict[int, int]]:
    """Send ``rate * seconds`` quotes on schedule over ``CONNECTIONS`` keep-alive connections.

    The client is plain HTTP/1.1 on asyncio streams, not httpx: at 500 requests/s httpx's own
    cost per request (milliseconds, in this same process) made the *client* fall behind, so the
    schedule slipped by tens of seconds while a profile of the server showed it idle half the
    time. This client costs tens of microseconds per request.
    """
    host, _, port = base.removeprefix("http://").partition(":")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    requests = [
        (
            f"POST /v1/quotes HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
            f"{head}content-length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    due: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while (item := await due.get()) is not None:
                request, scheduled = item
                writer.write(request)
                status = await _response_status(reader)
                latencies.append(time.perf_counter() - scheduled)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    clients = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    start = time.perf_counter()
    for index in range(int(rate * seconds)):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait((requests[index % len(requests)], scheduled))
    for _ in clients:
        due.put_nowait(None)
    await asyncio.gather(*clients)
    return latencies, statuses


async def _response_status(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (a ``content-length`` body) and answer its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(lines[0].split()[1])


def run_api_bench(
    bodies: Sequence[bytes],
    *,
    rate: float = 500.0,
    seconds: float = 10.0,
    warmup_seconds: float = 2.0,
    headers: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Quote latency at ``rate`` requests/s for ``seconds`` against a fresh ``clearance api``."""
    with running_api(env) as base:
        asyncio.run(_load(base, bodies, rate, warmup_seconds, headers or {}))
        latencies, statuses = asyncio.run(_load(base, bodies, rate, seconds, headers or {}))
    milliseconds = [latency * 1000 for latency in latencies]
    return {
        "requests": len(latencies),
        "rate_per_second": rate,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "p50_ms": round(percentile(milliseconds, 0.50), 2),
        "p99_ms": round(percentile(milliseconds, 0.99), 2),
        "max_ms": round(max(milliseconds), 2),
        "mean_ms": round(statistics.fmean(milliseconds), 2),
    }


def run_quote_bench(rate: float = 500.0, seconds: float = 10.0) -> dict[str, Any]:
    """``clearance bench --api``: quotes against a real ``clearance api`` with a platform key,
    on the embedded database and broker (or ``DATABASE_URL``/``KAFKA_BOOTSTRAP_SERVERS``)."""
    from clearance.adapters.postgres import KeyStore, connect, migrate
    from clearance.devtools.contracts import EXAMPLES
    from clearance.devtools.devstack import servers
    from clearance.messages import encode
    from clearance.service.access import new_key

    async def make_key(database: str) -> str:
        await migrate(database)
        pool = await connect(database)
        try:
            made = new_key("platform", EXAMPLES["order.placed"].platform)  # type: ignore[attr-defined]
            await KeyStore(pool).create_api_key(made)
        finally:
            await pool.close()
        return made.token

    with servers() as (kafka, database):
        token = asyncio.run(make_key(database))
        result = run_api_bench(
            [encode(EXAMPLES["order.placed"])],
            rate=rate,
            seconds=seconds,
            headers={"authorization": f"Bearer {token}"},
            env={
                "DATABASE_URL": database,
                "KAFKA_BOOTSTRAP_SERVERS": kafka,
                "CLEARANCE_ENABLE_IDEMPOTENCE": "false",  # the embedded broker lacks it
                "CLEARANCE_API_RATE_PER_KEY": "100000",  # measure latency, not the limit
            },
        )
    return {"benchmark": "api_quotes", **result, "target_p99_ms": 20.0}
