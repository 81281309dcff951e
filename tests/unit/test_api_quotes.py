"""The checkout quote over HTTP: same decision as the engine, clear 4xx for bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from clearance import messages as m
from clearance.assessor import Assessor
from clearance.contracts import EXAMPLES
from clearance.entrypoints.api import ApiServices, create_app

KEY = "test-identity-key-0123456789"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with TestClient(create_app(ApiServices(assessor=Assessor(KEY)))) as test_client:
        yield test_client


def _order() -> dict[str, Any]:
    return json.loads(m.encode(EXAMPLES["order.placed"]))


def test_quote_is_the_engines_decision(client: TestClient[Any]) -> None:
    response = client.post("/v1/quotes", json=_order())
    assert response.status_code == 200
    decision = m.decode_decision(response.content)
    expected = Assessor(KEY).assess(m.decode_order_event(json.dumps(_order()))).decision  # type: ignore[arg-type]
    assert decision.total_due == expected.total_due
    assert decision.charges == expected.charges
    assert decision.status == expected.status


def test_event_id_may_be_omitted_at_checkout(client: TestClient[Any]) -> None:
    order = _order()
    order["event_id"] = "quote"
    assert client.post("/v1/quotes", json=order).status_code == 200


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda o: o["items"][0].update(unit_price=45.0), "$.items[0].unit_price"),
        (lambda o: o["items"][0].update(unit_price="-3"), "$.items[0].unit_price"),
        (lambda o: o.pop("consignee"), "$.consignee"),
        (lambda o: o.update(items=o["items"] * 201), "$.items"),
        (lambda o: o["items"][0].update(description="x" * 513), "$.items[0].description"),
        (lambda o: o.update(destination_country="ZZ"), "$.destination_country"),
    ],
)
def test_bad_orders_get_422_with_the_path_to_fix(
    client: TestClient[Any], change: Any, path: str
) -> None:
    order = _order()
    change(order)
    response = client.post("/v1/quotes", json=order)
    assert response.status_code == 422
    body = response.json()
    assert body["status_code"] == 422
    assert body["extra"][0]["path"] == path
    assert path in body["detail"]


def test_not_json_is_400_and_too_large_is_413(client: TestClient[Any]) -> None:
    response = client.post("/v1/quotes", content=b"{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert client.post("/v1/quotes", content=b" " * (600 * 1024)).status_code == 413


def test_health_and_metrics(client: TestClient[Any]) -> None:
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/startup").status_code == 200
    assert client.get("/health/ready").status_code == 200
    client.post("/v1/quotes", json=_order())
    text = client.get("/metrics").text
    assert "clearance_assessment_seconds_count" in text


def test_openapi_describes_money_as_a_string(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    unit_price = schema["components"]["schemas"]["Item"]["properties"]["unit_price"]
    assert unit_price["type"] == "string"


def test_packs_list_and_what_is_in_force_on_a_date(client: TestClient[Any]) -> None:
    packs = {pack["id"]: pack for pack in client.get("/v1/packs").json()}
    assert packs["vn"]["status"] == "in_force"
    assert packs["vn-draft-2025"]["status"] == "proposed"
    assert len(packs["vn"]["digest"]) == 64
    before = client.get("/v1/packs/eu", params={"as_of": "2026-06-30"}).json()
    after = client.get("/v1/packs/eu", params={"as_of": "2026-07-01"}).json()
    flat_before = {p["key"]: p["value"] for p in before["parameters"]}
    flat_after = {p["key"]: p["value"] for p in after["parameters"]}
    assert flat_before["duty.flat_per_subheading.amount"] is None
    assert flat_after["duty.flat_per_subheading.amount"] == "3"
    assert all(p["reference"] for p in after["parameters"])
    assert client.get("/v1/packs/nowhere").status_code == 404
