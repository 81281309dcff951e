"""API keys: only each token's SHA-256 is stored, with the key's role and platform."""

from __future__ import annotations

from typing import Any

import asyncpg

from clearance.domain.access import ApiKey, NewKey

__all__ = ["KeyStore"]


class KeyStore:
    """Create, find, list and revoke API keys."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create_api_key(self, new: NewKey) -> None:
        """Store a new key's hash, role and platform."""
        async with self.pool.acquire() as connection:
            await connection.execute(
                "INSERT INTO api_keys (key_id, token_hash, role, platform) VALUES ($1, $2, $3, $4)",
                new.key.key_id,
                new.token_hash,
                new.key.role,
                new.key.platform,
            )

    async def revoke_api_key(self, key_id: str) -> bool:
        """Revoke a key; False when there is no such live key."""
        async with self.pool.acquire() as connection:
            result = await connection.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
                key_id,
            )
        return bool(result == "UPDATE 1")

    async def find_api_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        """A live key and its token hash, or None (unknown or revoked)."""
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT role, platform, token_hash FROM api_keys"
                " WHERE key_id = $1 AND revoked_at IS NULL",
                key_id,
            )
        if row is None:
            return None
        return ApiKey(key_id=key_id, role=row["role"], platform=row["platform"]), row["token_hash"]

    async def list_api_keys(self) -> list[dict[str, Any]]:
        """Every key (never a hash): id, role, platform, created, revoked."""
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT key_id, role, platform, created_at, revoked_at FROM api_keys"
                " ORDER BY created_at"
            )
        return [dict(row) for row in rows]
