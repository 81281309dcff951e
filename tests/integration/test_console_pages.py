"""The console's queue, master-bill view and dashboard over HTTP in both languages, on a generated
stream stored by the worker's write path: what the pages say, the links they give (pages,
filters, language), and who may see what."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from clearance.adapters.kafka import ensure_topics
from clearance.adapters.postgres import ParcelStore, connect, migrate
from clearance.devtools.generator import generate_events
from clearance.devtools.stored_stream import store_events
from clearance.domain.packs import PackRegistry
from clearance.entrypoints.http.app import create_app
from clearance.entrypoints.http.dependencies import CONSOLE_COOKIE
from clearance.service.access import new_key
from clearance.service.assessing import Assessor
from clearance.settings import Settings
from streams import console_session, settings_for

pytestmark = pytest.mark.integration

HTTPS = "https://testserver.local"
VI = {"accept-language": "vi-VN,vi;q=0.9,en;q=0.5"}
EN = {"accept-language": "en-GB,en;q=0.9"}


@dataclass
class Console:
    settings: Settings
    client: AsyncTestClient[Any]
    db: asyncpg.Connection
    officer: str
    """The officer's console session (its token)."""
    platform: str


@pytest.fixture(scope="module")
async def console(kafka_bootstrap: str, database_url: str) -> AsyncIterator[Console]:
    settings = settings_for(kafka_bootstrap, database_url, f"t{uuid.uuid4().hex[:12]}")
    await migrate(database_url, schema=settings.database_schema)
    await ensure_topics(settings)
    pool = await connect(database_url, schema=settings.database_schema)
    assessor = Assessor("test-identity-key-0123", PackRegistry.bundled())
    await store_events(ParcelStore(pool), assessor, generate_events(1_200, seed=8), batch=400)
    await pool.close()
    officer = await console_session(settings, new_key("officer"))
    shopmart = await console_session(settings, new_key("platform", "shopmart"))
    db = await asyncpg.connect(
        database_url, server_settings={"search_path": settings.database_schema}
    )
    async with AsyncTestClient(create_app(settings), base_url=HTTPS) as client:
        yield Console(settings, client, db, officer, shopmart)
    await db.close()


async def _get(console: Console, path: str, token: str, headers: dict[str, str]) -> Any:
    console.client.cookies.clear()
    console.client.cookies.set(CONSOLE_COOKIE, token)
    return await console.client.get(path, headers=headers)


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


async def test_the_queue_counts_are_kept_a_few_seconds_and_the_rows_are_live(
    console: Console,
) -> None:
    """Paging keeps the filters: the counts come from what was counted a moment ago."""
    first = await _get(console, "/console/queue?channel=red", console.officer, EN)
    counted = re.findall(r"Counted at ([^;]+);", first.text)
    again = await console.client.get("/console/queue?channel=red&sort=risk", headers=EN)
    assert re.findall(r"Counted at ([^;]+);", again.text) == counted


async def test_the_queue_in_vietnamese_counts_the_queue_and_writes_amounts_the_vietnamese_way(
    console: Console,
) -> None:
    queued = await console.db.fetchval(
        "SELECT count(*) FROM orders WHERE status IN ('hold', 'needs_information')"
    )
    page = await _get(console, "/console/queue", console.officer, VI)
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and "Hàng chờ xử lý" in page.text
    text = _text(page.text)
    assert f"Bưu kiện phù hợp {_vi(queued)}" in " ".join(text.split())
    assert re.search(r"\d{1,3}(\.\d{3})* ₫", text)  # 1.200.005 ₫
    assert "Luồng vàng" in text and "Người bán mới" in text  # a channel, a signal's text
    assert len(re.findall(r"data-parcel-link", page.text)) == 50


def _vi(count: int) -> str:
    return f"{count:,}".replace(",", ".")


async def test_the_queue_in_english_and_its_pages_forward_and_back(console: Console) -> None:
    first = await _get(console, "/console/queue?sort=risk", console.officer, EN)
    assert "Work queue" in first.text and "Highest risk first" in first.text
    assert re.search(r"VND \d{1,3}(,\d{3})*<", first.text)
    next_url = unescape(re.findall(r'href="([^"]+)" rel="next"', first.text)[0])
    second = await console.client.get(next_url, headers=EN)
    assert _parcels(second.text) and not set(_parcels(second.text)) & set(_parcels(first.text))
    back_url = unescape(re.findall(r'href="([^"]+)" rel="prev"', second.text)[0])
    back = await console.client.get(back_url, headers=EN)
    assert _parcels(back.text) == _parcels(first.text)


def _parcels(html: str) -> list[str]:
    return re.findall(r'data-parcel-link href="([^"]+)"', html)


async def test_a_count_link_filters_the_queue(console: Console) -> None:
    page = await _get(console, "/console/queue", console.officer, EN)
    link = unescape(re.findall(r'href="(/console/queue\?reason=[A-Z_]+)"', page.text)[0])
    code = link.rsplit("=", 1)[1]
    filtered = await console.client.get(link, headers=EN)
    expected = await console.db.fetchval(
        "SELECT count(*) FROM orders WHERE status IN ('hold', 'needs_information')"
        " AND $1 = ANY(reason_codes)",
        code,
    )
    assert f"of {expected:,} parcels" in filtered.text
    assert f'<option value="{code}" selected>' in filtered.text


async def test_search_by_tracking_number_and_outside_the_queue(console: Console) -> None:
    held = await console.db.fetchrow(
        "SELECT order_id, tracking_number FROM orders WHERE status = 'hold' LIMIT 1"
    )
    page = await _get(console, f"/console/queue?q={held['tracking_number']}", console.officer, EN)
    assert len(_parcels(page.text)) == 1 and held["order_id"] in _parcels(page.text)[0]
    released = await console.db.fetchval(
        "SELECT order_id FROM orders WHERE status = 'release_on_payment' LIMIT 1"
    )
    page = await console.client.get(f"/console/queue?q={released}", headers=VI)
    assert "Không có trong hàng chờ, nhưng tìm thấy:" in page.text and released in page.text


async def test_the_language_switch_sticks_and_goes_back_to_the_page(console: Console) -> None:
    page = await _get(console, "/console/queue?channel=red", console.officer, EN)
    token = re.findall(r'name="_csrf_token" value="([^"]+)"', page.text)[0]
    switched = await console.client.post(
        "/console/language",
        data={"_csrf_token": token, "language": "vi", "next": "/console/queue?channel=red"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/console/queue?channel=red"
    again = await console.client.get("/console/queue?channel=red", headers=EN)
    assert '<html lang="vi">' in again.text  # the cookie wins over the browser's English
    away = await console.client.post(
        "/console/language",
        data={"_csrf_token": token, "language": "en", "next": "https://elsewhere.example/"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/console/queue"  # never off the console


async def test_the_master_bill_view_has_every_parcel_and_the_totals(console: Console) -> None:
    bill, count = await console.db.fetchrow(
        "SELECT master_bill, count(*) FROM orders WHERE destination = 'VN' GROUP BY 1"
        " ORDER BY count(*) - count(DISTINCT consignee_ref) DESC, 2 DESC LIMIT 1"
    )
    page = await _get(console, f"/console/master-bills/{bill}", console.officer, VI)
    assert page.status_code == 200
    assert f"Vận đơn hàng không chủ {bill}" in page.text
    assert f"{count} bưu kiện thuộc vận đơn chủ này" in page.text
    assert page.text.count('<tr class="group">') >= 1
    assert len(re.findall(r"data-bill-parcel", page.text)) == count
    assert "Tổng cộng dồn gắn các bưu kiện này với nhau" in page.text
    assert "Cùng người nhận, cùng vận đơn chủ" in page.text  # a split purchase, tied
    missing = await console.client.get("/console/master-bills/784-00000000", headers=VI)
    assert missing.status_code == 404


async def test_the_dashboard_draws_its_charts_with_axes(console: Console) -> None:
    page = await _get(console, "/console/dashboard", console.officer, EN)
    assert page.status_code == 200
    assert page.text.count('<svg role="img"') >= 2  # per hour, and revenue per currency
    for text in ("Hour (UTC)", "Parcels", "Assessment day", "Share of green", "Hit rate"):
        assert text in page.text
    total = await console.db.fetchval("SELECT count(*) FROM decisions")
    assert f"{total:,} decisions in the last 24 hours" in page.text
    vi = await console.client.get("/console/dashboard", headers=VI)
    assert "Giờ (UTC)" in vi.text and "Tỷ lệ luồng xanh" in vi.text


async def test_the_revenue_and_the_dashboard_cover_a_report_period_at_most(
    console: Console,
) -> None:
    """An officer's revenue or dashboard over decades is refused as over HTTP (366 days at most):
    the page says so and shows the default period instead of reading every decision."""
    for path in ("/console/revenue", "/console/dashboard"):
        long = await _get(console, f"{path}?from=2000-01-01&to=2026-12-31", console.officer, EN)
        assert long.status_code == 200
        assert "A period covers at most 366 days." in long.text
        assert 'value="2000-01-01"' not in long.text  # the default period, not the one asked
        year = await _get(console, f"{path}?from=2026-01-01&to=2026-12-31", console.officer, EN)
        assert "A period covers at most" not in year.text


async def test_a_decision_page_shows_the_reason_in_vietnamese_and_the_record_in_english(
    console: Console,
) -> None:
    platform, order_id, shipment_id, bill = await console.db.fetchrow(
        "SELECT platform, order_id, shipment_id, master_bill FROM orders"
        " WHERE 'TARIFF_RATE_UNKNOWN' = ANY(reason_codes) LIMIT 1"
    )
    path = f"/console/decisions/{platform}/{order_id}/{shipment_id}"
    page = await _get(console, path, console.officer, VI)
    assert "Không xác định được thuế suất từ biểu thuế" in page.text
    assert '<div lang="en">' in page.text  # the engine's message, as recorded
    assert f'href="/console/master-bills/{bill}"' in page.text
    assert "Ghi nhận kết quả" in page.text


async def test_a_platform_sees_its_own_queue_and_no_master_bill_or_dashboard(
    console: Console,
) -> None:
    page = await _get(console, "/console/queue?platform=bazaarly", console.platform, EN)
    assert _parcels(page.text) and all("/shopmart/" in link for link in _parcels(page.text))
    assert "/console/master-bills/" not in page.text
    # Without the risk detail (issue #20): no score, signal, channel or risk reason, and a risk
    # filter or sort asked for in the URL is ignored.
    for officers_only in ("Risk score in the yellow or red band", "New seller", 'id="signal"'):
        assert officers_only not in page.text
    assert ">Risk<" not in page.text and 'class="chan-' not in page.text
    risky = await _get(console, "/console/queue?reason=RISK_SCORE&sort=risk", console.platform, EN)
    assert 'value="RISK_SCORE"' not in risky.text and "Waiting longest first" in risky.text
    held = await console.db.fetchval(
        "SELECT order_id FROM orders WHERE platform = 'shopmart' AND status = 'hold'"
        " AND 'RISK_SCORE' = ANY(reason_codes) LIMIT 1"
    )
    found = await console.client.get(f"/console/queue?q={held}", headers=EN)
    assert held in found.text
    assert "Customs will examine this parcel before it is released" in found.text
    bill = await console.db.fetchval("SELECT master_bill FROM orders LIMIT 1")
    for path in (f"/console/master-bills/{bill}", "/console/dashboard"):
        answer = await console.client.get(path, follow_redirects=False)
        assert answer.status_code in (302, 303, 307) and "sign-in" in answer.headers["location"]


async def test_the_old_holds_address_and_the_assets(console: Console) -> None:
    old = await _get(console, "/console/holds?channel=red", console.officer, EN)
    assert str(old.url).endswith("/console/queue?channel=red")
    css = await console.client.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await console.client.get("/console/static/../app.py")).status_code == 404
