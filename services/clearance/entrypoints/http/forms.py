"""The console's forms as msgspec Structs: decoded and checked before anything is done with them.

A browser sends strings, and a hidden field can be edited as easily as a visible one. Each field
is converted to its type (the contract's own type where the form feeds a contract message: an HS
code, an amount of ``Money``, an outcome), one by one, so that every bad field gets a message the
page shows next to it; nothing is sent on unless all of them are right.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, ClassVar, TypeVar

import msgspec
from msgspec import Meta, Struct

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.domain.parcels import ParcelKey

__all__ = ["InspectionForm", "SignInForm", "decode_form"]


class SignInForm(Struct, frozen=True, kw_only=True):
    """The sign-in form: an API key."""

    key: Annotated[str, Meta(min_length=1, max_length=256)]

    HINTS: ClassVar[dict[str, str]] = {"key": "Paste an API key (ck_...)."}


class InspectionForm(Struct, frozen=True, kw_only=True):
    """An officer's inspection result, as the decision page sends it.

    The parcel and the decision inspected are hidden fields; the outcome, the corrections of
    line 1 (for a reassessment) and the notes are the officer's.
    """

    platform: m.PlatformName
    order_id: m.Text64
    shipment_id: m.Text64
    decision_id: uuid.UUID
    outcome: m.InspectionOutcome
    hs_code: m.HsCodeText | None = None
    unit_price: m.Money | None = None
    notes: m.InspectionNotes | None = None

    HINTS: ClassVar[dict[str, str]] = {
        "platform": "Not a platform name: reload the parcel's page.",
        "order_id": "Not an order id (1 to 64 characters): reload the parcel's page.",
        "shipment_id": "Not a shipment id (1 to 64 characters): reload the parcel's page.",
        "decision_id": "Not a decision id: reload the parcel's page.",
        "outcome": "Choose release, seize or reassess.",
        "hs_code": "An HS code has 6 to 10 digits (dots and spaces allowed), e.g. 6109.10.",
        "unit_price": "A price is a number, not negative, with at most 4 decimals, e.g. 12.50.",
        "notes": "Notes hold at most 2000 characters.",
    }

    @property
    def parcel(self) -> ParcelKey:
        """The parcel the form is about."""
        return (self.platform, self.order_id, self.shipment_id)

    def inspection(self, officer: ApiKey, now: datetime) -> m.InspectionResult:
        """The ``inspection.result`` this form records: by the signed-in officer, now."""
        corrections = []
        if self.outcome == "reassess" and (self.hs_code or self.unit_price is not None):
            corrections.append(
                m.Correction(line_id=1, hs_code=self.hs_code, unit_price=self.unit_price)
            )
        return m.InspectionResult(
            event_id=f"console-{uuid.uuid4()}",
            platform=self.platform,
            order_id=self.order_id,
            shipment_id=self.shipment_id,
            decision_id=self.decision_id,
            officer_id=f"key:{officer.key_id}",
            occurred_at=now,
            outcome=self.outcome,
            corrections=corrections,
            notes=self.notes,
        )


FormT = TypeVar("FormT", SignInForm, InspectionForm)


def decode_form(form_type: type[FormT], fields: Mapping[str, str]) -> FormT | dict[str, str]:
    """The form as ``form_type``, or a message per bad field (field name -> message).

    Spaces around a value are dropped, and an empty field is an absent one (a browser sends
    ``""`` for an input left blank); fields the form does not know (the CSRF token) are ignored.
    """
    values: dict[str, object] = {}
    problems: dict[str, str] = {}
    for info in msgspec.structs.fields(form_type):
        text = fields.get(info.encode_name, "").strip()
        if not text:
            if info.required:
                problems[info.name] = form_type.HINTS[info.name]
            continue
        try:
            values[info.name] = m.convert(text, info.type)
        except msgspec.ValidationError:
            problems[info.name] = form_type.HINTS[info.name]
    if problems:
        return problems
    form = form_type(**values)  # type: ignore[arg-type]
    unstorable = m.unstorable_value(form)  # a NUL character: PostgreSQL text cannot hold it
    if unstorable is not None:
        field = unstorable[1].removeprefix("$.")
        return {field: f"{form_type.HINTS[field]} ({unstorable[0]})"}
    return form
