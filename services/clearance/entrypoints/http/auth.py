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
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from clearance.domain.access import ApiKey, key_id_of, token_matches
from clearance.service.ports import KeyStore

__all__ = ["SCOPE_KEY", "Authenticator", "call_log", "caller_of"]

log = logging.getLogger("clearance.api")

#: Where the authenticated key is kept on the request's scope (read by the ``caller`` dependency
#: and the call log).
SCOPE_KEY = "clearance.api_key"


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Authenticator:
    """Checks bearer tokens against the stored hashes, with a short cache and rate limits."""

    keys: KeyStore
    rate_per_second: float = 200.0
    burst: float = 400.0
    cache_seconds: float = 5.0
    _cache: dict[str, tuple[float, ApiKey, str]] = field(default_factory=dict)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

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
            return cached[1], cached[2]
        found = await self.keys.find_api_key(key_id)
        if found is None:
            self._cache.pop(key_id, None)
            return None
        self._cache[key_id] = (now, *found)
        return found

    def _spend(self, key: ApiKey) -> None:
        now = time.monotonic()
        bucket = self._buckets.setdefault(key.key_id, _Bucket(self.burst, now))
        bucket.tokens = min(
            self.burst, bucket.tokens + (now - bucket.updated) * self.rate_per_second
        )
        bucket.updated = now
        if bucket.tokens < 1:
            raise TooManyRequestsException(
                f"key {key.key_id} is over {self.rate_per_second:g} requests per second"
            )
        bucket.tokens -= 1


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ApiKey:
    """The key the guard authenticated for this request."""
    key: ApiKey = connection.scope[SCOPE_KEY]  # type: ignore[literal-required]
    return key


def call_log(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: one log line per API call (key id, role, route, status, duration).

    Never the token, the body or the query string: they may hold secrets or personal data.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or scope["path"].startswith(("/health", "/metrics")):
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
