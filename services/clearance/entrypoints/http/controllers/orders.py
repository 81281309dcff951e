"""``/v1/orders``: for platforms that cannot produce to Kafka, an order event over HTTP."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.entrypoints.http.dependencies import Injected
from clearance.entrypoints.http.guards import requires
from clearance.service import intake
from clearance.service.assessing import Assessor
from clearance.service.intake import Accepted
from clearance.service.ports import Publisher

__all__ = ["OrderController"]


class OrderController(Controller):
    """Orders into ``orders.v1``, each platform its own."""

    path = "/v1/orders"
    guards = (requires("platform"),)

    @post(status_code=202, summary="Submit an order")
    async def submit_order(
        self,
        data: JSONBody[m.OrderEvent],
        caller: Injected[ApiKey],
        assessor: Injected[Assessor],
        publisher: Injected[Publisher],
    ) -> Accepted:
        """For platforms that cannot produce to Kafka: the event goes to ``orders.v1`` as is, with
        the caller's trace context; the decision follows on ``decisions.v1`` (and GET)."""
        return await intake.submit_order(data, caller, assessor, publisher)
