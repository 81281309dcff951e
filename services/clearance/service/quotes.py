"""A checkout quote: the decision an order would get now, stored and published nowhere.

Checked as ``intake.submit_order`` checks an order (what the database could not hold, a platform
acting for another, a destination without a rule pack), so a quote never promises what the
worker would refuse.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

from clearance.domain.access import ApiKey
from clearance.messages import ClearanceDecision, OrderPlaced
from clearance.service.access import acting_for, decision_for
from clearance.service.assessing import Assessor
from clearance.service.intake import refuse_unstorable, refuse_unsupported

__all__ = ["quote"]


def quote(
    order: OrderPlaced,
    caller: ApiKey,
    assessor: Assessor,
    timer: AbstractContextManager[object] | None = None,
) -> ClearanceDecision:
    """The engine's decision for ``order``; ``timer`` wraps the assessment alone (a metric)."""
    refuse_unstorable(order)
    acting_for(caller, order.platform)
    refuse_unsupported(order, assessor)
    with timer or contextlib.nullcontext():
        decision = assessor.assess(order).decision
    return decision_for(caller, decision)  # a platform's quote must not tell how risk scores
