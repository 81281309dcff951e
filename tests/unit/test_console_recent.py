"""The console's short-lived answers (``entrypoints/http/recent.py``): kept for their seconds,
per owner and key, and never more than ``size`` keys."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from clearance.entrypoints.http.recent import Recent


class Owner:
    """Stands for a read side (one per application)."""


async def test_an_answer_is_kept_for_its_seconds_per_owner_and_key() -> None:
    calls: list[str] = []

    def counting(value: str) -> Callable[[], Awaitable[str]]:
        async def compute() -> str:
            calls.append(value)
            return value

        return compute

    recent: Recent[str] = Recent(seconds=0.2, size=2)
    first, second = Owner(), Owner()
    answer, at = await recent.get(first, "all", counting("a"))
    assert (answer, calls) == ("a", ["a"])
    again, again_at = await recent.get(first, "all", counting("b"))
    assert (again, again_at, calls) == ("a", at, ["a"])  # kept, with when it was computed
    assert (await recent.get(second, "all", counting("c")))[0] == "c"  # another owner
    await recent.get(first, "red", counting("d"))
    await recent.get(first, "yellow", counting("e"))  # a third key: the oldest goes
    assert (await recent.get(first, "all", counting("f")))[0] == "f"
    await asyncio.sleep(0.25)
    assert (await recent.get(first, "f-key-expired", counting("g")))[0] == "g"
    assert (await recent.get(first, "all", counting("h")))[0] == "h"  # its seconds are over
    assert calls == ["a", "c", "d", "e", "f", "g", "h"]
