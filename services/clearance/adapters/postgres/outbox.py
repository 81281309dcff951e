"""The transactional outbox: decisions stored but not yet acknowledged by the broker.

A batch's decisions enter it in the batch's own transaction (``ParcelStore.write``); the worker
that wrote them claims and deletes them once published, and any worker drains what is left after
a grace period (a crash between storing and publishing).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg

from clearance.domain.access import platform_view
from clearance.domain.parcels import PendingPublication
from clearance.messages import decode_decision, encode

__all__ = ["Outbox"]

#: Removing published decisions from the outbox need not wait for the disk: if a crash loses the
#: delete, the drain publishes those decisions again under the same ids (at-least-once, which the
#: contract allows), while the decisions themselves are always committed durably before publishing.
_OUTBOX_DELETE_NEED_NOT_WAIT = "SET LOCAL synchronous_commit = off"


class Outbox:
    """Claim, drain and count the decisions awaiting the broker's acknowledgement."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def claim(self, decision_ids: Sequence[uuid.UUID]) -> AsyncIterator[set[uuid.UUID]]:
        """Lock this batch's outbox rows; yields those still there; deletes them on success.

        Rows another process is draining (locked) or has drained (gone) are left out, so a
        decision is never published twice by two processes. If the body raises, the rows stay
        for the next drain.
        """
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(_OUTBOX_DELETE_NEED_NOT_WAIT)
            rows = await connection.fetch(
                "SELECT decision_id FROM outbox WHERE decision_id = ANY($1::uuid[])"
                " FOR UPDATE SKIP LOCKED",
                list(decision_ids),
            )
            owned = {row["decision_id"] for row in rows}
            yield owned
            if owned:
                await connection.execute(
                    "DELETE FROM outbox WHERE decision_id = ANY($1::uuid[])", list(owned)
                )

    @asynccontextmanager
    async def drain(
        self, older_than: timedelta, limit: int = 1000
    ) -> AsyncIterator[list[PendingPublication]]:
        """Lock up to ``limit`` outbox rows older than ``older_than``; deletes them on success.

        The age keeps a drain from racing a live worker that is publishing its own batch.
        """
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(_OUTBOX_DELETE_NEED_NOT_WAIT)
            rows = await connection.fetch(
                "SELECT o.decision_id, o.topic, o.key, o.traceparent, d.body"
                " FROM outbox o JOIN decisions d USING (decision_id)"
                " WHERE o.created_at < now() - $1::interval"
                " ORDER BY o.created_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED",
                older_than,
                limit,
            )
            entries = [
                PendingPublication(
                    decision_id=row["decision_id"],
                    topic=row["topic"],
                    key=row["key"],
                    traceparent=row["traceparent"],
                    payload=encode(platform_view(decode_decision(row["body"]))),
                )
                for row in rows
            ]
            yield entries
            if entries:
                await connection.execute(
                    "DELETE FROM outbox WHERE decision_id = ANY($1::uuid[])",
                    [entry.decision_id for entry in entries],
                )

    async def depth(self) -> int:
        """Decisions stored but not yet acknowledged by the broker."""
        async with self.pool.acquire() as connection:
            return int(await connection.fetchval("SELECT count(*) FROM outbox"))
