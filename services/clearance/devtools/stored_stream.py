"""A generated stream stored as the worker stores it, without a broker: for the console's tests
and its measurement at 100,000 held parcels (``clearance bench --console``).

Each batch goes through the worker's own steps (``service.batches``: decode, load the parcels'
state, running totals and risk history, plan) and is written by the PostgreSQL parcel store in
one transaction, so the rows are the ones a real run leaves, indexes and queue columns included.
Nothing is published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from clearance.adapters.postgres import ParcelStore
from clearance.service.assessing import Assessor
from clearance.service.batches import Decoded, Record, decode_record, planner_with_stored

__all__ = ["store_events"]

ORDERS_TOPIC = "orders.v1"


async def store_events(
    store: ParcelStore,
    assessor: Assessor,
    events: Sequence[tuple[str, bytes]],
    *,
    batch: int = 1000,
    clock: Callable[[int], datetime] | None = None,
) -> int:
    """Store ``events`` (``clearance generate``'s (key, value) pairs) batch by batch; returns the
    decisions written. ``clock(n)`` is the decision time of batch ``n`` (default: now)."""
    written = 0
    for number, start in enumerate(range(0, len(events), batch)):
        now = clock(number) if clock is not None else datetime.now(UTC)
        decoded = _decoded(events[start : start + batch], start, now)
        planner = await planner_with_stored(assessor, store, decoded, now=now)
        plan = planner.apply(decoded)
        await store.write(plan)
        written += len(plan.outgoing)
    return written


def _decoded(events: Sequence[tuple[str, bytes]], offset: int, now: datetime) -> list[Decoded]:
    """The events that decode (the malformed ones a worker would dead-letter are left out)."""
    decoded = []
    for index, (key, value) in enumerate(events):
        record = Record(
            topic=ORDERS_TOPIC,
            partition=0,
            offset=offset + index,
            key=key.encode(),
            value=value,
            timestamp_ms=int(now.timestamp() * 1000),
        )
        result = decode_record(record, "inspections.v1", now)
        if isinstance(result, Decoded):
            decoded.append(result)
    return decoded
