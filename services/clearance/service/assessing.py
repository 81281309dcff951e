"""The shell's side of an assessment: build the engine's context, call the pure engine.

Worker, HTTP API and command line all assess through an ``Assessor``, so the consignee's keyed
hash, the pack selection and the rates are the same everywhere. The engine itself
(``clearance.domain.assess``) stays pure: this class only gathers its inputs.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.resources
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from clearance.domain.aeo import AeoCertificate
from clearance.domain.aggregation import aggregation_keys
from clearance.domain.assess import assess
from clearance.domain.context import Assessment, AssessmentContext, SellerHistory
from clearance.domain.fx import ExchangeRates
from clearance.domain.hs import HsClassifier, bundled_classifier
from clearance.domain.packs import PackRegistry, RulePack
from clearance.domain.parcels import Order

__all__ = ["Assessor", "bundled_rates", "compliance_draw", "consignee_ref"]


def bundled_rates() -> ExchangeRates:
    """The exchange rates shipped with the package (ECB rates; VND rows are indicative only)."""
    resource = importlib.resources.files("clearance.packs") / "rates" / "default.csv"
    return ExchangeRates.from_csv(resource.read_text(encoding="utf-8"), "packs/rates/default.csv")


def consignee_ref(order: Order, identity_key: str) -> str:
    """Keyed hash (HMAC-SHA256) naming the consignee for running totals and risk.

    The identity document, when given, names the person across platforms (splitting one purchase
    over two marketplaces must not escape the threshold); otherwise the platform's buyer id does.
    The number itself is never stored or logged: only this hash.
    """
    consignee = order.consignee
    if consignee.identity is not None:
        if consignee.identity.number == "[redacted]":  # a stored order: use its stored hash
            raise ValueError("a stored order has no identity number: pass its consignee_ref")
        subject = f"id:{order.destination_country}:{consignee.identity.type}:"
        subject += consignee.identity.number.strip().upper()
    else:
        subject = f"buyer:{order.platform}:{consignee.id}"
    digest = hmac.new(identity_key.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def compliance_draw(order: Order, sample_key: str) -> int:
    """The parcel's draw for the compliance sample: 64 bits of HMAC-SHA256 under the server's
    ``CLEARANCE_SAMPLE_KEY`` over the parcel's identity (platform, order, shipment), not its
    revision: every revision draws the same, and without the key nobody can tell which ids draw
    in (the platform chooses the ids, so an unkeyed hash would let it choose green ones)."""
    subject = f"{order.platform}:{order.order_id}:{order.shipment}"
    digest = hmac.new(sample_key.encode(), subject.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


class Assessor:
    """Assesses orders against the bundled packs and a rates table.

    ``sample_key`` keys the compliance draw (``compliance_draw``); without it (a quote, the
    offline command) no parcel is drawn, so a quote never tells whether a parcel would be.
    """

    def __init__(
        self,
        identity_key: str,
        packs: PackRegistry | None = None,
        rates: ExchangeRates | None = None,
        classifier: HsClassifier | None = None,
        *,
        sample_key: str | None = None,
    ) -> None:
        self.identity_key = identity_key
        self.sample_key = sample_key or None
        self.packs = packs if packs is not None else PackRegistry.bundled()
        self.rates = rates if rates is not None else bundled_rates()
        self.classifier = classifier if classifier is not None else bundled_classifier()

    def pack_for(self, order: Order, pack_id: str | None = None) -> RulePack:
        """The pack in force for the order's destination (or ``pack_id``); raises if unsupported."""
        return self.packs.for_destination(order.destination_country, pack_id)

    def totals_keys(
        self, order: Order, pack_id: str | None = None, *, ref: str | None = None
    ) -> list[str]:
        """The running totals the pack needs for this order (read them before ``assess``).

        ``ref`` is the consignee's keyed hash when already known (a stored order has no identity
        number left to hash).
        """
        pack = self.pack_for(order, pack_id)
        return aggregation_keys(order, pack, ref or consignee_ref(order, self.identity_key))

    def assess(
        self,
        order: Order,
        *,
        totals: Mapping[str, Decimal] | None = None,
        history: SellerHistory | None = None,
        decision_id: uuid.UUID | None = None,
        decided_at: datetime | None = None,
        decision_revision: int = 1,
        trace_id: str | None = None,
        pack_id: str | None = None,
        ref: str | None = None,
        seller_aeo: Sequence[AeoCertificate] = (),
        sample: bool = True,
    ) -> Assessment:
        """Assess ``order`` now (or at ``decided_at``) with the given running totals.

        ``seller_aeo``: the seller's certificates in the AEO registry (looked up by the caller);
        ``sample``: False for an assessment an officer asked for (a reassessment after
        inspection is not drawn again)."""
        draw = None
        if sample and self.sample_key is not None:
            draw = compliance_draw(order, self.sample_key)
        context = AssessmentContext(
            pack=self.pack_for(order, pack_id),
            rates=self.rates,
            decision_id=decision_id or uuid.uuid4(),
            decided_at=decided_at or datetime.now(UTC),
            decision_revision=decision_revision,
            trace_id=trace_id,
            consignee_ref=ref or consignee_ref(order, self.identity_key),
            totals=totals or {},
            history=history or SellerHistory(),
            classifier=self.classifier,
            compliance_draw=draw,
            seller_aeo=tuple(seller_aeo),
        )
        return assess(order, context)
