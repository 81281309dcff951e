"""``/v1/quotes``: duty and tax at checkout, stored and published nowhere."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.entrypoints.http.dependencies import Injected
from clearance.entrypoints.http.guards import requires
from clearance.metrics import Metrics
from clearance.service import quotes
from clearance.service.assessing import Assessor

__all__ = ["QuoteController"]


class QuoteController(Controller):
    """Quotes for platforms, each for its own orders."""

    path = "/v1/quotes"
    guards = (requires("platform"),)

    @post(status_code=200, summary="Quote duty and tax at checkout")
    async def quote(
        self,
        data: JSONBody[m.OrderPlaced],
        caller: Injected[ApiKey],
        assessor: Injected[Assessor],
        metrics: Injected[Metrics],
    ) -> m.ClearanceDecision:
        """Assess an ``order.placed`` body without storing or publishing anything."""
        return quotes.quote(data, caller, assessor, metrics.assessment_seconds.time())
