"""Least privilege in PostgreSQL (issue #20): the migrations run as the owner; the worker may
write its own tables (decisions and inspections only appended); the API reads what officers and
platforms see and keeps the API keys. Each process is run here as a login role of its group, the
way the deployment runs it, and what it must not do is tried."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest

from clearance import bootstrap
from clearance.domain.views import DecisionFilter
from clearance.entrypoints.worker import run_worker
from clearance.messages import decode_decision
from clearance.service.access import create_key, revoke_key
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import produce, read_topic

pytestmark = pytest.mark.integration


def as_user(settings: Settings, user: str) -> Settings:
    """The same settings, connecting as ``user`` (the embedded server trusts local logins)."""
    url = settings.database_url
    scheme, rest = url.split("://", 1)
    _, location = rest.split("@", 1)
    return msgspec.structs.replace(settings, database_url=f"{scheme}://{user}@{location}")


@contextlib.asynccontextmanager
async def login_roles(db: asyncpg.Connection, name: str) -> AsyncIterator[tuple[str, str]]:
    """A login role in each group, as CloudNativePG's managed roles make them in deploy/."""
    worker, api = f"{name}_worker", f"{name}_api"
    await db.execute(f'CREATE ROLE "{worker}" LOGIN IN ROLE clearance_worker')
    await db.execute(f'CREATE ROLE "{api}" LOGIN IN ROLE clearance_api')
    try:
        yield worker, api
    finally:
        for role in (worker, api):
            await db.execute(f'DROP ROLE IF EXISTS "{role}"')


async def refused(connection: asyncpg.Connection, statement: str) -> bool:
    try:
        await connection.execute(statement)
    except asyncpg.InsufficientPrivilegeError:
        return True
    return False


async def test_each_process_runs_with_only_what_it_needs(
    settings: Settings, db: asyncpg.Connection
) -> None:
    async with login_roles(db, settings.database_schema) as (worker_role, api_role):
        # The worker, as its role, decides, amends, cancels and publishes.
        worker_settings = as_user(settings, worker_role)
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(worker_settings, stop))
        try:
            placed = [order(n) for n in range(3)]
            amended = order(0, type="order.amended", event_id="evt-0-r2", revision=2)
            cancel = {
                "type": "order.cancelled",
                "event_id": "evt-1-c",
                "platform": "shopmart",
                "order_id": "ORD-1",
                "shipment_id": "ORD-1-1",
                "occurred_at": "2026-11-21T09:00:00+07:00",
                "consignee_id": placed[1]["consignee"]["id"],
            }
            bodies = [*placed, amended, cancel]
            await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in bodies])
            published = await read_topic(settings, "decisions.v1", 5)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=25)
        assert len(published) == 5
        assert {decode_decision(r.value).order_id for r in published} == {
            "ORD-0",
            "ORD-1",
            "ORD-2",
        }
        assert await db.fetchval("SELECT count(*) FROM decisions") == 5

        worker = await asyncpg.connect(
            as_user(settings, worker_role).database_url,
            server_settings={"search_path": settings.database_schema},
        )
        try:
            for statement in (
                "UPDATE decisions SET status = 'release'",  # history is appended, never rewritten
                "DELETE FROM decisions",
                "DELETE FROM inspections",
                "DELETE FROM orders",
                "SELECT * FROM api_keys",
                "DELETE FROM aeo_certificates",
                "DROP TABLE orders",
                "CREATE TABLE mine (x int)",
                "DELETE FROM schema_migrations",
            ):
                assert await refused(worker, statement), statement
        finally:
            await worker.close()

        # The API, as its role, reads the views and keeps the keys; it changes nothing else.
        async with bootstrap.database(as_user(settings, api_role)) as api_db:
            assert await api_db.schema_is_current()
            rows = await api_db.views.current_decisions(DecisionFilter(), None, 10)
            assert len(rows) == 3
            made = await create_key(api_db.keys, "platform", "shopmart")
            assert await revoke_key(api_db.keys, made.key.key_id)
            assert await api_db.aeo.registry() == []
        api = await asyncpg.connect(
            as_user(settings, api_role).database_url,
            server_settings={"search_path": settings.database_schema},
        )
        try:
            for statement in (
                "UPDATE orders SET status = 'release'",
                "INSERT INTO decisions SELECT * FROM decisions",
                "DELETE FROM outbox",
                "DELETE FROM consignee_totals",
                "SELECT * FROM consignee_totals",
                "INSERT INTO aeo_certificates (certificate, platform, seller_id, valid_from)"
                " VALUES ('x', 'shopmart', 's', '2026-01-01')",
                "DELETE FROM api_keys",
                "DROP TABLE api_keys",
            ):
                assert await refused(api, statement), statement
        finally:
            await api.close()
