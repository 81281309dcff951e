"""The API's cheap guards: a limit per client address (probes exempt by exact path only) and a key
cache that also remembers unknown keys, so a flood of made-up keys costs no query each."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.exceptions import NotAuthorizedException
from litestar.types import Receive, Scope, Send

from clearance.domain.access import ApiKey, NewKey
from clearance.entrypoints.http.auth import Authenticator, TokenBuckets, per_address_limit


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok", "more_body": False})


async def _status(app: Any, path: str, client: str = "10.0.0.1") -> int:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "path": path, "client": (client, 5000), "method": "GET"}
    await app(scope, receive, send)
    status: int = sent[0]["status"]
    return status


async def test_an_address_over_its_rate_gets_429_and_others_do_not() -> None:
    app = per_address_limit(1.0)(_answer)  # 1/s, bursts of 2
    statuses = [await _status(app, "/v1/quotes") for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert await _status(app, "/v1/quotes", client="10.0.0.2") == 200


async def test_only_the_probes_themselves_skip_the_limit() -> None:
    app = per_address_limit(1.0)(_answer)
    assert [await _status(app, "/health/live") for _ in range(5)] == [200] * 5
    # a path that merely contains "/health" or "/metrics" is limited like any other
    statuses = [await _status(app, "/v1/decisions/x/health") for _ in range(3)]
    assert statuses[-1] == 429
    assert [await _status(app, "/metrics") for _ in range(3)][-1] == 429


def test_token_buckets_refill_at_their_rate() -> None:
    buckets = TokenBuckets(rate=1_000_000.0, burst=1.0)
    assert buckets.take("a")
    assert buckets.take("a"), "a million per second refills within the call"


class _CountingKeys:
    def __init__(self, known: dict[str, tuple[ApiKey, str]]) -> None:
        self.known = known
        self.lookups = 0

    async def find_api_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        self.lookups += 1
        return self.known.get(key_id)

    async def create_api_key(self, new: NewKey) -> None:  # pragma: no cover - not used here
        raise NotImplementedError

    async def revoke_api_key(self, key_id: str) -> bool:  # pragma: no cover - not used here
        raise NotImplementedError

    async def list_api_keys(self) -> list[dict[str, Any]]:  # pragma: no cover - not used here
        raise NotImplementedError


async def test_unknown_keys_are_remembered_so_a_flood_costs_one_query() -> None:
    keys = _CountingKeys({})
    authenticator = Authenticator(keys)
    for _ in range(50):
        with pytest.raises(NotAuthorizedException):
            await authenticator.caller("Bearer ck_0000abcd_" + "x" * 40)
    assert keys.lookups == 1


async def test_the_key_cache_stays_bounded() -> None:
    keys = _CountingKeys({})
    authenticator = Authenticator(keys, cache_size=10)
    for n in range(100):
        with pytest.raises(NotAuthorizedException):
            await authenticator.caller(f"Bearer ck_{n:08x}_" + "x" * 40)
    assert len(authenticator._cache) <= 10
