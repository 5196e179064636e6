"""The customer's tracking page in a real browser: it follows its order live, within its CSP,
and shows the pickup code once the customer proved it is them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DemoServer, api_as, new_phone, post_order, screenshot
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


# A notebook of this test only, in stock at the store where its orders are picked up.
PICKUP_NOTEBOOK = "CARNET-20"
PICKUP_STORE = "ST-LYON-01"
PHONE_ENDING = "9876"
PROOF_LABEL = "Les 4 derniers chiffres de votre téléphone, ou votre adresse e-mail"


@pytest.fixture(scope="module")
async def store_notebooks(demo_server: DemoServer) -> None:
    from comptoir.config import service as config_service
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    with piccolo_bound_to(demo_server.settings):
        engine = create_engine(demo_server.settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await inventory.adjust(session, sku=PICKUP_NOTEBOOK, location=PICKUP_STORE,
                                       delta=10, reason="opening stock", actor="browser-tests",
                                       kind="receipt")
        finally:
            await engine.dispose()
            config_service.invalidate()


async def _capture_pickup(server: DemoServer, key: str) -> dict[str, Any]:
    body = {
        "lines": [{"sku": PICKUP_NOTEBOOK, "quantity": 1}],
        "delivery": {"method": "pickup", "location": PICKUP_STORE},
        "customer": {"email": "noemie.leroy@exemple.fr", "name": "Noémie Leroy",
                     "phone": f"+33 6 11 22 {PHONE_ENDING[:2]} {PHONE_ENDING[2:]}"},
    }
    return await post_order(server, key, body)


async def _drawn_qr_width(page: Any) -> float:
    """The width of the QR code's drawing as the browser lays it out: 0 unless its <svg> is
    an SVG element whose modules are painted (not a stray element showing its title)."""
    return float(await page.locator("#pickup svg.qr").evaluate(
        "svg => svg instanceof SVGSVGElement ? svg.querySelector('path').getBBox().width"
        " * 5 : 0"))


async def test_the_customer_proves_it_is_them_sees_the_qr_code_and_sees_it_again_on_return(
    page: Any, browser: Any, demo_server: DemoServer, web_key: str, store_notebooks: None,
) -> None:
    order = await _capture_pickup(demo_server, web_key)
    track = f"{demo_server.url}/track/{order['tracking_token']}"
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)

    await page.goto(track)
    await expect(page.locator("#live")).to_have_text("Mise à jour en direct")
    await expect(page.locator("#pickup svg.qr")).to_have_count(0)
    await expect(page.locator("#pickup-code")).to_have_count(0)
    answer = page.get_by_label(PROOF_LABEL)

    await answer.fill("1234")
    await page.get_by_role("button", name="Afficher le code").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Ce n'est pas ce que nous avons pour cette commande. Essais restants : 4.")
    await expect(answer).to_have_attribute("aria-invalid", "true")
    await expect(answer).to_be_focused()
    await expect(page.locator("#pickup-code")).to_have_count(0)
    await screenshot(page, "tracking-pickup-proof")

    await answer.fill(f"{PHONE_ENDING[:2]} {PHONE_ENDING[2:]}")
    await answer.press("Enter")  # the keyboard submits the form as the button does
    await expect(page.locator("#pickup svg.qr")).to_be_visible()
    assert await _drawn_qr_width(page) > 100
    shown = page.locator("#pickup-code")
    await expect(shown).to_have_text(re.compile(r"^[A-Z2-9]{8}$"))
    await expect(shown).to_be_focused()
    code = await shown.text_content()
    await screenshot(page, "tracking-pickup-code")

    # The next visit from this phone shows the code at once, drawn by the server.
    await page.goto(track)
    await expect(page.locator("#pickup svg.qr")).to_be_visible()
    assert await _drawn_qr_width(page) > 100
    await expect(page.locator("#pickup-code")).to_have_text(code or "")
    await expect(page.locator("#proof")).to_have_count(0)
    await expect(page.locator("#live")).to_have_text("Mise à jour en direct")

    # Still live: the store puts the order on its counter, the page says so by itself.
    async with api_as(demo_server) as manager:
        queue = (await manager.get("/api/fulfillments",
                                   params={"location": PICKUP_STORE, "limit": 100})).json()
        [work] = [w for w in queue["items"] if w["order_number"] == order["number"]]
        for action in ("pick", "ready-for-pickup"):
            response = await manager.post(f"/api/fulfillments/{work['id']}/{action}", json={})
            assert response.status_code == 200, response.text
    await expect(page.locator("#status")).to_have_text("Prête à retirer", timeout=5_000)
    await expect(page.locator("#pickup-code")).to_have_text(code or "")

    # Another phone the link was forwarded to sees no code.
    other = await new_phone(browser, demo_server)
    try:
        forwarded = await other.new_page()
        await forwarded.goto(track)
        await expect(forwarded.get_by_label(PROOF_LABEL)).to_be_visible()
        await expect(forwarded.locator("#pickup-code")).to_have_count(0)
        assert code not in await forwarded.content()
    finally:
        await other.close()
    assert refused == []  # the QR code and the form run within the page's CSP
