"""The schema: SQL files applied in order, once each, under an advisory lock.

Each applied file is recorded with its SHA-256; a file changed after it was applied is an error
(``MigrationError``) at ``clearance migrate`` and when a worker or the API starts, never a schema
that silently differs from what the code says. After the migrations, ``privileges.sql`` grants
the worker's and the API's roles what each needs, on every run.
"""

from __future__ import annotations

import hashlib
import importlib.resources

import asyncpg

__all__ = [
    "MigrationError",
    "changed_migrations",
    "expected_migrations",
    "migrate",
    "schema_is_current",
]


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


def _privileges() -> str:
    resource = importlib.resources.files("clearance.adapters.postgres") / "privileges.sql"
    return resource.read_text(encoding="utf-8")


def expected_migrations() -> list[str]:
    """The migrations this code ships, in order: the schema it expects has every one applied."""
    return [name for name, _ in _migration_files()]


def _checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def changed_migrations(applied: dict[str, str]) -> list[str]:
    """The shipped migrations whose recorded checksum (``applied``: name -> checksum) differs
    from the file's: edited after they were applied."""
    return [
        name
        for name, sql in _migration_files()
        if name in applied and applied[name] != _checksum(sql)
    ]


def _refuse_changed(applied: dict[str, str]) -> None:
    changed = changed_migrations(applied)
    if changed:
        raise MigrationError(
            f"migration(s) {', '.join(changed)} changed after they were applied (their SHA-256"
            " differs from schema_migrations.checksum): the database may not be the schema this"
            " code expects. An applied migration is never edited; restore it and add a new one."
        )


async def schema_is_current(pool: asyncpg.Pool) -> bool:
    """True when every migration this code ships is applied (a newer schema is fine: migrations
    only add, so the previous release keeps running during a rollout). Raises ``MigrationError``
    when an applied migration differs from the file this code ships."""
    async with pool.acquire() as connection:
        if await connection.fetchval("SELECT to_regclass('schema_migrations')") is None:
            return False
        applied = {
            row["name"]: row["checksum"]
            for row in await connection.fetch("SELECT name, checksum FROM schema_migrations")
        }
    _refuse_changed(applied)
    return set(expected_migrations()) <= applied.keys()


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
        done = {
            row["name"]: row["checksum"]
            for row in await connection.fetch("SELECT name, checksum FROM schema_migrations")
        }
        _refuse_changed(done)
        for name, sql in _migration_files():
            if name in done:
                continue
            checksum = _checksum(sql)
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
        try:
            await connection.execute(_privileges())
        except asyncpg.PostgresError as error:
            raise MigrationError(f"privileges.sql failed: {error}") from error
    finally:
        await connection.execute("SELECT pg_advisory_unlock_all()")
        await connection.close()
    return applied
