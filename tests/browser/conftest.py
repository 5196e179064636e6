"""Browser tests: a real ``comptoir serve`` on a database of its own, seen through Chromium.

One server and one browser for these tests, stopped after the last of them (each test gets a
fresh browser context: its own cookies, storage and service worker). The server's database is a
new SQLite file, or a new PostgreSQL database when the test run is on PostgreSQL, migrated and
loaded with a small shop through the services, and removed at the end.

Chromium is the one of Debian's ``chromium`` package (``make test`` installs it when it can);
without it these tests skip and say so, except in CI (``CI=true``) where they fail.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from comptoir.settings import Settings, load_settings
from comptoir.web.spa import DIST_DIR
from tests.conftest import ADMIN_DATABASE_URL, IS_POSTGRES, REDIS_URL
from tests.support import drop_redis_keys, free_port, own_database, stop_process, wait_ready

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BROWSER_TESTS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
# A mid-range phone held in one hand.
PHONE = {"width": 390, "height": 844}
# Set to a folder to keep a screenshot of the screens the tests visit (for a person to look at).
SCREENSHOTS = os.environ.get("BROWSER_TESTS_SCREENSHOTS")

# A shared CI machine has two cores and runs the suite twice: give the browser time.
expect.set_options(timeout=10_000)

PASSWORD = "browser-tests-42"
# The adjustment field's label, with its typographic minus sign.
DELTA_LABEL = "Unités à ajouter (+) ou retirer (\N{MINUS SIGN})"


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    location: str | None = None


MANAGER = Account("camille", "manager")
ASSOCIATE = Account("yanis", "associate", "ST-LYON-01")


@dataclass(frozen=True)
class Sku:
    sku: str
    barcode: str
    name: str
    stock: dict[str, int]


def _ean13(first12: str) -> str:
    odd = sum(int(d) for d in first12[0::2])
    even = sum(int(d) for d in first12[1::2])
    return first12 + str((10 - (odd + 3 * even) % 10) % 10)


# EAN-13 barcodes (valid check digit), in the GS1 France range.
TEE = Sku("TEE-BIO-NOIR-M", _ean13("376012345001"), "T-shirt coton bio noir — M",
          {"WH-PARIS": 12, "ST-LYON-01": 4})
TEE_L = Sku("TEE-BIO-NOIR-L", _ean13("376012345002"), "T-shirt coton bio noir — L",
            {"WH-PARIS": 7, "ST-LYON-01": 2})
MUG = Sku("MUG-EMAIL-BLANC", _ean13("376012345003"), "Mug émaillé blanc", {"WH-PARIS": 30})
TOTE = Sku("TOTE-NATUREL", _ean13("376012345004"), "Tote bag naturel",
           {"WH-PARIS": 20, "ST-LYON-01": 6})
# What the fake camera films.
SCANNED = TOTE
# Enough more products for the list to need a second page.
FILLER_PRODUCTS = 36


@dataclass
class DemoServer:
    url: str
    settings: Settings
    process: asyncio.subprocess.Process
    log: Path
    accounts: dict[str, Account] = field(default_factory=dict)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Importing Piccolo's configuration on PostgreSQL asks the server for its version on the
    # run's own test database, which these tests never create (they make their own).
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.filterwarnings("ignore:.*Unable to fetch server version"))


def _unavailable(reason: str) -> None:
    """Skip with the reason; in CI, where browser tests must run, fail instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


async def _seed(settings: Settings) -> None:
    """A warehouse and a store, a manager and an associate, products with stock: services only."""
    from comptoir.auth.service import create_staff
    from comptoir.catalog import service as catalog
    from comptoir.catalog.schemas import ProductIn, VariantIn
    from comptoir.config import service as config_service
    from comptoir.config.models import Location
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    with piccolo_bound_to(settings):
        config_service.invalidate()
        await Location(code="WH-PARIS", name="Entrepôt Paris Nord", kind="warehouse",
                       city="Saint-Denis", latitude=48.93, longitude=2.36, ships=True,
                       serves_pickups=False).save()
        await Location(code="ST-LYON-01", name="Comptoir Lyon Presqu'île", kind="store",
                       city="Lyon", latitude=45.76, longitude=4.83, ships=True,
                       serves_pickups=True, pickup_hold_days=5).save()
        for account in (MANAGER, ASSOCIATE):
            await create_staff(username=account.username, password=PASSWORD, role=account.role,
                               location=account.location)
        config_service.invalidate()
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                tee = ProductIn(name="T-shirt coton bio noir", brand="Quai Neuf", variants=[
                    VariantIn(sku=TEE.sku, barcode=TEE.barcode, price=2900,
                              options={"taille": "M"}),
                    VariantIn(sku=TEE_L.sku, barcode=TEE_L.barcode, price=2900,
                              options={"taille": "L"}),
                ])
                mug = ProductIn(name="Mug émaillé blanc", variants=[
                    VariantIn(sku=MUG.sku, barcode=MUG.barcode, price=1450)])
                tote = ProductIn(name="Tote bag naturel", variants=[
                    VariantIn(sku=TOTE.sku, barcode=TOTE.barcode, price=1200)])
                fillers = [
                    ProductIn(name=f"Carnet ligné n°{i:02d}", variants=[
                        VariantIn(sku=f"CARNET-{i:02d}", barcode=_ean13(f"376012346{i:03d}"),
                                  price=650)])
                    for i in range(FILLER_PRODUCTS)
                ]
                for product in (tee, mug, tote, *fillers):
                    await catalog.create_product(session, product, actor="browser-tests")
                for item in (TEE, TEE_L, MUG, TOTE):
                    for location, units in item.stock.items():
                        await inventory.adjust(session, sku=item.sku, location=location,
                                               delta=units, reason="opening stock",
                                               actor="browser-tests", kind="receipt")
        finally:
            await engine.dispose()
            config_service.invalidate()  # nothing of this database stays in the cache


def _environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COMPTOIR_") and k != "PICCOLO_CONF"}
    env.update({
        "COMPTOIR_DATABASE_URL": settings.database_url,
        "COMPTOIR_REDIS_PREFIX": settings.redis_prefix,
        "COMPTOIR_SECRET_KEY": settings.secret_key,
        "COMPTOIR_VAR_DIR": settings.var_dir,
        "COMPTOIR_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    })
    if settings.redis_url:
        env["COMPTOIR_REDIS_URL"] = settings.redis_url
    return env


@pytest.fixture(scope="package")
def chromium_path() -> str:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"Chromium is not installed at {CHROMIUM}: `apt-get install chromium` "
                     "(make test does it as root on Debian)")
    return str(CHROMIUM)


@pytest.fixture(scope="package")
def built_pwa() -> Path:
    if not (DIST_DIR / "index.html").is_file():
        _unavailable(f"the PWA is not built ({DIST_DIR} has no index.html): run `make pwa`")
    return DIST_DIR


@pytest.fixture(scope="package")
async def demo_server(
    built_pwa: Path, chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DemoServer]:
    """`python -m comptoir serve --no-migrate` on a freshly migrated and seeded database."""
    from comptoir.db.migrate import migrate

    tmp = tmp_path_factory.mktemp("browser")
    run_id = secrets.token_hex(4)
    async with own_database(tmp, "browser",
                            ADMIN_DATABASE_URL if IS_POSTGRES else None) as database_url:
        values = {
            "COMPTOIR_DATABASE_URL": database_url,
            "COMPTOIR_VAR_DIR": str(tmp / "var"),
            "COMPTOIR_REDIS_PREFIX": f"comptoir-browser-{run_id}",
        }
        if REDIS_URL:
            values["COMPTOIR_REDIS_URL"] = REDIS_URL
        settings = load_settings(values)
        await migrate(settings)
        port = free_port()
        log = tmp / "server.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "comptoir", "serve", "--no-migrate",
                "--host", "127.0.0.1", "--port", str(port),
                cwd=REPO, env=_environment(settings), stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        server = DemoServer(url=f"http://127.0.0.1:{port}", settings=settings, process=process,
                            log=log, accounts={"manager": MANAGER, "associate": ASSOCIATE})
        try:
            await _seed(settings)  # while the server starts
            await wait_ready(server.url, process, server.log_tail)
            yield server
        finally:
            await stop_process(process)
            if REDIS_URL:
                await drop_redis_keys(REDIS_URL, settings.redis_prefix)


@pytest.fixture(scope="package")
async def playwright_driver() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        yield driver


def _launch_options(chromium_path: str, extra_args: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"executable_path": chromium_path, "headless": True,
            "args": [*CHROMIUM_ARGS, *extra_args]}


# --- a camera that films a barcode -------------------------------------------------------------

_EAN_L = ["0001101", "0011001", "0010011", "0111101", "0100011",
          "0110001", "0101111", "0111011", "0110111", "0001011"]
_EAN_R = ["".join("1" if bit == "0" else "0" for bit in code) for code in _EAN_L]
_EAN_G = [code[::-1] for code in _EAN_R]
_EAN_PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
               "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]


def ean13_modules(code: str) -> str:
    """The 95 bars and spaces (1 = bar) of an EAN-13 barcode."""
    digits = [int(c) for c in code]
    left = "".join((_EAN_L if parity == "L" else _EAN_G)[d]
                   for parity, d in zip(_EAN_PARITY[digits[0]], digits[1:7], strict=True))
    right = "".join(_EAN_R[d] for d in digits[7:])
    return "101" + left + "01010" + right + "101"


def barcode_video(code: str, path: Path, width: int = 640, height: int = 480) -> Path:
    """A Y4M clip of a printed EAN-13 label, for Chromium's fake camera to film."""
    modules = ean13_modules(code)
    module_px = 4
    left = (width - len(modules) * module_px) // 2
    row = bytearray(b"\xff" * width)
    for i, bit in enumerate(modules):
        if bit == "1":
            row[left + i * module_px:left + (i + 1) * module_px] = b"\x00" * module_px
    white = b"\xff" * width
    luma = b"".join(bytes(row) if height // 4 <= y < height * 3 // 4 else white
                    for y in range(height))
    chroma = b"\x80" * (width // 2 * height // 2) * 2
    frame = b"FRAME\n" + luma + chroma
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 2)
    return path


@pytest.fixture(scope="package")
async def browser(
    playwright_driver: Any, chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    """One Chromium for the run; its own temporary profile, thrown away at the end. Its
    camera (a fake device) films the barcode of SCANNED, for the scanner's tests."""
    video = barcode_video(SCANNED.barcode, tmp_path_factory.mktemp("camera") / "barcode.y4m")
    camera = ("--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}")
    instance = await playwright_driver.chromium.launch(**_launch_options(chromium_path, camera))
    yield instance
    await instance.close()


FilmingBrowser = Callable[[Path], Awaitable[Any]]


@pytest.fixture
async def browser_filming(
    playwright_driver: Any, chromium_path: str
) -> AsyncIterator[FilmingBrowser]:
    """``await browser_filming(clip)``: a Chromium of its own whose camera films ``clip`` (a
    Y4M file made by the test, e.g. from data the test just created), closed after the test."""
    launched: list[Any] = []

    async def launch(clip: Path) -> Any:
        camera = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={clip}")
        instance = await playwright_driver.chromium.launch(
            **_launch_options(chromium_path, camera))
        launched.append(instance)
        return instance

    yield launch
    for instance in launched:
        await instance.close()


async def new_phone(browser: Any, server: DemoServer, locale: str = "fr-FR") -> Any:
    """A fresh phone-sized context in ``browser`` (close it after use)."""
    ctx = await browser.new_context(**_context_options(server, locale))
    ctx.set_default_timeout(10_000)
    return ctx


def _context_options(server: DemoServer, locale: str) -> dict[str, Any]:
    return {
        "base_url": server.url,
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "locale": locale,
        "service_workers": "allow",
    }


@pytest.fixture
async def context(browser: Any, demo_server: DemoServer) -> AsyncIterator[Any]:
    """A fresh phone: no cookies, no storage, no service worker yet; French, like the shop."""
    ctx = await browser.new_context(**_context_options(demo_server, "fr-FR"))
    ctx.set_default_timeout(10_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: Any) -> Any:
    return await context.new_page()


@pytest.fixture
async def persistent_context(
    playwright_driver: Any, chromium_path: str, demo_server: DemoServer, tmp_path: Path
) -> AsyncIterator[Any]:
    """A profile on disk, as an installed browser has: Chromium only offers to install an app
    outside incognito, and every context of `browser` is incognito."""
    ctx = await playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"), **_launch_options(chromium_path),
        **_context_options(demo_server, "fr-FR"),
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    await ctx.close()


SignIn = Callable[..., Awaitable[None]]


async def ensure_web_channel() -> None:
    """The web shop's channel, its shipping rate and French VAT, once, on the Piccolo database
    bound by the caller (``piccolo_bound_to`` the demo server's settings)."""
    from comptoir.config import service as config_service
    from comptoir.config.models import SalesChannel, ShippingRate, TaxRate

    config_service.invalidate()
    if not await SalesChannel.exists().where(SalesChannel.code == "web"):
        web = SalesChannel(code="web", name="Boutique en ligne", kind="web", currency="EUR",
                           prices_include_tax=True)
        await web.save()
        await ShippingRate(channel=web.id, method="ship", fee=490, free_from=5000).save()
        await TaxRate(country="FR", rate_bp=2000, name="TVA").save()
    config_service.invalidate()


async def sign_in_on_screen(page: Any, account: Account) -> None:
    """Sign in through the sign-in screen, as a person does; waits for the signed-in shell."""
    await page.goto("/")
    await page.locator("input[name=username]").fill(account.username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()
    await page.locator(".topbar__name").wait_for()


@pytest.fixture
def sign_in(demo_server: DemoServer) -> SignIn:
    """Open `path` signed in as `account`. The session cookie comes from the API (the page's
    own cookie jar), which spares a screen; the sign-in screen has its own tests."""

    async def sign_in_as(page: Any, account: Account = MANAGER, path: str = "/") -> None:
        response = await page.context.request.post(
            "/api/auth/login", data={"username": account.username, "password": PASSWORD})
        assert response.ok, await response.text()
        await page.goto(path)
        await page.locator(".topbar__name").wait_for()

    return sign_in_as


@asynccontextmanager
async def api_as(
    server: DemoServer, account: Account = MANAGER
) -> AsyncIterator[httpx.AsyncClient]:
    """The API as `account`, to check what the server holds behind what the browser shows."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        response = await client.post("/api/auth/login",
                                     json={"username": account.username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["x-csrf-token"] = response.json()["csrf_token"]
        yield client


async def on_hand(server: DemoServer, sku: str, location: str) -> int:
    async with api_as(server) as client:
        response = await client.get("/api/inventory", params={"sku": sku, "location": location})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return int(items[0]["on_hand"]) if items else 0


async def screenshot(page: Any, name: str) -> None:
    """Keep what the screen looks like when BROWSER_TESTS_SCREENSHOTS names a folder."""
    if SCREENSHOTS:
        # Playwright makes the folder.
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


async def post_order(server: DemoServer, key: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /api/orders`` with a channel's key, as a shop would: its answer (201 asserted).

    The server reads its configuration through a cache of a few seconds, so a channel, rate
    or product set up just now may be refused (422) for a moment: it is sent again for up to
    10 s, with a new Idempotency-Key each time."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10,
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        deadline = time.monotonic() + 10
        while True:
            response = await client.post("/api/orders", json=body,
                                         headers={"Idempotency-Key": str(uuid.uuid4())})
            if response.status_code != 422 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    assert response.status_code == 201, response.text
    return dict(response.json())
