"""Trust boundaries in the worker's plan (issue #20), without a broker or database: a platform
cannot undo customs, claim another platform, grow a parcel's row without bound, or see another
platform's customers through the velocity signal; the plan records the totals it read so that
storage can refuse it when another worker changed them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from clearance.domain.aeo import AeoCertificate, RegistryError, parse_registry
from clearance.domain.parcels import MAX_EVENT_IDS, ParcelKey, ParcelState, RiskHistory
from clearance.service.assessing import Assessor
from clearance.service.batches import BatchPlan, BatchPlanner, Decoded, Record, decode_record
from factories import encoded, order

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
ASSESSOR = Assessor("unit-test-identity-key", sample_key="unit-test-sample-key")
HELD: ParcelKey = ("shopmart", "ORD-10", "ORD-10-1")


def record(body: dict[str, Any], offset: int = 0, topic: str = "orders.v1") -> Record:
    return Record(
        topic=topic, partition=0, offset=offset, key=b"k", value=encoded(body), timestamp_ms=0
    )


def decoded(*bodies: dict[str, Any], topic: str = "orders.v1") -> list[Decoded]:
    items = []
    for offset, body in enumerate(bodies):
        inspections = "inspections.v1"
        result = decode_record(record(body, offset, body.get("_topic", topic)), inspections, NOW)
        assert isinstance(result, Decoded), result
        items.append(result)
    return items


def plan(
    *bodies: dict[str, Any],
    states: dict[ParcelKey, ParcelState] | None = None,
    history: RiskHistory | None = None,
) -> BatchPlan:
    planner = BatchPlanner(ASSESSOR, states=states or {}, now=NOW)
    items = decoded(*bodies)
    planner.totals_needed(items)
    if history is not None:
        planner.add_history(history)
    return planner.apply(items)


def held_order(n: int = 10, **changes: Any) -> dict[str, Any]:
    """A VN parcel held for classification: its line is not in the tariff (golden case 13)."""
    body = order(n, currency="VND", **changes)
    body["items"][0].update(hs_code="61091000", unit_price="400000", quantity=3)
    body["consignee"]["identity"] = {"type": "national_id", "number": f"0010990000{n}"}
    return body


def amendment(n: int = 10, revision: int = 2, **changes: Any) -> dict[str, Any]:
    """The same parcel amended to a clean, cheap line that would be released if assessed."""
    body = held_order(n, type="order.amended", event_id=f"evt-{n}-r{revision}", revision=revision)
    body["items"][0].update(hs_code="85183020", unit_price="100000", quantity=1)
    body.update(changes)
    return body


def cancellation(n: int = 10, event_id: str = "evt-10-cancel") -> dict[str, Any]:
    return {
        "type": "order.cancelled",
        "event_id": event_id,
        "platform": "shopmart",
        "order_id": f"ORD-{n}",
        "shipment_id": f"ORD-{n}-1",
        "occurred_at": "2026-11-21T09:00:00+07:00",
        "consignee_id": f"buyer-{n % 97}",
    }


def inspection(decision_id: uuid.UUID, outcome: str, event_id: str) -> dict[str, Any]:
    return {
        "type": "inspection.result",
        "event_id": event_id,
        "platform": "shopmart",
        "order_id": "ORD-10",
        "shipment_id": "ORD-10-1",
        "decision_id": str(decision_id),
        "officer_id": "officer-7",
        "occurred_at": "2026-11-21T09:00:00+07:00",
        "outcome": outcome,
        "_topic": "inspections.v1",
    }


def codes(state: ParcelState) -> list[str]:
    return [reason.code for reason in state.decision.reasons]


def held_state() -> ParcelState:
    state = plan(held_order()).parcels[HELD]
    assert state.decision.status == "hold"
    return state


def test_a_held_parcel_cannot_be_amended_or_cancelled_by_its_platform() -> None:
    held = held_state()
    result = plan(amendment(), cancellation(), states={HELD: held})
    assert [o.decision.status for o in result.outgoing] == ["hold", "hold"]
    after = result.parcels[HELD]
    assert after.order.revision == 1 and after.order.items[0].hs_code == "61091000"
    assert after.decision.decision_revision == held.decision.decision_revision + 2
    assert codes(after).count("PLATFORM_CHANGE_REFUSED") == 1  # only the latest is kept
    assert "order.cancelled refused: the parcel is held for inspection" in (
        after.decision.reasons[-1].message
    )
    assert after.event_ids[-2:] == ["evt-10-r2", "evt-10-cancel"]  # recorded, not re-applied
    assert HELD not in result.contributions  # the totals stay as the officer found them
    assert after.control_decision == held.decision.decision_id


def test_the_officer_still_answers_the_decision_they_were_shown_and_then_the_platform_may() -> None:
    held = held_state()
    refused = plan(amendment(), states={HELD: held}).parcels[HELD]
    released = plan(
        inspection(held.decision.decision_id, "release", "insp-1"), states={HELD: refused}
    ).parcels[HELD]
    assert released.decision.status in {"release", "release_on_payment"}
    assert released.control_decision is None
    later = plan(amendment(revision=3), states={HELD: released})
    assert later.parcels[HELD].order.revision == 3  # customs let go: the platform's again


def test_a_seized_parcel_stays_seized_whatever_the_platform_sends() -> None:
    held = held_state()
    seized = plan(
        inspection(held.decision.decision_id, "seize", "insp-1"), states={HELD: held}
    ).parcels[HELD]
    assert seized.decision.status == "refuse"
    result = plan(amendment(), cancellation(), states={HELD: seized})
    assert {o.decision.status for o in result.outgoing} == {"refuse"}
    assert "was seized after inspection" in result.parcels[HELD].decision.reasons[-1].message
    assert result.parcels[HELD].order.revision == 1


def test_a_parcel_not_in_customs_hands_is_still_the_platforms_to_change() -> None:
    placed = order(1)
    key = ("shopmart", "ORD-1", "ORD-1-1")
    state = plan(placed).parcels[key]
    assert state.decision.status not in {"hold", "refuse"}
    amended = order(1, type="order.amended", event_id="evt-1-r2", revision=2)
    assert plan(amended, states={key: state}).parcels[key].order.revision == 2
    cancelled = plan(cancellation(1, "evt-1-c"), states={key: state}).parcels[key]
    assert cancelled.decision.status == "cancelled"


def test_a_parcels_event_ids_stay_bounded_and_a_recent_redelivery_is_still_skipped() -> None:
    key = ("shopmart", "ORD-1", "ORD-1-1")
    state = plan(order(1, revision=200)).parcels[key]
    stale = [
        order(1, type="order.amended", event_id=f"evt-1-late-{n}", revision=2) for n in range(100)
    ]
    result = plan(*stale, states={key: state})
    ids = result.parcels[key].event_ids
    assert len(ids) == MAX_EVENT_IDS and ids[-1] == "evt-1-late-99"
    again = plan(stale[-1], states={key: result.parcels[key]})
    assert again.skipped == {"duplicate": 1}


def test_a_record_on_a_platforms_own_topic_cannot_speak_for_another_platform() -> None:
    body = order(1, platform="quickcart")
    letter = decode_record(
        record(body, topic="orders.v1.shopmart"), "inspections.v1", NOW, "shopmart"
    )
    assert not isinstance(letter, Decoded)
    assert (letter.error.code, letter.error.path) == ("PLATFORM_MISMATCH", "$.platform")
    own = decode_record(
        record(order(1), topic="orders.v1.shopmart"), "inspections.v1", NOW, "shopmart"
    )
    assert isinstance(own, Decoded)
    shared = decode_record(record(body), "inspections.v1", NOW, None)  # the opted-out topic
    assert isinstance(shared, Decoded)


def _velocity_order(n: int, platform: str) -> dict[str, Any]:
    body = order(n, platform=platform, currency="VND")
    body["items"][0].update(hs_code="85183020", unit_price="300000", quantity=1)
    body["consignee"]["identity"] = {"type": "national_id", "number": "001099000777"}
    return body


def test_velocity_counts_the_consignees_parcels_on_the_same_platform_only() -> None:
    # VN: CONSIGNEE_VELOCITY from the 5th parcel a day (velocity_per_day 5).
    planner = BatchPlanner(ASSESSOR, states={}, now=NOW)
    mine = _velocity_order(1, "shopmart")
    ref = planner.consignee_ref(decoded(mine)[0].event)  # type: ignore[arg-type]
    elsewhere = {("quickcart", f"Q-{n}", f"Q-{n}-1") for n in range(9)}
    own = {("shopmart", f"S-{n}", f"S-{n}-1") for n in range(3)}
    history = RiskHistory(
        known_sellers={("shopmart", "seller-1"), ("quickcart", "seller-1")},
        recent_parcels={("quickcart", ref): elsewhere, ("shopmart", ref): own},
    )
    first = plan(mine, history=history).outgoing[0].decision
    assert "CONSIGNEE_VELOCITY" not in first.risk.signals  # 3 + this one: under 5
    busy = RiskHistory(
        known_sellers=history.known_sellers,
        recent_parcels={("shopmart", ref): own | {("shopmart", "S-9", "S-9-1")}},
    )
    assert "CONSIGNEE_VELOCITY" in plan(mine, history=busy).outgoing[0].decision.risk.signals


def test_an_amendment_is_not_one_more_parcel_for_velocity() -> None:
    key = ("shopmart", "ORD-1", "ORD-1-1")
    placed = _velocity_order(1, "shopmart")
    planner = BatchPlanner(ASSESSOR, states={}, now=NOW)
    ref = planner.consignee_ref(decoded(placed)[0].event)  # type: ignore[arg-type]
    others = {("shopmart", f"S-{n}", f"S-{n}-1") for n in range(3)}
    history = RiskHistory(recent_parcels={("shopmart", ref): others | {key}})
    amendments = [
        {**placed, "type": "order.amended", "event_id": f"evt-r{r}", "revision": r}
        for r in range(2, 6)
    ]
    state = plan(placed, history=history).parcels[key]
    result = plan(*amendments, states={key: state}, history=history)
    assert all("CONSIGNEE_VELOCITY" not in o.decision.risk.signals for o in result.outgoing)


def test_the_aeo_discount_comes_from_the_registry_the_shell_passes() -> None:
    body = order(1)
    body["seller"]["aeo"] = True  # the platform's claim
    claimed = plan(body, history=RiskHistory()).outgoing[0].decision  # a new seller: scored
    assert claimed.risk.score > 0 and "NEW_SELLER" in claimed.risk.signals
    certificate = AeoCertificate(number="AEO-1", valid_from=date(2020, 1, 1))
    seller = (body["platform"], body["seller"]["id"])
    registered = plan(body, history=RiskHistory(aeo={seller: (certificate,)})).outgoing[0]
    discount = ASSESSOR.packs.get("vn").risk.aeo_discount  # the example order goes to VN
    assert registered.decision.risk.score == max(0, claimed.risk.score - discount)
    assert registered.decision.risk.signals == claimed.risk.signals


def test_the_plan_says_which_running_totals_it_read_and_what_they_were() -> None:
    first, second = held_order(1), held_order(2)
    second["consignee"] = first["consignee"]
    key = ("shopmart", "ORD-1", "ORD-1-1")
    planner = BatchPlanner(ASSESSOR, states={}, now=NOW)
    items = decoded(second)
    needed = planner.totals_needed(items)
    planner.add_totals([(k, key, Decimal("123.45")) for k in needed])
    result = planner.apply(items)
    assert result.totals_seen == dict.fromkeys(needed, Decimal("123.45"))


def test_a_parcel_refused_for_prohibited_goods_is_not_the_platforms_to_clean_up() -> None:
    body = order(7, currency="VND")
    body["items"][0].update(description="Disposable vape pen", hs_code="85434000")
    key = ("shopmart", "ORD-7", "ORD-7-1")
    state = plan(body).parcels[key]
    assert state.decision.status == "refuse"
    clean = {**body, "type": "order.amended", "event_id": "evt-7-r2", "revision": 2}
    clean["items"] = [{**body["items"][0], "description": "Phone case", "hs_code": "42029290"}]
    after = plan(clean, states={key: state}).parcels[key]
    assert after.decision.status == "refuse" and after.order.items[0].hs_code == "85434000"
    assert "was refused entry" in after.decision.reasons[-1].message


REGISTRY_HEADER = "certificate,platform,seller_id,valid_from,valid_until,issued_by\n"


def test_the_aeo_registry_file_is_read_whole_or_refused_with_the_line() -> None:
    rows = parse_registry(
        REGISTRY_HEADER
        + "VN-1,shopmart,s-1,2025-01-01,,VN\n"
        + "VN-2,shopmart,s-1,2020-01-01,2024-12-31,\n"
    )
    assert [(r.certificate.number, r.seller_id, r.issued_by) for r in rows] == [
        ("VN-1", "s-1", "VN"),
        ("VN-2", "s-1", None),
    ]
    assert rows[0].certificate.valid_until is None
    assert rows[0].certificate.valid_on(date(2099, 1, 1))
    assert not rows[1].certificate.valid_on(date(2025, 1, 1))
    assert not rows[1].certificate.valid_on(date(2019, 12, 31))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("certificate,platform,seller_id\nX,shopmart,s\n", "line 1: missing column(s) valid_from"),
        (REGISTRY_HEADER + "X,shopmart,s,2025-01-01,,\nX,shopmart,t,2025-01-01,,\n", "line 3"),
        (REGISTRY_HEADER + "X,Shop Mart,s,2025-01-01,,\n", "is not a platform name"),
        (REGISTRY_HEADER + "X,shopmart,,2025-01-01,,\n", "seller_id are required"),
        (REGISTRY_HEADER + "X,shopmart,s,,,\n", "valid_from is required"),
        (REGISTRY_HEADER + "X,shopmart,s,2025-01-01,2024-01-01,\n", "before valid_from"),
        (REGISTRY_HEADER + "X,shopmart,s,2025-01-01,2026-02-30,\n", "valid_until '2026-02-30'"),
    ],
)
def test_a_wrong_registry_row_names_its_line(text: str, problem: str) -> None:
    with pytest.raises(RegistryError, match=re.escape(problem)):
        parse_registry(text)
