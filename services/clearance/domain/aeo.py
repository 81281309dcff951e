"""Authorised Economic Operators: the administration's registry, not the platform's word.

An AEO certificate (WCO SAFE Framework of Standards; e.g. Union Customs Code Art. 38-39 in the
EU) is granted by a customs administration, which publishes or keeps the list of holders. A risk
discount for a trusted seller must therefore come from that list: the order's own ``seller.aeo``
is written by the platform and is ignored for risk. The registry maps a certificate to the seller
it belongs to as orders name sellers, ``(platform, seller id)``, with its validity dates; the
shell loads it (``clearance aeo load FILE``) and passes a seller's certificates to the engine,
which applies the pack's ``aeo_discount`` when one is valid on the assessment date.

The registry file is CSV with a header: ``certificate,platform,seller_id,valid_from,valid_until``
and an optional ``issued_by`` column (the administration, e.g. ``VN``); dates ``YYYY-MM-DD``,
``valid_until`` empty for a certificate without an end date.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from msgspec import Struct

__all__ = ["AeoCertificate", "AeoRegistration", "RegistryError", "parse_registry"]

REQUIRED_COLUMNS = ("certificate", "platform", "seller_id", "valid_from", "valid_until")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class AeoCertificate(Struct, frozen=True, kw_only=True):
    """One certificate as the registry lists it (what the engine needs of it)."""

    number: str
    valid_from: date
    valid_until: date | None = None
    """Last day of validity (None: until withdrawn)."""

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class AeoRegistration(Struct, frozen=True, kw_only=True):
    """A registry row: the certificate and the seller it belongs to."""

    platform: str
    seller_id: str
    certificate: AeoCertificate
    issued_by: str | None = None


class RegistryError(ValueError):
    """The registry file is wrong; the message names the line and the column."""


def parse_registry(text: str) -> list[AeoRegistration]:
    """The registrations of a registry file (every row checked: one bad row refuses the file,
    so a half-loaded registry never replaces a whole one)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RegistryError(f"line 1: missing column(s) {', '.join(missing)}")
    rows: list[AeoRegistration] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        rows.append(_registration(row, line))
        number = rows[-1].certificate.number
        if number in seen:
            raise RegistryError(f"line {line}: certificate {number!r} is listed twice")
        seen.add(number)
    return rows


def _registration(row: dict[str, str | None], line: int) -> AeoRegistration:
    def text(column: str) -> str:
        return (row.get(column) or "").strip()

    number, platform, seller = text("certificate"), text("platform"), text("seller_id")
    if not number or not seller:
        raise RegistryError(f"line {line}: certificate and seller_id are required")
    if not _PLATFORM.match(platform):
        raise RegistryError(f"line {line}: platform {platform!r} is not a platform name")
    valid_from = _day(text("valid_from"), line, "valid_from")
    if valid_from is None:
        raise RegistryError(f"line {line}: valid_from is required")
    valid_until = _day(text("valid_until"), line, "valid_until")
    if valid_until is not None and valid_until < valid_from:
        raise RegistryError(f"line {line}: valid_until is before valid_from")
    return AeoRegistration(
        platform=platform,
        seller_id=seller,
        certificate=AeoCertificate(number=number, valid_from=valid_from, valid_until=valid_until),
        issued_by=text("issued_by") or None,
    )


def _day(value: str, line: int, column: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RegistryError(f"line {line}: {column} {value!r} is not a date (YYYY-MM-DD)") from None
