"""A labelled evaluation set for the risk engine: parcels with known planted risks, seeded.

Used by ``clearance bench --risk`` (precision and recall per signal) and by the tests. Prices sit
around the VN pack's reference prices; about half the parcels are clean.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from clearance.devtools.orders import consignee, decoded, seller
from clearance.devtools.orders import item as build_item
from clearance.devtools.orders import order as build_order
from clearance.domain.aeo import AeoCertificate
from clearance.domain.assess import assess
from clearance.domain.context import AssessmentContext, SellerHistory
from clearance.domain.packs import PackRegistry, RulePack
from clearance.messages import ClearanceDecision, OrderAmended, OrderPlaced
from clearance.service.assessing import bundled_rates, compliance_draw

__all__ = ["PLANTED", "evaluate", "evaluation_set"]

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
KNOWN = SellerHistory(seller_decisions=12, consignee_parcels_today=0)
#: The compliance sample's key of the evaluation (a server secret in production).
SAMPLE_KEY = "risk-evaluation-sample-key"
#: (HS code, description, typical unit price in VND)
GOODS = [
    ("85183020", "Wireless earphones", 300_000),
    ("33049930", "Face cream", 200_000),
    ("62064000", "Polyester blouse", 250_000),
    ("94052190", "LED desk lamp", 300_000),
]
PLANTED = (
    "UNDERVALUATION_SUSPECTED",
    "CONSIGNEE_VELOCITY",
    "MISSING_CONSIGNEE_IDENTITY",
    "SCREENING_PROHIBITED",
    "VALUE_JUST_UNDER_THRESHOLD",
)


def order(n: int, items: list[dict[str, Any]], **changes: Any) -> OrderPlaced:
    """A VN order of the evaluation set (seller ``s{n % 7}``, consignee ``c{n}`` with identity)."""
    return decoded(
        build_order(
            n,
            platform="eval",
            destination="VN",
            currency="VND",
            merchant=seller(f"s{n % 7}"),
            buyer=consignee(f"c{n}", "VN", identity=f"0012{n:08d}"),
            items=items,
            **changes,
        )
    )


def item(hs: str, description: str, price: int, quantity: int = 1) -> dict[str, Any]:
    """One line of an evaluation order."""
    return build_item(description, str(price), quantity=quantity, hs_code=hs)


def decide(
    parcel: OrderPlaced | OrderAmended,
    pack: RulePack,
    history: SellerHistory | None = KNOWN,
    *,
    seller_aeo: tuple[AeoCertificate, ...] = (),
    options: Mapping[str, bool] | None = None,
) -> ClearanceDecision:
    """The engine's decision for an evaluation parcel, drawn for the compliance sample as the
    worker draws (keyed, once per parcel)."""
    context = AssessmentContext(
        decision_id=uuid.uuid4(),
        decided_at=NOW,
        consignee_ref=parcel.consignee.id,
        pack=pack,
        rates=bundled_rates(),
        history=history,
        options=options or {},
        compliance_draw=compliance_draw(parcel, SAMPLE_KEY),
        seller_aeo=seller_aeo,
    )
    return assess(parcel, context).decision


def evaluation_set(
    seed: int = 20261125, size: int = 400
) -> list[tuple[OrderPlaced, SellerHistory, set[str]]]:
    """Parcels with their history and the signals planted in them (about half clean)."""
    rng = random.Random(seed)
    parcels = []
    for n in range(size):
        hs, description, price = rng.choice(GOODS)
        price = int(price * rng.uniform(0.7, 1.3) / 1000) * 1000
        planted: set[str] = set()
        changes: dict[str, Any] = {}
        history = KNOWN
        items = [item(hs, description, price)]
        roll = rng.random()
        if roll < 0.12:
            items = [item(hs, description, int(price * 0.1 / 1000) * 1000 or 1000)]
            planted.add("UNDERVALUATION_SUSPECTED")
        elif roll < 0.22:
            history = SellerHistory(seller_decisions=9, consignee_parcels_today=rng.randint(4, 9))
            planted.add("CONSIGNEE_VELOCITY")
        elif roll < 0.32:
            changes["consignee"] = {"id": f"c{n}", "name": "Buyer", "country": "VN"}
            planted.add("MISSING_CONSIGNEE_IDENTITY")
        elif roll < 0.42:
            items.append(item("85434000", "Disposable vape pen", 80_000))
            planted.add("SCREENING_PROHIBITED")
        elif roll < 0.52:
            value = rng.randint(905, 995) * 1000  # just under VND 1,000,000
            items = [item("33049930", "Face cream set", value)]
            planted.add("VALUE_JUST_UNDER_THRESHOLD")
        parcels.append((order(n, items, **changes), history, planted))
    return parcels


def evaluate(seed: int = 20261125, size: int = 400) -> dict[str, Any]:
    """Precision and recall per planted signal, and how much honest trade is stopped."""
    pack = PackRegistry.bundled().get("vn")
    found: Counter[str] = Counter()
    true: Counter[str] = Counter()
    planted_count: Counter[str] = Counter()
    held: Counter[str] = Counter()
    clean = held_clean = 0
    for parcel, history, planted in evaluation_set(seed, size):
        decision = decide(parcel, pack, history)
        signals = set(decision.risk.signals)
        for signal in PLANTED:
            planted_count[signal] += signal in planted
            found[signal] += signal in signals
            true[signal] += signal in signals and signal in planted
            held[signal] += signal in planted and decision.channel != "green"
        if not planted:
            clean += 1
            held_clean += decision.channel != "green"
    return {
        "benchmark": "risk",
        "parcels": size,
        "seed": seed,
        "signals": {
            signal: {
                "planted": planted_count[signal],
                "raised": found[signal],
                "precision": round(true[signal] / found[signal], 3) if found[signal] else None,
                "recall": round(true[signal] / planted_count[signal], 3),
                "held": round(held[signal] / planted_count[signal], 3),
            }
            for signal in PLANTED
        },
        "clean_parcels": clean,
        "clean_held_share": round(held_clean / clean, 3) if clean else None,
    }
