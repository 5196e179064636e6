"""The day's reconciliation on a manager's phone: reached from the top bar, a parcel shipped
today on an order with no payment shows under "Parti sans paiement" with its amount, the
sections with nothing to say say so, a row opens its order, and the CSV download holds the
same order; nothing overflows a 390-pixel screen."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.browser.conftest import (
    MANAGER,
    DemoServer,
    SignIn,
    _ean13,
    api_as,
    ensure_web_channel,
    post_order,
    screenshot,
)

SKU = ("AGENDA-RAPPROCHEMENT", "Agenda de rapprochement", _ean13("376012350001"), 1250)
WAREHOUSE = "WH-PARIS"


@pytest.fixture(scope="module")
async def web_key(demo_server: DemoServer) -> AsyncIterator[str]:
    """The web shop's channel, a product of this module's own in stock, and a web shop key."""
    from comptoir.auth.service import create_api_key
    from comptoir.catalog import service as catalog
    from comptoir.catalog.schemas import ProductIn, VariantIn
    from comptoir.config import service as config_service
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    settings = demo_server.settings
    with piccolo_bound_to(settings):
        await ensure_web_channel()
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                sku, name, barcode, price = SKU
                await catalog.create_product(session, ProductIn(name=name, variants=[
                    VariantIn(sku=sku, barcode=barcode, price=price)]), actor="browser-tests")
                await inventory.adjust(session, sku=sku, location=WAREHOUSE, delta=10,
                                       reason="opening stock", actor="browser-tests",
                                       kind="receipt")
                _row, key = await create_api_key(session, name=f"web-{uuid.uuid4().hex[:6]}",
                                                 role="channel", channel="web")
        finally:
            await engine.dispose()
            config_service.invalidate()
    await asyncio.sleep(config_service.CACHE_SECONDS + 0.5)
    yield key


async def shipped_without_payment(server: DemoServer, key: str) -> dict[str, Any]:
    """A web order of two notebooks, no payment through Comptoir, picked, packed and shipped
    from the warehouse through the API: the order as captured."""
    order = await post_order(server, key, {
        "lines": [{"sku": SKU[0], "quantity": 2}],
        "customer": {"email": "hugo.bernard@exemple.fr", "name": "Hugo Bernard"},
        "delivery": {"method": "ship", "address": {
            "name": "Hugo Bernard", "line1": "8 rue Mercière", "postal_code": "69002",
            "city": "Lyon", "country": "FR"}},
    })
    async with api_as(server) as client:
        queue = await client.get("/api/fulfillments",
                                 params={"location": WAREHOUSE, "status": "new", "limit": 100})
        assert queue.status_code == 200, queue.text
        [work] = [f for f in queue.json()["items"] if f["order_number"] == order["number"]]
        for action, body in (("pick", {}), ("pack", {}), ("ship", {
                "carrier": "colissimo", "tracking_number": "6A-RECON-1"})):
            response = await client.post(f"/api/fulfillments/{work['id']}/{action}", json=body)
            assert response.status_code == 200, (action, response.text)
    return order


async def test_a_manager_sees_goods_that_left_without_payment_and_downloads_the_csv(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str,
) -> None:
    order = await shipped_without_payment(demo_server, web_key)
    number, total = order["number"], order["totals"]["total"]
    today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo("Europe/Paris")).date().isoformat()

    await sign_in(page, MANAGER, "/")
    await page.locator(".topbar").get_by_role("link", name="Rapprochement").click()
    await expect(page).to_have_url(f"{demo_server.url}/reports/reconciliation")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Rapprochement")
    await expect(page.get_by_label("Jour")).to_have_value(today)

    unpaid = page.locator("[data-section=left_without_payment]")
    row = unpaid.locator(f"li[data-order='{number}']")
    await expect(row).to_be_visible()
    await expect(unpaid.get_by_role("heading")).to_contain_text("Parti sans paiement")
    amount = f"{total // 100},{total % 100:02d}"
    await expect(row.locator("[data-amount]")).to_contain_text(amount)
    await expect(row).to_contain_text(f"Marchandise partie pour {amount}\u00a0€, aucun paiement")
    nothing = page.locator("[data-section=refunded_without_credit_note]")
    await expect(nothing).to_contain_text("Rien à signaler")
    overflow = await page.evaluate(
        "() => document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the screen is {overflow}px wider than the phone"
    await screenshot(page, "reconciliation")

    csv_link = page.locator("a[data-csv]")
    href = await csv_link.get_attribute("href")
    assert href == f"/api/reports/reconciliation.csv?date={today}&lang=fr"
    download = await page.context.request.get(href)
    assert download.ok, await download.text()
    text = await download.text()
    assert text.splitlines()[0].startswith("section,order_number,currency,amount")
    assert f"left_without_payment,{number},EUR,{total // 100}.{total % 100:02d}" in text

    await row.get_by_role("link", name=f"Ouvrir la commande {number}").click()
    await expect(page).to_have_url(f"{demo_server.url}/orders/{number}")


async def test_a_day_with_nothing_says_so_in_every_section(
    page: Any, sign_in: SignIn, demo_server: DemoServer,
) -> None:
    await sign_in(page, MANAGER, "/reports/reconciliation")
    await page.get_by_label("Jour").fill("2020-01-06")
    sections = page.locator("[data-section]")
    await expect(sections).to_have_count(6)
    await expect(page.locator("[data-section][data-count='0']")).to_have_count(6)
    await expect(page.locator(".reconciliation__clean")).to_be_visible()
    await expect(page.locator("a[data-csv]")).to_have_attribute(
        "href", "/api/reports/reconciliation.csv?date=2020-01-06&lang=fr")
