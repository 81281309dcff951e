"""PostgreSQL: one module per audience, all on one connection pool.

* ``pool`` -- the pool and the readiness ping;
* ``migrations`` -- the schema, applied in order under an advisory lock;
* ``parcels`` -- the worker's parcel store: reads a batch needs, one transaction per batch;
* ``views`` -- what officers, platforms, reports and the what-if replay read;
* ``keys`` -- API keys (only their hashes);
* ``registry`` -- the administration's AEO registry.

Writes are batched: one transaction per worker batch, ``COPY`` for new rows (the fastest path in
PostgreSQL) and ``unnest`` arrays for the few updates, never a statement per order.
"""

from clearance.adapters.postgres.keys import KeyStore
from clearance.adapters.postgres.migrations import (
    MigrationError,
    expected_migrations,
    migrate,
    schema_is_current,
)
from clearance.adapters.postgres.parcels import ParcelStore
from clearance.adapters.postgres.pool import connect, ping
from clearance.adapters.postgres.registry import AeoRegistry
from clearance.adapters.postgres.views import ReadViews, StreamSummary

__all__ = [
    "AeoRegistry",
    "KeyStore",
    "MigrationError",
    "ParcelStore",
    "ReadViews",
    "StreamSummary",
    "connect",
    "expected_migrations",
    "migrate",
    "ping",
    "schema_is_current",
]
