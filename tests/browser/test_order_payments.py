"""The order's money on a phone: a manager opens an order paid by card, sees it authorized,
captures part of it, refunds an amount and then a line, each with a reason, and sees the
balance follow each step without reloading the page (the provider answers through the
server's outbox); a refund the server refuses says why in the catalogue's words."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import (
    MANAGER,
    DemoServer,
    SignIn,
    api_as,
    ensure_web_channel,
    post_order,
    screenshot,
)

# Notebooks no other browser test counts (6,50 € each).
NOTEBOOK = "CARNET-05"
EURO = "\N{NO-BREAK SPACE}€"


@pytest.fixture(scope="module")
async def web_key(demo_server: DemoServer) -> AsyncIterator[str]:
    """The web shop's channel (paid through the built-in sandbox provider), notebooks in
    stock at the warehouse and an API key for the shop."""
    from comptoir.auth.service import create_api_key
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
                await inventory.adjust(session, sku=NOTEBOOK, location="WH-PARIS", delta=50,
                                       reason="opening stock", actor="browser-tests",
                                       kind="receipt")
                _row, key = await create_api_key(session, name=f"web-{uuid.uuid4().hex[:6]}",
                                                 role="channel", channel="web")
        finally:
            await engine.dispose()
            config_service.invalidate()
    yield key


async def paid_by_card(server: DemoServer, key: str) -> dict[str, Any]:
    """Two notebooks shipped to Lyon (17,90 € with shipping), paid by a card that holds 1 000 €."""
    body = {
        "lines": [{"sku": NOTEBOOK, "quantity": 2}],
        "delivery": {"method": "ship", "address": {
            "name": "Inès Garnier", "line1": "8 quai Saint-Vincent", "postal_code": "69001",
            "city": "Lyon", "country": "FR"}},
        "customer": {"email": "ines.garnier@exemple.fr", "name": "Inès Garnier"},
        "payment": {"provider": "sandbox", "token": "tok_ok", "amount": 100000},
    }
    return await post_order(server, key, body)


async def test_a_manager_captures_part_of_an_authorization_then_refunds_an_amount(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await paid_by_card(demo_server, web_key)
    number = order["number"]
    assert order["totals"]["total"] == 1790
    await sign_in(page, MANAGER, f"/orders/{number}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Commande {number}")
    # Marks this page: a reload would lose it.
    await page.evaluate("() => { window.__samePage = true; }")

    money = page.get_by_role("region", name="Paiement")
    status = money.locator("[data-payment-status]")
    balance = money.locator('[data-amount="balance"] dd')
    # The sandbox authorizes through the server's outbox: the page hears it by itself.
    await expect(status).to_have_text(re.compile("^autorisé$", re.I), timeout=15_000)
    await expect(balance).to_have_text(f"0,00{EURO}")
    await expect(money.locator('[data-amount="outstanding"] dd')).to_have_text(f"17,90{EURO}")
    authorization = money.locator('.tx[data-kind="authorization"]')
    await expect(authorization).to_contain_text("Autorisation")
    # The card was offered for 1 000 €; what is authorized is the order's total.
    await expect(authorization).to_contain_text(f"17,90{EURO}")
    await expect(authorization).to_contain_text("Réussi")
    await expect(authorization).to_contain_text("Réf. sbx_auth_")
    await screenshot(page, "order-payment-authorized-fr")

    # "Débiter": the amount is what the authorization still holds; a bad amount is refused.
    await money.get_by_role("button", name="Débiter", exact=True).click()
    amount = money.get_by_label("Montant (€)")
    await expect(amount).to_have_value("17,90")
    await amount.fill("12,345")
    await money.get_by_role("button", name=re.compile("^Débiter")).last.click()
    await expect(money.get_by_role("alert")).to_contain_text("deux décimales au plus")
    await amount.fill("15")
    await money.get_by_role("button", name=f"Débiter 15,00{EURO}").click()
    await expect(status).to_have_text("Débité en partie", timeout=15_000)
    await expect(balance).to_have_text(f"15,00{EURO}")
    await expect(money.locator('[data-amount="captured"] dd')).to_have_text(f"15,00{EURO}")
    await expect(money.locator('[data-amount="outstanding"] dd')).to_have_text(f"2,90{EURO}")
    capture = money.locator('.tx[data-kind="capture"]')
    await expect(capture).to_have_attribute("data-status", "succeeded")
    await expect(capture).to_contain_text("Réf. sbx_cap_")

    # "Rembourser" an amount: the reason is required.
    await money.get_by_role("button", name="Rembourser", exact=True).click()
    await money.get_by_label("Un montant").check()
    await money.get_by_label("Montant (€)").fill("4")
    submit = money.locator("form").get_by_role("button", name=re.compile("^Rembourser"))
    await submit.click()
    await expect(money.get_by_role("alert")).to_have_text("Indiquez le motif du remboursement.")
    await money.get_by_label("Motif (obligatoire)").fill("Geste commercial : colis en retard")
    await submit.click()
    await expect(status).to_have_text("Remboursé en partie", timeout=15_000)
    await expect(balance).to_have_text(f"11,00{EURO}")
    refund = money.locator('.tx[data-kind="refund"]').filter(has_text="Geste commercial")
    await expect(refund).to_have_attribute("data-status", "succeeded")
    await expect(refund).to_contain_text(f"4,00{EURO}")
    await expect(refund).to_contain_text("Geste commercial : colis en retard")
    await screenshot(page, "order-payment-refunded-fr")

    # Once the provider answered, the form's "sent" note has said its part.
    await expect(money.locator(".outcome--done")).to_have_count(0)

    # By lines: one notebook (6,50 €), nothing invoiced yet, so no credit note.
    await money.get_by_role("button", name="Rembourser", exact=True).click()
    await money.get_by_label(f"Unités de {NOTEBOOK} à rembourser (sur 2)").fill("1")
    await money.get_by_label("Motif (obligatoire)").fill("Carnet abîmé")
    await submit.click()
    await expect(balance).to_have_text(f"4,50{EURO}", timeout=15_000)
    by_lines = money.locator('.tx[data-kind="refund"]').filter(has_text="Carnet abîmé")
    await expect(by_lines).to_contain_text(f"{NOTEBOOK} \N{MULTIPLICATION SIGN} 1")
    await expect(by_lines).to_contain_text(f"6,50{EURO}")

    # A refund the server refuses (one of the two notebooks was refunded already) says
    # why, in the catalogue's words, and changes nothing.
    await money.get_by_role("button", name="Rembourser", exact=True).click()
    await money.get_by_label(f"Unités de {NOTEBOOK} à rembourser (sur 2)").fill("2")
    await money.get_by_label("Motif (obligatoire)").fill("Colis perdu")
    await submit.click()
    await expect(money.get_by_role("alert")).to_have_text(
        "Ces unités ont déjà été remboursées.")
    await expect(balance).to_have_text(f"4,50{EURO}")
    await screenshot(page, "order-payment-refused-fr")

    assert await page.evaluate("() => window.__samePage === true")
    async with api_as(demo_server) as client:
        response = await client.get(f"/api/orders/{number}/payments")
        assert response.status_code == 200, response.text
        summary = response.json()["summary"]
    assert (summary["status"], summary["captured"], summary["refunded"], summary["balance"]) == (
        "partially_refunded", 1500, 1050, 450)


async def test_the_payment_section_speaks_english_too(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await paid_by_card(demo_server, web_key)
    await page.add_init_script("localStorage.setItem('comptoir.locale', 'en')")
    await sign_in(page, MANAGER, f"/orders/{order['number']}")
    money = page.get_by_role("region", name="Payment")
    await expect(money.locator("[data-payment-status]")).to_have_text("Authorised", timeout=15_000)
    await expect(money.locator('[data-amount="outstanding"] dt')).to_have_text("Outstanding")
    await expect(money.locator('[data-amount="outstanding"] dd')).to_have_text("€17.90")
    for name in ("Capture", "Release"):
        await expect(money.get_by_role("button", name=name, exact=True)).to_be_visible()
    await expect(money.get_by_role("button", name="Refund", exact=True)).to_have_count(0)
    await money.get_by_role("button", name="Release", exact=True).click()
    await expect(money.locator("form")).to_contain_text("Releases the €17.90")
