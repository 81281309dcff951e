"""``clearance dev`` as a newcomer runs it: a stream in, a summary out, nothing left running."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from clearance.devtools.generator import generate_events
from clearance.domain.packs import PackRegistry, UnsupportedDestination
from clearance.messages import OrderAmended, OrderPlaced, decode_dead_letter
from clearance.service.batches import Decoded, Record, decode_record
from factories import encoded, order
from streams import read_topic, settings_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _stream(path: Path, orders: int) -> Path:
    lines = [encoded(order(n)) for n in range(orders)]
    held = order(orders, currency="VND")  # an unknown tariff line: held for classification
    held["items"][0].update(hs_code="61091000", unit_price="400000", quantity=3)
    held["consignee"]["identity"] = {"type": "passport", "number": "C1234567"}
    lines.append(encoded(held))
    lines.append(b"{this is not an order")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _dev(*args: str, **environment: str) -> subprocess.Popen[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    } | environment
    return subprocess.Popen(
        [sys.executable, "-m", "clearance", "dev", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def test_dev_exit_replays_a_stream_and_summarises_it(tmp_path: Path) -> None:
    process = _dev("--exit", "--json", "--stream", str(_stream(tmp_path / "s.jsonl", 60)))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["records"] == 62
    assert summary["decisions"] == 61
    assert summary["dead_letters"] == {"MALFORMED_JSON": 1}
    assert summary["parcels_by_destination"] == {"VN": 61}
    assert sum(summary["parcels_by_outcome"].values()) == 61
    assert set(summary["duty_and_tax"]) == {"VND"}
    for port in summary["ports"].values():
        assert not _listening(port), f"port {port} still open after exit"
    assert not _database_running(summary["database"])


def test_dev_plays_the_platforms_and_shows_a_held_parcels_trace(tmp_path: Path) -> None:
    spans = tmp_path / "spans.jsonl"
    process = _dev(
        "--exit",
        "--stream",
        str(_stream(tmp_path / "s.jsonl", 5)),
        OTEL_TRACES_SAMPLER_ARG="1.0",
        CLEARANCE_TRACES_FILE=str(spans),
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    shown = out.split("one held parcel's trace (clearance traces show ", 1)[1].splitlines()
    trace_id = shown[0].split()[0]
    assert shown[1].startswith(f"trace {trace_id}: 3 spans from ")
    rows = "\n".join(shown[2:])
    for step in ("shopmart-platform", "send ", "process ", "clearance.assess", "hold/"):
        assert step in rows, step
    assert "linked (batch trace" in rows and "clearance.store" in rows


def test_ctrl_c_stops_everything_cleanly(tmp_path: Path) -> None:
    process = _dev("--json", "--stream", str(_stream(tmp_path / "s.jsonl", 20)))
    assert process.stdout is not None
    summary: dict[str, Any] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("{"):
            summary = json.loads(line)
        if line.startswith("Ctrl-C to stop"):
            break
    assert summary, "no summary printed"
    # the printed curl lines work against the running API (a real socket)
    keys = summary["keys"]
    quote = httpx.post(
        f"{summary['api']}/v1/quotes",
        content=(Path(__file__).parents[2] / "contracts/examples/order.placed.json").read_bytes(),
        headers={"authorization": f"Bearer {keys['platform']}", "content-type": "application/json"},
    )
    assert quote.status_code == 200, quote.text
    held_url = summary["held_parcel"].split()[-1]
    held = httpx.get(held_url, headers={"authorization": f"Bearer {keys['officer']}"})
    assert held.status_code == 200 and held.json()["status"] == "hold"
    assert httpx.get(held_url).status_code == 401
    children = _children_of(process.pid)
    assert children, "the broker, database and API run as child processes"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    for port in summary["ports"].values():
        assert not _listening(port), f"port {port} still open after Ctrl-C"
    assert not _database_running(summary["database"])
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]
    assert alive == [], "a child process outlived clearance dev"


def _database_running(url: str) -> bool:
    """Whether the embedded PostgreSQL of ``url`` still has its socket or data directory."""
    socket_dir = Path(url.split("host=", 1)[1])
    return socket_dir.exists() and any(socket_dir.glob(".s.PGSQL.*"))


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


async def test_dev_on_2000_generated_orders_decides_each_once(
    database_url: str, kafka_bootstrap: str, unique_name: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CLEARANCE_DATABASE_SCHEMA": unique_name,
        "CLEARANCE_TOPIC_PREFIX": f"{unique_name}.",
        "CLEARANCE_CONSUMER_GROUP": unique_name,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clearance",
        "dev",
        "--exit",
        "--json",
        "--orders",
        "2000",
        "--what-if",
        "vn-draft-2025",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, err.decode()[-3000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])

    # What the stream should give, worked out independently of the service.
    registry, now = PackRegistry.bundled(), datetime.now(UTC)
    placed, expected_dead = set(), 0
    for offset, (key, value) in enumerate(generate_events(2000, seed=7)):
        record = Record(
            topic="o", partition=0, offset=offset, key=key.encode(), value=value, timestamp_ms=0
        )
        result = decode_record(record, "i", now)
        if not isinstance(result, Decoded):
            expected_dead += 1
        elif isinstance(result.event, OrderPlaced | OrderAmended):
            try:
                registry.for_destination(result.event.destination_country)
            except UnsupportedDestination:
                expected_dead += 1
                continue
            if isinstance(result.event, OrderPlaced):
                placed.add((result.event.platform, result.event.order_id, result.event.shipment))

    settings = settings_for(kafka_bootstrap, database_url, unique_name)
    db = await asyncpg.connect(database_url, server_settings={"search_path": unique_name})
    try:
        stored = {
            tuple(r) for r in await db.fetch("SELECT platform, order_id, shipment_id FROM orders")
        }
        twice = await db.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM decisions"
            " GROUP BY platform, order_id, shipment_id, decision_revision HAVING count(*) > 1) t"
        )
        first = await db.fetchval("SELECT count(*) FROM decisions WHERE decision_revision = 1")
        decisions = await db.fetchval("SELECT count(*) FROM decisions")
        sums = await db.fetch(
            "SELECT d.currency, sum(d.duty) AS duty, sum(d.tax) AS tax FROM orders o"
            " JOIN decisions d USING (decision_id) WHERE o.status <> 'cancelled' GROUP BY 1"
        )
        vn_current = await db.fetchval(
            "SELECT count(*) FROM orders WHERE destination = 'VN' AND status <> 'cancelled'"
        )
        per_destination = dict(
            await db.fetch("SELECT destination, count(*) FROM orders GROUP BY 1")
        )
    finally:
        await db.close()
    assert stored == placed  # every valid order is there
    assert first == len(placed) and twice == 0  # ... decided exactly once per revision
    letters = await read_topic(settings, "orders.v1.dlt", expected_dead)
    ids = {decode_dead_letter(record.value).dead_letter_id for record in letters}
    assert len(ids) == expected_dead == sum(summary["dead_letters"].values())
    # the summary says what PostgreSQL holds
    assert summary["decisions"] == decisions
    # the what-if replay under the VN draft decree covers every current VN parcel
    assert summary["what_if"]["parcels"] == vn_current  # cancelled ones are left out
    assert summary["what_if"]["outside_the_pack"] > 0  # EU, GB, AU... parcels are not VN
    assert "VND" in summary["what_if"]["revenue"]
    assert summary["parcels_by_destination"] == per_destination
    assert {
        c: (Decimal(v["duty"]), Decimal(v["tax"])) for c, v in summary["duty_and_tax"].items()
    } == {row["currency"]: (row["duty"], row["tax"]) for row in sums}
