"""What-if replay: stored orders assessed again under another rule pack, nothing published.

For policy makers: "what would the draft decree have collected last month, and which parcels
would it have stopped?" Each stored parcel is assessed with the chosen pack (running totals kept in
memory across the replay, oldest first) and compared with its current decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from clearance.domain.aeo import AeoCertificate, AeoRegistration
from clearance.domain.parcels import Order
from clearance.domain.totals import RunningTotals
from clearance.messages import ClearanceDecision
from clearance.service.assessing import Assessor

__all__ = ["ReplayReport", "by_seller", "replay"]


@dataclass
class ReplayReport:
    """Differences between the decisions made and those another pack would make."""

    pack: str
    parcels: int = 0
    outside_the_pack: int = 0
    """Stored parcels to countries the pack does not cover (left out)."""
    revenue_now: dict[str, Decimal] = field(default_factory=dict)
    revenue_what_if: dict[str, Decimal] = field(default_factory=dict)
    status_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    channel_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    changed_parcels: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``: money as strings."""
        currencies = sorted(set(self.revenue_now) | set(self.revenue_what_if))
        return {
            "pack": self.pack,
            "parcels": self.parcels,
            "outside_the_pack": self.outside_the_pack,
            "revenue": {
                currency: {
                    "now": str(self.revenue_now.get(currency, Decimal(0))),
                    "what_if": str(self.revenue_what_if.get(currency, Decimal(0))),
                    "difference": str(
                        self.revenue_what_if.get(currency, Decimal(0))
                        - self.revenue_now.get(currency, Decimal(0))
                    ),
                }
                for currency in currencies
            },
            "status_changes": {f"{a} -> {b}": n for (a, b), n in self.status_changes.items()},
            "channel_changes": {f"{a} -> {b}": n for (a, b), n in self.channel_changes.items()},
            "changed_parcels": self.changed_parcels[:100],
        }


def _due(decision: ClearanceDecision) -> Decimal:
    return decision.duty + decision.tax


def by_seller(
    registrations: Sequence[AeoRegistration],
) -> dict[tuple[str, str], tuple[AeoCertificate, ...]]:
    """The AEO registry by seller (platform, seller id), as the engine is given it."""
    found: dict[tuple[str, str], list[AeoCertificate]] = {}
    for row in registrations:
        found.setdefault((row.platform, row.seller_id), []).append(row.certificate)
    return {seller: tuple(certificates) for seller, certificates in found.items()}


async def replay(
    stored: AsyncIterable[tuple[Order, str, ClearanceDecision]],
    assessor: Assessor,
    pack_id: str,
    decided_at: datetime,
    aeo: Mapping[tuple[str, str], Sequence[AeoCertificate]] | None = None,
) -> ReplayReport:
    """Assess each stored parcel under ``pack_id`` and compare with its current decision
    (``aeo``: the AEO registry by seller, ``by_seller``)."""
    report = ReplayReport(pack=pack_id)
    countries = set(assessor.packs.get(pack_id).countries)
    totals = RunningTotals()
    async for order, ref, now in stored:
        if now.status == "cancelled":
            continue
        if order.destination_country not in countries:
            report.outside_the_pack += 1
            continue
        parcel = (order.platform, order.order_id, order.shipment)
        keys = assessor.totals_keys(order, pack_id, ref=ref)
        assessment = assessor.assess(
            order,
            totals=totals.excluding(keys, parcel),
            decided_at=decided_at,
            pack_id=pack_id,
            ref=ref,
            seller_aeo=(aeo or {}).get((order.platform, order.seller.id), ()),
        )
        totals.replace(parcel, {c.key: c.value for c in assessment.contributions})
        what_if = assessment.decision
        report.parcels += 1
        report.revenue_now[now.currency] = report.revenue_now.get(now.currency, Decimal(0)) + _due(
            now
        )
        report.revenue_what_if[what_if.currency] = report.revenue_what_if.get(
            what_if.currency, Decimal(0)
        ) + _due(what_if)
        if now.status != what_if.status:
            report.status_changes[(now.status, what_if.status)] += 1
        if now.channel != what_if.channel:
            report.channel_changes[(now.channel, what_if.channel)] += 1
        if (now.status, now.channel) != (what_if.status, what_if.channel):
            report.changed_parcels.append(
                {
                    "platform": order.platform,
                    "order_id": order.order_id,
                    "shipment_id": order.shipment,
                    "status": [now.status, what_if.status],
                    "channel": [now.channel, what_if.channel],
                    "due": [str(_due(now)), str(_due(what_if))],
                }
            )
    return report
