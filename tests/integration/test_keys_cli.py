"""``clearance keys``: create (token shown once, only its hash stored), list, revoke."""

from __future__ import annotations

import subprocess
import sys

import asyncpg
import pytest

from clearance.domain.access import hash_token, key_id_of
from clearance.settings import Settings, to_environment

pytestmark = pytest.mark.integration


def keys(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearance", "keys", *args],
        env=to_environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_create_list_and_revoke(settings: Settings, db: asyncpg.Connection) -> None:
    made = keys(settings, "create", "--role", "platform", "--platform", "shopmart")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    key_id = key_id_of(token)
    assert key_id is not None
    stored = await db.fetchrow("SELECT token_hash, role, platform FROM api_keys")
    assert tuple(stored) == (hash_token(token), "platform", "shopmart")
    assert token not in str(await db.fetch("SELECT * FROM api_keys"))  # only the hash

    listed = keys(settings, "list")
    assert key_id in listed.stdout and "live" in listed.stdout
    assert keys(settings, "revoke", key_id).returncode == 0
    assert keys(settings, "revoke", key_id).returncode == 1  # already revoked
    assert "live" not in keys(settings, "list").stdout
    wrong = keys(settings, "create", "--role", "platform")
    assert wrong.returncode == 2 and "--platform" in wrong.stderr
