"""Revisions of a published decision: cancellation, an officer's inspection result, and a
platform's change refused while the parcel awaits an officer.

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

__all__ = [
    "OFFICER_STATUSES",
    "awaits_officer",
    "cancelled",
    "change_refused",
    "inspected",
    "reassessed",
]

#: Statuses only an officer changes: held for inspection, or refused (seized after inspection, or
#: prohibited goods). A platform's amendment or cancellation of such a parcel is recorded and
#: refused (``change_refused``) until an officer's inspection result changes the status.
OFFICER_STATUSES = frozenset({"hold", "refuse"})

CHANGE_REFUSED = "PLATFORM_CHANGE_REFUSED"


def awaits_officer(decision: ClearanceDecision) -> bool:
    """Whether the parcel is in customs' hands: a platform can no longer change it."""
    return decision.status in OFFICER_STATUSES


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


def change_refused(
    previous: ClearanceDecision,
    change: str,
    *,
    decision_id: uuid.UUID,
    decided_at: datetime,
    trace_id: str | None,
) -> ClearanceDecision:
    """The decision unchanged but for a reason saying that the platform's ``change`` (e.g.
    "order.amended revision 2") was refused and why. The status stays; only the latest refusal is
    kept among the reasons, so repeated attempts do not grow the decision."""
    if any(reason.code == "SEIZED_AFTER_INSPECTION" for reason in previous.reasons):
        state = "was seized after inspection"
    elif previous.status == "hold":
        state = "is held for inspection"
    else:
        state = "was refused entry"
    reason = Reason(
        code=CHANGE_REFUSED,
        message=(
            f"{change} refused: the parcel {state}; it stays as decided until an officer's "
            "inspection result changes it"
        ),
    )
    return msgspec.structs.replace(
        previous,
        decision_id=decision_id,
        decision_revision=previous.decision_revision + 1,
        decided_at=decided_at,
        trace_id=trace_id,
        reasons=[*(r for r in previous.reasons if r.code != CHANGE_REFUSED), reason],
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
            # the officer is on record in the inspection (``inspections``), not in the decision
            # the platform reads
            message="goods seized after inspection",
        )
        status = "refuse"
    elif inspection.outcome == "release":
        reason = Reason(
            code="RELEASED_AFTER_INSPECTION",
            message="released after inspection",
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
