"""What officers and platforms ask to see: which current decisions."""

from __future__ import annotations

from datetime import date

import msgspec

__all__ = ["DecisionFilter"]


class DecisionFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which current decisions an officer (or a platform, its own) asks for."""

    status: str | None = None
    destination: str | None = None
    channel: str | None = None
    platform: str | None = None
    day_from: date | None = None
    day_to: date | None = None
