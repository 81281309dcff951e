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
        reset=keep_session,
    )
    assert pool is not None
    return pool


async def keep_session(connection: asyncpg.Connection) -> None:
    """What a released connection needs beyond asyncpg's rollback of an open transaction: nothing.

    asyncpg's default reset runs ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``
    on every release, one more round trip each time (four per worker batch). The adapters leave no
    session state behind: no ``SET``, no ``LISTEN``, no cursor outside a transaction, advisory
    locks only ``_xact`` ones (released at commit). A new adapter that needs session state must
    reset it itself.
    """


async def ping(pool: asyncpg.Pool) -> bool:
    """True when the database answers (readiness)."""
    async with pool.acquire() as connection:
        return bool(await connection.fetchval("SELECT true"))
