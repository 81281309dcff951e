"""``/v1/keys``: admins make and revoke API keys (only hashes are stored)."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody

from clearance import messages as m
from clearance.domain.access import Role
from clearance.entrypoints.http.dependencies import Injected
from clearance.entrypoints.http.guards import requires
from clearance.service import access
from clearance.service.ports import KeyStore

__all__ = ["KeyController"]


class KeyRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A key to create: a role, and the platform for a platform key."""

    role: Role
    platform: m.PlatformName | None = None


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key: the token is shown this once and never again."""

    key_id: str
    role: str
    platform: str | None
    token: str


class KeyController(Controller):
    """API keys, for admins."""

    path = "/v1/keys"
    guards = (requires("admin"),)

    @post(status_code=201, summary="Create an API key")
    async def create_key(self, data: JSONBody[KeyRequest], keys: Injected[KeyStore]) -> CreatedKey:
        """A new key; its token is in this answer only."""
        made = await access.create_key(keys, data.role, data.platform)
        key = made.key
        return CreatedKey(key_id=key.key_id, role=key.role, platform=key.platform, token=made.token)

    @delete("/{key_id:str}", summary="Revoke an API key")
    async def revoke_key(self, key_id: FromPath[str], keys: Injected[KeyStore]) -> None:
        """Revoke a key (it stops working within seconds)."""
        if not await access.revoke_key(keys, key_id):
            raise NotFoundException(f"no live key {key_id}")
