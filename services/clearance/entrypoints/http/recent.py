"""Answers the console keeps for a few seconds: counting 100,000 queued parcels costs about 100 ms,
and an officer paging through the queue asks for the same counts on every page.

Kept per read-side instance (one per application), by a key the caller makes from what the
answer depends on, for ``seconds``; the page says when it was counted.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

__all__ = ["Recent"]

V = TypeVar("V")


class Recent(Generic[V]):
    """The latest answers for up to ``size`` keys per owner, each for ``seconds``."""

    def __init__(self, seconds: float, size: int = 256) -> None:
        self.seconds = seconds
        self.size = size
        self._kept: WeakKeyDictionary[object, OrderedDict[Hashable, tuple[float, V, datetime]]]
        self._kept = WeakKeyDictionary()

    async def get(
        self, owner: object, key: Hashable, compute: Callable[[], Awaitable[V]]
    ) -> tuple[V, datetime]:
        """The answer for ``key`` and when it was computed: kept, or computed now."""
        kept = self._kept.setdefault(owner, OrderedDict())
        now = time.monotonic()
        found = kept.get(key)
        if found is not None and found[0] > now:
            kept.move_to_end(key)
            return found[1], found[2]
        value = await compute()
        kept[key] = (now + self.seconds, value, datetime.now(UTC))
        kept.move_to_end(key)
        while len(kept) > self.size:
            kept.popitem(last=False)
        return value, kept[key][2]
