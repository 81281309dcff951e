"""Revisions of a published decision: cancellation and an officer's inspection result.

A decision is a value: a revision is a new decision (new ``decision_id``, ``decision_revision`` one
higher) built from the previous one, as ``docs/spec/contracts.md`` says for ``order.cancelled`` and
``inspection.result``. Reassessment with corrections goes through ``assess`` again; only the reason
saying why is added here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from clearance.messages import ClearanceDecision, InspectionResult, Reason

__all__ = ["cancelled", "inspected", "reassessed"]


def _revised(
    previous: ClearanceDecision,
    *,
    decision_id: uuid.UUID,
    decided_at: datetime,
    trace_id: str | None,
    reason: Reason,
    **changes: object,
) -> ClearanceDecision:
    return msgspec.structs.replace(
        previous,
        decision_id=decision_id,
        decision_revision=previous.decision_revision + 1,
        decided_at=decided_at,
        trace_id=trace_id,
        reasons=[*previous.reasons, reason],
        **changes,
    )


def cancelled(
    previous: ClearanceDecision,
    *,
    decision_id: uuid.UUID,
    decided_at: datetime,
    trace_id: str | None,
    reason: str | None = None,
) -> ClearanceDecision:
    """The decision revised to status ``cancelled`` (the platform cancelled the parcel)."""
    message = "the platform cancelled this parcel"
    if reason:
        message += f": {reason}"
    return _revised(
        previous,
        decision_id=decision_id,
        decided_at=decided_at,
        trace_id=trace_id,
        reason=Reason(code="ORDER_CANCELLED", message=message),
        status="cancelled",
    )


def inspected(
    previous: ClearanceDecision,
    inspection: InspectionResult,
    *,
    decision_id: uuid.UUID,
    decided_at: datetime,
    trace_id: str | None,
) -> ClearanceDecision:
    """The decision revised by an officer's ``release`` or ``seize`` outcome.

    ``release`` releases the parcel (on payment when amounts are due), channel unchanged;
    ``seize`` refuses it. ``reassess`` is not handled here: the order is assessed again.
    """
    if inspection.outcome == "seize":
        reason = Reason(
            code="SEIZED_AFTER_INSPECTION",
            message=f"goods seized after inspection by officer {inspection.officer_id}",
        )
        status = "refuse"
    elif inspection.outcome == "release":
        reason = Reason(
            code="RELEASED_AFTER_INSPECTION",
            message=f"released after inspection by officer {inspection.officer_id}",
        )
        status = "release_on_payment" if previous.total_due > 0 else "release"
    else:
        raise ValueError("outcome 'reassess' is assessed again, not revised")
    return _revised(
        previous,
        decision_id=decision_id,
        decided_at=decided_at,
        trace_id=trace_id,
        reason=reason,
        status=status,
    )


def reassessed(decision: ClearanceDecision, inspection: InspectionResult) -> ClearanceDecision:
    """A decision assessed again with an officer's corrections, saying so in its reasons."""
    lines = sorted({correction.line_id for correction in inspection.corrections})
    reason = Reason(
        code="REASSESSED_AFTER_INSPECTION",
        message=(
            f"reassessed after inspection by officer {inspection.officer_id}"
            + (f" with corrections to line(s) {lines}" if lines else "")
        ),
    )
    return msgspec.structs.replace(decision, reasons=[*decision.reasons, reason])
