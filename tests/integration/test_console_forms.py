"""The console's inspection form over HTTP, on the real database and broker: a bad field answers
422 with the page and a message next to the field, and nothing reaches ``inspections.v1``; a good
reassessment is sent once, and the worker applies it."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from markupsafe import escape

from clearance import messages as m
from clearance.adapters.kafka import ensure_topics
from clearance.adapters.postgres import migrate
from clearance.entrypoints.http.app import create_app
from clearance.entrypoints.http.dependencies import CONSOLE_COOKIE
from clearance.entrypoints.http.forms import InspectionForm
from clearance.entrypoints.worker import run_worker
from clearance.service.access import new_key
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import console_session, produce, read_topic, settings_for, wait_for

pytestmark = pytest.mark.integration

#: Secure cookies (the session and the CSRF token) travel over HTTPS only.
HTTPS = "https://testserver.local"


@dataclass
class Console:
    """An officer signed in to the console, on the page of a held parcel."""

    settings: Settings
    client: AsyncTestClient[Any]
    path: str
    form: dict[str, str]
    """What the page's form sends, filled in: a reassessment with corrections."""


async def _held_parcel(settings: Settings, n: int) -> str:
    """Order ``n`` assessed and held (an unknown tariff line); the path of its page."""
    body = order(n, currency="VND")
    body["items"][0].update(hs_code="61091000", unit_price="400000", quantity=3)
    body["consignee"]["identity"] = {"type": "passport", "number": f"C76543{n}"}
    await produce(settings, "orders.v1", [(key_of(body), encoded(body))])
    db = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.database_schema}
    )
    try:
        assert await wait_for(db, "SELECT count(*) FROM orders WHERE status = 'hold'", 1) == 1
    finally:
        await db.close()
    return f"/console/decisions/shopmart/ORD-{n}/ORD-{n}-1"


async def _officer_on(settings: Settings, client: AsyncTestClient[Any], path: str) -> Console:
    client.cookies.set(CONSOLE_COOKIE, await console_session(settings, new_key("officer")))
    page = await client.get(path)
    assert page.status_code == 200 and "Record the result" in page.text
    hidden = dict(re.findall(r'name="(_csrf_token|decision_id)" value="([^"]+)"', page.text))
    _, platform, order_id, shipment_id = path.rsplit("/", 3)
    form = {
        **hidden,
        "platform": platform,
        "order_id": order_id,
        "shipment_id": shipment_id,
        "outcome": "reassess",
        "hs_code": "6109.10",
        "unit_price": "150000",
        "notes": "",
    }
    return Console(settings=settings, client=client, path=path, form=form)


@pytest.fixture(scope="module")
async def console(kafka_bootstrap: str, database_url: str) -> AsyncIterator[Console]:
    """One held parcel for the whole module; the worker stops once it is stored, so nothing
    could consume an inspection sent by mistake."""
    settings = settings_for(kafka_bootstrap, database_url, f"t{uuid.uuid4().hex[:12]}")
    await migrate(database_url, schema=settings.database_schema)
    await ensure_topics(settings)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop))
    try:
        path = await _held_parcel(settings, 60)
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=25)
    async with AsyncTestClient(create_app(settings), base_url=HTTPS) as client:
        yield await _officer_on(settings, client, path)


async def _nothing_sent(settings: Settings) -> bool:
    return await read_topic(settings, "inspections.v1", 0) == []


def _message(field: str) -> str:
    """The message next to ``field`` as the page shows it (HTML-escaped)."""
    return f'id="problem-{field}">{escape(InspectionForm.HINTS[field])}'


#: Fields the officer types or chooses: the decision page comes back with the message beside it.
OFFICERS_FIELDS = [
    ("outcome", "bogus"),
    ("hs_code", "12"),
    ("unit_price", "abc"),
    ("unit_price", "-3"),
    ("notes", "x" * 2001),
    ("decision_id", "not-a-uuid"),
]
#: Fields naming the parcel: no page to show again, a page listing what is wrong.
PARCEL_FIELDS = [("platform", "Shop Mart"), ("order_id", "x" * 65), ("shipment_id", "")]


@pytest.mark.parametrize(("field", "bad"), OFFICERS_FIELDS)
async def test_a_bad_field_comes_back_with_a_message_next_to_it_and_nothing_is_sent(
    console: Console, field: str, bad: str
) -> None:
    response = await console.client.post("/console/inspections", data={**console.form, field: bad})
    assert response.status_code == 422
    assert _message(field) in response.text
    assert "Record the result" in response.text  # the form again, what was typed kept
    if field in ("hs_code", "unit_price"):
        assert f'value="{bad}" aria-invalid="true" aria-describedby="problem-{field}"' in (
            response.text
        )
    assert await _nothing_sent(console.settings)


@pytest.mark.parametrize(("field", "bad"), PARCEL_FIELDS)
async def test_a_bad_parcel_field_is_refused_with_a_message_and_nothing_is_sent(
    console: Console, field: str, bad: str
) -> None:
    response = await console.client.post("/console/inspections", data={**console.form, field: bad})
    assert response.status_code == 422
    assert "The inspection was not recorded" in response.text
    assert _message(field) in response.text
    assert await _nothing_sent(console.settings)


async def test_a_decision_no_longer_current_is_409_with_a_page(console: Console) -> None:
    stale = {**console.form, "decision_id": str(uuid.uuid4())}
    response = await console.client.post("/console/inspections", data=stale)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    assert "is not the parcel&#39;s current decision" in response.text
    assert await _nothing_sent(console.settings)


async def test_without_the_csrf_token_nothing_is_sent(console: Console) -> None:
    forged = {k: v for k, v in console.form.items() if k != "_csrf_token"}
    response = await console.client.post("/console/inspections", data=forged)
    assert response.status_code == 403
    assert await _nothing_sent(console.settings)


@pytest.mark.usefixtures("running_worker")
async def test_a_good_reassessment_is_sent_once_and_applied(settings: Settings) -> None:
    path = await _held_parcel(settings, 61)
    async with AsyncTestClient(create_app(settings), base_url=HTTPS) as client:
        console = await _officer_on(settings, client, path)
        response = await client.post(
            "/console/inspections", data=console.form, follow_redirects=False
        )
        assert response.is_redirect
        assert response.headers["location"] == f"{path}?recorded=1"
    [record] = await read_topic(settings, "inspections.v1", 1)
    inspection = m.decode_inspection(record.value)
    assert (inspection.outcome, str(inspection.decision_id)) == (
        "reassess",
        console.form["decision_id"],
    )
    [correction] = inspection.corrections
    assert (correction.hs_code, correction.unit_price) == ("6109.10", m.Money("150000"))
    assert inspection.officer_id.startswith("key:") and inspection.notes is None
    db = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.database_schema}
    )
    try:
        revised = (
            "SELECT count(*) FROM decisions WHERE order_id = 'ORD-61' AND decision_revision = 2"
        )
        assert await wait_for(db, revised, 1) == 1
    finally:
        await db.close()
