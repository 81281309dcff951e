"""One trace per parcel through the worker, metrics counted, no personal data in spans."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clearance.devtools.devstack import free_port
from clearance.entrypoints.http.app import create_app
from clearance.entrypoints.worker import run_worker
from clearance.messages import decode_decision
from clearance.metrics import Metrics
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import produce, read_topic

pytestmark = pytest.mark.integration

SAMPLED = "4bf92f3577b34da6a3ce929d0e0e4736"
UNSAMPLED = "0af7651916cd43dd8448eb211c80319c"
PLATFORM_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def exporter(span_memory: InMemorySpanExporter) -> InMemorySpanExporter:
    """The process's spans; roots are never sampled here (ratio 0), so only what a platform
    sent sampled, and what must be kept whatever the ratio, is recorded."""
    span_memory.clear()
    return span_memory


@pytest.mark.usefixtures("running_worker")
async def test_a_sampled_order_is_one_trace_from_the_platform_to_the_decision(
    settings: Settings, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    exporter.clear()
    traced, quiet = order(1), order(2)
    traced["consignee"]["identity"] = {"type": "national_id", "number": "079201001234"}
    await produce(
        settings,
        "orders.v1",
        [(key_of(traced), encoded(traced))],
        headers=[("traceparent", f"00-{SAMPLED}-{PLATFORM_SPAN}-01".encode())],
    )
    await produce(
        settings,
        "orders.v1",
        [(key_of(quiet), encoded(quiet))],
        headers=[("traceparent", f"00-{UNSAMPLED}-{PLATFORM_SPAN}-00".encode())],
    )
    held = order(3, currency="VND")  # an unknown tariff line: held for an officer
    held["items"][0].update(hs_code="61091000", unit_price="400000", quantity=3)
    held["consignee"]["identity"] = {"type": "national_id", "number": "079201009999"}
    held_trace = "1bf92f3577b34da6a3ce929d0e0e4799"
    await produce(
        settings,
        "orders.v1",
        [(key_of(held), encoded(held)), (b"k", b"{broken")],
        headers=[("traceparent", f"00-{held_trace}-{PLATFORM_SPAN}-00".encode())],
    )
    records = await read_topic(settings, "decisions.v1", 3)
    decisions = {decode_decision(r.value).order_id: (r, decode_decision(r.value)) for r in records}

    # the decision names its trace, sampled or not, and its headers continue it
    for order_id, trace_id in (("ORD-1", SAMPLED), ("ORD-2", UNSAMPLED)):
        record, decision = decisions[order_id]
        assert decision.trace_id == trace_id
        assert dict(record.headers)["traceparent"].decode().split("-")[1] == trace_id

    spans = exporter.get_finished_spans()
    ours = [s for s in spans if format(s.context.trace_id, "032x") == SAMPLED]
    [consumed] = [s for s in ours if s.kind == trace.SpanKind.CONSUMER]
    assert consumed.parent is not None
    assert format(consumed.parent.span_id, "016x") == PLATFORM_SPAN  # the platform's send
    [assess] = [s for s in ours if s.name == "clearance.assess"]
    assert assess.parent is not None and assess.parent.span_id == consumed.context.span_id
    attributes: dict[str, Any] = dict(assess.attributes or {})
    assert attributes["clearance.destination"] == "VN"
    assert attributes["clearance.status"] == decisions["ORD-1"][1].status
    assert attributes["clearance.rule_pack"].startswith("vn@")
    # never a name, an address, a phone or an identity number in any span
    personal = {
        "Nguyen Van A",
        "+84900000000",
        "079201001234",
        "079201009999",
        "12 Ly Thuong Kiet",
    }
    for span in spans:
        for value in (span.attributes or {}).values():
            assert not any(p in str(value) for p in personal), (span.name, value)
    # the platform's unsampled choice is honoured: nothing of that trace is recorded but what
    # must be kept whatever the ratio (here, a decision slower than the objective: the worker
    # may still be joining its group when the order is sent)
    unsampled = [s for s in spans if format(s.context.trace_id, "032x") == UNSAMPLED]
    assert {s.name for s in unsampled} <= {"clearance.slow"}
    # ... but a hold and a dead letter are always recorded, in their unsampled trace
    attention = {s.name: s for s in spans if (s.attributes or {}).get("clearance.always_record")}
    hold = attention["clearance.hold"]
    assert format(hold.context.trace_id, "032x") == held_trace  # what the console links to
    assert dict(hold.attributes or {})["clearance.trace_id"] == held_trace
    dead = dict(attention["clearance.dead_letter"].attributes or {})
    assert dead["clearance.dead_letter.code"] == "MALFORMED_JSON"
    assert dead["clearance.trace_id"] == held_trace
    # and no log line carries personal data either
    for line in caplog.records:
        text = line.getMessage() + " " + " ".join(str(v) for v in vars(line).values())
        assert not any(p in text for p in personal), line.getMessage()

    # the batch that carried the sampled order is recorded, linked to it, with its steps
    [batch] = [
        s
        for s in spans
        if s.name == "clearance.batch"
        and any(format(link.context.trace_id, "032x") == SAMPLED for link in s.links)
    ]
    steps = {s.name for s in spans if s.parent and s.parent.span_id == batch.context.span_id}
    assert {"clearance.decode", "clearance.plan", "clearance.store", "clearance.publish"} <= steps
    batch_trace = [s for s in spans if s.context.trace_id == batch.context.trace_id]
    assert any((s.attributes or {}).get("db.system") == "postgresql" for s in batch_trace)


async def test_worker_metrics_and_health_over_http(settings: Settings) -> None:
    port = free_port()
    ops_settings = msgspec.structs.replace(settings, ops_port=port)
    metrics = Metrics()
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(ops_settings, stop, metrics=metrics))
    try:
        valid = [order(n) for n in range(5, 25)]
        duplicate = valid[0]  # redelivered: consumed, but no second decision
        bad = [(b"bad", b"{not json"), (b"bad", encoded({**order(90), "currency": 5}))]
        await produce(
            settings,
            "orders.v1",
            [(key_of(b), encoded(b)) for b in [*valid, duplicate]] + bad,
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = asyncio.get_running_loop().time() + 20
            text = ""
            while _total(text, "clearance_orders_consumed_total") < 23:
                assert asyncio.get_running_loop().time() < deadline, text
                await asyncio.sleep(0.2)
                text = (await client.get("/metrics")).text
            await asyncio.sleep(0.5)  # the last batch's commit
            text = (await client.get("/metrics")).text
            ready = await client.get("/health/ready")
            live = await client.get("/health/live")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=25)
    assert _total(text, "clearance_orders_consumed_total") == 23
    assert _total(text, "clearance_decisions_total") == 20  # one per valid order
    assert _total(text, "clearance_dead_letters_total") == 2
    assert 'clearance_dead_letters_total{code="MALFORMED_JSON"} 1.0' in text
    assert 'clearance_dead_letters_total{code="SCHEMA_VIOLATION"} 1.0' in text
    assert _total(text, "clearance_end_to_end_seconds_count") == 20
    assert _total(text, "clearance_batch_size_sum") == 23
    assert ready.status_code == 200 and ready.json()["database"] is True
    assert live.status_code == 200


def _total(text: str, name: str) -> float:
    """The sum of a metric's samples over all label sets in a Prometheus text exposition."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_the_http_api_continues_the_callers_trace(
    settings: Settings, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    trace_id = "7bf92f3577b34da6a3ce929d0e0e4711"
    async with AsyncTestClient(create_app(settings)) as client:
        response = await client.get(
            "/v1/packs", headers={"traceparent": f"00-{trace_id}-{PLATFORM_SPAN}-01"}
        )
        assert response.status_code == 200
        await client.get(
            "/health/live", headers={"traceparent": f"00-{trace_id}-{PLATFORM_SPAN}-01"}
        )
    server = [
        s
        for s in exporter.get_finished_spans()
        if format(s.context.trace_id, "032x") == trace_id and s.kind == trace.SpanKind.SERVER
    ]
    assert len(server) == 1  # the packs request; health probes are not traced
    assert server[0].parent is not None
    assert format(server[0].parent.span_id, "016x") == PLATFORM_SPAN
