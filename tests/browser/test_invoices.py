"""Invoices on a phone: a manager opens Invoices from the orders screen, sees the invoice of a
pickup order handed over at the counter appear by itself, finds it, opens it (seller with SIRET,
the VAT breakdown of a mixed basket) and downloads its PDF, whose text states the invoice number,
the VAT breakdown and the seller's SIRET; then credits a line with a reason and is told, in
French, when a second credit note would exceed what the invoice still holds."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
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
from tests.invoicing.conftest import COMPANY

STORE = "ST-LYON-01"
# A basket of two VAT rates: a book (5.5 % in France) and a candle (20 %).
BOOK = ("LIVRE-CUISINE-LYON", "Cuisine lyonnaise", _ean13("376012348001"), 2200, "super_reduced")
CANDLE = ("BOUGIE-CEDRE", "Bougie parfumée cèdre", _ean13("376012348002"), 1500, "standard")
REDUCED_BP = 550


@pytest.fixture(scope="module")
async def shop(demo_server: DemoServer) -> AsyncIterator[str]:
    """The company's legal details, French VAT for books, the two products in stock at the
    store and a web shop key; the company is removed afterwards (other tests issue nothing)."""
    from comptoir.auth.service import create_api_key
    from comptoir.catalog import service as catalog
    from comptoir.catalog.schemas import ProductIn, VariantIn
    from comptoir.config import service as config_service
    from comptoir.config.models import Company, TaxRate
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    settings = demo_server.settings
    with piccolo_bound_to(settings):
        await ensure_web_channel()
        await Company.delete(force=True)
        await Company(**COMPANY).save()
        if not await TaxRate.exists().where((TaxRate.country == "FR")
                                            & (TaxRate.tax_class == "super_reduced")):
            await TaxRate(country="FR", tax_class="super_reduced", rate_bp=REDUCED_BP,
                          name="TVA réduite").save()
        config_service.invalidate()
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                for sku, name, barcode, price, tax_class in (BOOK, CANDLE):
                    await catalog.create_product(session, ProductIn(name=name, variants=[
                        VariantIn(sku=sku, barcode=barcode, price=price,
                                  tax_class=tax_class)]), actor="browser-tests")
                    await inventory.adjust(session, sku=sku, location=STORE, delta=20,
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
        await Company.delete(force=True)
        config_service.invalidate()


async def handed_over_pickup(server: DemoServer, key: str) -> str:
    """A click-and-collect order of a book and a candle, picked, made ready and handed over
    at the counter with the customer's code, all through the API: its number."""
    body = {
        "lines": [{"sku": BOOK[0], "quantity": 1}, {"sku": CANDLE[0], "quantity": 2}],
        "delivery": {"method": "pickup", "location": STORE},
        "customer": {"email": "lea.martin@exemple.fr", "name": "Léa Martin"},
    }
    order = await post_order(server, key, body)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as customer:
        proof = await customer.post(f"/api/track/{order['tracking_token']}/proof",
                                    json={"answer": "lea.martin@exemple.fr"})
        assert proof.status_code == 200, proof.text
        code = proof.json()["pickup_code"]
    async with api_as(server) as client:
        queue = await client.get("/api/fulfillments",
                                 params={"location": STORE, "status": "new", "limit": 100})
        assert queue.status_code == 200, queue.text
        [work] = [f for f in queue.json()["items"] if f["order_number"] == order["number"]]
        for action in ("pick", "ready-for-pickup"):
            response = await client.post(f"/api/fulfillments/{work['id']}/{action}")
            assert response.status_code == 200, response.text
        response = await client.post(f"/api/fulfillments/{work['id']}/handover",
                                     json={"code": code})
        assert response.status_code == 200, response.text
    return str(order["number"])


async def pdf_text(pdf: Path) -> str:
    """What pdftotext (poppler) reads in the PDF, layout kept."""
    process = await asyncio.create_subprocess_exec(
        "pdftotext", "-layout", str(pdf), "-", stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode()


async def invoice_of(server: DemoServer, order_number: str) -> dict[str, Any]:
    async with api_as(server) as client:
        page = (await client.get("/api/invoices", params={"order": order_number})).json()
        [summary] = page["items"]
        return dict((await client.get(f"/api/invoices/{summary['number']}")).json())


async def test_a_manager_finds_the_invoice_of_a_handed_over_pickup_and_downloads_its_pdf(
    page: Any, sign_in: SignIn, demo_server: DemoServer, shop: str, tmp_path: Path,
) -> None:
    await sign_in(page, MANAGER, "/orders")
    # Invoices open from the orders screen (the bottom bar keeps its five entries).
    await page.get_by_role("link", name="Factures").click()
    await expect(page).to_have_url(re.compile(r"/invoices$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Factures")
    await expect(page.get_by_role("navigation").get_by_role("link", name="Commandes")
                 ).to_have_attribute("aria-current", "page")
    await page.wait_for_timeout(500)  # the live feed is subscribed

    # The customer collects the order at the store: its invoice appears without a reload.
    number = await handed_over_pickup(demo_server, shop)
    invoice = await invoice_of(demo_server, number)
    invoice_number = invoice["number"]
    assert re.fullmatch(r"FA-\d{4}-\d{6}", invoice_number)
    row = page.locator(f'.invoice-row[data-number="{invoice_number}"]')
    await expect(row).to_be_visible(timeout=10_000)
    await expect(row).to_contain_text(number)
    await expect(row).to_contain_text("Léa Martin")
    await expect(row).to_contain_text("Émise")
    await expect(row).to_contain_text("52,00\N{NO-BREAK SPACE}€")  # 22 € and twice 15 €
    await screenshot(page, "invoices-list-fr")

    # The search box finds it by its order's number.
    await page.get_by_label("Numéro, commande ou client").fill(number)
    await expect(page.locator(".invoice-row")).to_have_count(1)
    await row.click()

    await expect(page).to_have_url(re.compile(rf"/invoices/{invoice_number}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Facture {invoice_number}")
    await expect(page.locator('[data-legal="siret"]')).to_contain_text(COMPANY["siret"])
    await expect(page.locator('[data-party="seller"]')).to_contain_text(COMPANY["legal_name"])
    await expect(page.locator('[data-party="buyer"]')).to_contain_text("Léa Martin")
    rates = page.locator(".vat-table tbody tr")
    await expect(rates).to_have_count(2)
    await expect(rates.nth(0)).to_contain_text("20\N{NO-BREAK SPACE}%")
    await expect(rates.nth(1)).to_contain_text("5,5\N{NO-BREAK SPACE}%")
    await expect(page.locator('[data-amount="gross"]')).to_contain_text("52,00")
    await screenshot(page, "invoice-fr")

    # "Share" hands the PDF itself to the phone's share sheet (Chromium on Linux has none: the
    # page is given one that keeps what it receives).
    await page.evaluate("""() => {
        navigator.canShare = (data) => Array.isArray(data.files);
        navigator.share = async (data) => {
            window.__shared = {title: data.title, url: data.url || null,
                               files: (data.files || []).map((f) => [f.name, f.type, f.size])};
        };
    }""")
    await page.get_by_role("link", name="Commandes").first.click()  # the page is drawn anew
    await page.go_back()
    await page.get_by_role("button", name="Partager").click()
    shared = await (await page.wait_for_function("() => window.__shared")).json_value()
    assert shared["title"] == f"Facture {invoice_number}"
    [(name, kind, size)] = shared["files"]
    assert (name, kind) == (f"{invoice_number}.pdf", "application/pdf") and size > 1000

    # "Open PDF" links the document; the test downloads it with the page's own cookies.
    pdf_link = page.get_by_role("link", name="Ouvrir le PDF")
    href = await pdf_link.get_attribute("href")
    assert href == f"/api/invoices/{invoice_number}.pdf"
    response = await page.context.request.get(href)
    assert response.ok, await response.text()
    assert response.headers["content-type"].startswith("application/pdf")
    pdf = tmp_path / f"{invoice_number}.pdf"
    pdf.write_bytes(await response.body())
    text = await pdf_text(pdf)
    assert invoice_number in text
    assert COMPANY["siret"] in text or "123 456 782 00011" in text, text
    # The VAT breakdown: one row per rate, with the amounts of the invoice's statement.
    stated = {r["vat_rate_bp"]: r for r in invoice["statement"]["rates"]}
    assert set(stated) == {2000, REDUCED_BP}
    assert re.search(r"20([,.]0+)?\s?%", text), text
    assert re.search(r"5[,.]5\s?%", text), text
    for rate in stated.values():
        vat = f"{rate['vat'] // 100},{rate['vat'] % 100:02d}"
        assert vat in text, (vat, text)


async def test_a_manager_credits_a_line_and_is_told_when_a_credit_note_would_exceed_the_invoice(
    page: Any, sign_in: SignIn, demo_server: DemoServer, shop: str,
) -> None:
    number = await handed_over_pickup(demo_server, shop)
    invoice_number = (await invoice_of(demo_server, number))["number"]
    await sign_in(page, MANAGER, f"/orders/{number}")
    # The order's page lists its invoice.
    documents = page.locator(".order-invoices")
    await expect(documents).to_contain_text(f"Facture {invoice_number}")
    await documents.get_by_role("button", name="Émettre la facture").click()
    await expect(documents.get_by_role("alert")).to_have_text(
        "Tout ce qui est parti pour cette commande est déjà facturé.")
    await documents.get_by_role("link", name=re.compile(invoice_number)).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Facture {invoice_number}")

    await page.get_by_role("button", name="Émettre un avoir").click()
    form = page.locator("form.credit-form")
    await form.get_by_label("Des lignes, des unités ou les frais de port").check()
    await form.get_by_label("Unités de Bougie parfumée cèdre à créditer (sur 2)").fill("2")
    await form.get_by_role("button", name="Émettre l'avoir").click()
    await expect(form.get_by_role("alert")).to_have_text("Indiquez le motif de l'avoir.")
    await form.get_by_label("Motif (obligatoire)").fill("Bougies cassées au retrait")
    await form.get_by_role("button", name="Émettre l'avoir").click()
    issued = page.locator(".outcome--done")
    await expect(issued).to_contain_text("Avoir émis")
    await expect(page.locator(".badge").first).to_have_text("Avoir partiel")
    await expect(page.locator(".document .list .row[data-number^='AV-']")).to_have_count(1)

    # The same candles again: more than the invoice still holds, refused in the server's words.
    await form.get_by_label("Unités de Bougie parfumée cèdre à créditer (sur 2)").fill("1")
    await form.get_by_label("Motif (obligatoire)").fill("Encore")
    await form.get_by_role("button", name="Émettre l'avoir").click()
    await expect(form.get_by_role("alert")).to_have_text(
        "L'avoir dépasse ce que la facture contient encore, après ses avoirs précédents.")
    await screenshot(page, "invoice-credit-refused-fr")
    async with api_as(demo_server) as client:
        notes = (await client.get("/api/credit-notes", params={"order": number})).json()
        assert [n["reason"] for n in notes["items"]] == ["Bougies cassées au retrait"]


async def test_offline_the_invoices_already_seen_stay_readable(
    context: Any, page: Any, sign_in: SignIn, demo_server: DemoServer, shop: str,
) -> None:
    number = await handed_over_pickup(demo_server, shop)
    invoice_number = (await invoice_of(demo_server, number))["number"]
    await sign_in(page, MANAGER, "/invoices")
    # The service worker controls the page: the app shell is on the phone.
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    row = page.locator(f'.invoice-row[data-number="{invoice_number}"]')
    await expect(row).to_be_visible()

    await context.set_offline(True)
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Factures")
    await expect(page.get_by_text(
        "Pas de réseau : les factures telles que vues sur ce téléphone.")).to_be_visible()
    await expect(row).to_be_visible()
    await expect(row).to_contain_text(number)
    await screenshot(page, "invoices-offline-fr")
    await context.set_offline(False)
