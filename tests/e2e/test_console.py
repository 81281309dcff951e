"""The officer console in a real browser (headless Chromium driven by Playwright) against a real
``clearance api`` process, the embedded database and broker, and a running worker."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Page, async_playwright

from clearance.adapters.postgres import KeyStore, connect
from clearance.devtools.bench_api import running_api
from clearance.service.access import new_key
from clearance.settings import Settings, to_environment
from factories import encoded, key_of, order
from streams import produce, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("running_worker")]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("no Chromium: run `make browser` (installs Debian's chromium)")
    return found


async def _sign_in(page: Page, base: str, token: str) -> None:
    await page.goto(f"{base}/console/sign-in")
    await page.get_by_label("API key").fill(token)
    await page.get_by_role("button", name="Sign in").click()


async def test_an_officer_seizes_a_held_parcel_and_another_platform_cannot_see_it(
    settings: Settings, db: asyncpg.Connection
) -> None:
    pool = await connect(settings.database_url, schema=settings.database_schema)
    officer, shopmart, bazaarly = (
        new_key("officer"),
        new_key("platform", "shopmart"),
        new_key("platform", "bazaarly"),
    )
    for key in (officer, shopmart, bazaarly):
        await KeyStore(pool).create_api_key(key)
    await pool.close()
    held = order(50, currency="VND")  # an unknown tariff line: held for classification
    held["items"][0].update(hs_code="61091000", unit_price="400000", quantity=3)
    held["consignee"]["identity"] = {"type": "passport", "number": "C7654321"}
    await produce(settings, "orders.v1", [(key_of(held), encoded(held))])
    await wait_for(db, "SELECT count(*) FROM orders WHERE status = 'hold'", 1)
    ARTIFACTS.mkdir(exist_ok=True)
    path = "/console/decisions/shopmart/ORD-50/ORD-50-1"

    with running_api(to_environment(settings)) as base:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=_chromium(), args=["--no-sandbox"]
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await _sign_in(page, base, officer.token)
            await page.wait_for_url("**/console/holds")
            link = page.get_by_role("link", name="shopmart / ORD-50")
            assert await link.count() == 1
            await page.screenshot(path=ARTIFACTS / "holds.png", full_page=True)
            [session] = [c for c in await page.context.cookies() if c["name"] == "clearance_key"]
            assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"

            await link.click()
            await page.wait_for_url(f"**{path}")
            text = await page.content()
            assert "TARIFF_RATE_UNKNOWN" in text and "Status: hold" in text
            assert "C7654321" not in text  # identity numbers are never shown (nor stored)
            await page.screenshot(path=ARTIFACTS / "decision.png", full_page=True)

            await page.get_by_label("Seize").check()
            await page.get_by_role("button", name="Record the result").click()
            await page.wait_for_url("**recorded=1")
            for _ in range(60):  # the worker applies the inspection; the page shows it on reload
                if "Status: refuse" in await page.content():
                    break
                await asyncio.sleep(0.25)
                await page.goto(f"{base}{path}")
            assert "Status: refuse" in await page.content()
            assert "SEIZED_AFTER_INSPECTION" in await page.content()

            await page.goto(f"{base}/console/revenue")
            assert "VND" in await page.content() and "<svg" in await page.content()
            await page.screenshot(path=ARTIFACTS / "revenue.png", full_page=True)
            csv = await page.request.get(f"{base}/console/revenue.csv")
            assert csv.ok and csv.headers["content-type"].startswith("text/csv")

            other = await browser.new_page()
            await _sign_in(other, base, bazaarly.token)
            await other.wait_for_url("**/console/holds")
            assert "ORD-50" not in await other.content()
            answer = await other.goto(f"{base}{path}")
            assert answer is not None and answer.status == 404
            assert "Record the result" not in await other.content()

            forged = await page.request.post(
                f"{base}/console/inspections", form={"platform": "shopmart", "outcome": "release"}
            )
            assert forged.status == 403  # no CSRF token, no inspection
            await browser.close()
