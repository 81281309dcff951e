"""Fault test: 5,000 orders, 3 worker processes, one SIGKILLed mid-stream and one restarted.

Counts what matters: every parcel revision has exactly one stored decision, every stored decision
was published, no second decision id for any parcel revision. Then the faults one at a time: the
database refusing every write, the broker refusing a batch's decisions after they were stored.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from aiokafka.errors import KafkaTimeoutError

from clearance.devtools.devstack import free_port
from clearance.domain.parcels import Publication
from clearance.entrypoints.worker import run_worker
from clearance.messages import decode_decision
from clearance.metrics import Metrics
from clearance.service.ports import Publisher
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import produce, read_topic, start_worker_process, wait_for, worker_in_process

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ORDERS = 5_000
AMENDED = 500  # the first 500 orders are amended once (revision 2)


def _stop(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=25)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    return code, time.monotonic() - started


async def refuse_decisions(db: asyncpg.Connection) -> None:
    """The database refuses every new decision, as a fault of the world (not of a value: the
    error is not of SQLSTATE class 22), like a primary gone read-only under a failover."""
    await db.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'decisions refused for the test'; END $$;"
        " CREATE TRIGGER refuse BEFORE INSERT ON decisions"
        " FOR EACH STATEMENT EXECUTE FUNCTION refuse()"
    )


async def allow_decisions(db: asyncpg.Connection) -> None:
    await db.execute("DROP TRIGGER refuse ON decisions; DROP FUNCTION refuse()")


async def test_kill_and_restart_lose_and_double_nothing(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    bodies = [order(n) for n in range(ORDERS)]
    amendments = [
        order(n, type="order.amended", event_id=f"evt-{n}-r2", revision=2) for n in range(AMENDED)
    ]
    await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in bodies + amendments])
    expected = ORDERS + AMENDED

    logs = [tmp_path / f"worker-{i}.log" for i in range(4)]
    workers = [start_worker_process(settings, logs[i]) for i in range(3)]
    try:
        reached = await wait_for(db, "SELECT count(*) FROM decisions", expected // 4, within=90)
        assert expected // 4 <= reached < expected, "the kill must land mid-stream"
        workers[0].send_signal(signal.SIGKILL)  # mid-stream, without warning
        workers[0].wait(timeout=10)
        workers.append(start_worker_process(settings, logs[3]))  # and a replacement joins the group
        stored = await wait_for(db, "SELECT count(*) FROM decisions", expected, within=120)
    finally:
        exits = [_stop(process) for process in workers[1:]]
        for process in workers:
            if process.poll() is None:
                process.kill()
    for log, (code, seconds) in zip(logs[1:], exits, strict=True):
        if code != 0 or seconds >= 25:
            print(log.read_text()[-6000:])  # shown by pytest on failure
        assert code == 0 and seconds < 25, (code, seconds)

    assert stored == expected
    per_revision = await db.fetch(
        "SELECT platform, order_id, shipment_id, decision_revision, count(*) AS n"
        " FROM decisions GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
    )
    assert per_revision == [], "a parcel revision was decided twice"
    assert await db.fetchval("SELECT count(*) FROM orders WHERE revision = 2") == AMENDED

    published = await read_topic(settings, "decisions.v1", expected, within=60)
    ids = Counter(decode_decision(r.value).decision_id for r in published)
    stored_ids = {row["decision_id"] for row in await db.fetch("SELECT decision_id FROM decisions")}
    assert set(ids) == stored_ids, "a stored decision was not published, or an unknown one was"
    decisions = [decode_decision(r.value) for r in published]
    ids_per_revision: dict[tuple[str, str, str, int], set[object]] = {}
    for d in decisions:
        parcel = (d.platform, d.order_id, d.shipment_id, d.decision_revision)
        ids_per_revision.setdefault(parcel, set()).add(d.decision_id)
    assert len(ids_per_revision) == expected
    assert all(len(found) == 1 for found in ids_per_revision.values()), "two ids, one revision"
    # A worker killed after storing a batch, before its offsets were committed, leaves its events
    # to be read again: their stored decisions are published again under the same decision_id, a
    # redelivery consumers ignore (contracts.md).
    redelivered = sum(n - 1 for n in ids.values())
    print(f"\n{expected} decisions, {len(published)} records, {redelivered} redeliveries")


@pytest.mark.usefixtures("running_worker")
async def test_a_failing_database_write_rewinds_and_loses_nothing(
    settings: Settings, db: asyncpg.Connection
) -> None:
    first = [order(n) for n in range(0, 100)]
    await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in first])
    await wait_for(db, "SELECT count(*) FROM decisions", 100)
    await refuse_decisions(db)  # every batch store fails until the refusal is lifted
    later = [order(n) for n in range(100, 300)]
    later += [order(n, type="order.amended", event_id=f"evt-{n}-r2", revision=2) for n in (5, 150)]
    await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in later])
    await asyncio.sleep(2.5)  # several failed stores and rewinds
    assert await db.fetchval("SELECT count(*) FROM decisions") == 100
    await allow_decisions(db)

    assert await wait_for(db, "SELECT count(*) FROM decisions", 302, within=30) == 302
    published = await read_topic(settings, "decisions.v1", 302)
    ids = {decode_decision(r.value).decision_id for r in published}
    stored = {row["decision_id"] for row in await db.fetch("SELECT decision_id FROM decisions")}
    assert ids == stored
    revisions = await db.fetch(
        "SELECT order_id, decision_revision FROM decisions WHERE order_id IN ('ORD-5', 'ORD-150')"
        " ORDER BY 1, 2"
    )
    assert [(r[0], r[1]) for r in revisions] == [
        ("ORD-150", 1),
        ("ORD-150", 2),
        ("ORD-5", 1),
        ("ORD-5", 2),
    ]


async def test_a_database_fault_is_waited_out_and_reported_truthfully(
    settings: Settings, db: asyncpg.Connection
) -> None:
    """While every store fails, the worker stays alive but says it is not ready, counts its
    retries and shows the records waiting as lag; then it recovers on its own."""
    port = free_port()
    metrics = Metrics()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_worker(msgspec.structs.replace(settings, ops_port=port), stop, metrics=metrics)
    )
    try:
        await produce(
            settings, "orders.v1", [(key_of(b), encoded(b)) for b in map(order, range(20))]
        )
        await wait_for(db, "SELECT count(*) FROM decisions", 20)
        await refuse_decisions(db)
        later = [order(n) for n in range(20, 60)]
        await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in later])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await asyncio.sleep(3)  # several failed stores, pauses growing
            during = (await client.get("/health/ready"), await client.get("/health/live"))
            text = (await client.get("/metrics")).text
            await allow_decisions(db)
            assert await wait_for(db, "SELECT count(*) FROM decisions", 60, within=60) == 60
            await asyncio.sleep(2.5)  # the next fetch updates the lag; readiness is kept 2 s
            after = await client.get("/health/ready")
            recovered = (await client.get("/metrics")).text
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=25)
    ready, live = during
    assert ready.status_code == 503 and ready.json()["processing"] is False
    assert live.status_code == 200, "a database fault must not restart the worker"
    assert 'clearance_batch_retries_total{reason="store_failed"}' in text
    assert _metric_sum(text, "clearance_consumer_lag") == 40  # the records waiting
    assert after.status_code == 200
    assert _metric_sum(recovered, "clearance_consumer_lag") == 0


def _metric_sum(text: str, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith((name + "{", name + " "))
    )


class WrappedPublisher:
    """The real publisher; a test's subclass changes what one send does."""

    def __init__(self, inner: Publisher) -> None:
        self.inner = inner

    async def decisions(self, publications: Sequence[Publication]) -> list[asyncio.Future[Any]]:
        return await self.inner.decisions(publications)

    async def dead_letter(self, *args: Any) -> asyncio.Future[Any]:
        return await self.inner.dead_letter(*args)

    async def submit(self, *args: Any) -> tuple[str, int, int]:
        return await self.inner.submit(*args)


class RefusingPublisher(WrappedPublisher):
    """The real publisher, but the broker refuses the first batch's decisions: they are stored,
    never acknowledged, and the batch's offsets are not committed."""

    def __init__(self, inner: Publisher) -> None:
        super().__init__(inner)
        self.refused = 0

    async def decisions(self, publications: Sequence[Publication]) -> list[asyncio.Future[Any]]:
        if not self.refused:
            self.refused = 1
            raise KafkaTimeoutError("the broker did not acknowledge (injected)")
        return await self.inner.decisions(publications)


async def test_decisions_stored_but_not_acknowledged_are_published_again_when_read_again(
    settings: Settings, db: asyncpg.Connection
) -> None:
    metrics = Metrics()
    refusing: list[RefusingPublisher] = []

    def wrap(publisher: Publisher) -> Publisher:
        refusing.append(RefusingPublisher(publisher))
        return refusing[0]

    bodies = [order(n) for n in range(20)]
    await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in bodies])
    async with worker_in_process(settings, publisher=wrap, metrics=metrics):
        published = await read_topic(settings, "decisions.v1", 20, within=30)
    assert refusing[0].refused == 1, "the broker refused a batch once"
    stored = {
        row["decision_id"]: row["event_id"]
        for row in await db.fetch("SELECT decision_id, event_id FROM decisions")
    }
    ids = [decode_decision(r.value).decision_id for r in published]
    # Each stored decision reached the topic once, none was decided twice: the refused batch's
    # events were read again, found stored, and their decisions published again as stored.
    assert len(stored) == 20 and sorted(ids) == sorted(stored)
    assert set(stored.values()) == {b["event_id"] for b in bodies}
    text = metrics.registry
    republished = next(
        s.value
        for family in text.collect()
        for s in family.samples
        if s.name == "clearance_decisions_republished_total"
    )
    decided = sum(
        s.value
        for family in text.collect()
        for s in family.samples
        if s.name == "clearance_decisions_total"
    )
    assert republished >= 1 and decided + republished == 20


class LateRefusal(WrappedPublisher):
    """The real publisher, but the broker refuses the first batch's decisions a second after they
    were sent, while later batches are stored, sent and acknowledged behind it."""

    def __init__(self, inner: Publisher) -> None:
        super().__init__(inner)
        self.first: asyncio.Future[Any] | None = None
        self.sent_before_refusal = 0
        self.sent = 0

    async def decisions(self, publications: Sequence[Publication]) -> list[asyncio.Future[Any]]:
        self.sent += len(publications)
        if self.first is None:
            loop = asyncio.get_running_loop()
            self.first = loop.create_future()
            loop.call_later(1.0, self._refuse)
            return [self.first]
        return await self.inner.decisions(publications)

    def _refuse(self) -> None:
        assert self.first is not None
        self.sent_before_refusal = self.sent
        self.first.set_exception(KafkaTimeoutError("no acknowledgement (injected)"))


async def test_a_batch_acknowledged_after_a_refused_one_does_not_commit_past_it(
    settings: Settings, db: asyncpg.Connection
) -> None:
    # Batches are stored and sent while earlier ones wait for their acknowledgement; when one is
    # refused, the later ones must not commit their offsets (which would skip its records).
    late: list[LateRefusal] = []

    def wrap(publisher: Publisher) -> Publisher:
        late.append(LateRefusal(publisher))
        return late[0]

    first = [order(n) for n in range(10)]
    then = [order(n) for n in range(10, 30)]
    async with worker_in_process(settings, publisher=wrap):
        await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in first])
        await wait_for(db, "SELECT count(*) FROM decisions", 10)
        await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in then])
        await wait_for(db, "SELECT count(*) FROM decisions", 30)
        published = await read_topic(settings, "decisions.v1", 30, within=30)
    refusal = late[0]
    assert refusal.sent_before_refusal > 10, "a later batch was sent before the refusal"
    stored = {row[0] for row in await db.fetch("SELECT decision_id FROM decisions")}
    assert len(stored) == 30
    assert {decode_decision(r.value).decision_id for r in published} == stored
