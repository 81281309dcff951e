"""The worker's batch planner without a broker or database: dedupe, revisions, running totals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from clearance.domain import revisions
from clearance.domain.parcels import ParcelKey, ParcelState
from clearance.messages import InspectionResult, decode_order_event
from clearance.service.assessing import Assessor
from clearance.service.batches import (
    MAX_RECORD_BYTES,
    BatchPlan,
    BatchPlanner,
    Decoded,
    Record,
    decode_record,
    redacted,
)
from factories import encoded, order

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
ASSESSOR = Assessor("unit-test-identity-key")


def record(body: dict[str, object] | bytes, offset: int = 0, topic: str = "orders.v1") -> Record:
    value = body if isinstance(body, bytes) else encoded(body)
    return Record(topic=topic, partition=0, offset=offset, key=b"k", value=value, timestamp_ms=0)


def decoded(*bodies: dict[str, object]) -> list[Decoded]:
    items = []
    for offset, body in enumerate(bodies):
        result = decode_record(record(body, offset), "inspections.v1", NOW)
        assert isinstance(result, Decoded), result
        items.append(result)
    return items


def small(n: int) -> dict[str, object]:
    """An order worth about VND 660,000: under the VN duty relief limit on its own."""
    body = order(n, shipping_cost="0")
    body["items"][0]["unit_price"] = "25.00"
    return body


def codes(decision: object) -> set[str]:
    return {reason.code for reason in decision.reasons}  # type: ignore[attr-defined]


def plan(
    *bodies: dict[str, Any],
    states: dict[ParcelKey, ParcelState] | None = None,
    totals: list[tuple[str, ParcelKey, Decimal]] | None = None,
) -> BatchPlan:
    planner = BatchPlanner(ASSESSOR, states=states or {}, totals=totals or [], now=NOW)
    return planner.apply(decoded(*bodies))


@pytest.mark.parametrize(
    ("payload", "code", "path"),
    [
        (b"{nope", "MALFORMED_JSON", None),
        (b"\xff\xfe{}", "MALFORMED_JSON", None),
        (encoded({**order(1), "type": "order.lost"}), "UNKNOWN_MESSAGE_TYPE", "$.type"),
        (encoded({**order(1), "currency": "usd"}), "SCHEMA_VIOLATION", "$.currency"),
        (b"{" + b" " * MAX_RECORD_BYTES + b"}", "PAYLOAD_TOO_LARGE", None),
    ],
)
def test_bad_records_become_dead_letters_with_a_code_and_path(
    payload: bytes, code: str, path: str | None
) -> None:
    letter = decode_record(record(payload), "inspections.v1", NOW)
    assert not isinstance(letter, Decoded)
    assert (letter.error.code, letter.error.path) == (code, path)


def test_a_redelivered_event_in_the_same_batch_is_skipped() -> None:
    result = plan(order(1), order(1))
    assert len(result.outgoing) == 1
    assert result.skipped == {"duplicate": 1}


def test_a_stored_event_delivered_again_publishes_its_stored_decisions_again() -> None:
    # The batch that stored them crashed or failed before the broker acknowledged its decisions.
    amended = order(1, type="order.amended", event_id="evt-1-r2", revision=2)
    first = plan(order(1), amended)
    key = ("shopmart", "ORD-1", "ORD-1-1")
    stored = {(key, out.event_id): [out.decision] for out in first.outgoing}
    planner = BatchPlanner(ASSESSOR, states={key: first.parcels[key]}, now=NOW)
    items = decoded(order(1), amended, order(2))
    assert planner.redelivered(items) == [(key, "evt-1"), (key, "evt-1-r2")]
    planner.add_stored_decisions(stored)
    again = planner.apply(items)
    republished = [out for out in again.outgoing if out.republished]
    assert [out.decision for out in republished] == [out.decision for out in first.outgoing]
    assert [out.key for out in republished] == [out.key for out in first.outgoing]
    assert again.skipped == {"duplicate": 2}
    assert key not in again.parcels, "nothing about the parcel is stored again"
    new = [out for out in again.outgoing if not out.republished]
    assert [out.decision.order_id for out in new] == ["ORD-2"]


def test_a_duplicate_within_a_batch_is_published_once() -> None:
    planner = BatchPlanner(ASSESSOR, states={}, now=NOW)
    items = decoded(order(1), order(1))
    assert planner.redelivered(items) == []  # nothing stored yet: nothing to look up
    assert len(planner.apply(items).outgoing) == 1


def test_order_and_its_amendment_in_one_batch_make_two_revisions() -> None:
    amended = order(1, type="order.amended", event_id="evt-1-r2", revision=2)
    result = plan(order(1), amended)
    assert [o.decision.decision_revision for o in result.outgoing] == [1, 2]
    key = ("shopmart", "ORD-1", "ORD-1-1")
    assert key in result.new_parcels
    assert result.parcels[key].order.revision == 2
    assert result.parcels[key].event_ids == ["evt-1", "evt-1-r2"]


def test_an_older_revision_is_remembered_but_not_assessed() -> None:
    first = plan(order(1, revision=3))
    state = first.parcels[("shopmart", "ORD-1", "ORD-1-1")]
    late = order(1, type="order.amended", event_id="evt-late", revision=2)
    result = plan(late, states={("shopmart", "ORD-1", "ORD-1-1"): state})
    assert result.outgoing == []
    assert result.skipped == {"stale_revision": 1}
    assert result.parcels[("shopmart", "ORD-1", "ORD-1-1")].event_ids[-1] == "evt-late"


def test_parcels_under_one_master_bill_count_towards_one_total_within_a_batch() -> None:
    # VN aggregates one consignee's parcels under one master air waybill (Dispatch 3923).
    a, b = small(1), small(2)
    b["consignee"] = a["consignee"]
    alone = plan(b).outgoing[0].decision
    together = plan(a, b).outgoing[1].decision
    assert "DUTY_DE_MINIMIS" in codes(alone)
    assert "CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD" in codes(together)


def test_cancelling_an_unknown_parcel_changes_nothing() -> None:
    cancel = {
        "type": "order.cancelled",
        "event_id": "c1",
        "platform": "shopmart",
        "order_id": "ORD-404",
        "occurred_at": "2026-11-20T11:00:00+07:00",
        "consignee_id": "buyer-1",
    }
    result = plan(cancel)
    assert (result.outgoing, result.parcels, result.skipped) == ([], {}, {"unknown_parcel": 1})


def test_stored_orders_keep_neither_phone_nor_identity_number() -> None:
    body = order(1)
    body["consignee"]["identity"] = {"type": "passport", "number": "B1234567"}
    stored = redacted(decode_order_event(encoded(body)))  # type: ignore[arg-type]
    assert stored.consignee.phone is None
    assert stored.consignee.identity is not None  # a rule may require an identity document...
    assert stored.consignee.identity.number == "[redacted]"  # ...but its number is never kept
    assert stored.consignee.identity.type == "passport"
    assert stored.consignee.name == body["consignee"]["name"]


def _state() -> ParcelState:
    state: ParcelState = plan(order(1)).parcels[("shopmart", "ORD-1", "ORD-1-1")]
    return state


def _inspection(outcome: str, decision_id: uuid.UUID, **extra: object) -> InspectionResult:
    return InspectionResult(
        event_id="i1",
        platform="shopmart",
        order_id="ORD-1",
        shipment_id="ORD-1-1",
        decision_id=decision_id,
        officer_id="officer-7",
        occurred_at=NOW,
        outcome=outcome,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("seize", "refuse"), ("release", None)],
)
def test_inspection_revisions(outcome: str, status: str | None) -> None:
    previous = _state().decision
    revised = revisions.inspected(
        previous,
        _inspection(outcome, previous.decision_id),
        decision_id=uuid.uuid4(),
        decided_at=NOW,
        trace_id=None,
    )
    expected = status or ("release_on_payment" if previous.total_due > 0 else "release")
    assert revised.status == expected
    assert revised.decision_revision == previous.decision_revision + 1
    assert revised.channel == previous.channel
    assert revised.decision_id != previous.decision_id
    assert revised.reasons[:-1] == previous.reasons


def test_reassess_is_not_a_simple_revision() -> None:
    previous = _state().decision
    with pytest.raises(ValueError, match="assessed again"):
        revisions.inspected(
            previous,
            _inspection("reassess", previous.decision_id),
            decision_id=uuid.uuid4(),
            decided_at=NOW,
            trace_id=None,
        )


def test_cancelled_revision_keeps_the_amounts_and_says_why() -> None:
    previous = _state().decision
    revised = revisions.cancelled(
        previous, decision_id=uuid.uuid4(), decided_at=NOW, trace_id=None, reason="lost"
    )
    assert (revised.status, revised.total_due) == ("cancelled", previous.total_due)
    assert revised.reasons[-1].code == "ORDER_CANCELLED"
    assert revised.reasons[-1].message.endswith("lost")


def test_stored_totals_of_other_parcels_count_but_the_parcels_own_do_not() -> None:
    body = small(1)
    key = ("shopmart", "ORD-1", "ORD-1-1")
    [total_key] = ASSESSOR.totals_keys(decode_order_event(encoded(body)))  # type: ignore[arg-type]
    own = plan(body, totals=[(total_key, key, Decimal("900000"))]).outgoing[0].decision
    other = plan(body, totals=[(total_key, ("shopmart", "X", "X"), Decimal("900000"))])
    assert "DUTY_DE_MINIMIS" in codes(own)  # an amendment replaces its own contribution
    assert "CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD" in codes(other.outgoing[0].decision)
