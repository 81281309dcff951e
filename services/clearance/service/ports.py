"""The ports: what the use cases need from the world, as protocols the adapters fill.

``clearance.bootstrap`` connects each port to its adapter (PostgreSQL, Kafka); the service layer
never imports an adapter, so its use cases run on anything that speaks these protocols.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from clearance.domain.access import ApiKey, NewKey
from clearance.domain.aeo import AeoRegistration
from clearance.domain.parcels import (
    BatchChanges,
    Order,
    ParcelKey,
    ParcelState,
    Publication,
    RiskHistory,
)
from clearance.domain.views import (
    BillParcel,
    BillTotal,
    DashboardFigures,
    DecisionFilter,
    QueueCounts,
    QueueCursor,
    QueueFilter,
    QueuePage,
)
from clearance.messages import ClearanceDecision, DeadLetter, InspectionResult, OrderEvent

__all__ = [
    "AeoRegistry",
    "KeyStore",
    "ParcelStore",
    "Publisher",
    "ReadViews",
    "SessionStore",
]


class ParcelStore(Protocol):
    """The worker's parcels: what a batch needs to know, and one transaction to write it."""

    async def load_parcels(self, keys: Iterable[ParcelKey]) -> dict[ParcelKey, ParcelState]: ...

    async def load_totals(self, keys: Iterable[str]) -> list[tuple[str, ParcelKey, Decimal]]: ...

    async def risk_history(
        self,
        sellers: Iterable[tuple[str, str]],
        consignees: Iterable[tuple[str, str]],
        since: datetime,
    ) -> RiskHistory:
        """Sellers (platform, seller id) seen before, their AEO certificates, and each consignee's
        (platform, consignee_ref) parcels on that platform first seen since ``since``."""
        ...

    async def stored_decisions(
        self, events: Iterable[tuple[ParcelKey, str]]
    ) -> dict[tuple[ParcelKey, str], list[ClearanceDecision]]:
        """The decisions each (parcel, event id) made, oldest first: what a redelivered event
        publishes again."""
        ...

    async def write(self, plan: BatchChanges) -> None:
        """One transaction; raises when another worker changed a running total the plan read
        (``BatchChanges.totals_seen``): the batch is planned again."""
        ...


class AeoRegistry(Protocol):
    """The administration's AEO registry (``clearance aeo``)."""

    async def replace_registry(self, registrations: Sequence[AeoRegistration]) -> int: ...

    async def registry(self) -> list[AeoRegistration]: ...


class Publisher(Protocol):
    """Sends to the service's topics (it knows their names and headers); each send returns what
    to await for the broker's acknowledgement."""

    async def decisions(self, publications: Sequence[Publication]) -> list[asyncio.Future[Any]]: ...

    async def dead_letter(
        self, key: bytes | None, letter: DeadLetter, trace_headers: Sequence[tuple[str, bytes]]
    ) -> asyncio.Future[Any]: ...

    async def submit(
        self,
        event: OrderEvent | InspectionResult,
        key: str,
        trace_headers: Sequence[tuple[str, bytes]],
    ) -> tuple[str, int, int]:
        """Send a platform's or officer's event; (topic, partition, offset) once acknowledged."""
        ...


class KeyStore(Protocol):
    """API keys: only their hashes are kept."""

    async def create_api_key(self, new: NewKey) -> None: ...

    async def revoke_api_key(self, key_id: str) -> bool: ...

    async def find_api_key(self, key_id: str) -> tuple[ApiKey, str] | None: ...

    async def list_api_keys(self) -> list[dict[str, Any]]: ...


class SessionStore(Protocol):
    """The console's sessions: only their tokens' hashes are kept."""

    async def create_session(
        self, session_hash: str, key_id: str, expires_at: datetime
    ) -> None: ...

    async def session_key(self, session_hash: str, idle: timedelta) -> ApiKey | None: ...

    async def end_session(self, session_hash: str) -> None: ...


class ReadViews(Protocol):
    """What officers, platforms, reports and the what-if replay read (never a write)."""

    async def decision_body(self, parcel: ParcelKey, revision: int | None = None) -> str | None: ...

    async def current_decisions(
        self, filters: DecisionFilter, after: tuple[datetime, str, str, str] | None, limit: int
    ) -> list[tuple[tuple[datetime, str, str, str], str]]: ...

    async def consignee_of(self, parcel: ParcelKey) -> str | None: ...

    async def decision_history(self, parcel: ParcelKey) -> list[ClearanceDecision]: ...

    async def revenue(self, filters: DecisionFilter) -> list[dict[str, Any]]: ...

    async def revenue_by_day(self, filters: DecisionFilter) -> list[dict[str, Any]]: ...

    async def risk_report(self, filters: DecisionFilter) -> list[dict[str, Any]]: ...

    def stored_orders(
        self, filters: DecisionFilter, page: int = 500
    ) -> AsyncIterator[tuple[Order, str, ClearanceDecision]]: ...

    # The officers' work queue, the master-bill view and the dashboard (the console).

    async def queue_page(
        self,
        filters: QueueFilter,
        *,
        after: QueueCursor | None = None,
        before: QueueCursor | None = None,
        limit: int = 50,
    ) -> QueuePage: ...

    async def queue_counts(self, filters: QueueFilter) -> QueueCounts: ...

    async def transport_of(self, parcel: ParcelKey) -> tuple[str | None, str | None] | None: ...

    async def find_parcels(
        self, term: str, platform: str | None = None, limit: int = 20
    ) -> list[tuple[ParcelKey, str]]: ...

    async def bill_parcels(
        self, master_bill: str, platform: str | None = None, limit: int = 500
    ) -> tuple[list[BillParcel], int]: ...

    async def bill_summary(
        self, master_bill: str
    ) -> tuple[dict[tuple[str, str], int], dict[str, dict[str, Decimal]]]: ...

    async def running_totals(self, keys: Sequence[str]) -> list[BillTotal]: ...

    async def dashboard(
        self, start: datetime, end: datetime, last_day_from: datetime, platform: str | None = None
    ) -> DashboardFigures: ...
