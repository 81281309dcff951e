"""The officer console in a real browser (headless Chromium driven by Playwright) against a real
``clearance api`` process, the embedded database and broker, and a running worker, on a stream
of 2,000 orders from ``clearance generate``.

An officer works in Vietnamese (the browser asks for it), then switches to English: the queue
(keys, a filter, the next page), a master bill, an inspection, the dashboard, in both languages;
axe-core checks every page for serious or critical accessibility violations. The screenshots in
the README (``docs/console``) are the ones this test leaves in ``tests/artifacts``.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from clearance.adapters.postgres import KeyStore, connect
from clearance.devtools.bench_api import running_api
from clearance.devtools.generator import generate_events
from clearance.entrypoints.http.dependencies import CONSOLE_COOKIE
from clearance.service.access import new_key
from clearance.settings import Settings, to_environment
from streams import produce

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("running_worker")]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
AXE = Path(__file__).resolve().parent / "tools" / "node_modules" / "axe-core" / "axe.min.js"
ORDERS = 2_000
VIEWPORT: ViewportSize = {"width": 1366, "height": 900}


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("no Chromium: run `make browser` (installs Debian's chromium)")
    return found


async def _accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page (WCAG 2.x A and AA, and best
    practices), one line each."""
    if not AXE.is_file():
        pytest.fail("no axe-core: run `make browser` (npm ci in tests/e2e/tools)")
    # Evaluated by the browser's devtools protocol, as a tester's console would: a <script> tag
    # would be inline script, which the console's Content-Security-Policy rightly blocks.
    await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    violations: list[dict[str, Any]] = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


async def _check(page: Page, shot: str | None = None) -> None:
    """No serious accessibility violation here; a screenshot of what the officer sees."""
    assert await _accessibility_problems(page) == [], page.url
    if shot is not None:  # the top of the page, at most 1,500 pixels of it
        height = min(1500, int(await page.evaluate("document.documentElement.scrollHeight")))
        box = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
        await page.screenshot(path=ARTIFACTS / f"{shot}.png", full_page=True, clip=box)  # type: ignore[arg-type]


async def _stream_stored(db: asyncpg.Connection) -> int:
    """Wait until the worker has decided the whole stream (the count stops moving)."""
    last, steady = -1, 0
    for _ in range(240):
        count = int(await db.fetchval("SELECT count(*) FROM decisions"))
        steady = steady + 1 if count == last and count > 0 else 0
        if steady >= 4:
            return count
        last = count
        await asyncio.sleep(0.25)
    pytest.fail(f"the worker did not settle: {last} decisions")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        await chromium.close()


async def _sign_in(page: Page, base: str, token: str, label: str, button: str) -> None:
    await page.goto(f"{base}/console/sign-in")
    await page.get_by_label(label).fill(token)
    await page.get_by_role("button", name=button).click()
    await page.wait_for_url("**/console/queue")


async def _inspect(page: Page, base: str, path: str, outcome: str, done: str) -> None:
    """Record ``outcome`` on the parcel's page; reload until the worker has applied it."""
    await page.get_by_label(outcome, exact=True).check()
    await page.locator("form[action='/console/inspections'] button[type=submit]").click()
    await page.wait_for_url("**recorded=1")
    for _ in range(80):
        if await page.locator(f"[data-status='{done}']").count():
            return
        await asyncio.sleep(0.25)
        await page.goto(f"{base}{path}")
    pytest.fail(f"the inspection was not applied to {path}")


async def test_an_officer_works_the_queue_in_vietnamese_and_english(
    settings: Settings, db: asyncpg.Connection, browser: Browser
) -> None:
    pool = await connect(settings.database_url, schema=settings.database_schema)
    officer, bazaarly = new_key("officer"), new_key("platform", "bazaarly")
    for key in (officer, bazaarly):
        await KeyStore(pool).create_api_key(key)
    await pool.close()
    events = generate_events(ORDERS, seed=7)
    await produce(settings, "orders.v1", [(k.encode(), v) for k, v in events])
    decisions = await _stream_stored(db)
    assert decisions > 0.95 * ORDERS
    queued = await db.fetchval(
        "SELECT count(*) FROM orders WHERE status IN ('hold', 'needs_information')"
    )
    ARTIFACTS.mkdir(exist_ok=True)

    with running_api(to_environment(settings)) as base:
        context = await browser.new_context(viewport=VIEWPORT, locale="vi-VN")
        page = await context.new_page()
        await _sign_in(page, base, officer.token, "Khóa API", "Đăng nhập")
        [session] = [c for c in await context.cookies() if c["name"] == CONSOLE_COOKIE]
        assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"

        # The queue, in Vietnamese: the counts, the amounts, keys to move through it.
        assert await page.locator("html").get_attribute("lang") == "vi"
        await page.get_by_role("heading", name="Hàng chờ xử lý").wait_for()
        assert f"{queued:,}".replace(",", ".") in await page.locator(".summary .big").inner_text()
        assert re.search(r"\d ₫", await page.locator("tbody").first.inner_text())
        await _check(page, "queue-vi")
        links = page.locator("[data-parcel-link]")
        assert await links.count() == 50
        await page.keyboard.press("j")
        await page.keyboard.press("j")
        second = await links.nth(1).get_attribute("href")
        assert await page.evaluate("document.activeElement.getAttribute('href')") == second
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"**{second}")
        await page.go_back()

        # A filter (by reason, chosen by its Vietnamese text) and the next page.
        await page.get_by_label("Lý do", exact=True).select_option(label="Thiếu mã HS")
        await page.get_by_role("button", name="Áp dụng").click()
        await page.wait_for_url("**reason=MISSING_HS_CODE**")
        for row in await page.locator("tbody tr").all_inner_texts():
            assert "Thiếu mã HS" in row
        first_page = await links.all_inner_texts()
        await page.get_by_role("link", name="Trang sau").click()
        await page.wait_for_url("**after=**")
        assert set(await links.all_inner_texts()).isdisjoint(first_page)

        # A master bill: every parcel under it, the totals that tie them (the bag with the
        # most parcels of one consignee: a purchase split over several parcels).
        bill, in_bill = await db.fetchrow(
            "SELECT master_bill, count(*) FROM orders WHERE destination = 'VN' GROUP BY 1"
            " ORDER BY count(*) - count(DISTINCT consignee_ref) DESC, 2 DESC LIMIT 1"
        )
        await page.goto(f"{base}/console/queue?q={bill}")
        await page.get_by_role("link", name=bill).first.click()
        await page.wait_for_url(f"**/console/master-bills/{bill}")
        await page.get_by_role("heading", name=f"Vận đơn hàng không chủ {bill}").wait_for()
        assert await page.locator("[data-bill-parcel]").count() == in_bill
        ties = page.locator("table[aria-describedby=ties] tbody tr")
        assert "Cùng người nhận, cùng vận đơn chủ" in await ties.first.inner_text()
        await _check(page, "master-bill-vi")

        # An inspection: a parcel held for its tariff line is seized.
        platform, order_id, shipment_id = await db.fetchrow(
            "SELECT platform, order_id, shipment_id FROM orders WHERE status = 'hold'"
            " AND 'TARIFF_RATE_UNKNOWN' = ANY(reason_codes) ORDER BY order_id LIMIT 1"
        )
        held = f"/console/decisions/{platform}/{order_id}/{shipment_id}"
        await page.goto(f"{base}{held}")
        assert "Không xác định được thuế suất từ biểu thuế" in await page.content()
        await _check(page, "decision-vi")
        await _inspect(page, base, held, "Thu giữ", "refuse")
        assert "Thu giữ sau kiểm tra thực tế" in await page.content()

        # The dashboard, then the switch to English (kept for the next pages).
        await page.get_by_role("link", name="Tổng quan").click()
        await page.wait_for_url("**/console/dashboard")
        assert await page.locator("svg[role=img]").count() >= 2
        await page.get_by_role("heading", name="Tỷ lệ luồng xanh").wait_for()
        await _check(page, "dashboard-vi")
        await page.get_by_role("button", name="English").click()
        await page.wait_for_url("**/console/dashboard")
        assert await page.locator("html").get_attribute("lang") == "en"
        outcomes = page.locator("section[aria-labelledby=inspections-heading] tbody")
        assert "Seize\n1" in (await outcomes.inner_text()).replace("\t", "\n")
        await _check(page, "dashboard-en")

        # The same walk in English: queue, master bill, an inspection (release this time).
        await page.get_by_role("link", name="Work queue").click()
        await page.get_by_role("heading", name="Work queue").wait_for()
        assert re.search(r"VND \d", await page.locator("tbody").first.inner_text())
        await _check(page, "queue-en")
        await page.goto(f"{base}/console/master-bills/{bill}")
        await page.get_by_role("heading", name=f"Master air waybill {bill}").wait_for()
        await _check(page, "master-bill-en")
        platform, order_id, shipment_id = await db.fetchrow(
            "SELECT platform, order_id, shipment_id FROM orders WHERE status = 'hold'"
            " AND 'TARIFF_RATE_UNKNOWN' = ANY(reason_codes) ORDER BY order_id DESC LIMIT 1"
        )
        held = f"/console/decisions/{platform}/{order_id}/{shipment_id}"
        await page.goto(f"{base}{held}")
        await _check(page, "decision-en")
        await _inspect(page, base, held, "Release", "release_on_payment")
        assert "RELEASED_AFTER_INSPECTION" in await page.content()
        await page.goto(f"{base}/console/revenue")
        assert await page.locator("svg[role=img]").count() >= 1
        await _check(page)
        csv = await page.request.get(f"{base}/console/revenue.csv")
        assert csv.ok and csv.headers["content-type"].startswith("text/csv")
        forged = await page.request.post(
            f"{base}/console/inspections", form={"platform": "shopmart", "outcome": "release"}
        )
        assert forged.status == 403  # no CSRF token, no inspection

        # A platform sees its own parcels only, read-only.
        other = await (await browser.new_context(viewport=VIEWPORT)).new_page()
        await _sign_in(other, base, bazaarly.token, "API key", "Sign in")
        hrefs = await other.locator("[data-parcel-link]").evaluate_all(
            "links => links.map(link => link.getAttribute('href'))"
        )
        assert hrefs and all(href.startswith("/console/decisions/bazaarly/") for href in hrefs)
        if platform != "bazaarly":
            answer = await other.goto(f"{base}{held}")
            assert answer is not None and answer.status == 404
        assert "Record the result" not in await other.content()
        await _check(other)
