"""The manager's dashboard lists the orders waiting for capacity: in stock, set aside, but
every location that could prepare them is full today."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.conftest import MANAGER, DemoServer, SignIn
from tests.browser.test_orders import web_key  # noqa: F401

# A warehouse that takes no orders today, the only one with this notebook.
FULL_WAREHOUSE = "WH-PLEIN"
NOTEBOOK = "CARNET-29"


async def _full_warehouse_with_notebooks(server: DemoServer) -> None:
    from comptoir.config import service as config_service
    from comptoir.config.models import Location
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    with piccolo_bound_to(server.settings):
        await Location(code=FULL_WAREHOUSE, name="Entrepôt plein", kind="warehouse",
                       city="Lyon", latitude=45.75, longitude=4.85, ships=True,
                       serves_pickups=False, daily_order_capacity=0).save()
        engine = create_engine(server.settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await inventory.adjust(session, sku=NOTEBOOK, location=FULL_WAREHOUSE, delta=5,
                                       reason="opening stock", actor="browser-tests",
                                       kind="receipt")
        finally:
            await engine.dispose()
            config_service.invalidate()


async def _capture_waiting(server: DemoServer, key: str) -> dict[str, Any]:
    body = {
        "lines": [{"sku": NOTEBOOK, "quantity": 1}],
        "delivery": {"method": "ship", "address": {
            "name": "Client Patient", "line1": "3 rue des Tanneurs", "postal_code": "69001",
            "city": "Lyon", "country": "FR"}},
        "customer": {"email": "patient@exemple.fr", "name": "Client Patient"},
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=10,
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        # The server reads its configuration through a cache of a few seconds: until it
        # knows the new warehouse, the notebook is nowhere it can ship from (409, nothing
        # written).
        deadline = time.monotonic() + 15
        while True:
            response = await client.post("/api/orders", json=body,
                                         headers={"Idempotency-Key": str(uuid.uuid4())})
            if response.status_code not in (409, 422) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert response.status_code == 201, response.text
        return dict(response.json())


async def test_the_dashboard_lists_an_order_waiting_for_capacity(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str,  # noqa: F811
) -> None:
    await _full_warehouse_with_notebooks(demo_server)
    order = await _capture_waiting(demo_server, web_key)
    assert order["status"] == "awaiting_capacity"

    await sign_in(page, MANAGER, "/dashboard")

    section = page.locator('[aria-labelledby="dashboard-awaiting"]')
    row = section.locator(f'.order-row[data-number="{order["number"]}"]')
    await expect(page.get_by_role("heading", name="En attente de capacité (1)")).to_be_visible()
    await expect(row).to_be_visible()
    await expect(row.locator(".badge")).to_have_text("En attente de capacité")
    await row.click()
    await expect(page.locator(".order-head .badge")).to_have_text("En attente de capacité")
    waiting = page.locator('.timeline__event[data-type="order.awaiting_capacity"]')
    await expect(waiting.locator(".timeline__what")).to_have_text("En attente de capacité")
    await expect(page.locator('[data-factor="capacity"]')).to_have_text(
        "plus de capacité aujourd'hui : la commande attend")
