"""What a handler may declare, and where it comes from (litestar dependency injection).

A handler declares a parameter by one of the names in ``dependencies()``, typed ``Injected[...]``
(``assessor: Injected[Assessor]``, ``views: Injected[ReadViews]``, ``caller: Injected[ApiKey]``),
and litestar calls the provider for it; nothing else reads the application's state. Build-time
parts come from ``ApiParts``, the connections from what the lifespan opened, the API's caller from
the guard that authenticated it, the console's signed-in key from its cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.params import SkipValidation

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.entrypoints.http.auth import Authenticator, caller_of
from clearance.entrypoints.http.i18n import Ui
from clearance.entrypoints.http.pages import ui_of
from clearance.entrypoints.http.state import parts_of, running_of
from clearance.health import Health
from clearance.metrics import Metrics
from clearance.service import access, quotes
from clearance.service.assessing import Assessor
from clearance.service.ports import KeyStore, Publisher, ReadViews, SessionStore
from clearance.settings import Settings

__all__ = ["CONSOLE_COOKIE", "Injected", "Quoter", "console_key", "dependencies"]

T = TypeVar("T")

#: A handler's parameter filled by the provider of the same name. Not validated: the values are
#: the process's own objects (ports are protocols, which cannot be checked), and it saves the
#: checkout path a conversion per dependency.
Injected: TypeAlias = NamedDependency[SkipValidation[T]]

#: The console's session token (never the API key) is kept in this cookie: secure, HTTP-only,
#: same-site strict, and ``__Host-`` so no subdomain can set or read it.
CONSOLE_COOKIE = "__Host-clearance_session"


def provide_settings(state: State) -> Settings:
    """The settings the application was built with."""
    return parts_of(state).settings


def provide_assessor(state: State) -> Assessor:
    """The one assessor of the process (packs, rates, classifier)."""
    return parts_of(state).assessor


def provide_health(state: State) -> Health:
    """What the probes report."""
    return parts_of(state).health


def provide_views(state: State) -> ReadViews:
    """Stored decisions and reports (read only)."""
    return running_of(state).db.views


def provide_keys(state: State) -> KeyStore:
    """API keys (hashes only)."""
    return running_of(state).db.keys


def provide_sessions(state: State) -> SessionStore:
    """The console's sessions (token hashes only)."""
    return running_of(state).db.sessions


def provide_publisher(state: State) -> Publisher:
    """What sends orders and inspections to their topics."""
    return running_of(state).publisher


def provide_authenticator(state: State) -> Authenticator:
    """Checks bearer tokens (with a short cache and a rate per key)."""
    return running_of(state).authenticator


def provide_caller(request: Request[Any, Any, Any]) -> ApiKey:
    """The key the route's guard authenticated."""
    return caller_of(request)


@dataclass(frozen=True)
class Quoter:
    """Checkout quotes for the authenticated caller."""

    caller: ApiKey
    assessor: Assessor
    metrics: Metrics

    def quote(self, order: m.OrderPlaced) -> m.ClearanceDecision:
        """The decision ``order`` would get now (``assessment_seconds`` times the engine)."""
        timer = self.metrics.assessment_seconds.time()
        return quotes.quote(order, self.caller, self.assessor, timer)


def provide_quoter(caller: Injected[ApiKey], state: State) -> Quoter:
    """The quote handler's one dependency, built on ``caller``.

    A chain rather than three dependencies side by side: litestar resolves sibling dependencies
    in an anyio task group, which cost the checkout path about 130 us of CPU per quote for three
    (measured calling the ASGI app in a loop; litestar issue #4563), while a dependency alone at
    its level is awaited directly.
    """
    parts = parts_of(state)
    return Quoter(caller=caller, assessor=parts.assessor, metrics=parts.metrics)


async def console_key(authenticator: Authenticator, token: str) -> ApiKey | None:
    """The officer or platform key a console token stands for; None for any other (unknown,
    revoked, over its rate, or an admin key)."""
    try:
        key = await authenticator.caller(f"Bearer {token}")
    except (NotAuthorizedException, TooManyRequestsException):
        return None
    return key if key.role in ("officer", "platform") else None


async def provide_signed_in(
    request: Request[Any, Any, Any], sessions: Injected[SessionStore]
) -> ApiKey | None:
    """The key of the console's session in the cookie; None when signed out, or when the
    session has expired, been idle too long, or its key was revoked."""
    token = request.cookies.get(CONSOLE_COOKIE)
    return await access.session_key(sessions, token) if token else None


def provide_ui(request: Request[Any, Any, Any]) -> Ui:
    """The console's texts and formats in the language of this request."""
    return ui_of(request)


def dependencies() -> dict[str, Provide]:
    """Every dependency of the API, by the parameter name a handler declares."""
    providers: dict[str, Callable[..., Any]] = {
        "settings": provide_settings,
        "assessor": provide_assessor,
        "health": provide_health,
        "views": provide_views,
        "keys": provide_keys,
        "sessions": provide_sessions,
        "publisher": provide_publisher,
        "authenticator": provide_authenticator,
        "caller": provide_caller,
        "quoter": provide_quoter,
        "ui": provide_ui,
    }
    # The synchronous providers only read attributes: no thread for them.
    provided = {
        name: Provide(provider, sync_to_thread=False) for name, provider in providers.items()
    }
    return {**provided, "signed_in": Provide(provide_signed_in)}
