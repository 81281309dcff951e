"""The worker with the engine's work taken out: what the rest of the pipeline allows.

``clearance bench --pipeline --engine-ceiling`` starts its workers as ``python -m
clearance.devtools.engine_ceiling``: the real ``clearance worker`` (decoding, the reads by key,
planning, the store, the publication, the offset commits, the spans), except that each worker
assesses only the first order it sees for each destination and gives every later order to that
destination the same decision, with the order's own ids, a new decision id and no running totals.

No real decision is made after the first ones, and the database writes no running totals, so the
rate it measures is an upper bound: no engine, however fast, takes the pipeline past it on the
same machine. It answers one question, how much of an order's cost is the engine's, with a
command anyone can run; it is never a way to run the service.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from clearance.domain.context import Assessment
from clearance.domain.parcels import Order
from clearance.service.assessing import Assessor

__all__ = ["main", "reusing_decisions"]

AssessMethod = Callable[..., Assessment]


def reusing_decisions(assess: AssessMethod) -> AssessMethod:
    """``Assessor.assess`` that assesses the first order per destination and reuses its
    decision for the later ones (see the module's docstring)."""
    first: dict[str, Assessment] = {}

    def reused(self: Assessor, order: Order, **context: Any) -> Assessment:
        found = first.get(order.destination_country)
        if found is None:
            found = first[order.destination_country] = assess(self, order, **context)
            return found
        decision = msgspec.structs.replace(
            found.decision,
            decision_id=uuid.uuid4(),
            platform=order.platform,
            order_id=order.order_id,
            shipment_id=order.shipment,
            order_revision=order.revision,
            decision_revision=context.get("decision_revision", 1),
            decided_at=context.get("decided_at") or found.decision.decided_at,
            trace_id=context.get("trace_id"),
        )
        return Assessment(decision=decision)

    return reused


def main() -> int:
    """``clearance worker`` (from the environment, as the bench starts it) with reused decisions."""
    from clearance.entrypoints import worker_cmd

    Assessor.assess = reusing_decisions(Assessor.assess)  # type: ignore[method-assign]
    return worker_cmd.run(argparse.Namespace(create_topics=False, migrate=False))


if __name__ == "__main__":
    sys.exit(main())
