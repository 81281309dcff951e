"""The engine and pipeline benches' order mix: realistic, seeded, priced plausibly per heading."""

from __future__ import annotations

import random

from clearance.devtools.orders import consignee, decoded, item, order
from clearance.messages import OrderPlaced

__all__ = ["engine_orders"]


def engine_orders(
    count: int, seed: int, consignees: int = 500, *, without_codes: bool = False
) -> list[OrderPlaced]:
    """A realistic mix: 60% VN (express, some ATIGA, some master bills), 40% EU (DE/FR/ES/IT).
    ``without_codes``: the same orders with no HS code on any item.

    ``consignees`` buyers share the orders; each order travels on one of 47 master bills (47 is
    prime, so a buyer's parcels spread over several flights as real ones do).
    """
    rng = random.Random(seed)
    # (HS code, description, unit price range): prices in a plausible band above each heading's
    # reference price (so the undervaluation signal fires on outliers, not on the mix itself),
    # EU lines that the EU pack's tariff lists.
    vn_items = [
        ("85183020", "Wireless earphones", 200_000, 900_000),
        ("33049930", "Face cream", 100_000, 600_000),
        ("85171300", "Smartphone", 2_500_000, 8_000_000),
        ("62064000", "Blouse", 150_000, 500_000),
        ("94052190", "LED desk lamp", 200_000, 700_000),
    ]
    eu_items = [
        ("610910", "Cotton T-shirt", 3, 30),
        ("620610", "Silk blouse", 15, 90),
        ("640419", "Slippers", 5, 40),
        ("95030021", "Doll", 5, 60),
        ("420221", "Handbag", 20, 90),
        ("64039993", "Leather shoes", 40, 180),  # was wool coats 6202.11: gone in HS 2022
    ]
    orders = []
    for index in range(count):
        vn = rng.random() < 0.6
        catalogue = vn_items if vn else eu_items
        lines = [
            item(
                desc,
                str(rng.randint(low // 1000, high // 1000) * 1000)
                if vn
                else f"{rng.randint(low, high - 1)}.{rng.randint(0, 99):02d}",
                quantity=rng.randint(1, 3),
                origin=rng.choice(["CN", "TH", "KR"]),
                hs_code=None if without_codes else hs,
            )
            for hs, desc, low, high in rng.sample(catalogue, rng.randint(1, 3))
        ]
        body = order(
            index,
            platform="bench",
            occurred_at="2026-09-01T10:00:00+07:00",
            destination="VN" if vn else rng.choice(["DE", "FR", "ES", "IT"]),
            currency="VND" if vn else "EUR",
            items=lines,
            buyer=consignee(
                f"c{index % consignees}",
                "VN" if vn else "DE",
                identity=f"{index % consignees:012d}",
            ),
            shipping_cost="30000" if vn else "4.99",
            transport={"mode": "express", "master_bill": f"M{index % 47}"},
        )
        if vn and rng.random() < 0.2:
            body["origin_proof"] = {"agreement": "ATIGA", "document": "FORM_D"}
        orders.append(decoded(body))
    return orders
