"""Migrations: applied once, in order, under an advisory lock, from many processes at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg
import pytest

from clearance.adapters.postgres import MigrationError, connect, migrate, schema_is_current
from clearance.settings import load_settings, to_environment

pytestmark = pytest.mark.integration


async def test_concurrent_migrations_apply_each_file_once(
    database_url: str, unique_name: str
) -> None:
    results = await asyncio.gather(*(migrate(database_url, schema=unique_name) for _ in range(4)))
    applied = [names for names in results if names]
    assert len(applied) == 1, results  # one process applied everything, the others found it done
    assert applied[0] == sorted(applied[0]) and applied[0][0].startswith("0001_")
    connection = await asyncpg.connect(database_url, server_settings={"search_path": unique_name})
    try:
        recorded = await connection.fetch("SELECT name FROM schema_migrations ORDER BY name")
        tables = {
            row[0]
            for row in await connection.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                unique_name,
            )
        }
    finally:
        await connection.close()
    assert [row[0] for row in recorded] == applied[0]
    assert {"orders", "decisions", "consignee_totals", "inspections"} <= tables
    assert await migrate(database_url, schema=unique_name) == []  # idempotent


def test_clearance_migrate_command_from_three_processes(
    database_url: str, unique_name: str
) -> None:
    settings = load_settings(
        {}, environment="dev", database_url=database_url, database_schema=unique_name
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "clearance", "migrate"],
            env=to_environment(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    up_to_date = [out for out, _ in outputs if "none (up to date)" in out]
    assert len(up_to_date) == 2, outputs


def test_a_broken_database_url_is_a_clear_error(unique_name: str) -> None:
    env = to_environment(
        load_settings({}, environment="dev", database_url="postgresql://nobody@127.0.0.1:1/x")
    )
    result = subprocess.run(
        [sys.executable, "-m", "clearance", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "clearance migrate:" in result.stderr


async def test_an_applied_migration_that_changed_is_refused_at_migrate_and_at_start(
    database_url: str, unique_name: str
) -> None:
    await migrate(database_url, schema=unique_name)
    connection = await asyncpg.connect(database_url, server_settings={"search_path": unique_name})
    try:  # as if 0002 had been edited after it was applied
        await connection.execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE name LIKE '0002_%'"
        )
    finally:
        await connection.close()
    with pytest.raises(MigrationError, match=r"0002_api_keys\.sql changed after they were applied"):
        await migrate(database_url, schema=unique_name)
    pool = await connect(database_url, schema=unique_name)
    try:
        with pytest.raises(MigrationError, match=r"0002_api_keys\.sql"):
            await schema_is_current(pool)
    finally:
        await pool.close()
    settings = load_settings(
        {}, environment="dev", database_url=database_url, database_schema=unique_name
    )
    for command in ("migrate", "worker"):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "clearance",
            command,
            env=to_environment(settings),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 1, (command, err)
        assert b"changed after they were applied" in err, (command, err)
