"""Exchange rates: a dated table, the most recent rate on or before the assessment date.

A row says ``1 from = rate to`` as published by ``source`` for ``date``. The inverse of a published
rate, and a cross rate through one pivot currency, are allowed, and the source text says so, so a
decision never claims an authority published a rate it did not.
"""

from __future__ import annotations

import bisect
import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from msgspec import Struct

from clearance.messages import ExchangeRateUsed

__all__ = ["ExchangeRates", "FxError", "MissingExchangeRate", "RateRow"]

# Enough precision for a cross rate; the converted line amount is rounded once, later.
_RATE_PLACES: Final = Decimal("1e-10")
_CSV_HEADER: Final = ["date", "from", "to", "rate", "source"]


class FxError(ValueError):
    """A rates file that cannot be read (the message names the line)."""


class MissingExchangeRate(LookupError):
    """No rate on or before the date, directly, inverted or through a pivot."""


class RateRow(Struct, frozen=True, kw_only=True):
    """One published rate: 1 ``from_`` = ``rate`` ``to`` on ``day``."""

    day: date
    from_: str
    to: str
    rate: Decimal
    source: str


class ExchangeRates:
    """An immutable table of dated rates with lookup by (from, to, on-or-before date)."""

    __slots__ = ("_days", "_pivots", "_rows")

    def __init__(self, rows: Iterable[RateRow], pivots: tuple[str, ...] = ("EUR", "USD")) -> None:
        by_pair: dict[tuple[str, str], list[RateRow]] = {}
        for row in rows:
            if row.rate <= 0:
                raise FxError(f"rate {row.from_}->{row.to} on {row.day} must be positive")
            by_pair.setdefault((row.from_, row.to), []).append(row)
        self._rows = {pair: sorted(found, key=lambda r: r.day) for pair, found in by_pair.items()}
        self._days = {pair: [r.day for r in found] for pair, found in self._rows.items()}
        self._pivots = pivots

    @classmethod
    def from_csv(cls, text: str, origin: str = "<rates>") -> ExchangeRates:
        """Parse CSV text with header ``date,from,to,rate,source`` (``#`` lines are comments)."""
        lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        reader = csv.reader(io.StringIO("\n".join(lines)))
        header = next(reader, None)
        if header != _CSV_HEADER:
            raise FxError(f"{origin}: header must be {','.join(_CSV_HEADER)}, got {header}")
        rows = []
        for number, fields in enumerate(reader, start=2):
            if not fields:
                continue
            try:
                day_text, from_, to, rate_text, source = fields
                rows.append(
                    RateRow(
                        day=date.fromisoformat(day_text),
                        from_=from_.strip(),
                        to=to.strip(),
                        rate=Decimal(rate_text),
                        source=source.strip(),
                    )
                )
            except (ValueError, InvalidOperation) as error:
                raise FxError(f"{origin}: data row {number}: {error}") from error
        return cls(rows)

    def __len__(self) -> int:
        return sum(len(found) for found in self._rows.values())

    def _latest(self, from_: str, to: str, on: date) -> RateRow | None:
        days = self._days.get((from_, to))
        if not days:
            return None
        index = bisect.bisect_right(days, on)
        return self._rows[(from_, to)][index - 1] if index else None

    def _direct_or_inverse(self, from_: str, to: str, on: date) -> ExchangeRateUsed | None:
        row = self._latest(from_, to, on)
        if row is not None:
            return ExchangeRateUsed(
                from_=from_, to=to, rate=row.rate, source=row.source, date=row.day
            )
        row = self._latest(to, from_, on)
        if row is not None:
            return ExchangeRateUsed(
                from_=from_,
                to=to,
                rate=(1 / row.rate).quantize(_RATE_PLACES),
                source=f"inverse of {row.to}->{row.from_} {row.rate} ({row.source})",
                date=row.day,
            )
        return None

    def lookup(self, from_: str, to: str, on: date) -> ExchangeRateUsed:
        """The rate to convert ``from_`` into ``to`` on ``on``; raises ``MissingExchangeRate``."""
        if from_ == to:
            return ExchangeRateUsed(from_=from_, to=to, rate=Decimal(1), source="same", date=on)
        found = self._direct_or_inverse(from_, to, on)
        if found is not None:
            return found
        for pivot in self._pivots:
            if pivot in (from_, to):
                continue
            first = self._direct_or_inverse(from_, pivot, on)
            second = self._direct_or_inverse(pivot, to, on)
            if first is not None and second is not None:
                return ExchangeRateUsed(
                    from_=from_,
                    to=to,
                    rate=(first.rate * second.rate).quantize(_RATE_PLACES),
                    source=(
                        f"cross rate via {pivot}: {from_}->{pivot} {first.rate} "
                        f"({first.source}, {first.date}) x {pivot}->{to} {second.rate} "
                        f"({second.source}, {second.date})"
                    ),
                    date=min(first.date, second.date),
                )
        raise MissingExchangeRate(f"no exchange rate {from_}->{to} on or before {on}")
