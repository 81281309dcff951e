"""Whatever a client sends, the API answers 2xx or 4xx, never 5xx (hypothesis-generated bodies)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from clearance import messages as m
from clearance.adapters.postgres import KeyStore, connect
from clearance.devtools.contracts import EXAMPLES
from clearance.entrypoints.http.app import create_app
from clearance.service.access import new_key
from clearance.settings import Settings

pytestmark = pytest.mark.integration

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
ROUTES = ["/v1/quotes", "/v1/orders", "/v1/inspections", "/v1/keys"]


def _examples() -> dict[str, dict[str, Any]]:
    return {
        "/v1/quotes": json.loads(m.encode(EXAMPLES["order.placed"])),
        "/v1/orders": json.loads(m.encode(EXAMPLES["order.placed"])),
        "/v1/inspections": json.loads(m.encode(EXAMPLES["inspection.result"])),
        "/v1/keys": {"role": "platform", "platform": "shopmart"},
    }


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, Any]:
    """A route and a body: random JSON, or a valid example with one field replaced or removed."""
    route = draw(st.sampled_from(ROUTES))
    if draw(st.booleans()):
        return route, draw(JSON)
    body = _examples()[route]
    field = draw(st.sampled_from(sorted(body)))
    if draw(st.booleans()):
        body.pop(field)
    else:
        body[field] = draw(JSON)
    return route, body


@pytest.fixture
async def tokens(settings: Settings) -> dict[str, str]:
    pool = await connect(settings.database_url, schema=settings.database_schema)
    made = {
        "platform": new_key("platform", "shopmart"),
        "officer": new_key("officer"),
        "admin": new_key("admin"),
    }
    for key in made.values():
        await KeyStore(pool).create_api_key(key)
    await pool.close()
    return {role: key.token for role, key in made.items()}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@hypothesis_settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(request=requests(), role=st.sampled_from(["platform", "officer", "admin", None]))
def test_no_generated_request_gets_a_5xx(
    client: TestClient[Any], tokens: dict[str, str], request: tuple[str, Any], role: str | None
) -> None:
    route, body = request
    headers = {"authorization": f"Bearer {tokens[role]}"} if role else {}
    response = client.post(route, json=body, headers=headers)
    assert response.status_code < 500, (route, body, response.text)
    if response.status_code >= 400:
        problem = response.json()
        assert problem["status_code"] == response.status_code and problem["detail"]
