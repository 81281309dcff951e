"""``clearance dev``: the whole service on one machine, on an order stream, with a summary.

Starts the embedded PostgreSQL and Tansu broker on free loopback ports, migrates, creates the
topics, runs the worker (in this process) and the HTTP API (a ``clearance api`` child process),
replays a stream of orders (generated, or a JSON-lines file), shows progress, then summarises what
was decided. Everything it started is stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from clearance.adapters.kafka import (
    DEAD_LETTERS,
    ORDERS,
    ensure_topics,
    read_until_idle,
)
from clearance.adapters.postgres import KeyStore, ReadViews, connect, migrate
from clearance.devtools.devstack import free_port, servers, start_clearance
from clearance.devtools.platform import Platforms, send_as_platforms
from clearance.entrypoints.worker import run_worker
from clearance.messages import decode_dead_letter
from clearance.metrics import Metrics
from clearance.service.access import new_key
from clearance.settings import Settings, load_settings

__all__ = ["DemoOptions", "run_demo"]

Records = list[tuple[bytes | None, bytes]]


@dataclass(frozen=True)
class DemoOptions:
    """What ``clearance dev`` was asked to do."""

    orders: int = 2_000
    seed: int = 7
    stream: Path | None = None
    exit_when_done: bool = False
    json: bool = False
    what_if: str | None = None
    """A rule pack id to replay the stored stream under afterwards (``clearance replay``)."""


def stream_records(options: DemoOptions) -> Records:
    """The records to replay: the file's lines, or a generated realistic stream."""
    if options.stream is not None:
        return [(_key_of(line), line) for line in _lines(options.stream)]
    from clearance.devtools.generator import generate_events

    return [(key.encode(), value) for key, value in generate_events(options.orders, options.seed)]


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        for line in stream:
            if line.strip():
                yield line.rstrip(b"\n")


def _key_of(line: bytes) -> bytes | None:
    """``platform:consignee.id`` of an order event, or None when the line is not one."""
    try:
        body = json.loads(line)
        consignee = body.get("consignee_id") or body["consignee"]["id"]
        return f"{body['platform']}:{consignee}".encode()
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


#: What ``clearance dev`` changes from the production defaults, unless the environment says.
DEV_DEFAULTS = {
    "CLEARANCE_ENV": "dev",
    "CLEARANCE_PARTITIONS": "4",
    "CLEARANCE_ENABLE_IDEMPOTENCE": "false",  # the embedded broker lacks it
    "CLEARANCE_SESSION_TIMEOUT_MS": "1000",
    "CLEARANCE_HEARTBEAT_INTERVAL_MS": "200",
}


def _settings(kafka: str, database: str) -> Settings:
    environ = {**DEV_DEFAULTS, **os.environ}
    return load_settings(
        environ,
        kafka_bootstrap_servers=kafka,
        database_url=database,
        api_port=free_port(),
        ops_port=free_port(),
    )


@contextlib.asynccontextmanager
async def _api_process(settings: Settings) -> AsyncIterator[asyncio.subprocess.Process]:
    """``clearance api`` on ``settings.api_port``, stopped (then killed if need be) on exit."""
    # Its own ops port: the worker in this process already listens on settings.ops_port.
    process = await start_clearance("api", msgspec.structs.replace(settings, ops_port=free_port()))
    try:
        await _wait_for_port(settings.api_host, settings.api_port, process)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_for_port(host: str, port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"clearance api exited with code {process.returncode}")
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"clearance api did not listen on {host}:{port} within 30 s")


def _counter_total(metrics: Metrics, name: str) -> float:
    return sum(
        sample.value
        for family in metrics.registry.collect()
        if family.name == name
        for sample in family.samples
        if sample.name.endswith("_total")
    )


async def _dead_letters(settings: Settings) -> dict[str, int]:
    """Dead letters by code, each record once (a redelivered batch publishes its dead letters
    again under the same ``dead_letter_id``)."""
    values = await read_until_idle(settings.kafka_bootstrap_servers, settings.topic(DEAD_LETTERS))
    letters = {letter.dead_letter_id: letter for letter in map(decode_dead_letter, values)}
    return dict(collections.Counter(letter.error.code for letter in letters.values()))


async def _follow(metrics: Metrics, total: int, show: Callable[[int], None]) -> float:
    """Wait until every record is consumed and every decision published; returns the seconds."""
    started = time.perf_counter()
    while (consumed := int(_counter_total(metrics, "clearance_orders_consumed"))) < total:
        show(consumed)
        await asyncio.sleep(0.1)
    show(total)
    # Consumed is not done: the last batches may still be stored, published and committed (and a
    # batch read again after a fault counts twice). Done is every partition committed up to its
    # end (no lag: a batch is committed once the broker acknowledged its decisions) while the
    # decisions and dead letters counted stop moving, for a second: the lag alone can read 0
    # too early when the worker is slow (measured under coverage: a summary of 1,480 decisions
    # while 1,975 were stored).
    settled, last = 0, -1.0
    while settled < 5:
        await asyncio.sleep(0.2)
        lag = _gauge_total(metrics, "clearance_consumer_lag")
        done = _counter_total(metrics, "clearance_decisions") + _counter_total(
            metrics, "clearance_dead_letters"
        )
        settled = settled + 1 if lag == 0 and done == last else 0
        last = done
    return time.perf_counter() - started


def _gauge_total(metrics: Metrics, name: str) -> float:
    return sum(
        sample.value
        for family in metrics.registry.collect()
        if family.name == name
        for sample in family.samples
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def _demo(
    settings: Settings, options: DemoOptions, stop: asyncio.Event, platforms: Platforms
) -> dict[str, Any]:
    schema = settings.database_schema or None
    await migrate(settings.database_url, schema=schema)
    await ensure_topics(settings)
    records = stream_records(options)
    metrics = Metrics()
    pool = await connect(settings.database_url, schema=schema)
    views = ReadViews(pool)
    demo_keys = {"platform": new_key("platform", "shopmart"), "officer": new_key("officer")}
    for key in demo_keys.values():
        await KeyStore(pool).create_api_key(key)
    worker_stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, worker_stop, metrics=metrics))
    try:
        async with _api_process(settings):
            producing = asyncio.create_task(  # as the platforms would, each starting its traces
                send_as_platforms(
                    settings.kafka_bootstrap_servers, settings.topic(ORDERS), records, platforms
                )
            )
            with _progress(len(records), quiet=options.json) as show:
                seconds = await _follow(metrics, len(records), show)
            await producing
            summary = await views.stream_summary()
            result = _result(settings, summary, len(records), seconds)
            result["dead_letters"] = await _dead_letters(settings)
            result["keys"] = {role: made.token for role, made in demo_keys.items()}
            _with_keys(result)
            if options.what_if:
                result["what_if"] = await _what_if(settings, views, options.what_if)
            _print(result, as_json=options.json)
            if not options.exit_when_done:
                print("Ctrl-C to stop.", flush=True)
                await stop.wait()
    finally:
        worker_stop.set()
        await asyncio.wait_for(worker, timeout=30)
        await pool.close()
    return result


async def _what_if(settings: Settings, views: ReadViews, pack_id: str) -> dict[str, Any]:
    """The stored stream under another pack: revenue difference, status and channel changes."""
    from datetime import UTC, datetime

    from clearance.domain.views import DecisionFilter
    from clearance.service.assessing import Assessor
    from clearance.service.replay import replay

    report = await replay(
        views.stored_orders(DecisionFilter()),
        Assessor(settings.identity_key, sample_key=settings.sample_key),
        pack_id,
        datetime.now(UTC),
    )
    summary = report.as_dict()
    summary.pop("changed_parcels")
    return summary


def _with_keys(result: dict[str, Any]) -> None:
    """Put the demo keys into the ready-made curl lines."""
    platform = f" -H 'Authorization: Bearer {result['keys']['platform']}'"
    officer = f" -H 'Authorization: Bearer {result['keys']['officer']}'"
    result["quote"] = result["quote"].replace("curl -s", "curl -s" + platform, 1)
    if result["held_parcel"]:
        result["held_parcel"] = result["held_parcel"].replace("curl -s", "curl -s" + officer, 1)


def _result(settings: Settings, summary: Any, records: int, seconds: float) -> dict[str, Any]:
    api = f"http://{settings.api_host}:{settings.api_port}"
    quote = (
        f"curl -s -X POST {api}/v1/quotes -H 'content-type: application/json'"
        " -d @contracts/examples/order.placed.json"
    )
    held = None
    if summary.a_held_parcel is not None:
        platform, order_id, shipment_id = summary.a_held_parcel
        held = f"curl -s {api}/v1/decisions/{platform}/{order_id}/{shipment_id}"
    return {
        "records": records,
        "seconds": round(seconds, 2),
        "records_per_second": round(records / seconds) if seconds else None,
        "decisions": summary.decisions,
        "parcels_by_destination": summary.parcels_by_destination,
        "parcels_by_outcome": summary.parcels_by_outcome,
        "duty_and_tax": _plain(summary.duty_and_tax),
        "api": api,
        "quote": quote,
        "held_parcel": held,
        "ports": {
            "api": settings.api_port,
            "worker_ops": settings.ops_port,
            "kafka": int(settings.kafka_bootstrap_servers.rsplit(":", 1)[1]),
        },
        "database": settings.database_url,
    }


@contextlib.contextmanager
def _progress(total: int, *, quiet: bool) -> Iterator[Callable[[int], None]]:
    if quiet:
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task("orders consumed", total=total)
        yield lambda done: progress.update(task, completed=done)


def _print(result: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result), flush=True)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"\n[bold]{result['records']}[/] records in {result['seconds']} s "
        f"({result['records_per_second']}/s), {result['decisions']} decisions stored and published"
    )
    for title, rows in (
        ("parcels by destination", result["parcels_by_destination"]),
        ("parcels by status/channel", result["parcels_by_outcome"]),
        ("dead letters by code", result["dead_letters"] or {"(none)": 0}),
    ):
        table = Table(title=title, title_justify="left")
        table.add_column("")
        table.add_column("count", justify="right")
        for name, count in rows.items():
            table.add_row(name, str(count))
        console.print(table)
    money = Table(title="duty and tax assessed (current decisions)", title_justify="left")
    for column in ("currency", "duty", "tax", "parcels"):
        money.add_column(column, justify="right")
    for currency, row in result["duty_and_tax"].items():
        money.add_row(currency, row["duty"], row["tax"], str(row["parcels"]))
    console.print(money)
    if "what_if" in result:
        what_if = result["what_if"]
        console.print(f"\nwhat if the stream had been assessed under {what_if['pack']}:")
        for currency, row in what_if["revenue"].items():
            console.print(
                f"  {currency}: duty + tax {row['now']} -> {row['what_if']} "
                f"(difference {row['difference']})"
            )
        for change, count in what_if["status_changes"].items():
            console.print(f"  status {change}: {count} parcels")
    console.print(
        f"\nAPI: {result['api']}  (keys for this run: platform shopmart "
        f"{result['keys']['platform']}, officer {result['keys']['officer']})"
    )
    console.print(f"  a quote:       {result['quote']}", soft_wrap=True)
    if result["held_parcel"]:
        console.print(f"  a held parcel: {result['held_parcel']}", soft_wrap=True)


def run_demo(options: DemoOptions) -> int:
    """Run everything until done (``exit_when_done``) or Ctrl-C; returns the exit code."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        with servers() as (kafka, database):
            settings = _settings(kafka, database)
            await _demo(settings, options, stop, platforms)

    traces = _trace_to_file()
    platforms = Platforms()
    try:
        asyncio.run(main())
    finally:
        platforms.shutdown()
        _flush_traces()
    if not options.json:
        print("stopped: worker, API, broker and database are down")
        if traces:
            print(f"traces of this run (JSON lines, one span each): {traces}")
            _show_a_held_parcel(Path(traces))
    return 0


def _flush_traces() -> None:
    """Export the worker's pending spans (the file is read right after)."""
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        flush()


def _show_a_held_parcel(path: Path) -> None:
    """Print the trace of one held parcel whose journey was sampled, platform side included."""
    from clearance.entrypoints.traces_cmd import read_trace, waterfall

    if not path.exists():
        return
    trace_id = _a_held_parcel_trace(path)
    if trace_id is None:
        print("no held parcel's trace was sampled (OTEL_TRACES_SAMPLER_ARG=1.0 samples every one)")
        return
    spans, linked = read_trace(path, trace_id)
    print(f"\none held parcel's trace (clearance traces show {trace_id} --file {path}):")
    print(waterfall(spans, linked))


def _trace_to_file() -> str | None:
    """Unless the environment says otherwise, ``clearance dev`` writes its spans (worker and API)
    as JSON lines to a file in the temp directory, sampling as in production (5%)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    if not (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_TRACES_EXPORTER")
    ):
        path = os.path.join(tempfile.gettempdir(), f"clearance-dev-traces-{os.getpid()}.jsonl")
        os.environ.setdefault("CLEARANCE_TRACES_FILE", path)
    from clearance.telemetry import setup_tracing

    setup_tracing("clearance-dev")
    return os.environ.get("CLEARANCE_TRACES_FILE")


def _a_held_parcel_trace(path: Path) -> str | None:
    """The trace of a held parcel recorded from its platform's send (a PRODUCER span) to its
    publication: of those, the one with the median end-to-end latency (a typical journey)."""
    from clearance.entrypoints.traces_cmd import spans_of

    held: list[tuple[int, str]] = []
    platform: set[str] = set()
    for span in spans_of(path):
        if span.kind == "PRODUCER" and span.service and span.service.endswith("-platform"):
            platform.add(span.trace_id)
        elif span.kind == "CONSUMER" and span.attributes.get("clearance.status") == "hold":
            held.append((int(span.attributes.get("clearance.end_to_end_ms", 0)), span.trace_id))
    journeys = sorted(item for item in held if item[1] in platform)
    return journeys[len(journeys) // 2][1] if journeys else None
