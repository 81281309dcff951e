"""Who may do and see what: API keys and the rule that a platform sees only its own parcels.

The HTTP API and the console both ask here; neither decides it on its own.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from clearance.domain.access import (
    ApiKey,
    NewKey,
    Role,
    hash_token,
    key_id_of,
    platform_view,
    token_matches,
)
from clearance.messages import ClearanceDecision
from clearance.service.errors import NotAllowed, Refused
from clearance.service.ports import KeyStore, SessionStore

__all__ = [
    "SESSION_IDLE",
    "SESSION_LIFETIME",
    "NotAllowed",
    "acting_for",
    "authenticate",
    "close_session",
    "create_key",
    "decision_for",
    "list_keys",
    "may_see",
    "new_key",
    "open_session",
    "platform_scope",
    "revoke_key",
    "session_key",
]


def new_key(role: Role, platform: str | None = None) -> NewKey:
    """A fresh random key; platform keys name their platform, the others must not."""
    if (role == "platform") != (platform is not None):
        message = "a platform key needs a platform (--platform), and only a platform key has one"
        raise Refused(message, "$.platform")
    key_id = secrets.token_hex(4)
    token = f"ck_{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(key_id=key_id, role=role, platform=platform)
    return NewKey(key=key, token=token, token_hash=hash_token(token))


async def authenticate(keys: KeyStore, token: str) -> ApiKey | None:
    """The live key a bearer token stands for, or None (malformed, unknown, revoked, wrong)."""
    key_id = key_id_of(token)
    if key_id is None:
        return None
    found = await keys.find_api_key(key_id)
    if found is None:
        return None
    key, stored_hash = found
    return key if token_matches(token, stored_hash) else None


def may_see(caller: ApiKey, platform: str) -> bool:
    """A platform sees only its own parcels; officers and admins see every platform's."""
    return caller.role != "platform" or caller.platform == platform


def decision_for(caller: ApiKey, decision: ClearanceDecision) -> ClearanceDecision:
    """What ``caller`` may read of a decision: all of it for officers and admins; for a platform,
    the outcome, amounts and the reasons it must act on, never the risk detail."""
    return decision if caller.role != "platform" else platform_view(decision)


def platform_scope(caller: ApiKey, asked: str | None = None) -> str | None:
    """The platform a listing is limited to: a platform key's own, whatever it asks for."""
    if caller.role == "platform":
        return caller.platform
    return asked


def acting_for(caller: ApiKey, platform: str) -> None:
    """A platform key writes (quotes, orders) only for its own platform."""
    if caller.role == "platform" and caller.platform != platform:
        raise NotAllowed(f"this key acts for platform {caller.platform!r}, not {platform!r}")


async def create_key(keys: KeyStore, role: Role, platform: str | None = None) -> NewKey:
    """Make and store a key; its token is in the answer only (never stored)."""
    made = new_key(role, platform)
    await keys.create_api_key(made)
    return made


async def revoke_key(keys: KeyStore, key_id: str) -> bool:
    """Revoke a key; False when there is no such live key."""
    return await keys.revoke_api_key(key_id)


async def list_keys(keys: KeyStore) -> list[dict[str, Any]]:
    """Every key (never a hash): id, role, platform, created, revoked."""
    return await keys.list_api_keys()


#: A console session ends this long after sign-in, whatever happens (a working day)...
SESSION_LIFETIME: Final = timedelta(hours=8)
#: ...or after this long without a request (a console left open on an unattended desk).
SESSION_IDLE: Final = timedelta(minutes=30)


async def open_session(sessions: SessionStore, key: ApiKey) -> tuple[str, datetime]:
    """A new console session of ``key``: its token (for the cookie, shown nowhere else) and when
    it expires. The browser never holds the API key itself."""
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + SESSION_LIFETIME
    await sessions.create_session(hash_token(token), key.key_id, expires_at)
    return token, expires_at


async def session_key(sessions: SessionStore, token: str) -> ApiKey | None:
    """The key signed in with a session token; None once signed out, expired, idle or revoked."""
    if not 20 <= len(token) <= 100:  # not a token this service made: no need to ask
        return None
    return await sessions.session_key(hash_token(token), SESSION_IDLE)


async def close_session(sessions: SessionStore, token: str) -> None:
    """Sign-out: the session's token stops working at once, wherever it was copied."""
    await sessions.end_session(hash_token(token))
