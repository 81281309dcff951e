"""UCI Online Retail (II) transactions -> ``order.placed`` events: a real order stream.

The dataset (CC BY 4.0; Chen, D., UCI Machine Learning Repository) holds a UK giftware seller's
invoices of 2009-2011: one row per invoice line with a description, a quantity, a GBP price, a
customer and a country, and no HS codes, weights or shipping. Each cross-border invoice becomes one
parcel: destination from the customer's country, prices in GBP, the seller in GB. What the data
does not say stays unsaid: no HS code, no consignee identity. The engine classifies an item
without a code itself and says so in the decision (``HS_CODE_SUGGESTED``) when it is confident
enough, or asks for the code (``needs_information``); a code the importer had guessed would pass
for a declared one, and the decision could no longer tell the two apart.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

__all__ = ["COUNTRIES", "ImportReport", "online_retail_events"]

#: The dataset's country names -> ISO 3166-1 alpha-2 (the names are not ISO: "EIRE", "RSA").
COUNTRIES = {
    "Australia": "AU", "Austria": "AT", "Bahrain": "BH", "Belgium": "BE", "Bermuda": "BM",
    "Brazil": "BR", "Canada": "CA", "Channel Islands": None, "Cyprus": "CY",
    "Czech Republic": "CZ", "Denmark": "DK", "EIRE": "IE", "European Community": None,
    "Finland": "FI", "France": "FR", "Germany": "DE", "Greece": "GR", "Hong Kong": "HK",
    "Iceland": "IS", "Israel": "IL", "Italy": "IT", "Japan": "JP", "Korea": "KR",
    "Lebanon": "LB", "Lithuania": "LT", "Malta": "MT", "Netherlands": "NL", "Nigeria": "NG",
    "Norway": "NO", "Poland": "PL", "Portugal": "PT", "RSA": "ZA", "Saudi Arabia": "SA",
    "Singapore": "SG", "Spain": "ES", "Sweden": "SE", "Switzerland": "CH", "Thailand": "TH",
    "USA": "US", "United Arab Emirates": "AE", "United Kingdom": "GB", "Unspecified": None,
    "West Indies": None,
}  # fmt: skip
_LONDON = ZoneInfo("Europe/London")
_SELLER = {"id": "uci-online-retail", "name": "UK giftware wholesaler (UCI)", "country": "GB"}


@dataclass
class ImportReport:
    """What was converted, what was skipped and why, and how much could be classified."""

    invoices: int = 0
    events: int = 0
    items: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    destinations: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """For ``--json`` and the command's summary."""
        return {
            "invoices": self.invoices,
            "events": self.events,
            "items": self.items,
            "skipped": dict(self.skipped),
            "destinations": dict(self.destinations.most_common()),
        }


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with _open(path) as handle:
        for row in csv.DictReader(handle):
            yield {
                "invoice": row.get("Invoice") or row.get("InvoiceNo") or "",
                "description": (row.get("Description") or "").strip(),
                "quantity": row.get("Quantity") or "0",
                "date": row.get("InvoiceDate") or "",
                "price": row.get("Price") or row.get("UnitPrice") or "0",
                "customer": (row.get("Customer ID") or row.get("CustomerID") or "").strip(),
                "country": (row.get("Country") or "").strip(),
                "stock_code": (row.get("StockCode") or "").strip(),
            }


def _invoices(rows: Iterable[dict[str, str]]) -> Iterator[list[dict[str, str]]]:
    """Consecutive rows of one invoice (the files are ordered by invoice)."""
    current: list[dict[str, str]] = []
    for row in rows:
        if current and row["invoice"] != current[0]["invoice"]:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def _item(row: dict[str, str]) -> dict[str, Any] | None:
    try:
        quantity, price = int(row["quantity"]), Decimal(row["price"])
    except (ValueError, InvalidOperation):
        return None
    if quantity < 1 or price <= 0 or len(row["description"]) < 3:
        return None
    item: dict[str, Any] = {
        "description": row["description"][:512],
        "quantity": quantity,
        "unit_price": str(price.quantize(Decimal("0.01"))),
        "origin_country": "GB",  # unknown in the data: the seller's country, stated in the README
    }
    if row["stock_code"]:
        item["sku"] = row["stock_code"][:64]
    return item


def online_retail_events(
    path: Path,
    *,
    as_of: date | None = None,
    limit: int | None = None,
    report: ImportReport | None = None,
) -> Iterator[tuple[str, bytes]]:
    """``(Kafka key, order.placed JSON)`` for each cross-border invoice of the file.

    ``as_of`` moves every invoice by the same number of days so that the last one falls on that
    date (today's law applies to a 2010 invoice replayed today); None keeps the original dates.
    Cancellations (invoice ``C...``), lines with no positive quantity or price, domestic (GB)
    invoices and unmappable countries are skipped and counted in ``report``.
    """
    report = report if report is not None else ImportReport()
    shift = _shift(path, as_of) if as_of is not None else timedelta(0)
    for lines in _invoices(_rows(path)):
        report.invoices += 1
        first = lines[0]
        if first["invoice"].upper().startswith("C"):
            report.skipped["cancellation_invoice"] += 1
            continue
        country = COUNTRIES.get(first["country"])
        if country is None:
            report.skipped["country_not_mappable"] += 1
            continue
        if country == "GB":
            report.skipped["domestic_gb"] += 1
            continue
        items = [_item(row) for row in lines]
        kept = [item for item in items if item is not None]
        report.skipped["line_without_positive_quantity_or_price"] += len(items) - len(kept)
        if not kept:
            report.skipped["invoice_without_valid_lines"] += 1
            continue
        kept = kept[:200]  # the contract's limit; the largest invoices have more lines
        report.items += len(kept)
        report.destinations[country] += 1
        report.events += 1
        customer = first["customer"].split(".")[0] or f"guest-{first['invoice']}"
        when = datetime.fromisoformat(first["date"]).replace(tzinfo=_LONDON) + shift
        event = {
            "type": "order.placed",
            "event_id": f"uci-{first['invoice']}",
            "platform": "uci-online-retail",
            "order_id": first["invoice"],
            "occurred_at": when.isoformat(),
            "destination_country": country,
            "currency": "GBP",
            "seller": _SELLER,
            "consignee": {"id": f"customer-{customer}", "name": "UCI customer", "country": country},
            "items": kept,
            "transport": {"mode": "post"},
        }
        yield f"uci-online-retail:customer-{customer}", json.dumps(event).encode()
        if limit is not None and report.events >= limit:
            return


def _shift(path: Path, as_of: date) -> timedelta:
    last = max(datetime.fromisoformat(row["date"]).date() for row in _rows(path) if row["date"])
    return timedelta(days=(as_of - last).days)
