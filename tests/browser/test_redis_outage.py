"""Redis stops answering while someone works in the app: it says it is reconnecting (never
"signed out"), keeps their screen, and carries on by itself when Redis answers again."""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from comptoir.settings import load_settings
from tests.browser.conftest import (
    MANAGER,
    REPO,
    DemoServer,
    _environment,
    _seed,
    new_phone,
    sign_in_on_screen,
)
from tests.conftest import ADMIN_DATABASE_URL, IS_POSTGRES
from tests.support import RedisServer, free_port, own_database, stop_process, wait_ready

RECONNECTING = "Reconnexion…"
BACK_WITHIN_MS = 40_000  # the app asks again after 2 s, 4 s, 8 s…


@dataclass
class ServerOnOwnRedis:
    server: DemoServer
    redis: RedisServer


@pytest.fixture
async def on_own_redis(
    built_pwa: Path, chromium_path: str, tmp_path: Path
) -> AsyncIterator[ServerOnOwnRedis]:
    """``comptoir serve`` on a seeded database of its own, with a Redis the test controls."""
    from comptoir.db.migrate import migrate

    redis = RedisServer(tmp_path)
    await redis.start()
    async with own_database(tmp_path, "outage",
                            ADMIN_DATABASE_URL if IS_POSTGRES else None) as database_url:
        settings = load_settings({
            "COMPTOIR_DATABASE_URL": database_url,
            "COMPTOIR_VAR_DIR": str(tmp_path / "var"),
            "COMPTOIR_REDIS_URL": redis.url,
            "COMPTOIR_REDIS_PREFIX": f"comptoir-outage-{secrets.token_hex(4)}",
        })
        await migrate(settings)
        port = free_port()
        log = tmp_path / "server.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "comptoir", "serve", "--no-migrate",
                "--host", "127.0.0.1", "--port", str(port),
                cwd=REPO, env=_environment(settings), stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        server = DemoServer(url=f"http://127.0.0.1:{port}", settings=settings, process=process,
                            log=log, accounts={"manager": MANAGER})
        try:
            await _seed(settings)
            await wait_ready(server.url, process, server.log_tail)
            yield ServerOnOwnRedis(server=server, redis=redis)
        finally:
            await stop_process(process)
            await redis.kill()


async def test_a_hung_redis_shows_reconnecting_not_signed_out_and_the_app_carries_on(
    browser: Any, on_own_redis: ServerOnOwnRedis
) -> None:
    context = await new_phone(browser, on_own_redis.server)
    try:
        page = await context.new_page()
        await sign_in_on_screen(page, MANAGER)

        on_own_redis.redis.pause()
        try:
            await page.get_by_role("link", name="Stock").click()
            await expect(page.get_by_role("status").filter(has_text=RECONNECTING)).to_be_visible()
            # Still the person's app, not the sign-in screen.
            await expect(page.locator(".topbar__name")).to_have_text(MANAGER.username)
            await expect(page.locator("input[name=password]")).to_have_count(0)
        finally:
            on_own_redis.redis.resume()

        await expect(page.get_by_role("status").filter(has_text=RECONNECTING)).to_have_count(
            0, timeout=BACK_WITHIN_MS)
        await expect(page.locator(".topbar__name")).to_have_text(MANAGER.username)
        await expect(page.get_by_label("Produit, SKU ou code-barres")).to_be_visible()
    finally:
        await context.close()
