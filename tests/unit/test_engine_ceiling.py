"""``clearance bench --engine-ceiling``: workers that assess one order per destination."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from clearance.devtools.bench_mix import engine_orders
from clearance.devtools.engine_ceiling import reusing_decisions
from clearance.domain.context import Assessment
from clearance.domain.parcels import Order
from clearance.service.assessing import Assessor


def test_later_orders_to_a_destination_reuse_its_first_decision_with_their_own_ids() -> None:
    orders = engine_orders(40, seed=5)
    first, later = [o for o in orders if o.destination_country == "VN"][:2]
    other = next(o for o in orders if o.destination_country != "VN")
    later = msgspec.structs.replace(later, revision=2)
    assessed: list[str] = []

    def assess(self: Assessor, order: Order, **context: Any) -> Assessment:
        assessed.append(order.order_id)
        return Assessor.assess(self, order, **context)

    reused = reusing_decisions(assess)
    assessor = Assessor("ceiling-test-identity-key")
    when = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    original = reused(assessor, first, decided_at=when).decision
    copy = reused(assessor, later, decided_at=when, decision_revision=3, trace_id="ab" * 16)
    elsewhere = reused(assessor, other, decided_at=when).decision
    assert assessed == [first.order_id, other.order_id]  # the engine ran once per destination
    decision = copy.decision
    assert (decision.order_id, decision.shipment_id) == (later.order_id, later.shipment)
    assert (decision.order_revision, decision.decision_revision) == (2, 3)
    assert decision.trace_id == "ab" * 16 and decision.decision_id != original.decision_id
    assert (decision.status, decision.total_due, decision.lines) == (
        original.status,
        original.total_due,
        original.lines,
    )
    assert copy.contributions == ()  # no running totals: the database writes fewer rows
    assert elsewhere.destination_country == other.destination_country != "VN"
