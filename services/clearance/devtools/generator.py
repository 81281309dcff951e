"""A realistic order stream for demos, benchmarks and tests: deterministic by seed.

Platforms' parcels with plausible items (HS codes, prices, weights), shipping, consignees of whom
some split one purchase over several parcels the same day, amendments and cancellations of earlier
orders, a few prohibited or restricted goods (and look-alikes that are not), items without an HS
code, and a small share of malformed events. Mostly Vietnam, with EU, GB, AU, US and SG shares.

The data is invented: product names, prices and people are made up for the demo. Every valid
event decodes with ``clearance.messages``; the malformed ones are meant for the dead-letter topic.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from clearance.devtools.orders import item
from clearance.devtools.orders import order as build_order

__all__ = ["DESTINATIONS", "generate_events"]


@dataclass(frozen=True)
class Product:
    """One catalogue line: what a platform sells, with its usual price in USD."""

    description: str
    hs_code: str
    low_usd: int
    high_usd: int
    weight_kg: str


CATALOGUE = (
    Product("wireless in-ear earphones", "85183020", 8, 60, "0.15"),
    Product("over-ear bluetooth headphones", "85183010", 15, 120, "0.35"),
    Product("smartphone 128GB", "85171300", 120, 900, "0.4"),
    Product("phone screen replacement part", "85177921", 3, 25, "0.05"),
    Product("face moisturising cream 50ml", "33049930", 5, 40, "0.12"),
    Product("matte lipstick set", "33041000", 5, 30, "0.1"),
    Product("eau de parfum 50ml", "33030000", 20, 120, "0.3"),
    Product("herbal shampoo 400ml", "33051090", 4, 15, "0.45"),
    Product("women's blouse, polyester", "62064000", 8, 40, "0.2"),
    Product("men's cotton briefs, pack of 3", "62071100", 6, 25, "0.2"),
    Product("baby cotton pyjamas", "62092030", 6, 25, "0.15"),
    Product("rice cooker 1.8 l", "85166010", 25, 90, "2.5"),
    Product("electric kettle 1.7 l", "85167910", 12, 45, "1.1"),
    Product("LED desk lamp", "94052190", 10, 50, "0.8"),
    Product("LED christmas string lights", "94053100", 5, 25, "0.3"),
    Product("toothpaste, whitening", "33061090", 2, 8, "0.15"),
    Product("bluetooth party speaker", "85182210", 20, 150, "1.8"),
    Product("cotton T-shirt", "61091000", 5, 30, "0.2"),
    Product("ivory colour silk scarf", "62141000", 10, 60, "0.1"),  # a look-alike, not ivory
)

#: Goods the screening lists should catch (prohibited or restricted in the packs).
CONTROLLED = (
    Product("disposable vape pen, mango", "85434000", 5, 20, "0.05"),
    Product("carved ivory bangle", "96019000", 50, 400, "0.1"),
    Product("mini drone with 4K camera", "88062100", 40, 300, "0.6"),
    Product("wireless router, WPA3", "85176251", 20, 120, "0.5"),
)


@dataclass(frozen=True)
class Destination:
    """Where parcels go: country, the currencies orders there are priced in, the time zone."""

    country: str
    currencies: tuple[str, ...]
    utc_offset_hours: int
    share: float


DESTINATIONS = {
    "VN": Destination("VN", ("USD", "VND"), 7, 0.70),
    "DE": Destination("DE", ("EUR",), 1, 0.05),
    "FR": Destination("FR", ("EUR",), 1, 0.04),
    "ES": Destination("ES", ("EUR",), 1, 0.03),
    "IT": Destination("IT", ("EUR",), 1, 0.03),
    "GB": Destination("GB", ("GBP",), 0, 0.05),
    "AU": Destination("AU", ("AUD",), 11, 0.04),
    "US": Destination("US", ("USD",), -5, 0.03),
    "SG": Destination("SG", ("SGD",), 8, 0.03),
}

#: Rough prices of one USD, only to make generated prices look local (not used to assess).
_PER_USD = {
    "USD": Decimal(1),
    "VND": Decimal(25_000),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "AUD": Decimal("1.52"),
    "SGD": Decimal("1.34"),
}
_MINOR = {"VND": Decimal(1)}
_PLATFORMS = ("shopmart", "bazaarly", "quickcart")
_SELLER_COUNTRIES = ("CN", "CN", "CN", "CN", "KR", "TH", "JP", "US", "ID")
_FIRST = ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Anna", "Lukas", "Marie", "Oliver", "Mia")
_LAST = ("Van An", "Thi Binh", "Minh", "Schmidt", "Dubois", "Rossi", "Smith", "Tan", "Lee")
_START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


class _Stream:
    """The state of one generated stream: consignees, sellers, orders placed so far."""

    def __init__(self, seed: int, destination: str) -> None:
        self.rng = random.Random(seed)
        self.destination = destination
        self.placed: list[dict[str, Any]] = []
        self.cancelled: set[str] = set()
        self.sellers = [self._seller(n) for n in range(40)]
        self.consignees: dict[str, list[dict[str, Any]]] = {}

    # --- parties ---------------------------------------------------------------------------------

    def _seller(self, n: int) -> dict[str, Any]:
        country = self.rng.choice(_SELLER_COUNTRIES)
        return {"id": f"seller-{n}", "name": f"Seller {n} Trading Co.", "country": country}

    def _consignee(self, country: str) -> dict[str, Any]:
        pool = self.consignees.setdefault(country, [])
        if pool and self.rng.random() < 0.6:  # returning buyers: running totals matter
            return self.rng.choice(pool)
        n = len(pool)
        consignee: dict[str, Any] = {
            "id": f"{country.lower()}-buyer-{n}",
            "name": f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}",
            "country": country,
            "address": {"line1": f"{self.rng.randint(1, 300)} Example Street", "city": "City"},
        }
        if country == "VN" and self.rng.random() < 0.85:
            number = f"0{self.rng.randint(10, 99)}2{self.rng.randint(10**7, 10**8 - 1)}"
            consignee["identity"] = {"type": "national_id", "number": number}
        pool.append(consignee)
        return consignee

    # --- events ----------------------------------------------------------------------------------

    def choose_destination(self) -> Destination:
        if self.destination != "mixed":
            return DESTINATIONS[self.destination]
        roll, total = self.rng.random(), 0.0
        for place in DESTINATIONS.values():
            total += place.share
            if roll < total:
                return place
        return DESTINATIONS["VN"]

    def _price(self, product: Product, currency: str) -> str:
        usd = Decimal(self.rng.randint(product.low_usd * 100, product.high_usd * 100)) / 100
        minor = _MINOR.get(currency, Decimal("0.01"))
        local = (usd * _PER_USD[currency]).quantize(minor, rounding=ROUND_HALF_UP)
        if currency == "VND":
            local = (local / 1000).quantize(Decimal(1)) * 1000
        return str(local)

    def _shipping(self, currency: str) -> str:
        return self._price(Product("shipping", "", 2, 12, "0"), currency)

    def _items(self, currency: str) -> list[dict[str, Any]]:
        items = []
        for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3))):
            controlled = self.rng.random() < 0.015
            product = self.rng.choice(CONTROLLED if controlled else CATALOGUE)
            quantity = self.rng.choice((1, 1, 1, 2, 3))
            price = self._price(product, currency)
            origin = self.rng.choice(("CN", "CN", "CN", "TH", "KR", "VN"))
            coded = self.rng.random() > 0.05  # one item in twenty comes without an HS code
            items.append(
                item(
                    product.description,
                    price,
                    quantity=quantity,
                    origin=origin,
                    hs_code=product.hs_code if coded else None,
                    unit_weight_kg=product.weight_kg,
                )
            )
        return items

    def placed_order(self, index: int, when: datetime) -> dict[str, Any]:
        place = self.choose_destination()
        currency = self.rng.choice(place.currencies)
        platform = self.rng.choice(_PLATFORMS)
        order_id = f"{platform[:2].upper()}-{index:07d}"
        local = when.astimezone(timezone(timedelta(hours=place.utc_offset_hours)))
        seller = self.rng.choice(self.sellers)
        buyer = self._consignee(place.country)
        items = self._items(currency)
        shipping = self._shipping(currency)
        transport = {
            "mode": self.rng.choice(("express", "express", "post")),
            "carrier": "EXAMPLE-EXPRESS",
            "master_bill": _master_bill(place.country, self.rng.randint(1000, 1099)),
            "tracking_number": f"EX{index:09d}{place.country}",
        }
        order = build_order(
            index,
            event_id=f"{platform}-{index}",
            platform=platform,
            order_id=order_id,
            occurred_at=local.isoformat(),
            destination=place.country,
            currency=currency,
            merchant=seller,
            buyer=buyer,
            items=items,
            shipping_cost=shipping,
            transport=transport,
        )
        origins = {item["origin_country"] for item in order["items"]}
        if place.country == "VN" and origins <= {"TH", "KR"} and self.rng.random() < 0.5:
            agreement = "ATIGA" if origins == {"TH"} else "AKFTA"
            order["origin_proof"] = {"agreement": agreement, "document": "FORM_D"}
        self.placed.append(order)
        return order

    def split_of(self, order: dict[str, Any], index: int) -> dict[str, Any]:
        """A second parcel bought by the same consignee the same day (anti-splitting)."""
        split = self.placed_order(index, datetime.fromisoformat(order["occurred_at"]))
        split.update(
            destination_country=order["destination_country"],
            currency=order["currency"],
            consignee=order["consignee"],
            platform=order["platform"],
            # the same bag (master bill) as the first parcel, its own tracking number
            transport={
                **order["transport"],
                "tracking_number": split["transport"]["tracking_number"],
            },
        )
        split["event_id"] = f"{order['platform']}-{index}"
        split["items"] = self._items(order["currency"])  # priced in the order's currency
        split["shipping_cost"] = self._shipping(order["currency"])
        return split

    def amendment(self, index: int) -> dict[str, Any] | None:
        candidates = [o for o in self.placed[-200:] if o["order_id"] not in self.cancelled]
        if not candidates:
            return None
        original = self.rng.choice(candidates)
        amended: dict[str, Any] = json.loads(json.dumps(original))
        amended.update(
            type="order.amended",
            event_id=f"{original['platform']}-{index}-amend",
            revision=original.get("revision", 1) + 1,
        )
        amended["items"][0]["quantity"] += 1
        original["revision"] = amended["revision"]
        return amended

    def cancellation(self, index: int, when: datetime) -> dict[str, Any] | None:
        candidates = [o for o in self.placed[-200:] if o["order_id"] not in self.cancelled]
        if not candidates:
            return None
        original = self.rng.choice(candidates)
        self.cancelled.add(original["order_id"])
        return {
            "type": "order.cancelled",
            "event_id": f"{original['platform']}-{index}-cancel",
            "platform": original["platform"],
            "order_id": original["order_id"],
            "occurred_at": when.isoformat(),
            "consignee_id": original["consignee"]["id"],
            "reason": "buyer cancelled before dispatch",
        }

    def malformed(self, index: int) -> bytes:
        """One of the ways real streams go wrong, in turn."""
        order = self.placed_order(index, _START)
        self.placed.pop()
        kind = index % 5
        if kind == 0:
            return b'{"type": "order.placed", "event_id": ' + str(index).encode()  # cut short
        if kind == 1:
            order["items"][0]["unit_price"] = 12.5  # a JSON number: money must be a string
        elif kind == 2:
            order["destination_country"] = "AQ"  # no rule pack for Antarctica
        elif kind == 3:
            order["type"] = "order.shipped"  # not a message type of the contract
        else:
            return json.dumps(order).encode().replace(b"Street", b"Str\xe4\xdfe")  # latin-1 bytes
        return json.dumps(order).encode()


def _master_bill(country: str, bag: int) -> str:
    """A master air waybill number (airline prefix, 7-digit serial, its check digit: the serial
    modulo 7): one of 100 bags a day per destination, since a bag flies to one country."""
    serial = 1_000_000 * (1 + list(DESTINATIONS).index(country)) + bag
    return f"784-{serial:07d}{serial % 7}"


def _key(event: dict[str, Any]) -> str:
    consignee = event.get("consignee_id") or event["consignee"]["id"]
    return f"{event['platform']}:{consignee}"


def generate_events(
    count: int, seed: int = 7, destination: str = "mixed", malformed_share: float = 0.01
) -> list[tuple[str, bytes]]:
    """``count`` order events as ``(Kafka key, JSON bytes)``, the same for the same arguments.

    ``destination`` is ``mixed`` (the default shares) or one of ``DESTINATIONS``. About 2% are
    amendments, 1% cancellations, ``malformed_share`` malformed, 6% of placed orders are followed by
    a split parcel of the same consignee.
    """
    if destination != "mixed" and destination not in DESTINATIONS:
        raise ValueError(f"unknown destination {destination!r}: mixed or {sorted(DESTINATIONS)}")
    stream = _Stream(seed, destination)
    events: list[tuple[str, bytes]] = []
    index = 0
    while len(events) < count:
        index += 1
        when = _START + timedelta(seconds=3 * index)
        roll = stream.rng.random()
        if roll < malformed_share:
            events.append((f"malformed:{index}", stream.malformed(index)))
            continue
        event: dict[str, Any] | None
        if roll < malformed_share + 0.02:
            event = stream.amendment(index)
        elif roll < malformed_share + 0.03:
            event = stream.cancellation(index, when)
        else:
            event = stream.placed_order(index, when)
        if event is None:
            continue
        events.append((_key(event), json.dumps(event).encode()))
        if event["type"] == "order.placed" and stream.rng.random() < 0.06 and len(events) < count:
            index += 1
            split = stream.split_of(event, index)
            events.append((_key(split), json.dumps(split).encode()))
    return events
