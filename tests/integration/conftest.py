"""Fixtures for tests on the real embedded broker and database: one topic prefix, consumer group
and database schema per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from streams import settings_for

from clearance.adapters.kafka import ensure_topics
from clearance.adapters.postgres import migrate
from clearance.bootstrap import run_worker
from clearance.settings import Settings


@pytest.fixture
async def settings(kafka_bootstrap: str, database_url: str, unique_name: str) -> Settings:
    """A migrated schema and created topics for this test."""
    result = settings_for(kafka_bootstrap, database_url, unique_name)
    await migrate(database_url, schema=unique_name)
    await ensure_topics(result)
    return result


@pytest.fixture
async def running_worker(settings: Settings) -> AsyncIterator[asyncio.Task[None]]:
    """A worker running in this event loop for the test's duration (stopped as SIGTERM would)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop))
    yield task
    stop.set()
    await asyncio.wait_for(task, timeout=25)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the test's schema."""
    connection = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.database_schema}
    )
    yield connection
    await connection.close()
