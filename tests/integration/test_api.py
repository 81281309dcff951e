"""The HTTP API through litestar's test client, on the real embedded database and broker."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from clearance import messages as m
from clearance.adapters.postgres import KeyStore, connect, migrate
from clearance.devtools.contracts import EXAMPLES
from clearance.domain.access import key_id_of
from clearance.entrypoints.http.app import create_app
from clearance.entrypoints.http.state import running_of
from clearance.health import Health
from clearance.service.access import new_key
from clearance.service.assessing import Assessor
from clearance.settings import Settings
from factories import order
from streams import read_topic

pytestmark = pytest.mark.integration


class FakeClock:
    """A monotonic clock moved by hand: minutes of uptime without waiting for them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


TRACE = "5bf92f3577b34da6a3ce929d0e0e4736"


class Keys(msgspec.Struct):
    shopmart: str
    other: str
    officer: str
    admin: str


@pytest.fixture
async def keys(settings: Settings) -> Keys:
    """One key per role, and a key of another platform."""
    pool = await connect(settings.database_url, schema=settings.database_schema)
    store = KeyStore(pool)
    made = {
        "shopmart": new_key("platform", "shopmart"),
        "other": new_key("platform", "bazaarly"),
        "officer": new_key("officer"),
        "admin": new_key("admin"),
    }
    for key in made.values():
        await store.create_api_key(key)
    await pool.close()
    return Keys(**{name: key.token for name, key in made.items()})


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(settings)) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _order() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(m.encode(EXAMPLES["order.placed"]))
    return body


# --- checkout quotes -----------------------------------------------------------------------------


async def test_a_quote_is_the_engines_decision(
    client: AsyncTestClient[Any], keys: Keys, settings: Settings
) -> None:
    response = await client.post("/v1/quotes", json=_order(), headers=auth(keys.shopmart))
    assert response.status_code == 200
    decision = m.decode_decision(response.content)
    expected = Assessor(settings.identity_key).assess(
        m.decode_order_event(json.dumps(_order()))  # type: ignore[arg-type]
    )
    assert decision.total_due == expected.decision.total_due
    assert decision.charges == expected.decision.charges


async def test_keys_roles_and_platforms(client: AsyncTestClient[Any], keys: Keys) -> None:
    body = _order()
    assert (await client.post("/v1/quotes", json=body)).status_code == 401
    bad = auth("ck_0000abcd_" + "x" * 40)
    assert (await client.post("/v1/quotes", json=body, headers=bad)).status_code == 401
    garbage = {"authorization": "Bearer hello"}
    response = await client.post("/v1/quotes", json=body, headers=garbage)
    assert response.status_code == 401 and "malformed" in response.json()["detail"]
    officer = await client.post("/v1/quotes", json=body, headers=auth(keys.officer))
    assert officer.status_code == 403 and "officer" in officer.json()["detail"]
    other = await client.post("/v1/quotes", json=body, headers=auth(keys.other))
    assert other.status_code == 403 and "bazaarly" in other.json()["detail"]
    assert (await client.get("/v1/decisions", headers=auth(keys.shopmart))).status_code == 403
    assert (await client.get("/v1/packs")).status_code == 200  # the law in force is public


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
async def test_bad_orders_get_422_with_the_path_to_fix(
    client: AsyncTestClient[Any], keys: Keys, change: Any, path: str
) -> None:
    body = _order()
    change(body)
    response = await client.post("/v1/quotes", json=body, headers=auth(keys.shopmart))
    assert response.status_code == 422
    assert response.json()["extra"][0]["path"] == path
    assert path in response.json()["detail"]


@pytest.mark.parametrize(
    ("route", "change", "path", "code"),
    [
        ("/v1/quotes", lambda o: o.update(order_id="A\u0000B"), "$.order_id", "UNSTORABLE_VALUE"),
        (
            "/v1/orders",
            lambda o: o["seller"].update(id="s\u0000"),
            "$.seller.id",
            "UNSTORABLE_VALUE",
        ),
        ("/v1/orders", lambda o: o.update(revision=2147483648), "$.revision", "SCHEMA_VIOLATION"),
    ],
)
async def test_what_the_database_cannot_hold_is_refused_with_the_dead_letter_code(
    client: AsyncTestClient[Any], keys: Keys, route: str, change: Any, path: str, code: str
) -> None:
    body = _order()
    change(body)
    response = await client.post(route, json=body, headers=auth(keys.shopmart))
    assert response.status_code == 422, response.text
    problem = response.json()["extra"][0]
    assert (problem["path"], problem["code"]) == (path, code)


async def test_not_json_is_400_too_large_is_413_and_a_busy_key_429(
    settings: Settings, keys: Keys
) -> None:
    slow = msgspec.structs.replace(settings, api_rate_per_key=1.0)  # burst 2
    async with AsyncTestClient(create_app(slow)) as client:
        headers = {**auth(keys.shopmart), "content-type": "application/json"}
        response = await client.post("/v1/quotes", content=b"{not json", headers=headers)
        assert response.status_code == 400 and "JSON" in response.json()["detail"]
        big = await client.post("/v1/quotes", content=b" " * (600 * 1024), headers=headers)
        assert big.status_code == 413
        codes = [
            (await client.post("/v1/quotes", json=_order(), headers=headers)).status_code
            for _ in range(3)
        ]
        assert codes[-1] == 429, codes


async def test_health_metrics_and_openapi(client: AsyncTestClient[Any], keys: Keys) -> None:
    for probe in ("live", "startup", "ready"):
        assert (await client.get(f"/health/{probe}")).status_code == 200
    await client.post("/v1/quotes", json=_order(), headers=auth(keys.shopmart))
    bad = await client.post("/v1/quotes", json={"nope": 1}, headers=auth(keys.shopmart))
    assert bad.status_code in {400, 422}
    assert (await client.get("/metrics")).status_code == 404  # never on the public port
    port = running_of(client.app.state).ops.sockets[0].getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as ops:
        text = (await ops.get("/metrics")).text
        assert (await ops.get("/health/live")).status_code == 200
    assert "clearance_assessment_seconds_count" in text
    route = 'method="POST",route="/v1/quotes"'
    assert f'clearance_http_requests_total{{{route},status="200"}} 1.0' in text
    assert f'clearance_http_requests_total{{{route},status="{bad.status_code}"}} 1.0' in text
    assert f"clearance_http_request_seconds_count{{{route}}} 2.0" in text
    schema = (await client.get("/schema/openapi.json")).json()
    unit_price = schema["components"]["schemas"]["Item"]["properties"]["unit_price"]
    assert unit_price["type"] == "string"


async def test_the_api_stays_live_through_two_idle_minutes(settings: Settings) -> None:
    """Issue #21: liveness failed 60 s after start because nothing ticked in the API."""
    clock = FakeClock()
    app = create_app(settings, health=Health(clock=clock), heartbeat_seconds=0.005)
    async with AsyncTestClient(app) as client:
        for _ in range(13):  # 130 s of uptime without a single request but the probes
            clock.advance(10)
            await asyncio.sleep(0.02)
            assert (await client.get("/health/live")).status_code == 200
        # The loop stops turning (simulated: the heartbeat task is gone) for 61 s.
        running_of(app.state).heartbeat.cancel()
        await asyncio.sleep(0)
        clock.advance(61)
        response = await client.get("/health/live")
        assert response.status_code == 503 and response.json()["seconds_since_progress"] >= 61


async def test_startup_fails_until_the_schema_is_migrated(
    settings: Settings, database_url: str
) -> None:
    fresh = msgspec.structs.replace(settings, database_schema=f"{settings.database_schema}_new")
    async with AsyncTestClient(create_app(fresh)) as client:
        response = await client.get("/health/startup")
        assert response.status_code == 503 and response.json()["schema_current"] is False
        await migrate(database_url, schema=fresh.database_schema)
        assert (await client.get("/health/startup")).status_code == 200


async def test_packs_and_what_is_in_force_on_a_date(client: AsyncTestClient[Any]) -> None:
    packs = {pack["id"]: pack for pack in (await client.get("/v1/packs")).json()}
    assert packs["vn"]["status"] == "in_force" and len(packs["vn"]["digest"]) == 64
    before = (await client.get("/v1/packs/eu", params={"as_of": "2026-06-30"})).json()
    after = (await client.get("/v1/packs/eu", params={"as_of": "2026-07-01"})).json()
    flat_before = {p["key"]: p["value"] for p in before["parameters"]}
    flat_after = {p["key"]: p["value"] for p in after["parameters"]}
    assert flat_before["duty.flat_per_subheading.amount"] is None
    assert flat_after["duty.flat_per_subheading.amount"] == "3"
    tariff = after["tariff"]  # size, vintage and source of the national tariff
    assert tariff["lines"] == 9791 and after["tariff_lines"] == 9791
    assert tariff["computable_lines"] < tariff["lines"] and "CET 2020" in tariff["vintage"]
    assert "php-cncodes" in tariff["source"] and len(tariff["sha256"]) == 64
    assert (await client.get("/v1/packs/au")).json()["tariff"] is None
    assert (await client.get("/v1/packs/nowhere")).status_code == 404


# --- orders, decisions, holds, inspections -------------------------------------------------------


async def _decision(
    client: AsyncTestClient[Any], path: str, token: str, revision: int = 1
) -> dict[str, Any]:
    for _ in range(200):
        response = await client.get(path, headers=auth(token))
        if response.status_code == 200 and response.json()["decision_revision"] >= revision:
            return dict(response.json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"no decision revision {revision} at {path}")


@pytest.mark.usefixtures("running_worker")
async def test_an_order_posted_over_http_is_decided_and_private_to_its_platform(
    client: AsyncTestClient[Any], keys: Keys, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clearance.api")
    body = order(7)
    headers = {**auth(keys.shopmart), "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}
    response = await client.post("/v1/orders", json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["key"] == "shopmart:buyer-7"
    [record] = await read_topic(settings, "orders.v1", 1)
    assert dict(record.headers)["traceparent"].decode().split("-")[1] == TRACE

    path = "/v1/decisions/shopmart/ORD-7/ORD-7-1"
    decision = await _decision(client, path, keys.shopmart)
    assert decision["trace_id"] == TRACE  # the caller's trace runs through to the decision
    assert (await client.get(path, headers=auth(keys.other))).status_code == 404
    assert (await client.get(path, headers=auth(keys.officer))).status_code == 200
    assert (await client.get(path + "?revision=1", headers=auth(keys.shopmart))).status_code == 200
    assert (await client.get(path + "?revision=9", headers=auth(keys.shopmart))).status_code == 404
    # a platform writes only its own orders
    foreign = await client.post("/v1/orders", json=order(8), headers=auth(keys.other))
    assert foreign.status_code == 403
    # every call is logged with the key id, never the token
    calls = [r for r in caplog.records if r.getMessage() == "api call"]
    assert calls and all(r.key_id is None or len(r.key_id) == 8 for r in calls)  # type: ignore[attr-defined]
    tokens = (keys.shopmart, keys.other, keys.officer)
    assert not any(t in str(vars(r)) for r in caplog.records for t in tokens)


@pytest.mark.usefixtures("running_worker")
async def test_officers_page_through_holds_and_seize_a_parcel(
    client: AsyncTestClient[Any], keys: Keys
) -> None:
    for n in (21, 22, 23):  # an unknown tariff line: held for classification
        body = order(n, currency="VND")
        body["items"][0].update(hs_code="61091000", unit_price="400000", quantity=3)
        body["consignee"]["identity"] = {"type": "passport", "number": f"B00{n}"}
        body["seller"] = {"id": f"new-seller-{n}", "name": "New", "country": "CN"}  # NEW_SELLER
        assert (
            await client.post("/v1/orders", json=body, headers=auth(keys.shopmart))
        ).status_code == 202
    for n in (21, 22, 23):
        await _decision(client, f"/v1/decisions/shopmart/ORD-{n}/ORD-{n}-1", keys.officer)

    officer = auth(keys.officer)
    first = (await client.get("/v1/decisions?status=hold&limit=2", headers=officer)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    params = {"status": "hold", "limit": 2, "cursor": first["next_cursor"]}
    second = (await client.get("/v1/decisions", params=params, headers=officer)).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    orders = {d["order_id"] for d in first["items"] + second["items"]}
    assert orders == {"ORD-21", "ORD-22", "ORD-23"}
    bad = await client.get("/v1/decisions?cursor=nonsense", headers=officer)
    assert bad.status_code == 400

    held = first["items"][0]
    inspection = {
        "type": "inspection.result",
        "event_id": "insp-http-1",
        "platform": "shopmart",
        "order_id": held["order_id"],
        "shipment_id": held["shipment_id"],
        "decision_id": held["decision_id"],
        "officer_id": "officer-42",
        "occurred_at": "2026-11-21T09:00:00+07:00",
        "outcome": "seize",
    }
    assert (
        await client.post("/v1/inspections", json=inspection, headers=auth(keys.shopmart))
    ).status_code == 403
    assert (
        await client.post("/v1/inspections", json=inspection, headers=officer)
    ).status_code == 202
    path = f"/v1/decisions/shopmart/{held['order_id']}/{held['shipment_id']}"
    revised = await _decision(client, path, keys.officer, revision=2)
    assert revised["status"] == "refuse"
    stale = await client.post("/v1/inspections", json=inspection, headers=officer)
    assert stale.status_code == 409  # the inspected decision is no longer the current one
    unknown = {**inspection, "order_id": "NOPE", "shipment_id": "NOPE"}
    assert (await client.post("/v1/inspections", json=unknown, headers=officer)).status_code == 404

    risk = (await client.get("/v1/reports/risk?destination=VN", headers=officer)).json()
    seized = {row["signal"]: row for row in risk["signals"]}
    assert "NEW_SELLER" in seized
    assert all(row["seized"] == row["inspected"] == 1 for row in seized.values())
    assert set(seized) == set(held["risk"]["signals"])
    assert (await client.get("/v1/reports/risk", headers=auth(keys.shopmart))).status_code == 403

    report = (await client.get("/v1/reports/revenue?destination=VN", headers=officer)).json()
    by_status = {(row["currency"], row["status"]): row for row in report["rows"]}
    assert by_status[("VND", "hold")]["parcels"] == 2
    assert by_status[("VND", "refuse")]["parcels"] == 1


async def test_admins_make_and_revoke_keys(client: AsyncTestClient[Any], keys: Keys) -> None:
    admin = auth(keys.admin)
    made = await client.post("/v1/keys", json={"role": "officer"}, headers=admin)
    assert made.status_code == 201
    token, key_id = made.json()["token"], made.json()["key_id"]
    assert (await client.get("/v1/decisions", headers=auth(token))).status_code == 200
    officer_cannot = await client.post("/v1/keys", json={"role": "admin"}, headers=auth(token))
    assert officer_cannot.status_code == 403
    no_platform = await client.post("/v1/keys", json={"role": "platform"}, headers=admin)
    assert no_platform.status_code == 422
    assert (await client.delete(f"/v1/keys/{key_id}", headers=admin)).status_code == 204
    # no need to wait for the cache to expire
    running_of(client.app.state).authenticator.cache_seconds = 0
    assert (await client.get("/v1/decisions", headers=auth(token))).status_code == 401
    assert (await client.delete(f"/v1/keys/{key_id}", headers=admin)).status_code == 404


# --- trust boundaries over HTTP (#20) ----------------------------------------------------------


def _risky_order(n: int) -> dict[str, Any]:
    """A cotton blouse declared at a twenty-fifth of the VN pack's reference price
    (UNDERVALUATION_SUSPECTED) from a seller never seen (NEW_SELLER): held on risk alone."""
    body = order(n, currency="VND")
    body["items"][0].update(hs_code="62063090", unit_price="10000", quantity=1)
    body["consignee"]["identity"] = {"type": "national_id", "number": f"00109900{n:04d}"}
    body["seller"] = {"id": f"unknown-seller-{n}", "name": "New", "country": "CN"}
    return body


@pytest.mark.usefixtures("running_worker")
async def test_a_platform_is_never_told_how_risk_scored_its_parcel(
    client: AsyncTestClient[Any], keys: Keys, settings: Settings
) -> None:
    body = _risky_order(31)
    quoted = (await client.post("/v1/quotes", json=body, headers=auth(keys.shopmart))).json()
    assert await client.post("/v1/orders", json=body, headers=auth(keys.shopmart))
    path = "/v1/decisions/shopmart/ORD-31/ORD-31-1"
    officers = await _decision(client, path, keys.officer)
    assert officers["status"] == "hold" and "RISK_SCORE" in _codes(officers)  # what is hidden
    assert officers["risk"]["score"] >= 40 and "NEW_SELLER" in officers["risk"]["signals"]
    platforms = await _decision(client, path, keys.shopmart)
    listing = await client.get("/v1/decisions?channel=yellow", headers=auth(keys.shopmart))
    assert listing.status_code == 403  # the queue, filtered by channel, is the officers'
    [published] = [
        m.decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 1)
    ]
    for seen in (quoted, platforms, msgspec.to_builtins(published)):
        # before #20 each of these carried the score, the signals and the "RISK_SCORE" reason
        # naming every signal with its weight
        assert seen["risk"] == {"score": 0, "signals": []}
        assert "RISK_SCORE" not in _codes(seen) and "CUSTOMS_CONTROL" in _codes(seen)
        assert "NEW_SELLER" not in json.dumps(seen)
        assert (seen["status"], seen["channel"]) == ("hold", "yellow")
        assert seen["total_due"] == officers["total_due"] or seen is quoted


def _codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


@pytest.mark.usefixtures("running_worker")
async def test_the_inspection_audit_trail_is_the_servers(
    client: AsyncTestClient[Any], keys: Keys, db: asyncpg.Connection
) -> None:
    body = _risky_order(32)
    assert await client.post("/v1/orders", json=body, headers=auth(keys.shopmart))
    path = "/v1/decisions/shopmart/ORD-32/ORD-32-1"
    held = await _decision(client, path, keys.officer)
    inspection = {
        "type": "inspection.result",
        "event_id": "insp-audit-1",
        "platform": "shopmart",
        "order_id": "ORD-32",
        "shipment_id": "ORD-32-1",
        "decision_id": held["decision_id"],
        "officer_id": "someone-else",  # a name of the caller's choosing, and a date years back
        "occurred_at": "2020-01-01T00:00:00+07:00",
        "outcome": "seize",
    }
    sent = await client.post("/v1/inspections", json=inspection, headers=auth(keys.officer))
    assert sent.status_code == 202
    seized = await _decision(client, path, keys.shopmart, revision=2)
    assert seized["status"] == "refuse"
    assert "officer" not in json.dumps(
        seized["reasons"]
    )  # before #20: "... by officer someone-else"
    row = await db.fetchrow("SELECT officer_id, occurred_at FROM inspections")
    assert row["officer_id"] == f"key:{key_id_of(keys.officer)}"
    assert abs((row["occurred_at"] - datetime.now(UTC)).total_seconds()) < 120


async def test_a_report_covers_at_most_a_year(client: AsyncTestClient[Any], keys: Keys) -> None:
    officer = auth(keys.officer)
    for report in ("revenue", "risk"):
        too_long = await client.get(
            f"/v1/reports/{report}?from=2024-01-01&to=2025-12-31", headers=officer
        )
        assert too_long.status_code == 422, too_long.text  # before #20: the whole table read
        assert "at most 366 days" in too_long.text
        backwards = await client.get(
            f"/v1/reports/{report}?from=2025-02-01&to=2025-01-01", headers=officer
        )
        assert backwards.status_code == 422
        leap_year = await client.get(
            f"/v1/reports/{report}?from=2024-01-01&to=2024-12-31", headers=officer
        )
        assert leap_year.status_code == 200
        unbounded = (await client.get(f"/v1/reports/{report}", headers=officer)).json()
        today = datetime.now(UTC).date()
        assert unbounded["to"] == today.isoformat()
        assert unbounded["from"] == (today - timedelta(days=365)).isoformat()
