"""Store pickup on a phone: an associate takes a pickup order from the queue (where it appears
live) through picking and "ready", refuses a wrong code, then hands it over by scanning the
customer's QR code with the camera (Chromium's fake camera films the QR code of the tracking
page; without a native BarcodeDetector the app's lazily loaded reader decodes it)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import segno
from playwright.async_api import expect

from tests.browser.conftest import (
    ASSOCIATE,
    MANAGER,
    DemoServer,
    FilmingBrowser,
    SignIn,
    _ean13,
    api_as,
    ensure_web_channel,
    new_phone,
    post_order,
    screenshot,
)

STORE = ASSOCIATE.location or "ST-LYON-01"
# A product of these tests only, in stock at the associate's store.
CANDLE_SKU = "BOUGIE-FIGUE"
CANDLE_NAME = "Bougie parfumée figue"
CANDLE_BARCODE = _ean13("376012347001")


@pytest.fixture(scope="module")
async def web_key(demo_server: DemoServer) -> AsyncIterator[str]:
    """The web shop's channel, an API key for it, and candles in stock at the store."""
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
                await catalog.create_product(session, ProductIn(name=CANDLE_NAME, variants=[
                    VariantIn(sku=CANDLE_SKU, barcode=CANDLE_BARCODE, price=1890)]),
                    actor="browser-tests")
                await inventory.adjust(session, sku=CANDLE_SKU, location=STORE, delta=20,
                                       reason="opening stock", actor="browser-tests",
                                       kind="receipt")
                _row, key = await create_api_key(session, name=f"web-{uuid.uuid4().hex[:6]}",
                                                 role="channel", channel="web")
        finally:
            await engine.dispose()
            config_service.invalidate()
    yield key


async def capture_pickup(server: DemoServer, key: str, quantity: int = 2) -> dict[str, Any]:
    """A click-and-collect order from the web shop, to be picked up at the associate's store."""
    body = {
        "lines": [{"sku": CANDLE_SKU, "quantity": quantity}],
        "delivery": {"method": "pickup", "location": STORE},
        "customer": {"email": "lea.martin@exemple.fr", "name": "Léa Martin"},
    }
    return await post_order(server, key, body)


async def pickup_code(server: DemoServer, tracking_token: str) -> str:
    """The code the customer's tracking page shows (and puts in its QR code), once the
    customer proved it is them with the order's e-mail."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        response = await client.post(f"/api/track/{tracking_token}/proof",
                                     json={"answer": "lea.martin@exemple.fr"})
        assert response.status_code == 200, response.text
        code = response.json()["pickup_code"]
        assert code
        return str(code)


def qr_video(text: str, path: Path, width: int = 640, height: int = 480) -> Path:
    """A Y4M clip of a phone screen showing ``text`` as the tracking page's QR code."""
    qr = segno.make(text, error="m", micro=False)  # as tracking.service.qr_svg makes it
    quiet = 4
    modules = [bytes(row) for row in qr.matrix]
    size = len(modules) + 2 * quiet
    scale = min(width, height) * 3 // 4 // size
    left, top = (width - size * scale) // 2, (height - size * scale) // 2
    luma = bytearray(b"\xff" * (width * height))
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if not dark:
                continue
            for dy in range(scale):
                start = (top + (y + quiet) * scale + dy) * width + left + (x + quiet) * scale
                luma[start:start + scale] = b"\x00" * scale
    chroma = b"\x80" * (width // 2 * height // 2) * 2
    frame = b"FRAME\n" + bytes(luma) + chroma
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 2)
    return path


async def fulfillment(server: DemoServer, fulfillment_id: str) -> dict[str, Any]:
    async with api_as(server) as client:
        response = await client.get(f"/api/fulfillments/{fulfillment_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


async def order_events(server: DemoServer, number: str) -> list[str]:
    async with api_as(server) as client:
        response = await client.get(f"/api/orders/{number}/events")
        assert response.status_code == 200, response.text
        return [event["type"] for event in response.json()]


async def test_an_associate_takes_a_pickup_from_the_queue_to_handover_by_scanning_its_qr_code(
    demo_server: DemoServer, web_key: str, browser_filming: FilmingBrowser, sign_in: SignIn,
    tmp_path: Path,
) -> None:
    # The camera's clip is filmed once the order exists: Chromium opens it when the camera
    # starts, not at launch.
    clip = tmp_path / "customer-qr.y4m"
    browser = await browser_filming(clip)
    context = await new_phone(browser, demo_server)
    try:
        await context.grant_permissions(["camera"])
        page = await context.new_page()
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        await sign_in(page, ASSOCIATE, "/")

        # The Store entry of the bottom bar opens the store's queue.
        await page.get_by_role("navigation").get_by_role("link", name="Magasin").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(f"Magasin · {STORE}")
        to_pick = page.locator('[data-group="toPick"]')
        await expect(to_pick.get_by_role("heading")).to_contain_text("À préparer")
        await page.wait_for_timeout(500)  # the live feed is subscribed

        # A customer orders online to collect at this store: the order appears by itself.
        order = await capture_pickup(demo_server, web_key)
        number = order["number"]
        row = to_pick.locator(f'[data-number="{number}"]')
        await expect(row).to_be_visible(timeout=5_000)
        await expect(row).to_contain_text("2 article(s)")
        await screenshot(page, "store-queue-fr")
        await row.click()

        await expect(page).to_have_url(re.compile(r"/store/work/[0-9a-f-]+$"))
        fulfillment_id = page.url.rsplit("/", 1)[1]
        await expect(page.get_by_role("heading", level=1)).to_have_text(f"Retrait {number}")
        line = page.locator(f'.pick-line[data-sku="{CANDLE_SKU}"]')
        await expect(line).to_contain_text("0 / 2")
        ready = page.get_by_role("button", name="Prête à retirer")
        await expect(ready).to_be_disabled()

        # A handheld scanner types the first candle's barcode and presses Enter…
        field = page.get_by_label("Code-barres de l'article (scanner ou taper, puis Entrée)")
        await field.fill(CANDLE_BARCODE)
        await field.press("Enter")
        await expect(line).to_contain_text("1 / 2")
        await expect(page.locator(".work-status")).to_have_text("En préparation")
        # …a code that is not on the list is said so and counts nothing…
        await field.fill("3760000000007")
        await field.press("Enter")
        await expect(page.locator(".outcome--refused")).to_contain_text(
            "3760000000007 n'est pas sur cette liste de préparation.")
        await expect(line).to_contain_text("1 / 2")
        # …and the second candle is counted with a tap.
        await line.get_by_role("button").tap()
        await expect(line).to_contain_text("2 / 2")
        await expect(page.get_by_text("Tout est pris.")).to_be_visible()
        await screenshot(page, "store-picked-fr")

        await ready.tap()
        await expect(page.locator(".work-status")).to_have_text("Prête à retirer")
        await expect(page.locator(".work-outcome .outcome--done")).to_have_text(
            "Prête à retirer : le client est prévenu.")
        assert (await fulfillment(demo_server, fulfillment_id))["status"] == "ready_for_pickup"

        # A wrong code typed at the counter is refused (the phone checks it against the
        # parcel's code hash, in the server's words) and changes nothing.
        code_field = page.get_by_label("Code de retrait")
        await code_field.fill("ZZZZ99")
        await page.get_by_role("button", name="Remettre avec ce code").tap()
        await expect(page.locator(".work-outcome .outcome--refused")).to_have_text(
            "Ce code de retrait ne correspond pas à la commande : vérifiez-le avec le client, "
            "ou demandez à un responsable de remettre sans le code.")
        await expect(page.locator(".work-status")).to_have_text("Prête à retirer")
        await screenshot(page, "store-wrong-code-fr")
        after_refusal = await fulfillment(demo_server, fulfillment_id)
        assert after_refusal["status"] == "ready_for_pickup"
        assert after_refusal["handed_over_at"] is None
        assert "fulfillment.handed_over" not in await order_events(demo_server, number)

        # The customer shows the QR code of their tracking page; the camera reads it.
        qr_video(await pickup_code(demo_server, order["tracking_token"]), clip)
        native = await page.evaluate("() => 'BarcodeDetector' in window")
        await page.get_by_role("button", name="Scanner le QR code du client").tap()
        await expect(page.get_by_role("dialog")).to_contain_text("Scanner le QR code du client")

        await expect(page.locator(".finished")).to_contain_text("Remise au client à",
                                                                  timeout=20_000)
        await expect(page.get_by_role("dialog")).to_have_count(0)
        await expect(page.locator(".work-status")).to_have_text("Remise au client")
        await screenshot(page, "store-handed-over-fr")
        if not native:  # Chromium on Linux: the fallback reader did the work
            assert any("ponyfill" in url for url in fetched)
            assert any(url.endswith(".wasm") for url in fetched)

        handed = await fulfillment(demo_server, fulfillment_id)
        assert handed["status"] == "handed_over"
        assert handed["handed_over_at"] is not None
        assert (await order_events(demo_server, number)).count("fulfillment.handed_over") == 1
        async with api_as(demo_server) as client:
            assert (await client.get(f"/api/orders/{number}")).json()["status"] == "completed"

        # Back in the queue, it is among today's collected orders.
        await page.get_by_role("link", name="Magasin").first.click()
        await expect(page.locator(f'[data-group="collected"] [data-number="{number}"]')
                     ).to_be_visible()
        await expect(page.locator(f'[data-group="ready"] [data-number="{number}"]')
                     ).to_have_count(0)
    finally:
        await context.close()


async def ready_at_the_counter(server: DemoServer, key: str, quantity: int = 1) -> tuple[
    dict[str, Any], str, str
]:
    """A pickup order already picked and waiting at the counter: (order, fulfillment id, code)."""
    order = await capture_pickup(server, key, quantity=quantity)
    async with api_as(server) as client:
        queue = await client.get("/api/fulfillments",
                                 params={"location": STORE, "status": "new", "limit": 100})
        assert queue.status_code == 200, queue.text
        [work] = [f for f in queue.json()["items"] if f["order_number"] == order["number"]]
        for action in ("pick", "ready-for-pickup"):
            response = await client.post(f"/api/fulfillments/{work['id']}/{action}")
            assert response.status_code == 200, response.text
    return order, str(work["id"]), await pickup_code(server, order["tracking_token"])


WRONG_CODE_FR = ("Ce code de retrait ne correspond pas à la commande : vérifiez-le avec le "
                 "client, ou demandez à un responsable de remettre sans le code.")
WRONG_CODE_EN = ("This pickup code does not match the order; check it with the customer, or "
                 "ask a manager to override.")


async def outbox_actions(page: Any) -> list[dict[str, Any]]:
    """What the phone keeps in its outbox (IndexedDB), oldest first: kind, subject, status."""
    return list(await page.evaluate("""() => new Promise((resolve, reject) => {
        const opening = indexedDB.open("comptoir");
        opening.onerror = () => reject(opening.error);
        opening.onsuccess = () => {
            const all = opening.result.transaction("outbox").objectStore("outbox").getAll();
            all.onerror = () => reject(all.error);
            all.onsuccess = () => resolve(all.result
                .sort((a, b) => a.createdAt - b.createdAt)
                .map((e) => ({kind: e.kind, subject: e.subject, status: e.status,
                              body: e.request.body})));
        };
    })"""))


def wrong_code_for(code: str) -> str:
    return "".join("A" if c != "A" else "B" for c in code)


async def test_offline_a_wrong_code_is_refused_at_the_counter_and_only_the_right_one_is_queued(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order, work_id, code = await ready_at_the_counter(demo_server, web_key)
    await sign_in(page, ASSOCIATE, f"/store/work/{work_id}")
    await expect(page.locator(".work-status")).to_have_text("Prête à retirer")

    await context.set_offline(True)
    # A wrong code: refused on the phone, as the server refuses it, and nothing is queued.
    field = page.get_by_label("Code de retrait")
    await field.fill(wrong_code_for(code))
    await field.press("Enter")
    await expect(page.locator(".work-outcome .outcome--refused")).to_have_text(WRONG_CODE_FR)
    await expect(page.locator(".work-status")).to_have_text("Prête à retirer")
    await expect(page.locator(".finished")).to_have_count(0)
    assert await outbox_actions(page) == []

    # A handheld scanner reads the customer's QR code into the field and presses Enter.
    await field.fill(code)
    await field.press("Enter")
    await expect(page.locator(".work-outcome .outcome--queued")).to_have_text(
        "Pas de réseau : gardé sur ce téléphone, et envoyé au retour du réseau.")
    await expect(page.locator(".finished")).to_have_text(
        "Remise au client sur ce téléphone : envoyé au retour du réseau.")
    queued = page.locator(".action").filter(has_text=f"Remettre {order['number']}")
    await expect(queued).to_have_attribute("data-status", "pending")
    assert [(a["kind"], a["status"], a["body"]["code"]) for a in await outbox_actions(page)
            ] == [("fulfillment.handover", "pending", code)]
    assert (await fulfillment(demo_server, work_id))["status"] == "ready_for_pickup"

    await context.set_offline(False)
    await expect(page.locator(".finished")).to_contain_text("Remise au client à", timeout=20_000)
    await expect(page.locator(".work-status")).to_have_text("Remise au client")
    assert (await fulfillment(demo_server, work_id))["status"] == "handed_over"
    assert (await order_events(demo_server, order["number"])).count(
        "fulfillment.handed_over") == 1


@pytest.fixture
async def id_check_above(demo_server: DemoServer, web_key: str) -> AsyncIterator[Any]:
    """``await id_check_above(amount)``: the web channel's ID-check amount, for one test."""
    from comptoir.config import service as config_service
    from comptoir.config.models import SalesChannel
    from comptoir.db.migrate import piccolo_bound_to

    async def set_amount(amount: int | None) -> None:
        with piccolo_bound_to(demo_server.settings):
            await SalesChannel.update({SalesChannel.id_check_above: amount}).where(
                SalesChannel.code == "web")
            config_service.invalidate()

    yield set_amount
    await set_amount(None)


async def test_offline_above_the_channels_amount_the_counter_asks_for_an_id_check_in_english(
    browser: Any, demo_server: DemoServer, web_key: str, sign_in: SignIn,
    id_check_above: Any,
) -> None:
    await id_check_above(5000)  # 50.00 EUR: three candles are more, the other tests' fewer
    order, work_id, code = await ready_at_the_counter(demo_server, web_key, quantity=3)
    deadline = time.monotonic() + 30  # the server reads its configuration every few seconds
    while not (await fulfillment(demo_server, work_id))["id_check_required"]:
        assert time.monotonic() < deadline, "the server never asked for an ID check"
        await asyncio.sleep(0.5)

    context = await new_phone(browser, demo_server, locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in(page, ASSOCIATE, f"/store/work/{work_id}")
        await expect(page.locator(".work-status")).to_have_text("Ready for pickup")
        await expect(page.get_by_text(
            "A high-value order: ask the customer for an ID before handing it over.")
        ).to_be_visible()

        await context.set_offline(True)
        field = page.get_by_label("Pickup code")
        await field.fill(code)
        await field.press("Enter")  # the right code, but no ID check yet
        refused = page.locator(".work-outcome .outcome--refused")
        await expect(refused).to_have_text(
            "Check the customer's ID before handing over this order (its amount asks for "
            "it), then tick the box.")
        await screenshot(page, "store-id-check-en")
        await page.get_by_label("I checked the customer's ID").check()
        await field.fill(wrong_code_for(code))
        await field.press("Enter")
        await expect(refused).to_have_text(WRONG_CODE_EN)
        assert await outbox_actions(page) == []

        await field.fill(code)
        await field.press("Enter")
        await expect(page.locator(".finished")).to_have_text(
            "Handed over on this phone: sent when the network returns.")
        [queued] = await outbox_actions(page)
        assert queued["body"]["id_checked"] is True

        await context.set_offline(False)
        await expect(page.locator(".finished")).to_contain_text("Handed over at",
                                                                  timeout=20_000)
        assert (await fulfillment(demo_server, work_id))["status"] == "handed_over"
        async with api_as(demo_server) as client:
            events = (await client.get(f"/api/orders/{order['number']}/events")).json()
        [handed] = [e for e in events if e["type"] == "fulfillment.handed_over"]
        assert handed["data"]["id_checked"] is True
    finally:
        await context.close()


async def test_a_handover_taken_offline_is_refused_plainly_when_the_order_was_cancelled_meanwhile(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order, work_id, code = await ready_at_the_counter(demo_server, web_key)
    number = order["number"]
    await sign_in(page, ASSOCIATE, f"/store/work/{work_id}")
    await expect(page.locator(".work-status")).to_have_text("Prête à retirer")

    await context.set_offline(True)
    await page.get_by_label("Code de retrait").fill(code)
    await page.get_by_role("button", name="Remettre avec ce code").tap()
    await expect(page.locator(".work-outcome .outcome--queued")).to_be_visible()
    # Meanwhile, the head office cancels the order.
    async with api_as(demo_server) as client:
        response = await client.post(f"/api/orders/{number}/cancel",
                                     json={"reason": "Demande de la cliente"})
        assert response.status_code == 200, response.text

    await context.set_offline(False)
    await expect(page.locator(".work-outcome .outcome--refused")).to_have_text(
        f"Refusé : la commande {number} est annulée entre-temps. Rien n'a été fait ; "
        "ne la remettez pas.", timeout=20_000)
    await expect(page.locator(".action").filter(has_text=f"Remettre {number}")
                 ).to_have_attribute("data-status", "failed")
    await expect(page.locator(".work-status")).not_to_have_text("Remise au client")
    assert "fulfillment.handed_over" not in await order_events(demo_server, number)
    async with api_as(demo_server) as client:
        assert (await client.get(f"/api/orders/{number}")).json()["status"] == "cancelled"


async def test_a_manager_chooses_the_store_whose_queue_to_see(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order, _work_id, _code = await ready_at_the_counter(demo_server, web_key)
    await sign_in(page, MANAGER, "/store")
    await expect(page.get_by_text("Choisissez un magasin pour voir son travail.")).to_be_visible()
    await page.get_by_label("Magasin affiché").select_option(STORE)
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Magasin · {STORE}")
    row = page.locator(f'[data-group="ready"] [data-number="{order["number"]}"]')
    await expect(row).to_be_visible()
    # The choice stays on this phone.
    await page.reload()
    await expect(row).to_be_visible()


async def test_an_item_not_found_on_the_shelf_is_rejected_with_its_reason(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str
) -> None:
    order = await capture_pickup(demo_server, web_key, quantity=2)
    number = order["number"]
    await sign_in(page, ASSOCIATE, "/store")
    row = page.locator(f'[data-group="toPick"] [data-number="{number}"]')
    await row.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Retrait {number}")
    fulfillment_id = page.url.rsplit("/", 1)[1]

    await page.get_by_role("button", name="Un article manque ou est abîmé…").tap()
    form = page.locator("form.reject-form")
    await form.get_by_role("button", name="Retirer ces unités").tap()
    await expect(form.get_by_role("alert")).to_have_text(
        "Indiquez combien d'unités ce magasin ne peut pas fournir.")
    await form.get_by_label(f"Unités de {CANDLE_NAME} (jusqu'à 2)").fill("1")
    await form.get_by_label("Introuvable").check()
    await form.get_by_role("button", name="Retirer ces unités").tap()
    await expect(page.locator(".work-outcome .outcome--done")).to_have_text(
        "Unités retirées du travail de ce magasin.")

    work = await fulfillment(demo_server, fulfillment_id)
    [line] = work["lines"]
    assert (line["quantity"], line["rejected_quantity"]) == (1, 1)
    async with api_as(demo_server) as client:
        events = (await client.get(f"/api/orders/{number}/events")).json()
    [rejected] = [e for e in events if e["type"] == "fulfillment.rejected"]
    assert rejected["data"]["reason"] == "not_found", rejected
    await expect(page.locator(f'.pick-line[data-sku="{CANDLE_SKU}"]')).to_contain_text("0 / 1")
