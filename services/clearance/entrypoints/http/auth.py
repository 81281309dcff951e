"""Who may call the HTTP API: bearer API keys, roles, per-key rate limits, and a log of every call.

* 401: no key, a malformed key, an unknown or revoked key, or a wrong secret;
* 403: a valid key whose role may not use the route;
* 429: a key over its rate (a token bucket per key).

Key lookups are cached for a few seconds so the checkout path does not wait on the database for
every quote; a revoked key stops working within that time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from clearance.domain.access import ApiKey, key_id_of, token_matches
from clearance.service.ports import KeyStore

__all__ = [
    "PROBES",
    "SCOPE_KEY",
    "Authenticator",
    "TokenBuckets",
    "call_log",
    "caller_of",
    "per_address_limit",
]

log = logging.getLogger("clearance.api")

#: Where the authenticated key is kept on the request's scope (read by the ``caller`` dependency
#: and the call log).
SCOPE_KEY = "clearance.api_key"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets by name: ``rate`` per second, bursts up to ``burst``. A dictionary and a few
    float operations per call, no lock: the event loop runs one request at a time."""

    def __init__(self, rate: float, burst: float, most: int = 100_000) -> None:
        self.rate, self.burst, self.most = rate, burst, most
        self._buckets: dict[str, _Bucket] = {}

    def take(self, name: str) -> bool:
        """Spend one token of ``name``'s bucket; False when it is empty."""
        now = time.monotonic()
        bucket = self._buckets.get(name)
        if bucket is None:
            if len(self._buckets) >= self.most:  # many distinct names: start afresh, bounded
                self._buckets.clear()
            bucket = self._buckets[name] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


@dataclass
class Authenticator:
    """Checks bearer tokens against the stored hashes, with a short cache and rate limits.

    A key id the database does not know is remembered as unknown for the same few seconds, so a
    flood of made-up keys costs no query each (the cache is bounded)."""

    keys: KeyStore
    rate_per_second: float = 200.0
    burst: float = 400.0
    cache_seconds: float = 5.0
    cache_size: int = 10_000
    _cache: dict[str, tuple[float, tuple[ApiKey, str] | None]] = field(default_factory=dict)
    _buckets: TokenBuckets | None = None

    async def caller(self, authorization: str | None) -> ApiKey:
        """The key behind an ``Authorization: Bearer <token>`` header; raises 401 otherwise."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise NotAuthorizedException("send an API key: Authorization: Bearer <key>")
        token = authorization[7:].strip()
        key_id = key_id_of(token)
        if key_id is None:
            raise NotAuthorizedException("malformed API key (expected ck_<id>_<secret>)")
        found = await self._lookup(key_id)
        if found is None or not token_matches(token, found[1]):
            raise NotAuthorizedException("unknown or revoked API key")
        self._spend(found[0])
        return found[0]

    async def _lookup(self, key_id: str) -> tuple[ApiKey, str] | None:
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        found = await self.keys.find_api_key(key_id)
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[key_id] = (now, found)
        return found

    def _spend(self, key: ApiKey) -> None:
        if self._buckets is None:
            self._buckets = TokenBuckets(self.rate_per_second, self.burst)
        if not self._buckets.take(key.key_id):
            raise TooManyRequestsException(
                f"key {key.key_id} is over {self.rate_per_second:g} requests per second"
            )


#: The probes Kubernetes calls: exempt from the per-address limit (exact paths, nothing else).
PROBES: frozenset[str] = frozenset({"/health/live", "/health/ready", "/health/startup"})


def per_address_limit(rate_per_second: float) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware factory: at most ``rate_per_second`` requests per client address (bursts of
    twice that), answered 429 beyond; the probes are exempt by their exact paths."""
    buckets = TokenBuckets(rate_per_second, 2 * rate_per_second)

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if str(scope["type"]) == "http" and scope["path"] not in PROBES:
                client = scope.get("client")
                if not buckets.take(client[0] if client else "unknown"):
                    await _too_many(send)
                    return
            await app(scope, receive, send)

        return middleware

    return wrap


async def _too_many(send: Send) -> None:
    body = b'{"status_code":429,"detail":"too many requests from this address","extra":[]}'
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 429,
        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1")],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ApiKey:
    """The key the guard authenticated for this request."""
    key: ApiKey = connection.scope[SCOPE_KEY]  # type: ignore[literal-required]
    return key


def call_log(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: one log line per API call (key id, role, route, status, duration).

    Never the token, the body or the query string: they may hold secrets or personal data.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or scope["path"] in PROBES:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            key = scope.get(SCOPE_KEY)
            log.info(
                "api call",
                extra={
                    "http.method": scope.get("method"),
                    "http.route": scope["path"],
                    "http.status_code": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "key_id": key.key_id if isinstance(key, ApiKey) else None,
                    "role": key.role if isinstance(key, ApiKey) else None,
                },
            )

    return middleware
