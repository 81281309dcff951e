"""API keys: bearer tokens whose SHA-256 alone is stored, each with a role (and a platform).

A token looks like ``ck_<key id>_<secret>``: the key id (8 hex characters) is public and names the
key in logs and in ``clearance keys revoke``; the secret is 256 random bits, shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final, Literal

from msgspec import Struct

__all__ = ["ROLES", "ApiKey", "NewKey", "hash_token", "key_id_of", "token_matches"]

Role = Literal["platform", "officer", "admin"]
ROLES: Final = ("platform", "officer", "admin")
_TOKEN: Final = re.compile(r"^ck_([0-9a-f]{8})_[A-Za-z0-9_-]{20,}$")


class ApiKey(Struct, frozen=True, kw_only=True):
    """Who is calling: a platform (its own orders only), an officer, or an admin."""

    key_id: str
    role: Role
    platform: str | None = None


class NewKey(Struct, frozen=True, kw_only=True):
    """A key just made: the token is shown once, only its hash is stored."""

    key: ApiKey
    token: str
    token_hash: str


def hash_token(token: str) -> str:
    """What is stored for a token (SHA-256, hex): a leaked table reveals no usable key."""
    return hashlib.sha256(token.encode()).hexdigest()


def key_id_of(token: str) -> str | None:
    """The key id inside a well-formed token, else None."""
    match = _TOKEN.match(token)
    return match.group(1) if match else None


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token with the stored hash."""
    return hmac.compare_digest(hash_token(token), stored_hash)
