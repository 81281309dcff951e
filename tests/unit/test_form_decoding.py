"""The console's forms decoded by msgspec: every field of the inspection form refuses bad input
with its own message, and a good form becomes the contract's ``inspection.result``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.entrypoints.http.forms import InspectionForm, SignInForm, decode_form

DECISION = "5bf92f35-77b3-4da6-a3ce-929d0e0e4736"
GOOD = {
    "platform": "shopmart",
    "order_id": "ORD-60",
    "shipment_id": "ORD-60-1",
    "decision_id": DECISION,
    "outcome": "reassess",
    "hs_code": "6109.10",
    "unit_price": "12.50",
    "notes": "label says cotton",
    "_csrf_token": "ignored",
}
OFFICER = ApiKey(key_id="0badcafe", role="officer")

#: (field, bad value): every field of the form, the hidden ones too (they can be edited).
BAD = [
    ("outcome", "bogus"),
    ("outcome", ""),
    ("decision_id", "not-a-uuid"),
    ("decision_id", ""),
    ("hs_code", "12"),
    ("hs_code", "6109-10-00"),
    ("unit_price", "abc"),
    ("unit_price", "-3"),
    ("unit_price", "12.50001"),
    ("unit_price", "1e3"),
    ("notes", "x" * 2001),
    ("notes", "seized\u0000"),
    ("platform", "Shop Mart"),
    ("platform", ""),
    ("order_id", "x" * 65),
    ("order_id", "ORD\u000060"),
    ("shipment_id", ""),
    ("shipment_id", "x" * 65),
]


@pytest.mark.parametrize(("field", "bad"), BAD)
def test_a_bad_field_is_refused_with_its_message(field: str, bad: str) -> None:
    problems = decode_form(InspectionForm, {**GOOD, field: bad})
    assert isinstance(problems, dict), f"{field}={bad!r} was accepted"
    assert list(problems) == [field]
    assert problems[field].startswith(InspectionForm.HINTS[field])


def test_every_field_of_the_form_has_a_message_and_a_bad_value_above() -> None:
    fields = set(InspectionForm.__struct_fields__)
    assert set(InspectionForm.HINTS) == fields
    assert {field for field, _ in BAD} == fields


def test_every_bad_field_is_named_at_once() -> None:
    problems = decode_form(InspectionForm, {**GOOD, "outcome": "bogus", "unit_price": "abc"})
    assert isinstance(problems, dict) and set(problems) == {"outcome", "unit_price"}


def test_a_good_form_is_the_contracts_inspection_by_the_signed_in_officer() -> None:
    form = decode_form(InspectionForm, {**GOOD, "unit_price": " 12.50 "})
    assert isinstance(form, InspectionForm)
    now = datetime(2026, 11, 21, 9, tzinfo=UTC)
    inspection = form.inspection(OFFICER, now)
    assert inspection.decision_id == uuid.UUID(DECISION)
    assert (inspection.officer_id, inspection.occurred_at) == ("key:0badcafe", now)
    [correction] = inspection.corrections
    assert correction.unit_price == Decimal("12.50") and isinstance(correction.unit_price, m.Money)
    assert correction.hs_code == "6109.10"
    # what the console sends decodes as the API would decode it
    assert m.decode_inspection(m.encode(inspection)) == inspection


def test_blank_corrections_are_absent_and_only_a_reassessment_carries_them() -> None:
    blank = decode_form(InspectionForm, {**GOOD, "hs_code": "", "unit_price": "  ", "notes": ""})
    assert isinstance(blank, InspectionForm)
    assert (blank.hs_code, blank.unit_price, blank.notes) == (None, None, None)
    assert blank.inspection(OFFICER, datetime.now(UTC)).corrections == []
    seize = decode_form(InspectionForm, {**GOOD, "outcome": "seize"})
    assert isinstance(seize, InspectionForm)
    assert seize.inspection(OFFICER, datetime.now(UTC)).corrections == []


def test_the_sign_in_form_needs_a_key() -> None:
    assert decode_form(SignInForm, {"key": "  "}) == {"key": SignInForm.HINTS["key"]}
    assert decode_form(SignInForm, {"key": " ck_x "}) == SignInForm(key="ck_x")
