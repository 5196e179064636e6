"""The customer's tracking page in a real browser: it follows its order live, within its CSP."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import DemoServer, api_as, screenshot
from tests.browser.test_orders import capture, web_key

__all__ = ["web_key"]


async def test_tracking_page_changes_live_when_its_order_is_cancelled(
    page: Any, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)

    await page.goto(f"{demo_server.url}/track/{order['tracking_token']}")
    await expect(page.locator("#status")).to_have_text("Commande confirmée")
    await expect(page.locator("#live")).to_have_text("Mise à jour en direct")  # subscribed
    await screenshot(page, "tracking-fr")

    async with api_as(demo_server) as manager:
        response = await manager.post(f"/api/orders/{order['number']}/cancel",
                                      json={"reason": "rupture"})
        assert response.status_code == 200, response.text

    await expect(page.locator("#status")).to_have_text("Annulée", timeout=5_000)
    await expect(page.locator("#timeline li").last).to_contain_text("Commande annulée")
    assert refused == []  # the inline style and script run by their nonce, nothing is blocked
