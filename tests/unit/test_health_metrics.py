"""The ops listener answers the probes and serves metrics that add up."""

from __future__ import annotations

import asyncio

from clearance.contracts import EXAMPLES
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
    health = Health(stall_after_seconds=60)
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
