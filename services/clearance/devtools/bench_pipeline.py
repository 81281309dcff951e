"""The whole-pipeline benchmark: Kafka -> worker -> PostgreSQL -> Kafka, against a bare passthrough.

Run by ``clearance bench`` (``--pipeline``). On the embedded broker and database unless
``KAFKA_BOOTSTRAP_SERVERS``/``DATABASE_URL`` are set. Three measurements in one run, on the same
messages:

1. *pipeline*: a backlog of N orders is consumed by ``--workers`` ``clearance worker`` processes
   in one group (decode, assess, one transaction per batch, publish, commit); orders per second
   over the middle 80% of the decisions by publish time (the steady rate, without the start-up).
   The publish times are read from the decisions topic after the run, so measuring costs the
   workers and the database nothing while they run. Also the workers' own CPU time per order
   (user + system, from ``/proc``, after the first tenth is stored): on a machine shared with
   others the rate moves with the neighbours' load, the CPU a worker spends per order much less.
2. *passthrough*: the same N records consumed and produced again by a bare loop (consume, produce,
   await acks, commit per batch): the ceiling the broker and client allow on this machine.
3. *latency*: orders produced at a steady rate while the workers run; order sent -> decision
   published, p50/p99.

``--engine-ceiling`` runs the first two with workers that reuse one decision per destination
(``clearance.devtools.engine_ceiling``): the rate the rest of the pipeline allows, whatever the
engine costs.

The workers are separate processes, as in production: this process only feeds and watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import asyncpg
import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from clearance.adapters.kafka import (
    ORDERS,
    ensure_topics,
    make_consumer,
    make_producer,
    send_records,
)
from clearance.adapters.postgres import migrate
from clearance.devtools.devstack import servers, start_clearance
from clearance.messages import encode
from clearance.settings import Settings, load_settings

__all__ = ["run_pipeline_bench"]

#: The targets on two cores with PostgreSQL beside the workers (issue #23): orders per second
#: with a backlog, and the p99 from order to decision at the latency run's rate.
PIPELINE_TARGET_PER_SECOND = 8_000
LATENCY_TARGET_P99_MS = 100.0
#: The topics a run creates (the backlog's, and the latency run's own).
TOPICS = [ORDERS, "decisions.v1", "inspections.v1", "orders.v1.dlt"]
#: ``--engine-ceiling``: workers that reuse one decision per destination (an upper bound).
ENGINE_CEILING_MODULE = "clearance.devtools.engine_ceiling"
#: A run with no decision stored or published for this long has failed (a worker crashed, say).
STALL_SECONDS = 60.0


def _orders(count: int, seed: int, start: int = 0) -> list[tuple[bytes, bytes]]:
    from clearance.devtools.bench_mix import engine_orders

    records = []
    # About three orders per buyer over the run, as in a day of a real platform's stream.
    for order in engine_orders(count, seed, consignees=max(500, (start + count) // 3)):
        order_id = f"o{start + int(order.order_id[1:])}"
        body = encode(order).replace(f'"{order.order_id}"'.encode(), f'"{order_id}"'.encode(), 1)
        body = body.replace(f'"{order.event_id}"'.encode(), f'"e{order_id}"'.encode(), 1)
        records.append((f"{order.platform}:{order.consignee.id}".encode(), body))
    return records


async def _stored(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM decisions"))


@contextlib.asynccontextmanager
async def _workers(
    settings: Settings, processes: int, *, engine_ceiling: bool = False
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """``processes`` ``clearance worker`` processes in one group, stopped with SIGTERM (with
    ``engine_ceiling``, workers that reuse decisions: ``clearance.devtools.engine_ceiling``)."""
    children = [
        await (
            start_clearance(None, settings, module=ENGINE_CEILING_MODULE)
            if engine_ceiling
            else start_clearance("worker", settings)
        )
        for _ in range(max(1, processes))
    ]
    try:
        yield children
    finally:
        for child in children:
            child.terminate()
        for child in children:
            await asyncio.wait_for(child.wait(), timeout=30)


async def _publish_times(settings: Settings, expected: int) -> list[int]:
    """The publish timestamps (ms) of every record on the decisions topic, read after the run.

    The worker's producer stamps each decision when it sends it, so reading them afterwards
    measures the run without loading the machine during it. (The embedded broker's end offsets
    lag behind its last batch, so they cannot be used to count.)
    """
    topic = settings.topic("decisions.v1")
    partitions = [TopicPartition(topic, p) for p in range(settings.partitions)]
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await reader.start()
    stamps: list[int] = []
    try:
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        while len(stamps) < expected:
            batches = await reader.getmany(timeout_ms=2000, max_records=10_000)
            if not batches:
                break
            stamps += [message.timestamp for messages in batches.values() for message in messages]
    finally:
        await reader.stop()
    return sorted(stamps)


def _cpu_seconds(children: list[asyncio.subprocess.Process]) -> float | None:
    """User + system CPU seconds the ``children`` have used so far (None where /proc is absent)."""
    used = _cpu_by_process(child.pid for child in children)
    return None if used is None else sum(used.values())


def _cpu_by_process(pids: Iterable[int]) -> dict[int, float] | None:
    """User + system CPU seconds of each live process in ``pids`` (None without /proc)."""
    used = {}
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        pass  # a process that ended (an autovacuum worker): its time is not counted
    except (OSError, ValueError, IndexError):
        return None
    return used


def _broker_cpu(settings: Settings) -> dict[int, float] | None:
    """CPU seconds of the broker's processes, when it runs on this machine (the embedded one:
    found by the listener address on its command line), by process; None otherwise."""
    listener = f"tcp://{settings.kafka_bootstrap_servers}".encode()
    pids = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if listener in cmdline.read():
                        pids.append(int(entry))
            except OSError:
                continue
    return _cpu_by_process(pids) if pids else None


async def _database_cpu(connection: asyncpg.Connection) -> dict[int, float] | None:
    """CPU seconds of the database's processes (its backends, WAL writer, checkpointer...), by
    process: the database runs on the same machine, so its cost per order counts too. The
    benchmark's own connection (counting the decisions) is left out."""
    pids = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
    return _cpu_by_process(row[0] for row in pids)


async def _pipeline(
    settings: Settings,
    connection: asyncpg.Connection,
    count: int,
    processes: int,
    *,
    engine_ceiling: bool = False,
) -> dict[str, Any]:
    async with _workers(settings, processes, engine_ceiling=engine_ceiling) as children:
        stored = 0
        progress = (stored, time.monotonic())
        mark: tuple[int, float | None] | None = None  # decisions stored, CPU used, at a tenth
        database_mark: dict[int, float] | None = None
        broker_mark: dict[int, float] | None = None
        while stored < count:
            await asyncio.sleep(0.25)  # rare enough to cost the database nothing measurable
            stored = await _stored(connection)
            if mark is None and stored >= count // 10:  # the start-up is over
                mark = (stored, _cpu_seconds(children))
                database_mark = await _database_cpu(connection)
                broker_mark = _broker_cpu(settings)
            if stored != progress[0]:
                progress = (stored, time.monotonic())
            elif time.monotonic() - progress[1] > STALL_SECONDS:
                raise RuntimeError(
                    f"the workers made no progress for {STALL_SECONDS:.0f} s:"
                    f" {stored} of {count} decisions stored"
                )
        cpu = _cpu_seconds(children)
        database_end = await _database_cpu(connection)
        broker_end = _broker_cpu(settings)
    stamps = await _publish_times(settings, stored)
    # The steady rate: the middle 80% of the decisions, so the workers' start (joining the group,
    # the first fetch) and the last partial batches do not count.
    first, last = len(stamps) // 10, len(stamps) - 1 - len(stamps) // 10
    return {
        "orders": last - first,
        "seconds": round(max(stamps[last] - stamps[first], 1) / 1000, 3),
        "stored": stored,
        "published": len(stamps),
        "worker_cpu_us_per_order": _per_order_us(mark, stored, cpu),
        "database_cpu_us_per_order": _processes_us(mark, database_mark, database_end, stored),
        "broker_cpu_us_per_order": _processes_us(mark, broker_mark, broker_end, stored),
    }


def _processes_us(
    mark: tuple[int, float | None] | None,
    before: dict[int, float] | None,
    after: dict[int, float] | None,
    stored: int,
) -> float | None:
    """CPU microseconds per decision stored after the mark, of processes measured by pid."""
    if mark is None or before is None or after is None:
        return None
    used = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    return _per_order_us((mark[0], 0.0), stored, used)


def _per_order_us(
    mark: tuple[int, float | None] | None, stored: int, cpu: float | None
) -> float | None:
    """Worker CPU microseconds per decision stored after the mark."""
    if mark is None or mark[1] is None or cpu is None or stored <= mark[0]:
        return None
    return round((cpu - mark[1]) / (stored - mark[0]) * 1e6, 1)


async def _group_stable(settings: Settings, members: int) -> None:
    """Wait (up to 30 s) until the worker group is stable with ``members`` members."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            (description,) = await admin.describe_consumer_groups([settings.consumer_group])
            _, _, state, _, _, found = description.groups[0]
            if state == "Stable" and len(found) == members:
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def _passthrough(settings: Settings, count: int) -> dict[str, Any]:
    consumer: AIOKafkaConsumer = make_consumer(settings, group_id=f"{settings.consumer_group}-bare")
    producer: AIOKafkaProducer = make_producer(settings)
    consumer.subscribe([settings.topic(ORDERS)])
    await consumer.start()
    await producer.start()
    target = settings.topic("passthrough")
    seen, started = 0, 0.0
    try:
        while seen < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=settings.batch_size)
            if not batches:
                continue
            if not started:
                started = time.perf_counter()
            sends = [
                await producer.send(target, value=m.value, key=m.key, headers=list(m.headers))
                for messages in batches.values()
                for m in messages
            ]
            await asyncio.gather(*sends)
            await consumer.commit({tp: ms[-1].offset + 1 for tp, ms in batches.items()})
            seen += len(sends)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
        await producer.stop()
    return {"records": seen, "seconds": round(elapsed, 3)}


async def _latency(
    settings: Settings, rate: int, seconds: float, seed: int, start: int, processes: int
) -> dict[str, Any]:
    """Orders at ``rate``/s for ``seconds``; decision publish time minus order send time.

    The workers first join their group and decide a warm-up of 100 orders (start-up work such as
    the first pack lookups is not what a platform waits for in steady operation). The decision's
    timestamp is set by the worker's producer when it publishes, so reading the decisions after
    all orders are sent does not add to the latency.
    """
    warm_up = _orders(100, seed + 2, start)
    records = _orders(int(rate * seconds), seed + 1, start + len(warm_up))
    topic = settings.topic("decisions.v1")
    partitions = [TopicPartition(topic, p) for p in range(settings.partitions)]
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=1)
    await reader.start()
    await producer.start()
    sent: dict[str, float] = {}
    latencies: list[float] = []

    async def read(wanted: int, deadline: float) -> list[float]:
        found: list[float] = []
        while len(found) < wanted and time.time() < deadline:
            batches = await reader.getmany(timeout_ms=100)
            for messages in batches.values():
                for message in messages:
                    order_id = _order_id(message.value)
                    if order_id in sent:
                        found.append(message.timestamp / 1000 - sent.pop(order_id))
        return found

    try:
        reader.assign(partitions)
        await reader.seek_to_end(*partitions)
        async with _workers(settings, processes):
            await _group_stable(settings, processes)
            for index, (key, value) in enumerate(warm_up):
                sent[f"o{start + index}"] = time.time()
                await producer.send(settings.topic(ORDERS), value=value, key=key)
            await read(len(warm_up), time.time() + 30)
            sent.clear()
            # The decisions are read once every order is sent (their timestamps are the workers'
            # publish times): reading them meanwhile would take the broker's and this machine's
            # CPU from what is measured.
            reader.pause(*partitions)
            begin = time.time()
            for index, (key, value) in enumerate(records):
                due = begin + index / rate
                if (wait := due - time.time()) > 0:
                    await asyncio.sleep(wait)
                sent[f"o{start + len(warm_up) + index}"] = time.time()
                await producer.send(settings.topic(ORDERS), value=value, key=key)
            reader.resume(*partitions)
            latencies = await read(len(records), time.time() + 30)
    finally:
        await producer.stop()
        await reader.stop()
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rate_per_second": rate,
        "orders": len(records),
        "decided": len(latencies),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "max_ms": round(max(latencies, default=0.0) * 1000, 1),
    }


def _order_id(value: bytes) -> str:
    marker = b'"order_id":"'
    begin = value.index(marker) + len(marker)
    return value[begin : value.index(b'"', begin)].decode()


async def _run(
    kafka: str,
    database: str,
    count: int,
    seed: int,
    partitions: int,
    rate: int,
    processes: int,
    latency_seconds: float = 5.0,
    batch_size: int = 1000,
    *,
    engine_ceiling: bool = False,
) -> dict[str, Any]:
    """The three measurements; with ``engine_ceiling`` the pipeline with reused decisions (an
    upper bound, ``clearance.devtools.engine_ceiling``) and the passthrough, no latency run (an
    order's latency there says nothing about a real decision's)."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        {},
        environment="dev",
        kafka_bootstrap_servers=kafka,
        database_url=database,
        topic_prefix=f"{name}.",
        consumer_group=name,
        database_schema=name,
        partitions=partitions,
        enable_idempotence=False,
        fetch_max_wait_ms=20,
        session_timeout_ms=1000,
        heartbeat_interval_ms=200,
        batch_size=batch_size,
        ops_port=0,
    )
    await migrate(database, schema=name)
    await ensure_topics(settings, TOPICS)
    await send_records(kafka, settings.topic(ORDERS), _orders(count, seed))
    connection = await asyncpg.connect(database, server_settings={"search_path": name})
    try:
        pipeline = await _pipeline(
            settings, connection, count, processes, engine_ceiling=engine_ceiling
        )
        passthrough = await _passthrough(settings, count)
        if engine_ceiling:
            return _result(settings, count, processes, pipeline, passthrough, None)
        # The latency run on topics of its own (the same database): the embedded broker's CPU
        # grows with what its topics hold (on the backlog's topics, from a third to half a core
        # over one 10-second run at 1,000/s; Kafka's fetches read an offset index instead).
        fresh = msgspec.structs.replace(
            settings, topic_prefix=f"{name}.latency.", consumer_group=f"{name}-latency"
        )
        await ensure_topics(fresh, TOPICS)
        latency = await _latency(
            fresh, rate, latency_seconds, seed, start=count, processes=processes
        )
    finally:
        await connection.close()
    return _result(settings, count, processes, pipeline, passthrough, latency)


def _result(
    settings: Settings,
    count: int,
    processes: int,
    pipeline: dict[str, Any],
    passthrough: dict[str, Any],
    latency: dict[str, Any] | None,
) -> dict[str, Any]:
    """What a run prints; ``latency`` None for the engine's ceiling (which meets no target)."""
    pipeline_rate = pipeline["orders"] / pipeline["seconds"]
    bare_rate = passthrough["records"] / passthrough["seconds"]
    return {
        "benchmark": "pipeline",
        "engine": "real" if latency is not None else "reused decisions (ceiling)",
        "database_schema": settings.database_schema,  # the run's rows stay there to look at
        "orders": count,
        "partitions": settings.partitions,
        "worker_processes": processes,
        "batch_size": settings.batch_size,
        "orders_per_second": round(pipeline_rate),
        "stored": pipeline["stored"],
        "published": pipeline["published"],
        "worker_cpu_us_per_order": pipeline["worker_cpu_us_per_order"],
        "database_cpu_us_per_order": pipeline["database_cpu_us_per_order"],
        "broker_cpu_us_per_order": pipeline["broker_cpu_us_per_order"],
        "passthrough_per_second": round(bare_rate),
        "ratio_to_passthrough": round(pipeline_rate / bare_rate, 2),
        "target_per_second": PIPELINE_TARGET_PER_SECOND,
        "latency_target_p99_ms": LATENCY_TARGET_P99_MS,
        "meets_target": latency is not None
        and pipeline_rate >= PIPELINE_TARGET_PER_SECOND
        and latency["decided"] == latency["orders"]
        and latency["p99_ms"] < LATENCY_TARGET_P99_MS,
        "latency": latency,
        "cores": os.cpu_count(),
    }


#: ``--tracing``: the share of orders traced (spans recorded and exported, to /dev/null).
TRACING_RATIOS = {"off": None, "sampled": 0.05, "all": 1.0}


def _setup_tracing(mode: str) -> None:
    """Trace this process (and the worker processes it starts) as ``mode`` says."""
    ratio = TRACING_RATIOS[mode]
    if ratio is None:
        os.environ["OTEL_SDK_DISABLED"] = "true"
        return
    os.environ.pop("OTEL_SDK_DISABLED", None)
    os.environ["OTEL_TRACES_SAMPLER_ARG"] = str(ratio)
    os.environ["CLEARANCE_TRACES_FILE"] = os.devnull  # serialise and write every span
    from clearance.telemetry import setup_tracing

    setup_tracing("clearance-bench", sample_ratio=ratio)


def run_pipeline_bench(
    count: int = 20_000,
    seed: int = 7,
    partitions: int = 4,
    rate: int = 1_000,
    processes: int = 2,
    tracing: str = "sampled",
    *,
    engine_ceiling: bool = False,
) -> dict[str, Any]:
    """Measure the pipeline, the passthrough and the latency; see the module docstring."""
    _setup_tracing(tracing)
    with servers() as (kafka, database):
        result = asyncio.run(
            _run(
                kafka,
                database,
                count,
                seed,
                partitions,
                rate,
                processes,
                engine_ceiling=engine_ceiling,
            )
        )
    return {**result, "tracing": tracing}
