"""The connection pool every PostgreSQL adapter shares, and the readiness ping."""

from __future__ import annotations

import asyncpg

__all__ = ["connect", "ping"]


async def connect(
    url: str,
    *,
    schema: str | None = None,
    min_size: int = 1,
    max_size: int = 4,
    statement_cache_size: int = 100,
) -> asyncpg.Pool:
    """A connection pool; ``schema`` puts every table in that schema (tests isolate this way).

    ``statement_cache_size`` is asyncpg's prepared-statement cache (0 behind a transaction-mode
    PgBouncer that does not track prepared statements; see ``CLEARANCE_DB_STATEMENT_CACHE_SIZE``).
    """
    settings = {"search_path": schema} if schema else {}
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        server_settings=settings,
        statement_cache_size=statement_cache_size,
    )
    assert pool is not None
    return pool


async def ping(pool: asyncpg.Pool) -> bool:
    """True when the database answers (readiness)."""
    async with pool.acquire() as connection:
        return bool(await connection.fetchval("SELECT true"))
