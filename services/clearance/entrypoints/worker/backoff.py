"""Pauses that grow while a fault of the database or broker repeats, and how long it has lasted."""

from __future__ import annotations

import time
from typing import Final

__all__ = ["Backoff"]


class Backoff:
    """Pauses that double from ``first`` to ``longest`` while failures repeat; how long they have
    lasted, so a fault that persists is reported instead of looped on silently."""

    FIRST: Final = 0.5
    LONGEST: Final = 30.0

    def __init__(self) -> None:
        self.failures = 0
        self.since: float | None = None
        self.reason = ""

    def failed(self, reason: str) -> float:
        """Record one more failure; returns the pause before the next attempt."""
        if self.since is None:
            self.since = time.monotonic()
        self.failures += 1
        self.reason = reason
        return self.pause

    @property
    def pause(self) -> float:
        """The pause after the failures so far."""
        return min(self.LONGEST, self.FIRST * 2.0 ** max(0, self.failures - 1))

    def succeeded(self) -> None:
        self.failures = 0
        self.since = None
        self.reason = ""

    @property
    def failing(self) -> bool:
        return self.since is not None

    @property
    def seconds(self) -> float:
        """How long the current run of failures has lasted (0 when none)."""
        return 0.0 if self.since is None else time.monotonic() - self.since
