"""Orders in the app: new orders appear live, the order page follows changes made elsewhere,
and a hold taken without network is applied exactly once when the network returns."""

from __future__ import annotations

import itertools
import re
import time
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

_customers = itertools.count(1)
# Notebooks the stock tests do not look at the reservations of (6,50 € each).
NOTEBOOK = "CARNET-00"
OTHER_NOTEBOOK = "CARNET-01"
# A notebook only the dashboard's stock-out test stocks.
SPARE_NOTEBOOK = "CARNET-30"


@pytest.fixture(scope="module")
async def web_key(demo_server: DemoServer) -> AsyncIterator[str]:
    """The web shop's channel (with its VAT and shipping rates), an API key for it, and
    notebooks in stock for its orders."""
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
                for sku in (NOTEBOOK, OTHER_NOTEBOOK):
                    await inventory.adjust(session, sku=sku, location="WH-PARIS", delta=100,
                                           reason="opening stock", actor="browser-tests",
                                           kind="receipt")
                _row, key = await create_api_key(session, name=f"web-{uuid.uuid4().hex[:6]}",
                                                 role="channel", channel="web")
        finally:
            await engine.dispose()
            config_service.invalidate()
    yield key


async def capture(server: DemoServer, key: str, sku: str = NOTEBOOK) -> dict[str, Any]:
    """An order from the web shop, as its server would send it."""
    n = next(_customers)
    body = {
        "lines": [{"sku": sku, "quantity": 1}],
        "delivery": {"method": "ship", "address": {
            "name": f"Client {n}", "line1": "3 rue des Tanneurs", "postal_code": "69001",
            "city": "Lyon", "country": "FR"}},
        "customer": {"email": f"client{n}@exemple.fr", "name": f"Client Navigateur {n}"},
    }
    return await post_order(server, key, body)


async def test_a_captured_order_appears_in_the_open_orders_list_within_a_second(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    await capture(demo_server, web_key)  # the channel is known before the clock starts
    await sign_in(page, MANAGER, "/orders")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Commandes")
    await expect(page.get_by_label("Statut")).to_have_value("open")
    await expect(page.locator(".order-row").first).to_be_visible()
    # The live feed is connected before the order is captured.
    await page.wait_for_function("() => document.querySelectorAll('.order-row').length > 0")
    await page.wait_for_timeout(300)

    started = time.monotonic()
    order = await capture(demo_server, web_key, OTHER_NOTEBOOK)
    row = page.locator(f'.order-row[data-number="{order["number"]}"]')
    await expect(row).to_be_visible(timeout=1_000)
    assert time.monotonic() - started < 1.5
    await expect(page.locator(".order-row").first).to_have_attribute("data-number", order["number"])
    # 6,50 € of notebook and 4,90 € of shipping, from minor units, the French way.
    assert order["totals"]["total"] == 1140
    await expect(row.locator(".order-row__total")).to_contain_text("11,40")
    await expect(row.locator(".badge")).to_have_text("Confirmée")
    await screenshot(page, "orders-live-fr")


async def test_the_order_page_changes_when_another_session_cancels_the_order(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    number = order["number"]
    await sign_in(page, MANAGER, f"/orders/{number}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Commande {number}")
    badge = page.locator(".order-head .badge")
    await expect(badge).to_have_text("Confirmée")
    await expect(page.locator(".line")).to_contain_text(NOTEBOOK)

    async with api_as(demo_server) as client:
        response = await client.post(f"/api/orders/{number}/cancel",
                                     json={"reason": "Rupture chez le fournisseur"})
        assert response.status_code == 200, response.text

    await expect(badge).to_have_text("Annulée", timeout=3_000)
    await expect(page.locator('.timeline__event[data-type="order.cancelled"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Annuler…")).to_have_count(0)
    await screenshot(page, "order-cancelled-fr")


async def test_a_refused_action_shows_the_servers_reason(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    number = order["number"]
    await sign_in(page, MANAGER, f"/orders/{number}")
    await page.get_by_role("button", name="Mettre en attente").click()
    # Meanwhile, someone else holds it: the page's hold is now an illegal move.
    async with api_as(demo_server) as client:
        response = await client.post(f"/api/orders/{number}/hold",
                                     json={"reason": "suspected_fraud"})
        assert response.status_code == 200, response.text
    await page.locator("form.order-form").get_by_role("button", name="Mettre en attente").click()
    await expect(page.locator(".outcome--refused")).to_be_visible()
    assert await page.locator(".outcome--refused").inner_text()


async def test_a_hold_taken_offline_is_applied_once_when_the_network_returns(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    number = order["number"]
    await sign_in(page, MANAGER, f"/orders/{number}")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    await expect(page.locator(".order-head .badge")).to_have_text("Confirmée")

    await context.set_offline(True)
    await page.get_by_role("button", name="Mettre en attente").click()
    form = page.locator("form.order-form")
    await form.get_by_label("Motif").select_option("address_check")
    await form.get_by_role("button", name="Mettre en attente").click()
    await expect(page.locator(".outcome--queued")).to_have_text(
        "Pas de réseau : gardé sur ce téléphone, et envoyé au retour du réseau.")
    queued = page.locator(".action").filter(has_text=f"Mise en attente de {number}")
    await expect(queued).to_have_attribute("data-status", "pending")
    async with api_as(demo_server) as client:
        assert (await client.get(f"/api/orders/{number}")).json()["status"] == "confirmed"

    await context.set_offline(False)
    await expect(queued).to_have_attribute("data-status", "sent", timeout=20_000)
    await expect(page.locator(".order-head .badge")).to_have_text("En attente", timeout=5_000)

    async with api_as(demo_server) as client:
        events = (await client.get(f"/api/orders/{number}/events")).json()
        assert [e["type"] for e in events].count("order.held") == 1
        assert (await client.get(f"/api/orders/{number}")).json()["hold"]["reason"] == \
            "address_check"


async def test_without_network_the_orders_list_shows_the_orders_last_seen(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    await sign_in(page, MANAGER, "/orders")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    row = page.locator(f'.order-row[data-number="{order["number"]}"]')
    await expect(row).to_be_visible()

    await context.set_offline(True)
    await page.reload()

    await expect(page.locator(".banner--offline")).to_be_visible()
    await expect(row).to_be_visible()
    await expect(page.locator(".notice--stale")).to_contain_text(
        "Pas de réseau : les commandes telles que vues sur ce téléphone.")
    await context.set_offline(False)


async def test_the_dashboard_counts_todays_orders_and_shows_a_new_hold_live(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    await sign_in(page, MANAGER, "/dashboard")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aujourd'hui")
    count = page.locator('[data-card="orders-today"] .card__value')
    await expect(count).not_to_have_text("0")
    before = int(await count.inner_text())
    held = page.locator(f'.order-row[data-number="{order["number"]}"]')
    await expect(held).to_have_count(0)

    await capture(demo_server, web_key)
    async with api_as(demo_server) as client:
        response = await client.post(f"/api/orders/{order['number']}/hold",
                                     json={"reason": "customer_request"})
        assert response.status_code == 200, response.text

    await expect(count).to_have_text(str(before + 1), timeout=3_000)
    await expect(held).to_be_visible(timeout=3_000)
    await expect(held.locator(".badge")).to_have_text("En attente")


async def test_the_orders_screens_speak_english_too(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    await page.add_init_script("localStorage.setItem('comptoir.locale', 'en')")
    await sign_in(page, MANAGER, f"/orders/{order['number']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order['number']}")
    await expect(page.locator(".order-head .badge")).to_have_text("Confirmed")
    await expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    await page.get_by_role("link", name="Orders").first.click()
    await expect(page.get_by_label("Status")).to_have_value("open")


async def test_a_manager_changes_a_quantity_and_the_address(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    number = order["number"]
    await sign_in(page, MANAGER, f"/orders/{number}")
    await page.get_by_role("button", name="Modifier").click()
    form = page.locator("form.order-form--edit")
    await form.get_by_label(f"Quantité de {NOTEBOOK}").fill("2")
    await form.get_by_label("Ville", exact=True).fill("Villeurbanne")
    await form.get_by_label("Code postal").fill("69100")
    await form.get_by_role("button", name="Enregistrer les modifications").click()

    await expect(page.locator(".outcome--done")).to_have_text("C'est fait.")
    await expect(page.locator(f'.line[data-sku="{NOTEBOOK}"]')).to_contain_text("Quantité : 2")
    async with api_as(demo_server) as client:
        now = (await client.get(f"/api/orders/{number}")).json()
    assert now["lines"][0]["quantity"] == 2
    assert now["delivery"]["address"]["city"] == "Villeurbanne"
    assert now["version"] > order["version"]


async def test_the_dashboard_shows_orders_held_for_stock_and_stock_outs_live(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    async with api_as(demo_server) as client:
        response = await client.post("/api/inventory/adjustments", json={
            "sku": SPARE_NOTEBOOK, "location": "WH-PARIS", "delta": 1, "kind": "receipt",
            "reason": "browser tests"})
        assert response.status_code == 201, response.text
    await sign_in(page, MANAGER, "/dashboard")
    short = page.locator('[aria-labelledby="dashboard-short"] '
                         f'.order-row[data-number="{order["number"]}"]')
    out = page.locator(f'.stock-out[data-sku="{SPARE_NOTEBOOK}"][data-location="WH-PARIS"]')
    await expect(page.get_by_role("heading", name=re.compile("Ruptures de stock"))).to_be_visible()
    await expect(short).to_have_count(0)
    await expect(out).to_have_count(0)
    await page.wait_for_timeout(300)  # the live feed is connected

    async with api_as(demo_server) as client:
        response = await client.post(f"/api/orders/{order['number']}/hold",
                                     json={"reason": "stock_problem"})
        assert response.status_code == 200, response.text
        response = await client.post("/api/inventory/adjustments", json={
            "sku": SPARE_NOTEBOOK, "location": "WH-PARIS", "delta": -1, "reason": "casse"})
        assert response.status_code == 201, response.text
    await expect(short).to_be_visible(timeout=3_000)
    await expect(out).to_be_visible(timeout=3_000)
    await expect(out).to_contain_text("WH-PARIS : 0 en stock, 0 réservé(s)")

    async with api_as(demo_server) as client:
        response = await client.post("/api/inventory/adjustments", json={
            "sku": SPARE_NOTEBOOK, "location": "WH-PARIS", "delta": 5, "kind": "receipt",
            "reason": "browser tests"})
        assert response.status_code == 201, response.text
    await expect(out).to_have_count(0, timeout=3_000)
    await screenshot(page, "dashboard-fr")


async def test_a_manager_sees_where_routing_sent_the_order_and_why(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    number = order["number"]
    [location] = {a["location"] for line in order["lines"] for a in line["allocations"]}
    async with api_as(demo_server) as client:
        [decision] = (await client.get(f"/api/routing/decisions/{number}")).json()
    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_in(page, MANAGER, f"/orders/{number}")

    await expect(page.get_by_role("heading", name="Acheminement")).to_be_visible()
    reason = page.locator(".decision__reason")
    # In French on a French phone: the reason's code said from the PWA's catalogue.
    await expect(reason).to_contain_text("avec tous les articles")
    await expect(reason).not_to_have_text(decision["reason"])
    await expect(reason).to_contain_text(location)
    chosen = page.locator(f'.candidate[data-code="{location}"]')
    await expect(chosen).to_have_attribute("data-outcome", "chosen")
    await expect(chosen.locator(".candidate__outcome")).to_have_text("Choisi")
    # A long list starts short: the winner and its closest rivals.
    assert await page.locator(".candidate").count() <= 3
    await screenshot(page, "order-routing-fr")

    # In English, the PWA says word for word what the server says.
    await page.evaluate("localStorage.setItem('comptoir.locale', 'en')")
    await page.reload()
    await expect(reason).to_have_text(decision["reason"])
    await expect(reason).to_contain_text(location)
    [winner] = [c for c in decision["candidates"] if c["code"] == location]
    await expect(chosen.locator(".candidate__reason")).to_have_text(winner["reason"])

async def test_the_order_page_reads_in_french_with_every_amount_tax_included(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture(demo_server, web_key)
    number = order["number"]
    async with api_as(demo_server) as client:
        response = await client.post(f"/api/orders/{number}/notes", json={"text": "Client rappelé"})
        assert response.status_code == 200, response.text
    # The API keeps net subtotal and shipping; a manager reads prices tax included.
    assert (order["totals"]["subtotal"], order["totals"]["shipping"]) == (542, 408)

    await sign_in(page, MANAGER, f"/orders/{number}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Commande {number}")

    amounts = page.locator(".totals")
    await expect(page.locator(".line [data-line-total]")).to_have_text("6,50\N{NO-BREAK SPACE}€")
    for name, label, value in [("goods", r"Articles TTC", "6,50"),
                               ("shipping", r"Livraison TTC", "4,90"),
                               ("total", r"Total TTC", "11,40"),
                               ("vat", r"dont TVA \(20\s?%\)", "1,90"),
                               ("excl-tax", r"Total HT", "9,50")]:
        row = amounts.locator(f'[data-amount="{name}"]')
        await expect(row.locator("dt")).to_have_text(re.compile(f"^{label}$"))
        await expect(row.locator("dd")).to_have_text(f"{value}\N{NO-BREAK SPACE}€")
    await expect(amounts).not_to_contain_text("4,08")

    # The history in words: what happened, and who did it, never a raw key.
    captured = page.locator('.timeline__event[data-type="order.captured"]')
    await expect(captured.locator(".timeline__what")).to_have_text("Commande reçue")
    await expect(captured.locator(".timeline__who")).to_have_text(
        re.compile(r"^Boutique en ligne \(clé API « web-\w+ »\)$"))
    note = page.locator('.timeline__event[data-type="order.note_added"]')
    await expect(note.locator(".timeline__note")).to_have_text("Client rappelé")
    await expect(note.locator(".timeline__who")).to_have_text(MANAGER.username)
    timeline = page.locator(".timeline")
    for raw in ("order.captured", "key:", "staff:"):
        await expect(timeline).not_to_contain_text(raw)
    await screenshot(page, "order-amounts-timeline-fr")
