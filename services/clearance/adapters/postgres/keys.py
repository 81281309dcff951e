"""API keys and the console's sessions: only each token's SHA-256 is stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from clearance.domain.access import ApiKey, NewKey

__all__ = ["KeyStore"]


class KeyStore:
    """Create, find, list and revoke API keys; open, find and end console sessions."""

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
        """Revoke a key, and end its console sessions; False when there is no such live key."""
        async with self.pool.acquire() as connection, connection.transaction():
            result = await connection.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
                key_id,
            )
            await connection.execute("DELETE FROM console_sessions WHERE key_id = $1", key_id)
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

    async def create_session(self, session_hash: str, key_id: str, expires_at: datetime) -> None:
        """Keep a console session (its token's hash) of a key; expired sessions are dropped."""
        async with self.pool.acquire() as connection:
            await connection.execute("DELETE FROM console_sessions WHERE expires_at < now()")
            await connection.execute(
                "INSERT INTO console_sessions (session_hash, key_id, expires_at)"
                " VALUES ($1, $2, $3)",
                session_hash,
                key_id,
                expires_at,
            )

    async def session_key(self, session_hash: str, idle: timedelta) -> ApiKey | None:
        """The live key of a session neither expired nor idle for ``idle``, marking it seen;
        None otherwise (signed out, expired, idle, or its key revoked)."""
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(
                "UPDATE console_sessions s SET last_seen_at = now() FROM api_keys k"
                " WHERE s.session_hash = $1 AND k.key_id = s.key_id AND k.revoked_at IS NULL"
                " AND s.expires_at > now() AND s.last_seen_at > now() - $2::interval"
                " RETURNING k.key_id, k.role, k.platform",
                session_hash,
                idle,
            )
        if row is None:
            return None
        return ApiKey(key_id=row["key_id"], role=row["role"], platform=row["platform"])

    async def end_session(self, session_hash: str) -> None:
        """Forget a session (sign-out): its token no longer signs anyone in."""
        async with self.pool.acquire() as connection:
            await connection.execute(
                "DELETE FROM console_sessions WHERE session_hash = $1", session_hash
            )
