"""Composition root: settings -> adapters -> the ports the use cases and entry points use.

The one place that names the adapters. The worker (``clearance.entrypoints.worker``), the HTTP
API (``clearance.entrypoints.http``: its lifespan opens ``api_ports``) and the commands ask here
for their assessor, database, broker and fault reader, and see them only through the service
layer's ports.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from clearance.adapters import faults as adapter_faults
from clearance.adapters import kafka, postgres
from clearance.service.assessing import Assessor
from clearance.service.ports import (
    AeoRegistry,
    KeyStore,
    ParcelStore,
    Publisher,
    ReadViews,
    SessionStore,
)
from clearance.settings import Settings

__all__ = [
    "API_POOL_SIZE",
    "ApiPorts",
    "Database",
    "MigrationError",
    "api_ports",
    "assessor",
    "create_topics",
    "database",
    "faults",
    "kafka_consumer",
    "kafka_producer",
    "migrate",
    "open_database",
    "publisher",
]

log = logging.getLogger(__name__)

#: Reads failures of the database and broker clients (``Worker(faults=...)``).
faults = adapter_faults
#: A migration file failed (the message names it).
MigrationError = postgres.MigrationError


@dataclass
class Database:
    """The PostgreSQL ports on one pool."""

    pool: asyncpg.Pool
    parcels: ParcelStore
    views: ReadViews
    keys: KeyStore
    sessions: SessionStore
    aeo: AeoRegistry

    async def ping(self) -> bool:
        """True when the database answers (readiness)."""
        return await postgres.ping(self.pool)

    async def schema_is_current(self) -> bool:
        """True when every migration this code ships is applied (start-up); raises
        ``MigrationError`` (logged here) when an applied migration was changed since."""
        try:
            return await postgres.schema_is_current(self.pool)
        except postgres.MigrationError as error:
            log.error("the schema is not what this code expects", extra={"error": str(error)})
            raise

    async def close(self) -> None:
        await self.pool.close()


async def open_database(settings: Settings, *, max_size: int = 4) -> Database:
    """Connect to ``DATABASE_URL`` (in ``CLEARANCE_DATABASE_SCHEMA`` when set)."""
    pool = await postgres.connect(
        settings.database_url,
        schema=settings.database_schema or None,
        max_size=max_size,
        statement_cache_size=settings.database_statement_cache_size,
    )
    return Database(
        pool=pool,
        parcels=postgres.ParcelStore(pool),
        views=postgres.ReadViews(pool),
        keys=postgres.KeyStore(pool),
        sessions=postgres.KeyStore(pool),
        aeo=postgres.AeoRegistry(pool),
    )


@contextlib.asynccontextmanager
async def database(settings: Settings, *, max_size: int = 4) -> AsyncIterator[Database]:
    """``open_database`` for the length of a command."""
    opened = await open_database(settings, max_size=max_size)
    try:
        yield opened
    finally:
        await opened.close()


async def migrate(settings: Settings) -> list[str]:
    """Apply the migrations not yet applied; their names (``MigrationError`` names a failure)."""
    return await postgres.migrate(settings.database_url, schema=settings.database_schema or None)


async def create_topics(settings: Settings) -> list[str]:
    """Create the service's topics that are missing (with their specs); their names."""
    return await kafka.ensure_topics(settings)


def kafka_producer(settings: Settings, client_id: str = "clearance") -> AIOKafkaProducer:
    """The producer configured the one way the service sends."""
    return kafka.make_producer(settings, client_id=client_id)


def kafka_consumer(settings: Settings) -> AIOKafkaConsumer:
    """A consumer in the workers' group."""
    return kafka.make_consumer(settings)


def publisher(producer: AIOKafkaProducer, settings: Settings) -> Publisher:
    """What sends to the service's topics, over ``producer``."""
    return kafka.KafkaPublisher(producer, settings)


#: How many allocations the worker lets pass between two collections of the youngest generation
#: (Python's default: 700). A batch makes millions of short-lived objects that reference counting
#: frees anyway, and collecting every 700 allocations cost the worker a fifth of its CPU
#: (``clearance bench --pipeline --count 20000``, worker CPU an order: 259-263 us at 700, 220-230
#: at 10,000, 196-202 at 50,000, 179-232 over eight runs at 200,000). The API keeps the default:
#: its quotes answer within their budget, and a rarer, larger collection would fall on one quote.
WORKER_YOUNG_COLLECTION_EVERY = 200_000


def settle_memory(young_collection_every: int | None = None) -> None:
    """Keep the garbage collector off what start-up loaded for good (the packs, their tariffs,
    the HS model: about 280,000 objects). A full collection walked all of them, 50-80 ms during
    which no batch moved and no quote was answered; frozen, they are never walked again, and
    what the process makes afterwards is collected as before, the youngest generation every
    ``young_collection_every`` allocations when given."""
    gc.collect()
    gc.freeze()
    if young_collection_every is not None:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(young_collection_every, older, oldest)


def assessor(settings: Settings) -> Assessor:
    """The assessor of every entry point: the bundled packs, exchange rates and HS classifier,
    and the identity key that names consignees in running totals."""
    return Assessor(settings.identity_key)


# --- the HTTP API --------------------------------------------------------------------------------

#: Connections of one API process: keys, decisions, reports and the console share them (a quote
#: needs none).
API_POOL_SIZE = 8


@dataclass(frozen=True)
class ApiPorts:
    """What the HTTP API reaches outside itself: the database and the topics it submits to."""

    db: Database
    publisher: Publisher


@contextlib.asynccontextmanager
async def api_ports(settings: Settings) -> AsyncIterator[ApiPorts]:
    """The API's pool and started producer for as long as it serves; the producer is flushed and
    stopped, then the pool closed, on the way out."""
    async with database(settings, max_size=API_POOL_SIZE) as db:
        producer = kafka_producer(settings, client_id="clearance-api")
        await producer.start()
        try:
            yield ApiPorts(db=db, publisher=publisher(producer, settings))
        finally:
            await producer.stop()
