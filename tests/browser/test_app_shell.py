"""The app in a real browser: signing in, both languages, installable, a small first page."""

from __future__ import annotations

import asyncio
import gzip
import itertools
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import (
    ASSOCIATE,
    MANAGER,
    DemoServer,
    SignIn,
    screenshot,
    sign_in_on_screen,
)

FIRST_ROUTE_BUDGET = 50 * 1024  # gzip bytes of JavaScript the first page may load


async def test_manager_signs_in_and_sees_their_name(page: Any) -> None:
    await sign_in_on_screen(page, MANAGER)

    await expect(page.locator(".topbar__name")).to_have_text(MANAGER.username)
    await expect(page.locator("h1")).to_have_text(f"Bonjour, {MANAGER.username}")
    await screenshot(page, "home-manager-fr")


async def test_wrong_password_is_refused_in_the_persons_language(page: Any) -> None:
    await page.goto("/")
    await page.locator("input[name=username]").fill(MANAGER.username)
    await page.locator("input[name=password]").fill("not-the-password")
    await page.locator("form button[type=submit]").click()

    await expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    await expect(page.locator(".topbar__name")).to_have_count(0)


async def test_french_and_english_both_render_and_the_switch_is_kept(
    page: Any, sign_in: SignIn
) -> None:
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.get_by_role("button", name="Se connecter")).to_be_visible()

    await sign_in(page, ASSOCIATE)
    await page.get_by_role("link", name="Stock").click()
    await expect(page.get_by_label("Produit, SKU ou code-barres")).to_be_visible()
    await screenshot(page, "stock-search-fr")

    await page.get_by_role("link", name="Compte").click()
    await page.get_by_role("radio", name="English").check()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Account")
    await expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()
    await page.get_by_role("link", name="Stock").click()
    await expect(page.get_by_label("Product, SKU or barcode")).to_be_visible()

    await page.reload()
    await expect(page.get_by_label("Product, SKU or barcode")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "en")


async def test_the_app_is_installable(persistent_context: Any) -> None:
    page = persistent_context.pages[0] if persistent_context.pages else (
        await persistent_context.new_page())
    await page.goto("/")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    cdp = await persistent_context.new_cdp_session(page)

    # Chromium fetches the manifest and icons in the background: ask until it has looked.
    errors: list[dict[str, Any]] = []
    for _ in range(50):
        errors = (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"]
        if not errors:
            break
        await asyncio.sleep(0.2)
    assert errors == []


async def test_first_page_loads_at_most_50_kb_of_javascript(
    context: Any, demo_server: DemoServer
) -> None:
    page = await context.new_page()
    scripts: dict[str, bytes] = {}

    async def keep_script(response: Any) -> None:
        if response.request.resource_type == "script" and response.url.startswith(demo_server.url):
            scripts[response.url] = await response.body()

    page.on("response", keep_script)
    await page.goto("/")
    await page.locator("input[name=username]").wait_for()
    await page.wait_for_load_state("networkidle")

    total = sum(len(gzip.compress(body, 9)) for body in scripts.values())
    assert scripts, "the first page loaded no script"
    assert total <= FIRST_ROUTE_BUDGET, f"{total} bytes gzip: {sorted(scripts)}"
    # Later screens are their own chunks, loaded when opened.
    assert not any("StockSearch" in url or "SkuPage" in url for url in scripts)


# Each label of the bottom bar: the box of its text, how many lines it takes, and whether
# its text is cut (an ellipsis hides letters).
_LABELS = """nav => [...nav.querySelectorAll('.bottomnav__item')].map(item => {
  const label = item.querySelector('span');
  const range = document.createRange();
  range.selectNodeContents(label);
  const text = range.getBoundingClientRect();
  const box = item.getBoundingClientRect();
  return {
    text: label.textContent,
    lines: new Set([...range.getClientRects()].map(r => Math.round(r.top))).size,
    cut: label.scrollWidth > label.clientWidth, natural: label.scrollWidth,
    left: text.left, right: text.right, itemLeft: box.left, itemRight: box.right,
    width: box.width, height: box.height,
  };
})"""


async def test_the_french_bottom_bar_fits_a_390_px_phone(page: Any, sign_in: SignIn) -> None:
    await sign_in(page, MANAGER)  # a manager sees every entry: five, the account in the top bar
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert page.viewport_size == {"width": 390, "height": 844}
    nav = page.get_by_role("navigation", name="Navigation principale")
    await expect(nav.locator(".bottomnav__item")).to_have_count(5)
    await expect(page.locator(".topbar").get_by_role("link", name="Compte")).to_be_visible()

    labels = await nav.evaluate(_LABELS)

    assert [label["text"] for label in labels] == [
        "Accueil", "Activité", "Magasin", "Commandes", "Stock"]
    for label in labels:
        assert label["lines"] == 1, f"{label['text']} wraps"
        assert not label["cut"], f"{label['text']} is cut: {label}"
        # Inside its own entry, which is a comfortable target for a thumb.
        assert label["itemLeft"] <= label["left"] and label["right"] <= label["itemRight"], label
        assert label["width"] >= 44 and label["height"] >= 44, label
    for before, after in itertools.pairwise(labels):
        assert before["right"] <= after["left"], f"{before['text']} touches {after['text']}"
        assert before["itemRight"] <= after["itemLeft"] + 0.5, (before, after)
    await screenshot(page, "bottom-bar-fr-390")
