"""The HTTP API as a platform and an officer use it: a real ``clearance api`` process over a real
socket, with the embedded database and broker and a running worker."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from clearance.adapters.postgres import KeyStore, connect
from clearance.devtools.bench_api import running_api
from clearance.service.access import new_key
from clearance.settings import Settings, to_environment
from factories import order

pytestmark = pytest.mark.integration


@pytest.mark.usefixtures("running_worker")
async def test_a_platform_submits_an_order_and_reads_its_decision_and_no_one_elses(
    settings: Settings,
) -> None:
    pool = await connect(settings.database_url, schema=settings.database_schema)
    made = [new_key("platform", "shopmart"), new_key("platform", "bazaarly"), new_key("officer")]
    for key in made:
        await KeyStore(pool).create_api_key(key)
    await pool.close()
    shopmart, bazaarly, officer = ({"authorization": f"Bearer {k.token}"} for k in made)

    with running_api(to_environment(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            accepted = await client.post("/v1/orders", json=order(31), headers=shopmart)
            assert accepted.status_code == 202, accepted.text
            path = "/v1/decisions/shopmart/ORD-31/ORD-31-1"
            for _ in range(100):
                response = await client.get(path, headers=shopmart)
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert response.status_code == 200
            assert response.json()["order_id"] == "ORD-31"
            assert (await client.get(path, headers=bazaarly)).status_code == 404
            assert (await client.get(path)).status_code == 401
            listing = await client.get("/v1/decisions", headers=officer)
            assert [d["order_id"] for d in listing.json()["items"]] == ["ORD-31"]
