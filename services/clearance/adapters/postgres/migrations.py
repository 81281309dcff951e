"""The schema: SQL files applied in order, once each, under an advisory lock."""

from __future__ import annotations

import hashlib
import importlib.resources

import asyncpg

__all__ = ["MigrationError", "expected_migrations", "migrate", "schema_is_current"]


class MigrationError(RuntimeError):
    """A migration file failed; the message names it."""


def _migration_files() -> list[tuple[str, str]]:
    folder = importlib.resources.files("clearance.adapters.postgres") / "migrations"
    files = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
    return files


def expected_migrations() -> list[str]:
    """The migrations this code ships, in order: the schema it expects has every one applied."""
    return [name for name, _ in _migration_files()]


async def schema_is_current(pool: asyncpg.Pool) -> bool:
    """True when every migration this code ships is applied (a newer schema is fine: migrations
    only add, so the previous release keeps running during a rollout)."""
    async with pool.acquire() as connection:
        if await connection.fetchval("SELECT to_regclass('schema_migrations')") is None:
            return False
        applied = {
            row["name"] for row in await connection.fetch("SELECT name FROM schema_migrations")
        }
    return set(expected_migrations()) <= applied


async def migrate(url: str, *, schema: str | None = None) -> list[str]:
    """Apply the migrations not yet applied, in order, under an advisory lock; returns their names.

    Safe to run from several processes at once: they queue on the lock, and each file is applied
    once, in its own transaction, and recorded with its checksum.
    """
    connection = await asyncpg.connect(url)
    applied: list[str] = []
    lock = int.from_bytes(hashlib.sha256(f"clearance:{schema}".encode()).digest()[:8], "big") >> 1
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", lock)
        if schema:
            await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await connection.execute(f'SET search_path TO "{schema}"')
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["name"] for row in await connection.fetch("SELECT name FROM schema_migrations")}
        for name, sql in _migration_files():
            if name in done:
                continue
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            try:
                async with connection.transaction():
                    await connection.execute(sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        name,
                        checksum,
                    )
            except asyncpg.PostgresError as error:
                raise MigrationError(f"migration {name} failed: {error}") from error
            applied.append(name)
    finally:
        await connection.execute("SELECT pg_advisory_unlock_all()")
        await connection.close()
    return applied
