"""Which failures the worker waits out, and which belong to one record.

A failure is either about the world (the database restarting, the broker unreachable, a lock
timeout, a rebalance, a table that an operator renamed): then the batch is kept and tried again
after a pause that grows, and nothing is dead-lettered; or it is about one record (a value the
database refuses, an error of the engine on that order): then that record goes to the dead-letter
topic with a code and the stream goes on. ``record_fault`` tells which.
"""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka.errors import KafkaError

from clearance.adapters.postgres.parcels import TotalsChanged
from clearance.messages import DeadLetterCode

__all__ = ["reason", "record_fault"]


def record_fault(error: BaseException) -> DeadLetterCode | None:
    """The dead-letter code when ``error`` is about the record being processed, else None.

    PostgreSQL's data exceptions (SQLSTATE class 22: a value out of range, a character the
    encoding cannot hold) are about a value; any other database or broker error, and any
    operating-system error, is about the world. A plain Python error raised while planning or
    encoding an order (a bug meeting an unusual order) is about that order.
    """
    if isinstance(error, TotalsChanged):
        return None  # another worker's batch came first: plan again on what it stored
    if isinstance(error, asyncpg.DataError | _ClientDataError | OverflowError):
        return "UNSTORABLE_VALUE"  # the server's class 22, or asyncpg refusing to encode a value
    if isinstance(error, KafkaError | OSError) or _from_asyncpg(error):
        return None
    if isinstance(error, TimeoutError | asyncio.CancelledError):
        return None
    return "ENGINE_ERROR"


#: asyncpg's own refusal of a value it cannot encode for a query (not a server error).
_ClientDataError = asyncpg.exceptions._base.DataError


def _from_asyncpg(error: BaseException) -> bool:
    """Any other error of the database client (server errors, a lost connection, its internal
    state after one): about the world, not the record."""
    return type(error).__module__.startswith("asyncpg")


def reason(error: BaseException, stage: str) -> str:
    """A low-cardinality name for a fault of the world (the ``reason`` label of
    ``clearance_batch_retries_total``)."""
    if isinstance(error, TotalsChanged):
        return "totals_changed"
    if isinstance(error, KafkaError):
        return "broker_unavailable"
    if isinstance(error, OSError | asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
        return "broker_unavailable" if stage == "fetch" else "database_unavailable"
    return f"{stage}_failed"
