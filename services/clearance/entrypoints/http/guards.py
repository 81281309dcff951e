"""Route guards: who may call a route, decided before its body is read.

A guard authenticates the bearer key (401), checks its role (403) and leaves the key on the
request's scope, where the ``caller`` dependency and the call log find it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from clearance.domain.access import Role
from clearance.entrypoints.http.auth import SCOPE_KEY
from clearance.entrypoints.http.state import running_of

__all__ = ["requires"]

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def requires(*roles: Role) -> Guard:
    """The caller must hold a valid key of one of ``roles`` (401 without one, 403 otherwise)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        authenticator = running_of(connection.app.state).authenticator
        key = await authenticator.caller(connection.headers.get("authorization"))
        connection.scope[SCOPE_KEY] = key  # type: ignore[literal-required]
        if key.role not in roles:
            raise PermissionDeniedException(
                f"a {key.role} key may not use this route (needs {' or '.join(roles)})"
            )

    return guard
