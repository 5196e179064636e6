"""The fraud review queue on a phone (issue 13): two captures that score over the web shop's
threshold are held as suspected fraud and appear in the manager's "À vérifier" queue within a
second, with their score and reasons; one tap approves the first (it leaves the queue and is no
longer on hold), one tap rejects the second (it is cancelled and its stock is back)."""

from __future__ import annotations

import asyncio
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
    PHONE,
    DemoServer,
    SignIn,
    _ean13,
    api_as,
    ensure_web_channel,
    post_order,
    screenshot,
)

WAREHOUSE = "WH-PARIS"
# A watch only this module sells: its stock says what a rejection gives back.
WATCH = ("MONTRE-ACIER-FRAUDE", "Montre acier", _ean13("376012349001"), 24900)
OPENING_STOCK = 10
# Orders scoring more than this are held (the web shop's threshold, for this module only).
THRESHOLD = 50
# Customers of this domain trip the watch list (60 points); an order over 200 € adds 30.
WATCHED_DOMAIN = "fraude-essai.example"
WATCHED_POINTS = 60
AMOUNT_OVER = 20000
AMOUNT_POINTS = 30

_customers = itertools.count(1)


@pytest.fixture(scope="module")
async def fraud_shop(demo_server: DemoServer) -> AsyncIterator[str]:
    """The web shop screens its orders: a threshold and two of its own rules (a watched e-mail
    domain, an amount), the watch in stock, and an API key for the shop. Other modules' orders
    trip neither enough to be held; the rules and the threshold are removed afterwards."""
    from comptoir.auth.service import create_api_key
    from comptoir.catalog import service as catalog
    from comptoir.catalog.schemas import ProductIn, VariantIn
    from comptoir.config import service as config_service
    from comptoir.config.models import FraudRule, SalesChannel
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    settings = demo_server.settings
    with piccolo_bound_to(settings):
        await ensure_web_channel()
        web = await SalesChannel.objects().get(SalesChannel.code == "web")
        assert web is not None
        await SalesChannel.update({SalesChannel.fraud_threshold: THRESHOLD}).where(
            SalesChannel.id == web.id)
        rules = [
            FraudRule(channel=web.id, kind="watched_email_domain", points=WATCHED_POINTS,
                      values=WATCHED_DOMAIN),
            FraudRule(channel=web.id, kind="amount_over", points=AMOUNT_POINTS,
                      amount=AMOUNT_OVER),
        ]
        for rule in rules:
            await rule.save()
        config_service.invalidate()
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                sku, name, barcode, price = WATCH
                await catalog.create_product(session, ProductIn(name=name, variants=[
                    VariantIn(sku=sku, barcode=barcode, price=price)]), actor="browser-tests")
                await inventory.adjust(session, sku=sku, location=WAREHOUSE, delta=OPENING_STOCK,
                                       reason="opening stock", actor="browser-tests",
                                       kind="receipt")
                _row, key = await create_api_key(session, name=f"web-{uuid.uuid4().hex[:6]}",
                                                 role="channel", channel="web")
        finally:
            await engine.dispose()
            config_service.invalidate()
    # The server reads its configuration through a cache of a few seconds.
    await asyncio.sleep(config_service.CACHE_SECONDS + 0.5)
    yield key
    with piccolo_bound_to(settings):
        for rule in rules:
            await FraudRule.delete().where(FraudRule.id == rule.id)
        await SalesChannel.update({SalesChannel.fraud_threshold: None}).where(
            SalesChannel.id == web.id)
        config_service.invalidate()
    await asyncio.sleep(config_service.CACHE_SECONDS + 0.5)


async def suspicious_capture(server: DemoServer, key: str) -> dict[str, Any]:
    """A watch for a customer of the watched domain: 90 points, over the threshold of 50."""
    n = next(_customers)
    body = {
        "lines": [{"sku": WATCH[0], "quantity": 1}],
        "delivery": {"method": "ship", "address": {
            "name": f"Client Douteux {n}", "line1": "9 quai Perrache", "postal_code": "69002",
            "city": "Lyon", "country": "FR"}},
        "customer": {"email": f"douteux{n}@{WATCHED_DOMAIN}", "name": f"Client Douteux {n}"},
    }
    return await post_order(server, key, body)


async def available(server: DemoServer, sku: str, location: str) -> int:
    async with api_as(server) as client:
        response = await client.get("/api/inventory", params={"sku": sku, "location": location})
        assert response.status_code == 200, response.text
        [level] = response.json()["items"]
        return int(level["available"])


async def order_now(server: DemoServer, number: str) -> dict[str, Any]:
    async with api_as(server) as client:
        response = await client.get(f"/api/orders/{number}")
        assert response.status_code == 200, response.text
        return dict(response.json())


async def test_a_manager_approves_one_held_capture_and_rejects_another_on_a_phone(
    page: Any, sign_in: SignIn, demo_server: DemoServer, fraud_shop: str,
) -> None:
    assert page.viewport_size == PHONE  # 390 by 844
    await sign_in(page, MANAGER, "/reviews")
    await expect(page.get_by_role("heading", level=1)).to_have_text("À vérifier")
    # The queue is read (empty) and the live feed is subscribed before the captures.
    await expect(page.get_by_text("Rien à vérifier")).to_be_visible()
    await page.wait_for_timeout(500)
    stock_before = await available(demo_server, WATCH[0], WAREHOUSE)

    cards = []
    for _ in range(2):
        started = time.monotonic()
        order = await suspicious_capture(demo_server, fraud_shop)
        assert order["status"] == "on_hold", order
        card = page.locator(f'.review-card[data-number="{order["number"]}"]')
        await expect(card).to_be_visible(timeout=1_000)
        assert time.monotonic() - started < 1.5
        cards.append((order, card))
    (approved, approve_card), (rejected, reject_card) = cards
    # Held, each still keeps its watch.
    assert await available(demo_server, WATCH[0], WAREHOUSE) == stock_before - 2
    # Newest first; the count on the top bar says how many wait.
    await expect(page.locator(".review-card").first).to_have_attribute(
        "data-number", rejected["number"])
    await expect(page.locator(".topbar .nav-badge")).to_have_text("2")

    # Its score against the threshold, and why, in French; the customer's history.
    for _order, card in cards:
        await expect(card.locator(".fraud-score")).to_have_attribute(
            "data-score", str(WATCHED_POINTS + AMOUNT_POINTS))
        await expect(card.locator(".fraud-score")).to_contain_text(f"seuil {THRESHOLD}")
        reasons = card.locator(".fraud-reasons li")
        await expect(reasons).to_have_count(2)
        # The heaviest first.
        await expect(reasons.nth(0)).to_contain_text(f"+{WATCHED_POINTS}")
        await expect(reasons.nth(0)).to_contain_text(WATCHED_DOMAIN)
        await expect(reasons.nth(1)).to_contain_text(f"+{AMOUNT_POINTS}")
        await expect(reasons.nth(1)).to_contain_text("249,00")
        await expect(card.locator(".review-card__total")).to_contain_text("249,00")
        await expect(card.locator(".review-card__history")).to_be_visible()
    # Both decisions within a thumb's reach: comfortable targets on the phone's width.
    for button in (approve_card.get_by_role("button", name="Approuver"),
                   approve_card.get_by_role("button", name="Refuser")):
        box = await button.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 120, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    await screenshot(page, "fraud-review-fr-390")

    # One tap approves: the card leaves, the order is no longer on hold.
    await approve_card.get_by_role("button", name="Approuver").click()
    await expect(approve_card).to_have_count(0)
    await expect(page.get_by_role("status").filter(has_text=re.compile(
        f"{approved['number']} approuvée"))).to_be_visible()
    await expect(page.locator(".topbar .nav-badge")).to_have_text("1")
    now = await order_now(demo_server, approved["number"])
    assert now["status"] != "on_hold" and now["status"] != "cancelled", now["status"]

    # One tap rejects: the card leaves, the order is cancelled, its watch is for sale again.
    await reject_card.get_by_role("button", name="Refuser").click()
    await expect(reject_card).to_have_count(0)
    await expect(page.get_by_text("Rien à vérifier")).to_be_visible()
    await expect(page.locator(".topbar .nav-badge")).to_have_count(0)
    now = await order_now(demo_server, rejected["number"])
    assert now["status"] == "cancelled", now["status"]
    # The rejected order's unit is back; the approved one keeps its own.
    assert await available(demo_server, WATCH[0], WAREHOUSE) == stock_before - 1

    # The order page shows the score and the reasons too.
    await page.goto(f"/orders/{approved['number']}")
    section = page.locator("[data-fraud]")
    await expect(section).to_contain_text("Contrôle anti-fraude")
    await expect(section.locator(".fraud-reasons li")).to_have_count(2)
    await screenshot(page, "fraud-order-fr-390")


async def test_an_approval_taken_without_network_waits_in_the_outbox_then_is_applied_once(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer, fraud_shop: str,
) -> None:
    order = await suspicious_capture(demo_server, fraud_shop)
    number = order["number"]
    await sign_in(page, MANAGER, "/reviews")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    card = page.locator(f'.review-card[data-number="{number}"]')
    await expect(card).to_be_visible()

    await context.set_offline(True)
    await card.get_by_role("button", name="Approuver").click()
    # The card leaves at once; the decision waits on the phone, in sight.
    await expect(card).to_have_count(0)
    await expect(page.get_by_role("status").filter(has_text=f"{number} : pas de réseau")
                 ).to_be_visible()
    queued = page.locator(".action").filter(has_text=f"Approbation de {number}")
    await expect(queued).to_have_attribute("data-status", "pending")
    assert (await order_now(demo_server, number))["status"] == "on_hold"
    await screenshot(page, "fraud-review-offline-fr-390")

    await context.set_offline(False)
    # Sent when the network returns (it then leaves the list of decisions to send).
    await expect(queued).to_have_count(0, timeout=20_000)
    await expect(card).to_have_count(0)
    now = await order_now(demo_server, number)
    assert now["status"] != "on_hold", now["status"]
    async with api_as(demo_server) as client:
        events = (await client.get(f"/api/orders/{number}/events")).json()
    assert [e["type"] for e in events].count("order.released") == 1


async def test_an_offline_approval_of_an_order_rejected_meanwhile_is_shown_refused(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer, fraud_shop: str,
) -> None:
    order = await suspicious_capture(demo_server, fraud_shop)
    number = order["number"]
    await sign_in(page, MANAGER, "/reviews")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    card = page.locator(f'.review-card[data-number="{number}"]')
    await expect(card).to_be_visible()

    await context.set_offline(True)
    await card.get_by_role("button", name="Approuver").click()
    queued = page.locator(".action").filter(has_text=f"Approbation de {number}")
    await expect(queued).to_have_attribute("data-status", "pending")
    # Meanwhile another manager rejects it.
    async with api_as(demo_server) as client:
        response = await client.post(f"/api/orders/{number}/reject",
                                     json={"reason": "Carte signalée volée"})
        assert response.status_code == 200, response.text

    await context.set_offline(False)
    # The approval is refused, and says why, in French; the order stays cancelled.
    await expect(queued).to_have_attribute("data-status", "failed", timeout=20_000)
    await expect(queued).to_contain_text("pas en attente pour suspicion de fraude")
    await expect(card).to_have_count(0)
    assert (await order_now(demo_server, number))["status"] == "cancelled"
    await screenshot(page, "fraud-review-conflict-fr-390")
