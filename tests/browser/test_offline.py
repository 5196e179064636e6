"""Without network: the app opens from its service worker with the last data seen, and an
adjustment taken offline waits in the outbox, then is applied once when the network returns."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import (
    DELTA_LABEL,
    MANAGER,
    TEE,
    TEE_L,
    DemoServer,
    SignIn,
    api_as,
    on_hand,
    screenshot,
)

REASON = "Livraison reçue hors ligne"


def stock_cell(page: Any, location: str, column: str) -> Any:
    return page.locator(f'tr[data-location="{location}"] td[data-col="{column}"]')


async def adjustments_with_reason(server: DemoServer, sku: str, reason: str) -> int:
    async with api_as(server) as client:
        response = await client.get(f"/api/inventory/{sku}/movements",
                                    params={"location": "WH-PARIS"})
        assert response.status_code == 200, response.text
        return sum(1 for m in response.json()["items"] if m["reason"] == reason)


async def test_offline_app_shows_stock_seen_before_and_applies_a_queued_adjustment_once(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer
) -> None:
    before = await on_hand(demo_server, TEE_L.sku, "WH-PARIS")
    await sign_in(page, MANAGER)
    # The service worker has installed and controls the page: the app shell is on the phone.
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    await page.get_by_role("link", name="Stock").click()
    search = page.get_by_label("Produit, SKU ou code-barres")
    await search.fill(TEE_L.sku)
    await search.press("Enter")
    await expect(stock_cell(page, "WH-PARIS", "on_hand")).to_have_text(str(before))

    await context.set_offline(True)
    await page.reload()

    await expect(page.get_by_role("heading", level=1)).to_have_text(TEE_L.name)
    await expect(page.locator(".banner--offline")).to_have_text(
        "Vous êtes hors ligne. Ce que vous voyez peut être ancien.")
    await expect(stock_cell(page, "WH-PARIS", "on_hand")).to_have_text(str(before))
    await expect(page.get_by_text(re.compile("^Dernière mise à jour"))).to_be_visible()
    await expect(page.locator(".topbar__name")).to_have_text(MANAGER.username)

    form = page.locator("form.change")
    await form.get_by_label("Site").select_option("WH-PARIS")
    await form.get_by_label(DELTA_LABEL).fill("3")
    await form.get_by_label("Motif").fill(REASON)
    await form.get_by_role("button", name="Enregistrer l'ajustement").click()

    await expect(form.get_by_role("status")).to_have_text(
        "Pas de réseau : gardé sur ce téléphone, et envoyé au retour du réseau.")
    queued = page.locator(".action").filter(has_text=f"Ajustement {TEE_L.sku} à WH-PARIS : +3")
    await expect(queued).to_have_attribute("data-status", "pending")
    await expect(queued.locator(".status")).to_have_text("En attente")
    await expect(page.locator(".banner--outbox")).to_contain_text("Actions en attente d'envoi : 1")
    await screenshot(page, "sku-offline-queued-fr")
    assert await on_hand(demo_server, TEE_L.sku, "WH-PARIS") == before  # nothing sent yet

    await context.set_offline(False)

    await expect(queued).to_have_attribute("data-status", "sent", timeout=15_000)
    await expect(queued.locator(".status")).to_have_text("Envoyée")
    await expect(stock_cell(page, "WH-PARIS", "on_hand")).to_have_text(str(before + 3))
    await expect(page.locator(".banner--offline")).to_have_count(0)
    await expect(page.locator(".banner--outbox")).to_have_count(0)
    assert await on_hand(demo_server, TEE_L.sku, "WH-PARIS") == before + 3

    # Exactly once: a reload (the app starts again and sends what is due) and time for the
    # periodic retry send nothing more.
    await page.reload()
    await expect(stock_cell(page, "WH-PARIS", "on_hand")).to_have_text(str(before + 3))
    await asyncio.sleep(1)
    assert await on_hand(demo_server, TEE_L.sku, "WH-PARIS") == before + 3
    assert await adjustments_with_reason(demo_server, TEE_L.sku, REASON) == 1


async def test_an_action_refused_on_replay_stays_listed_with_the_servers_reason(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer
) -> None:
    before = await on_hand(demo_server, TEE.sku, "WH-PARIS")
    await sign_in(page, MANAGER, f"/stock/{TEE.sku}")
    await expect(stock_cell(page, "WH-PARIS", "on_hand")).to_have_text(str(before))

    await context.set_offline(True)
    form = page.locator("form.change")
    await form.get_by_label("Site").select_option("WH-PARIS")
    await form.get_by_label(DELTA_LABEL).fill("-100000")
    await form.get_by_label("Motif").fill("Inventaire tournant")
    await form.get_by_role("button", name="Enregistrer l'ajustement").click()
    await expect(form.get_by_role("status")).to_have_text(
        "Pas de réseau : gardé sur ce téléphone, et envoyé au retour du réseau.")
    action = page.locator(".action").filter(has_text=f"Ajustement {TEE.sku} à WH-PARIS")
    await expect(action).to_have_attribute("data-status", "pending")

    await context.set_offline(False)

    # The server refuses it (more than is on hand): it is kept, marked refused, with the reason.
    await expect(action).to_have_attribute("data-status", "failed", timeout=15_000)
    await expect(action).to_contain_text(
        f"Le stock en rayon est de {before} : retirer autant le rendrait négatif.")
    await expect(page.locator(".banner--refused")).to_contain_text(
        "Actions refusées à consulter : 1")
    assert await on_hand(demo_server, TEE.sku, "WH-PARIS") == before

    # Only the person clears it.
    await page.reload()
    await expect(action).to_have_attribute("data-status", "failed")
    await action.get_by_role("button", name="Effacer").click()
    await expect(action).to_have_count(0)
    await expect(page.locator(".banner--refused")).to_have_count(0)
