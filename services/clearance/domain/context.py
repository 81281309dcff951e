"""The seam between the pure engine and the shell that feeds it.

``assess(order, context) -> Assessment`` (in ``clearance.domain.assess``) is a pure function: the
shell (worker, API, CLI) gathers everything it needs into an ``AssessmentContext`` first, and
writes what the ``Assessment`` says afterwards. The engine never does I/O, never reads a clock
and never sees a secret: ids, timestamps and the keyed hash of the consignee come in from outside.

Running totals (anti-splitting): before assessing, the shell asks
``clearance.domain.aggregation.aggregation_keys(order, pack, consignee_ref)`` which totals the pack
needs, reads them from storage *excluding this parcel's own earlier contribution* (so an amendment
replaces rather than adds), passes them in ``totals``, and after assessing upserts the
``Assessment.contributions`` keyed by (key, platform, order_id, shipment_id).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from msgspec import Struct, field

from clearance.domain.aeo import AeoCertificate
from clearance.domain.fx import ExchangeRates
from clearance.domain.hs import HsClassifier
from clearance.domain.packs import RulePack
from clearance.messages import ClearanceDecision

__all__ = [
    "DRAW_RANGE",
    "AeoCertificate",
    "Assessment",
    "AssessmentContext",
    "Contribution",
    "SellerHistory",
]

#: The compliance draw is a whole number in ``[0, DRAW_RANGE)`` (64 bits of a keyed hash).
DRAW_RANGE = 2**64


class SellerHistory(Struct, frozen=True, kw_only=True):
    """What storage knows about the seller and the consignee (for the risk signals)."""

    seller_decisions: int = 0
    """Decisions already stored for this seller (0 = a new seller)."""
    consignee_parcels_today: int = 0
    """The consignee's other parcels on this platform that the service first saw in the 24 hours
    before this batch (velocity): never another platform's, never widened by an order's own
    claimed time."""


class AssessmentContext(Struct, frozen=True, kw_only=True):
    """Everything ``assess`` may read besides the order itself."""

    decision_id: uuid.UUID
    decided_at: datetime
    consignee_ref: str
    """Keyed hash (HMAC) of the consignee's identity, computed by the shell."""
    decision_revision: int = 1
    trace_id: str | None = None
    totals: Mapping[str, Decimal] = field(default_factory=dict)
    """Running totals by aggregation key, in the destination currency, excluding this parcel."""
    history: SellerHistory | None = None
    """What storage knows of the seller and consignee; None (a quote, a test) raises no history
    signal."""
    pack: RulePack
    """The rule pack in force for the destination (``PackRegistry.for_destination``)."""
    rates: ExchangeRates
    """Exchange rates; the most recent on or before the assessment date is used."""
    options: Mapping[str, bool] = field(default_factory=dict)
    """Overrides of the pack's named options (what-if runs); empty = the pack defaults."""
    classifier: HsClassifier | None = None
    """The HS classifier (loaded once, like the packs); None: no code is suggested or
    questioned."""
    compliance_draw: int | None = None
    """The parcel's draw for the random compliance sample, in ``[0, DRAW_RANGE)``: the shell
    computes it once per parcel (not per revision) with a server secret, so a platform can neither
    predict it nor redraw it by amending. None (a quote, a test): no compliance sample."""
    seller_aeo: tuple[AeoCertificate, ...] = ()
    """The seller's certificates in the administration's AEO registry (the shell looks them up);
    the risk discount applies when one is valid on the assessment date."""


class Contribution(Struct, frozen=True, kw_only=True):
    """This parcel's share of one running total, to be upserted by the shell."""

    key: str
    value: Decimal


class Assessment(Struct, frozen=True, kw_only=True):
    """The result of one assessment: the decision to store and publish, and the totals to update."""

    decision: ClearanceDecision
    contributions: tuple[Contribution, ...] = ()
