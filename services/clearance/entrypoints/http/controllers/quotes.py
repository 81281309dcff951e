"""``/v1/quotes``: duty and tax at checkout, stored and published nowhere."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from clearance import messages as m
from clearance.entrypoints.http.dependencies import Injected, Quoter
from clearance.entrypoints.http.guards import requires

__all__ = ["QuoteController"]


class QuoteController(Controller):
    """Quotes for platforms, each for its own orders."""

    path = "/v1/quotes"
    guards = (requires("platform"),)

    @post(status_code=200, summary="Quote duty and tax at checkout")
    async def quote(
        self, data: JSONBody[m.OrderPlaced], quoter: Injected[Quoter]
    ) -> m.ClearanceDecision:
        """Assess an ``order.placed`` body without storing or publishing anything."""
        return quoter.quote(data)
