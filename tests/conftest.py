"""Session-wide fixtures: the real embedded PostgreSQL and Kafka-protocol broker.

Both start once per test session on free loopback ports (or come from ``DATABASE_URL`` /
``KAFKA_BOOTSTRAP_SERVERS`` when set) and are torn down at the end. Tests isolate themselves with
their own topic names, consumer groups and database schemas.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import settings as hypothesis_settings
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clearance.adapters.kafka import ensure_topics
from clearance.adapters.postgres import migrate
from clearance.devtools.devstack import embedded_kafka, embedded_postgres
from clearance.entrypoints.worker import run_worker
from clearance.settings import Settings
from clearance.telemetry import JsonLinesSpanExporter, setup_tracing
from streams import settings_for

# Property tests explore the same examples on every run: CI stays reproducible, and speed is
# measured by benchmarks, never by a deadline here.
hypothesis_settings.register_profile("clearance", derandomize=True, deadline=None)
hypothesis_settings.load_profile("clearance")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def tracer_provider() -> TracerProvider:
    """The process's tracer provider (a process has one): the service's sampler with a ratio of
    0, so roots are never sampled here and only what arrives sampled (a platform's choice) or
    must be kept (a hold, a slow parcel) is recorded."""
    found = trace.get_tracer_provider()
    if isinstance(found, TracerProvider):
        return found
    provider = setup_tracing("clearance-test", sample_ratio=0.0)
    assert isinstance(provider, TracerProvider)
    return provider


@pytest.fixture(scope="session")
def span_file(tracer_provider: TracerProvider, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JSON-lines file the process's spans are written to as each ends (``clearance dev``'s
    format); tests find theirs by trace id."""
    path = tmp_path_factory.mktemp("traces") / "spans.jsonl"
    tracer_provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(str(path))))
    return path


@pytest.fixture(scope="session")
def span_memory(tracer_provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    """Every span the process finishes, in memory (call ``clear()`` first)."""
    memory = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
    yield memory
    memory.shutdown()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL URI: ``DATABASE_URL`` if set, else a real embedded server for the session."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    with embedded_postgres(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Kafka bootstrap: ``KAFKA_BOOTSTRAP_SERVERS`` if set, else an embedded Tansu broker."""
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    with embedded_kafka() as servers:
        yield servers


@pytest.fixture
def unique_name() -> str:
    """A short unique name for a test's topics, groups and schemas."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (public reference data; never copied into the repository)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data absent (a clone without it): this test reads the raw files")
    return SHARED_DATA


# --- per test: its own schema, topics and consumer group on the session's servers -----------


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
