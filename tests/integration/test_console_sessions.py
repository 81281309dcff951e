"""The console's sessions and headers over HTTPS, on the real database: signing in keeps a
session token (never the API key) in a ``__Host-`` cookie; the session ends at sign-out, after
its lifetime or idle time, and when its key is revoked; every console page forbids framing,
other origins' scripts and caching."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from clearance.adapters.kafka import ensure_topics
from clearance.adapters.postgres import KeyStore, connect, migrate
from clearance.domain.access import NewKey, hash_token
from clearance.entrypoints.http.app import create_app
from clearance.entrypoints.http.dependencies import CONSOLE_COOKIE
from clearance.service.access import new_key
from clearance.settings import Settings
from streams import settings_for

pytestmark = pytest.mark.integration

HTTPS = "https://testserver.local"
QUEUE = "/console/queue"


@dataclass
class Site:
    settings: Settings
    client: AsyncTestClient[Any]
    db: asyncpg.Connection


@pytest.fixture(scope="module")
async def site(kafka_bootstrap: str, database_url: str) -> AsyncIterator[Site]:
    settings = settings_for(kafka_bootstrap, database_url, f"t{uuid.uuid4().hex[:12]}")
    await migrate(database_url, schema=settings.database_schema)
    await ensure_topics(settings)
    db = await asyncpg.connect(
        database_url, server_settings={"search_path": settings.database_schema}
    )
    async with AsyncTestClient(create_app(settings), base_url=HTTPS) as client:
        yield Site(settings, client, db)
    await db.close()


async def _stored(site: Site, key: NewKey) -> NewKey:
    pool = await connect(site.settings.database_url, schema=site.settings.database_schema)
    try:
        await KeyStore(pool).create_api_key(key)
    finally:
        await pool.close()
    return key


async def _sign_in(site: Site, token: str) -> Any:
    """Fill in the sign-in form as a browser would (its CSRF token included)."""
    site.client.cookies.clear()
    form = await site.client.get("/console/sign-in")
    csrf = re.findall(r'name="_csrf_token" value="([^"]+)"', form.text)[0]
    return await site.client.post(
        "/console/sign-in", data={"_csrf_token": csrf, "key": token}, follow_redirects=False
    )


def _session_cookie(answer: Any) -> str:
    [header] = [
        value
        for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith(f"{CONSOLE_COOKIE}=")
    ]
    return str(header)


async def _queue(site: Site, session: str) -> Any:
    site.client.cookies.clear()
    site.client.cookies.set(CONSOLE_COOKIE, session)
    return await site.client.get(QUEUE, follow_redirects=False)


def _signed_out(answer: Any) -> bool:
    return answer.status_code in (302, 303) and "/console/sign-in" in answer.headers["location"]


async def test_signing_in_keeps_a_session_token_never_the_key(site: Site) -> None:
    officer = await _stored(site, new_key("officer"))
    answer = await _sign_in(site, officer.token)
    assert answer.status_code == 303 and answer.headers["location"] == QUEUE
    header = _session_cookie(answer)
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes
    assert not any(part.startswith("domain") for part in attributes)  # __Host-: this host only
    session = header.split(";")[0].split("=", 1)[1]
    assert officer.token not in str(answer.headers) and session != officer.token
    stored = await site.db.fetchrow(
        "SELECT key_id, expires_at - created_at AS lifetime FROM console_sessions"
        " WHERE session_hash = $1",
        hash_token(session),
    )
    assert stored is not None and stored["key_id"] == officer.key.key_id
    assert stored["lifetime"].total_seconds() == pytest.approx(8 * 3600, abs=5)
    assert (await _queue(site, session)).status_code == 200


async def test_an_admin_or_unknown_key_opens_no_session(site: Site) -> None:
    admin = await _stored(site, new_key("admin"))
    for token in (admin.token, "not-a-key"):
        answer = await _sign_in(site, token)
        assert answer.status_code == 401
        assert not any(
            value.startswith(f"{CONSOLE_COOKIE}=")
            for name, value in answer.headers.multi_items()
            if name == "set-cookie"
        )


async def test_signing_out_ends_the_session_wherever_its_cookie_was_copied(site: Site) -> None:
    officer = await _stored(site, new_key("officer"))
    session = _session_cookie(await _sign_in(site, officer.token)).split(";")[0].split("=", 1)[1]
    assert (await _queue(site, session)).status_code == 200
    page = await site.client.get(QUEUE)
    csrf = re.findall(r'name="_csrf_token" value="([^"]+)"', page.text)[0]
    out = await site.client.post(
        "/console/sign-out", data={"_csrf_token": csrf}, follow_redirects=False
    )
    assert _signed_out(out)
    assert _signed_out(await _queue(site, session))  # a copy of the old cookie is worth nothing


async def test_a_session_ends_when_it_is_idle_or_old_or_its_key_is_revoked(site: Site) -> None:
    officer = await _stored(site, new_key("officer"))
    sessions = []
    for _ in range(3):
        answer = await _sign_in(site, officer.token)
        sessions.append(_session_cookie(answer).split(";")[0].split("=", 1)[1])
    idle, old, revoked = sessions
    await site.db.execute(
        "UPDATE console_sessions SET last_seen_at = now() - interval '31 minutes'"
        " WHERE session_hash = $1",
        hash_token(idle),
    )
    await site.db.execute(
        "UPDATE console_sessions SET expires_at = now() - interval '1 second'"
        " WHERE session_hash = $1",
        hash_token(old),
    )
    assert _signed_out(await _queue(site, idle))
    assert _signed_out(await _queue(site, old))
    assert (await _queue(site, revoked)).status_code == 200  # used within the idle time
    pool = await connect(site.settings.database_url, schema=site.settings.database_schema)
    try:
        assert await KeyStore(pool).revoke_api_key(officer.key.key_id)
    finally:
        await pool.close()
    assert _signed_out(await _queue(site, revoked))


async def test_every_console_page_forbids_frames_foreign_scripts_and_caching(site: Site) -> None:
    officer = await _stored(site, new_key("officer"))
    session = _session_cookie(await _sign_in(site, officer.token)).split(";")[0].split("=", 1)[1]
    for path in ("/console/sign-in", QUEUE, "/console/dashboard", "/console/revenue"):
        site.client.cookies.set(CONSOLE_COOKIE, session)
        answer = await site.client.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-inline'" not in policy
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        # the policy holds because the pages carry no inline script or style
        assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", answer.text)
    api = await site.client.get("/health/live")
    assert "content-security-policy" not in api.headers  # the JSON API is not a page
