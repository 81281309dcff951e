"""The ops listener answers the probes and serves metrics that add up."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request

from clearance.devtools.contracts import EXAMPLES
from clearance.health import Health, serve_ops
from clearance.messages import ClearanceDecision
from clearance.metrics import Metrics


async def _get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_probes_follow_start_up_progress_and_dependencies() -> None:
    health = Health(stall_after_seconds=60, ready_for_seconds=0)
    database_up = True

    async def database() -> bool:
        return database_up

    async def broken() -> bool:
        raise ConnectionError("refused")

    health.add_check("database", database)
    server = await serve_ops(health, Metrics(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert (await _get(port, "/health/startup"))[0] == 503
        assert (await _get(port, "/health/ready"))[0] == 503
        health.started = True
        assert (await _get(port, "/health/startup"))[0] == 200
        assert (await _get(port, "/health/ready"))[0] == 200
        database_up = False
        status, body = await _get(port, "/health/ready")
        assert status == 503 and b'"database": false' in body
        database_up = True
        health.add_check("broker", broken)
        assert (await _get(port, "/health/ready"))[0] == 503
        assert (await _get(port, "/health/live"))[0] == 200
        health.stall_after_seconds = 0
        assert (await _get(port, "/health/live"))[0] == 503
        assert (await _get(port, "/nope"))[0] == 404
    finally:
        server.close()
        await server.wait_closed()


async def test_a_flood_of_readiness_probes_checks_the_database_once() -> None:
    # /health/ready is unauthenticated and its check takes a connection from the pool the
    # requests use: before #20 each probe took one, so a flood of probes emptied the pool.
    clock = FakeClock()
    health = Health(clock=clock, ready_for_seconds=2.0)
    health.started = True
    pings = 0
    answer = True

    async def database() -> bool:
        nonlocal pings
        pings += 1
        await asyncio.sleep(0.05)
        return answer

    health.add_check("database", database)
    answers = await asyncio.gather(*(health.ready() for _ in range(500)))
    assert pings == 1 and all(ok for ok, _ in answers)
    answer = False
    clock.advance(1.9)
    assert (await health.ready())[0] is True and pings == 1  # kept 2 s
    clock.advance(0.2)
    assert (await health.ready())[0] is False and pings == 2  # then asked again


def test_decision_metrics_add_up() -> None:
    metrics = Metrics()
    decision = EXAMPLES["clearance.decision"]
    assert isinstance(decision, ClearanceDecision)
    metrics.record_decisions([decision, decision])
    metrics.dead_letters.labels("MALFORMED_JSON").inc()
    text = metrics.render().decode()
    labels = 'channel="green",destination="VN",status="release_on_payment"'
    assert f"clearance_decisions_total{{{labels}}} 2.0" in text
    assert 'clearance_duty_assessed_total{currency="VND"} 381000.0' in text
    assert 'clearance_tax_assessed_total{currency="VND"} 233680.0' in text
    assert 'clearance_dead_letters_total{code="MALFORMED_JSON"} 1.0' in text


class FakeClock:
    """A monotonic clock the test moves by hand: minutes of uptime without waiting for them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def test_an_idle_process_stays_live_past_two_minutes_while_its_loop_turns() -> None:
    clock = FakeClock()
    health = Health(stall_after_seconds=60, clock=clock)
    silent = Health(stall_after_seconds=60, clock=clock)  # no heartbeat: the API before #21
    beating = asyncio.create_task(health.heartbeat(every_seconds=0.001))
    server = await serve_ops(health, Metrics(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for _ in range(15):  # 150 s of uptime with no work at all
            clock.advance(10)
            await asyncio.sleep(0.01)  # the loop turns, as it does in an idle server
            assert (await _get(port, "/health/live"))[0] == 200
        assert health.live()[0]
        assert not silent.live()[0]
    finally:
        beating.cancel()
        server.close()
        await server.wait_closed()


async def test_liveness_fails_while_the_event_loop_is_blocked() -> None:
    health = Health(stall_after_seconds=0.3)
    beating = asyncio.create_task(health.heartbeat(every_seconds=0.02))
    server = await serve_ops(health, Metrics(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    seen: dict[str, object] = {}
    asked = threading.Event()

    def probe() -> None:
        """What the kubelet sees while the loop is wedged: no answer within its timeout, and
        the liveness state (read from outside the loop) says stalled."""
        asked.set()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=0.5):
                seen["answered"] = True
        except OSError:  # the timeout: the probe fails
            seen["answered"] = False
        seen["live"] = health.live()[0]

    try:
        await asyncio.sleep(0.05)
        assert health.live()[0]
        thread = threading.Thread(target=probe)
        thread.start()
        asked.wait(timeout=5)
        time.sleep(1.0)  # noqa: ASYNC251 - the point: the loop is blocked, nothing else runs
        assert not health.live()[0]
        thread.join(timeout=5)
        assert seen == {"answered": False, "live": False}
        await asyncio.sleep(0.1)  # the loop turns again: alive again
        assert (await _get(port, "/health/live"))[0] == 200
    finally:
        beating.cancel()
        server.close()
        await server.wait_closed()


async def test_startup_waits_for_every_startup_check_and_remembers_success() -> None:
    health = Health()
    current = False
    calls = 0

    async def schema_current() -> bool:
        nonlocal calls
        calls += 1
        return current

    health.add_startup_check("schema_current", schema_current)
    assert (await health.startup())[0] is False  # not started
    health.started = True
    ok, detail = await health.startup()
    assert not ok and detail == {"started": True, "schema_current": False}
    current = True
    assert (await health.startup())[0] is True
    current = False  # a later migration by a newer release does not fail a running pod
    assert (await health.startup())[0] is True
    assert calls == 2


def test_request_metrics_are_defined_with_bounded_labels() -> None:
    metrics = Metrics()
    metrics.http_requests.labels("POST", "/v1/quotes", "200").inc()
    metrics.http_request_seconds.labels("POST", "/v1/quotes").observe(0.004)
    metrics.partition_stalled_seconds.labels("orders.v1", "3").set(0)
    metrics.batch_retries.labels("database").inc()
    metrics.rebalances.inc()
    text = metrics.render().decode()
    for name in (
        'clearance_http_requests_total{method="POST",route="/v1/quotes",status="200"} 1.0',
        "clearance_http_request_seconds_bucket",
        'clearance_partition_stalled_seconds{partition="3",topic="orders.v1"} 0.0',
        'clearance_batch_retries_total{reason="database"} 1.0',
        "clearance_rebalances_total 1.0",
    ):
        assert name in text


async def test_metrics_are_openmetrics_with_exemplars_when_the_scraper_asks() -> None:
    metrics = Metrics()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    metrics.decision_latency_seconds.observe(0.3, {"trace_id": trace_id})
    metrics.record_wait_seconds.labels("orders.v1", "3").observe(0.2, {"trace_id": trace_id})
    server = await serve_ops(Health(), metrics, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    prometheus = (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
        "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    )  # what Prometheus sends
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: {prometheus}\r\n\r\n".encode())
        await writer.drain()
        head, _, body = (await reader.read()).partition(b"\r\n\r\n")
        writer.close()
        plain_status, plain = await _get(port, "/metrics")
    finally:
        server.close()
        await server.wait_closed()
    assert b"Content-Type: application/openmetrics-text; version=1.0.0" in head
    text = body.decode()
    assert text.endswith("# EOF\n")
    exemplar = f'# {{trace_id="{trace_id}"}} 0.3'
    assert any(
        line.startswith('clearance_decision_latency_seconds_bucket{le="0.5"}') and exemplar in line
        for line in text.splitlines()
    )
    assert any(
        line.startswith("clearance_record_wait_seconds_bucket")
        and 'partition="3"' in line
        and f'trace_id="{trace_id}"' in line
        for line in text.splitlines()
    )
    # a scraper that does not ask gets the classic text format, without exemplars
    assert plain_status == 200 and b"trace_id" not in plain
    assert b"clearance_decision_latency_seconds_count 1.0" in plain
