"""The API documentation at /schema in a real browser with no internet: it still draws the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import expect

from tests.browser.conftest import MANAGER, SignIn


async def test_the_api_documentation_renders_with_every_outside_request_cut_off(
    page: Any, sign_in: SignIn
) -> None:
    cut_off: list[str] = []

    async def only_this_machine(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            cut_off.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.context.route("**/*", only_this_machine)
    await sign_in(page, MANAGER)
    # The first request for the API document builds it: seconds on a busy two-core machine.
    built = await page.request.get("/schema/openapi.json", timeout=90_000)
    assert built.ok
    await page.goto("/schema", timeout=60_000)

    # Swagger UI draws one block per operation, with its method and path.
    operations = page.locator(".opblock")
    await expect(operations.first).to_be_visible()
    assert await operations.count() > 20
    orders = page.locator(".opblock-summary-path", has_text="/api/orders")
    await expect(orders.first).to_be_visible()
    await expect(page.locator(".info .title")).to_contain_text("Comptoir")
    assert cut_off == []
