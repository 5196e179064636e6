"""Catalog and stock in a real browser: search, scan, stock per location, adjust and count."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import (
    ASSOCIATE,
    DELTA_LABEL,
    FILLER_PRODUCTS,
    MANAGER,
    MUG,
    SCANNED,
    TEE,
    TOTE,
    DemoServer,
    SignIn,
    api_as,
    on_hand,
    screenshot,
)
from tests.browser.test_orders import capture, web_key  # noqa: F401 (the web shop's key)

# A notebook only this file's live-reservation test orders.
ORDERED_NOTEBOOK = "CARNET-31"


def stock_cell(page: Any, location: str, column: str) -> Any:
    return page.locator(f'tr[data-location="{location}"] td[data-col="{column}"]')


async def test_a_handheld_scanners_enter_opens_the_sku_with_its_stock_per_location(
    page: Any, sign_in: SignIn, demo_server: DemoServer
) -> None:
    await sign_in(page, MANAGER)
    await page.get_by_role("link", name="Stock").click()

    # A handheld scanner types the barcode into the focused field and presses Enter.
    search = page.get_by_label("Produit, SKU ou code-barres")
    await search.fill(TEE.barcode)
    await search.press("Enter")

    await expect(page).to_have_url(re.compile(f"/stock/{TEE.sku}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(TEE.name)
    for location in TEE.stock:
        expected = await on_hand(demo_server, TEE.sku, location)
        await expect(stock_cell(page, location, "on_hand")).to_have_text(str(expected))
        await expect(stock_cell(page, location, "reserved")).to_have_text("0")
    await expect(page.get_by_role("row", name=re.compile("Entrepôt Paris Nord"))).to_be_visible()
    await screenshot(page, "sku-manager-fr")


async def test_search_by_name_loads_more_products_as_the_list_scrolls(
    page: Any, sign_in: SignIn
) -> None:
    await sign_in(page, MANAGER, "/stock")
    await page.get_by_label("Produit, SKU ou code-barres").fill("carnet")

    rows = page.locator("ul.list a.row")
    await expect(rows).to_have_count(30)
    await rows.last.scroll_into_view_if_needed()
    await expect(rows).to_have_count(FILLER_PRODUCTS)
    await expect(page.get_by_text("Tous les produits sont affichés.")).to_be_visible()


async def test_an_unknown_code_says_so_instead_of_opening_anything(
    page: Any, sign_in: SignIn
) -> None:
    await sign_in(page, ASSOCIATE, "/stock")
    search = page.get_by_label("Produit, SKU ou code-barres")
    await search.fill("0000000000000")
    await search.press("Enter")

    await expect(page.get_by_role("alert")).to_have_text("Aucun SKU n'a le code « 0000000000000 ».")
    await expect(page).to_have_url(re.compile("/stock$"))


async def test_associate_adjusts_stock_at_their_own_store_and_nowhere_else(
    page: Any, sign_in: SignIn, demo_server: DemoServer
) -> None:
    before = await on_hand(demo_server, TOTE.sku, "ST-LYON-01")
    await sign_in(page, ASSOCIATE, f"/stock/{TOTE.sku}")

    form = page.locator("form.change")
    await expect(form.get_by_text("Comptoir Lyon Presqu'île")).to_be_visible()
    await expect(form.locator("select")).to_have_count(0)  # no other location to choose
    await form.get_by_role("button", name="Une de moins").click()
    await form.get_by_label("Motif").fill("Abîmé")
    await form.get_by_role("button", name="Enregistrer l'ajustement").click()

    await expect(form.get_by_role("status")).to_have_text(
        f"Enregistré : {before - 1} en stock à Comptoir Lyon Presqu'île.")
    await expect(stock_cell(page, "ST-LYON-01", "on_hand")).to_have_text(str(before - 1))
    assert await on_hand(demo_server, TOTE.sku, "ST-LYON-01") == before - 1
    await screenshot(page, "sku-associate-adjusted-fr")


async def test_a_count_records_what_is_on_the_shelf(
    page: Any, sign_in: SignIn, demo_server: DemoServer
) -> None:
    await sign_in(page, MANAGER, f"/stock/{MUG.sku}")
    form = page.locator("form.change")
    await form.get_by_role("radio", name="Compter").check()
    await form.get_by_label("Site").select_option("WH-PARIS")
    await form.get_by_label("Unités comptées").fill("27")
    await form.get_by_role("button", name="Enregistrer le comptage").click()

    await expect(form.get_by_role("status")).to_have_text(
        "Enregistré : 27 en stock à Entrepôt Paris Nord.")
    assert await on_hand(demo_server, MUG.sku, "WH-PARIS") == 27


async def test_a_refused_adjustment_shows_the_servers_reason_and_changes_nothing(
    page: Any, sign_in: SignIn, demo_server: DemoServer
) -> None:
    before = await on_hand(demo_server, TOTE.sku, "WH-PARIS")
    await sign_in(page, MANAGER, f"/stock/{TOTE.sku}")
    form = page.locator("form.change")
    await form.get_by_label("Site").select_option("WH-PARIS")
    await form.get_by_label(DELTA_LABEL).fill(f"-{before + 100}")
    await form.get_by_label("Motif").fill("Manquant")
    await form.get_by_role("button", name="Enregistrer l'ajustement").click()

    await expect(form.get_by_role("alert")).to_have_text(
        f"Le stock en rayon est de {before} : retirer autant le rendrait négatif.")
    assert await on_hand(demo_server, TOTE.sku, "WH-PARIS") == before
    # Said in the form, so not left in the list of actions to send as well.
    await expect(page.locator(".banner--refused")).to_have_count(0)


async def test_the_form_asks_for_a_reason_before_sending_anything(
    page: Any, sign_in: SignIn, demo_server: DemoServer
) -> None:
    before = await on_hand(demo_server, TOTE.sku, "WH-PARIS")
    await sign_in(page, MANAGER, f"/stock/{TOTE.sku}")
    form = page.locator("form.change")
    await form.get_by_role("button", name="Une de plus").click()
    await form.get_by_role("button", name="Enregistrer l'ajustement").click()

    reason = form.get_by_label("Motif")
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_text("Indiquez pourquoi le stock change.")).to_be_visible()
    assert await on_hand(demo_server, TOTE.sku, "WH-PARIS") == before


async def test_scanning_a_barcode_with_the_camera_opens_its_sku(
    context: Any, page: Any, sign_in: SignIn
) -> None:
    await context.grant_permissions(["camera"])
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    await sign_in(page, ASSOCIATE)
    await page.get_by_role("link", name="Stock").click()
    await expect(page.get_by_label("Produit, SKU ou code-barres")).to_be_visible()
    native = await page.evaluate("() => 'BarcodeDetector' in window")
    # The barcode reader is not part of the stock screen: it comes when the scanner opens.
    assert not any("ponyfill" in url or url.endswith(".wasm") for url in fetched)

    await page.get_by_role("button", name="Scanner un code-barres avec l'appareil photo").click()

    await expect(page).to_have_url(re.compile(f"/stock/{SCANNED.sku}$"), timeout=15_000)
    await expect(page.get_by_role("heading", level=1)).to_have_text(SCANNED.name)
    await expect(page.get_by_role("dialog")).to_have_count(0)
    if not native:
        assert any("ponyfill" in url for url in fetched)
        wasm = [url for url in fetched if url.endswith(".wasm")]
        assert wasm and all(url.startswith(page.url.split("/stock")[0]) for url in wasm)


async def _adjust(server: DemoServer, sku: str, location: str, delta: int) -> None:
    async with api_as(server) as client:
        response = await client.post("/api/inventory/adjustments", json={
            "sku": sku, "location": location, "delta": delta, "reason": "browser tests"})
        assert response.status_code == 201, response.text


async def test_the_sku_page_and_the_search_follow_stock_changed_elsewhere(
    page: Any, sign_in: SignIn, demo_server: DemoServer
) -> None:
    before = await on_hand(demo_server, MUG.sku, "WH-PARIS")
    await sign_in(page, MANAGER, f"/stock/{MUG.sku}")
    cell = stock_cell(page, "WH-PARIS", "on_hand")
    await expect(cell).to_have_text(str(before))
    await page.wait_for_timeout(300)  # the live feed is connected

    await _adjust(demo_server, MUG.sku, "WH-PARIS", 2)  # someone receives two mugs elsewhere
    await expect(cell).to_have_text(str(before + 2), timeout=3_000)
    await expect(stock_cell(page, "WH-PARIS", "available")).to_have_text(str(before + 2))

    await page.get_by_role("link", name="Stock").first.click()
    await page.get_by_label("Produit, SKU ou code-barres").fill("mug")
    line = page.locator("a.row").filter(has_text=MUG.sku).locator(".stock-line")
    await expect(line).to_have_text(f"Disponible : {before + 2}")
    await page.wait_for_timeout(300)
    await _adjust(demo_server, MUG.sku, "WH-PARIS", -2)
    await expect(line).to_have_text(f"Disponible : {before}", timeout=3_000)


async def test_available_drops_live_when_an_order_elsewhere_reserves_the_sku(
    page: Any, sign_in: SignIn, demo_server: DemoServer, web_key: str,  # noqa: F811
) -> None:
    # An associate of another store: they get the stock, not the order behind it.
    await _adjust(demo_server, ORDERED_NOTEBOOK, "WH-PARIS", 5)
    shelf = await on_hand(demo_server, ORDERED_NOTEBOOK, "WH-PARIS")
    await sign_in(page, ASSOCIATE, f"/stock/{ORDERED_NOTEBOOK}")
    available = stock_cell(page, "WH-PARIS", "available")
    await expect(available).to_have_text(str(shelf))
    await page.wait_for_timeout(300)  # the live feed is connected

    await capture(demo_server, web_key, ORDERED_NOTEBOOK)  # the web shop sells one
    await expect(available).to_have_text(str(shelf - 1), timeout=3_000)
    await expect(stock_cell(page, "WH-PARIS", "reserved")).to_have_text("1")
    await expect(stock_cell(page, "WH-PARIS", "on_hand")).to_have_text(str(shelf))

    await page.get_by_role("link", name="Stock").first.click()
    await page.get_by_label("Produit, SKU ou code-barres").fill(ORDERED_NOTEBOOK)
    line = page.locator("a.row").filter(has_text=ORDERED_NOTEBOOK).locator(".stock-line")
    await expect(line).to_have_text(f"Disponible : {shelf - 1}")
    await page.wait_for_timeout(300)
    await capture(demo_server, web_key, ORDERED_NOTEBOOK)
    await expect(line).to_have_text(f"Disponible : {shelf - 2}", timeout=3_000)
