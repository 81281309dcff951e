"""Which failures the worker waits out, and which belong to one record.

A failure is either about the world (the database restarting, the broker unreachable, a lock
timeout, a rebalance, a table that an operator renamed): then the batch is kept and tried again
after a pause that grows, and nothing is dead-lettered; or it is about one record (a value the
database refuses, an error of the engine on that order): then that record goes to the dead-letter
topic with a code and the stream goes on. ``record_fault`` tells which.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

import asyncpg
from aiokafka.errors import KafkaError

from clearance.messages import DeadLetterCode

__all__ = ["Backoff", "record_fault"]


def record_fault(error: BaseException) -> DeadLetterCode | None:
    """The dead-letter code when ``error`` is about the record being processed, else None.

    PostgreSQL's data exceptions (SQLSTATE class 22: a value out of range, a character the
    encoding cannot hold) are about a value; any other database or broker error, and any
    operating-system error, is about the world. A plain Python error raised while planning or
    encoding an order (a bug meeting an unusual order) is about that order.
    """
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


class Backoff:
    """Pauses that double from ``first`` to ``longest`` while failures repeat; how long they have
    lasted, so a fault that persists is reported instead of looped on silently."""

    FIRST: Final = 0.5
    LONGEST: Final = 30.0

    def __init__(self) -> None:
        self.failures = 0
        self.since: float | None = None
        self.reason = ""

    def failed(self, reason: str) -> float:
        """Record one more failure; returns the pause before the next attempt."""
        if self.since is None:
            self.since = time.monotonic()
        self.failures += 1
        self.reason = reason
        return self.pause

    @property
    def pause(self) -> float:
        """The pause after the failures so far."""
        return min(self.LONGEST, self.FIRST * 2.0 ** max(0, self.failures - 1))

    def succeeded(self) -> None:
        self.failures = 0
        self.since = None
        self.reason = ""

    @property
    def failing(self) -> bool:
        return self.since is not None

    @property
    def seconds(self) -> float:
        """How long the current run of failures has lasted (0 when none)."""
        return 0.0 if self.since is None else time.monotonic() - self.since
