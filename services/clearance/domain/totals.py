"""Running totals for the anti-splitting rules: each parcel's contribution under each key.

A total is the sum of the contributions of every parcel filed under its key. A parcel's own earlier
contribution never counts against it (an amendment replaces, it does not add) and a cancelled
parcel contributes nothing. The worker, ``clearance assess`` and the what-if replay all keep their
totals in one of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from clearance.domain.parcels import ParcelKey

__all__ = ["RunningTotals"]


class RunningTotals:
    """Contributions by key and parcel, updated as parcels are assessed."""

    def __init__(self, rows: Iterable[tuple[str, ParcelKey, Decimal]] = ()) -> None:
        self._by_key: dict[str, dict[ParcelKey, Decimal]] = {}
        self._keys_of: dict[ParcelKey, set[str]] = {}
        for key, parcel, value in rows:
            self._by_key.setdefault(key, {})[parcel] = value
            self._keys_of.setdefault(parcel, set()).add(key)

    def excluding(self, keys: Iterable[str], parcel: ParcelKey) -> dict[str, Decimal]:
        """The totals under ``keys`` of every parcel but ``parcel``."""
        result = {}
        for key in keys:
            others = self._by_key.get(key, {})
            result[key] = sum(
                (value for other, value in others.items() if other != parcel), Decimal(0)
            )
        return result

    def sums(self, keys: Iterable[str]) -> dict[str, Decimal]:
        """The totals under ``keys``, every parcel counted."""
        return {key: sum(self._by_key.get(key, {}).values(), Decimal(0)) for key in keys}

    def replace(self, parcel: ParcelKey, contributions: Mapping[str, Decimal]) -> None:
        """Make ``contributions`` the parcel's only contributions (``{}``: it contributes none)."""
        for key in self._keys_of.pop(parcel, set()) - contributions.keys():
            self._by_key[key].pop(parcel, None)
        for key, value in contributions.items():
            self._by_key.setdefault(key, {})[parcel] = value
        if contributions:
            self._keys_of[parcel] = set(contributions)
