"""Test fixtures: a fresh database per run (SQLite file or a new PostgreSQL database),
a Redis key prefix per run when Redis is configured, one app, and a small retail world.

``COMPTOIR_DATABASE_URL`` picks the server: unset or SQLite → a temporary SQLite file;
PostgreSQL → a new database ``comptoir_test_<random>`` on that server, dropped at the end.
"""

from __future__ import annotations

import asyncio
import gc
import io
import os
import secrets
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

# Pick the database before anything imports comptoir's Piccolo configuration.
_RUN_ID = secrets.token_hex(4)
_TMP = Path(tempfile.mkdtemp(prefix="comptoir-test-"))
_BASE_URL = os.environ.get("COMPTOIR_DATABASE_URL", "")
IS_POSTGRES = _BASE_URL.startswith(("postgres://", "postgresql"))
if IS_POSTGRES:
    _parts = urlsplit(_BASE_URL)
    TEST_DB_NAME = f"comptoir_test_{_RUN_ID}"
    TEST_DATABASE_URL = urlunsplit(_parts._replace(path="/" + TEST_DB_NAME))
    ADMIN_DATABASE_URL = _BASE_URL
else:
    TEST_DB_NAME = ""
    TEST_DATABASE_URL = f"sqlite:///{_TMP / 'comptoir.db'}"
    ADMIN_DATABASE_URL = ""
REDIS_URL = os.environ.get("COMPTOIR_REDIS_URL") or None
REDIS_PREFIX = f"comptoir-test-{_RUN_ID}"

os.environ["COMPTOIR_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["COMPTOIR_VAR_DIR"] = str(_TMP / "var")
os.environ["COMPTOIR_REDIS_PREFIX"] = REDIS_PREFIX
os.environ.setdefault("PICCOLO_CONF", "comptoir.config.piccolo_conf")

from piccolo.apps.user.tables import BaseUser  # noqa: E402

from comptoir.settings import Settings, load_settings  # noqa: E402
from tests.support import drop_redis_keys  # noqa: E402

# Password hashing at production strength costs ~0.3 s per sign-in; tests use fewer rounds.
BaseUser._pbkdf2_iteration_count = 1_000

PASSWORD = "correct-horse-42"


# A test still running this long (pytest-timeout ends it at 300 s) prints where each of its
# asyncio tasks waits: a hang's report says what it waited for, not only "selectors.poll".
WATCHDOG_SECONDS = float(os.environ.get("COMPTOIR_TEST_WATCHDOG", "240"))


def _print_waiting_tasks(nodeid: str) -> None:
    gc.unfreeze()  # the app freezes what exists when it starts (the loop too): find it again
    loops = [o for o in gc.get_objects()
             if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]
    out = io.StringIO()
    out.write(f"=== watchdog: {nodeid} still runs after {WATCHDOG_SECONDS:g} s ===\n")
    for loop in loops:
        for _attempt in range(5):  # the loop's thread may change the task set meanwhile
            try:
                tasks = list(asyncio.all_tasks(loop))
                break
            except RuntimeError:
                continue
        else:
            tasks = []
        for task in tasks:
            out.write(f"--- {task.get_name()}: {task.get_coro()!r}\n")
            task.print_stack(limit=30, file=out)
    sys.stdout.write(out.getvalue())
    sys.stdout.flush()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    timer = threading.Timer(WATCHDOG_SECONDS, _print_waiting_tasks, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with COMPTOIR_DATABASE_URL=postgresql://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


async def _create_database() -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{TEST_DB_NAME}"')
    finally:
        await conn.close()


async def _drop_database() -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            TEST_DB_NAME,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB_NAME}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def settings() -> Settings:
    env = {
        "COMPTOIR_DATABASE_URL": TEST_DATABASE_URL,
        "COMPTOIR_VAR_DIR": str(_TMP / "var"),
        "COMPTOIR_REDIS_PREFIX": REDIS_PREFIX,
        "COMPTOIR_OUTBOX_POLL_SECONDS": "0.2",
    }
    if REDIS_URL:
        env["COMPTOIR_REDIS_URL"] = REDIS_URL
    return load_settings(env)


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Settings]:
    """A migrated, empty database for this run."""
    from comptoir.db.migrate import migrate

    if IS_POSTGRES:
        await _create_database()
    await migrate(settings)
    yield settings
    if IS_POSTGRES:
        from comptoir.config.engine import all_tables

        # The apps' lifespans close the pools they start; close one only if still running
        # (Piccolo warns "No pool is running" otherwise).
        db = all_tables()[0]._meta.db
        if getattr(db, "pool", None) is not None:
            await db.close_connection_pool()
        await _drop_database()
    if REDIS_URL:
        await drop_redis_keys(REDIS_URL, REDIS_PREFIX)
    shutil.rmtree(_TMP, ignore_errors=True)


@dataclass
class World:
    """The retail world every test starts from (configuration only; no stock, no products)."""

    users: dict[str, str] = field(default_factory=dict)  # role -> username
    keys: dict[str, str] = field(default_factory=dict)  # name -> API key


WAREHOUSES = [("WH-PARIS", "Entrepôt Paris Nord", 48.93, 2.36),
              ("WH-LYON", "Entrepôt Lyon", 45.73, 4.92)]
STORES = [("ST-LYON-01", "Comptoir Lyon Presqu'île", 45.76, 4.83),
          ("ST-PARIS-01", "Comptoir Paris Marais", 48.86, 2.36)]


async def _seed_world(settings: Settings) -> World:
    from comptoir.auth.service import create_api_key, create_staff
    from comptoir.config import service as config_service
    from comptoir.config.models import Location, SalesChannel, ShippingRate, TaxRate
    from comptoir.db.engine import create_engine, make_sessionmaker

    for code, name, lat, lon in WAREHOUSES:
        await Location(code=code, name=name, kind="warehouse", city=name.split()[-1],
                       latitude=lat, longitude=lon, ships=True, serves_pickups=False).save()
    for code, name, lat, lon in STORES:
        await Location(code=code, name=name, kind="store",
                       city="Lyon" if "LYON" in code else "Paris",
                       latitude=lat, longitude=lon, ships=True, serves_pickups=True,
                       pickup_hold_days=5).save()
    web = SalesChannel(code="web", name="Boutique en ligne", kind="web", currency="EUR",
                       prices_include_tax=True)
    await web.save()
    await SalesChannel(code="b2b", name="Grossistes", kind="marketplace", currency="EUR",
                       prices_include_tax=False).save()
    await SalesChannel(code="pos", name="Caisse magasin", kind="pos", currency="EUR",
                       prices_include_tax=True).save()
    await ShippingRate(channel=web.id, method="ship", fee=490, free_from=5000).save()
    await ShippingRate(channel=web.id, method="pickup", fee=0).save()
    await TaxRate(country="FR", rate_bp=2000, name="TVA").save()
    await TaxRate(country="FR", tax_class="reduced", rate_bp=1000, name="TVA").save()
    await TaxRate(country="FR", tax_class="super_reduced", rate_bp=550, name="TVA").save()
    await TaxRate(country="FR", tax_class="zero", rate_bp=0, name="TVA").save()
    # Germany has a reduced rate but no super_reduced one here: such SKUs cannot go there.
    await TaxRate(country="DE", rate_bp=1900, name="MwSt").save()
    await TaxRate(country="DE", tax_class="reduced", rate_bp=700, name="MwSt").save()
    config_service.invalidate()

    world = World()
    for role, location in [("admin", None), ("manager", None), ("associate", "ST-LYON-01")]:
        username = f"{role}1"
        await create_staff(username=username, password=PASSWORD, role=role, location=location)
        world.users[role] = username
    await create_staff(username="associate2", password=PASSWORD, role="associate",
                       location="ST-PARIS-01")
    world.users["associate_paris"] = "associate2"

    engine = create_engine(settings)
    async with make_sessionmaker(engine)() as session, session.begin():
        for name, role, channel, location in [
            ("web", "channel", "web", None),
            ("b2b", "channel", "b2b", None),
            ("manager-key", "manager", None, None),
            ("store-lyon-key", "associate", None, "ST-LYON-01"),
        ]:
            _row, key = await create_api_key(session, name=name, role=role, channel=channel,
                                             location=location)
            world.keys[name] = key
    await engine.dispose()
    return world


@pytest.fixture(scope="session")
async def app_and_world(database: Settings) -> AsyncIterator[tuple[Any, World]]:
    from comptoir.app import create_app

    app = create_app(database, run_dispatcher=False)
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # The lifespan is entered and left in one task (anyio cancel scopes require it).
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run_lifespan())
    await started.wait()
    world = await _seed_world(database)
    yield app, world
    stop.set()
    await task


@pytest.fixture(scope="session")
def app(app_and_world: tuple[Any, World]) -> Any:
    return app_and_world[0]


@pytest.fixture(scope="session")
def world(app_and_world: tuple[Any, World]) -> World:
    return app_and_world[1]


OPERATIONAL_KEEP = {"api_keys"}


@pytest.fixture(autouse=True)
async def _clean_operational_data(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test starts with no products, stock, orders, events or outbox messages."""
    yield
    if "app_and_world" not in request.fixturenames:
        return
    app_obj, _world = request.getfixturevalue("app_and_world")
    from comptoir.db.registry import Base

    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in OPERATIONAL_KEEP]
    # Plain DELETEs: on tables this small they are much faster than TRUNCATE on PostgreSQL.
    async with app_obj.state.sessionmaker() as session, session.begin():
        for table in tables:
            await session.execute(table.delete())
    from comptoir.inventory.service import forget_recent_reads

    forget_recent_reads()  # rows deleted behind the app's back: what it read is gone
    await app_obj.state.sign_in_attempts.clear()  # no test waits for another's failed sign-ins


@pytest.fixture
async def sessionmaker(app: Any) -> Any:
    return app.state.sessionmaker


def _client(app: Any, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver",
        headers=headers or {},
    )


@pytest.fixture
async def anon(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/auth/login",
                                 json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    csrf = response.json()["csrf_token"]
    client.headers["x-csrf-token"] = csrf
    return str(csrf)


@pytest.fixture
async def client_for(app: Any, world: World) -> AsyncIterator[Any]:
    """``await client_for("manager")`` → a signed-in client; ``client_for(key="web")`` → API key."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str | None = None, *, key: str | None = None) -> httpx.AsyncClient:
        if key is not None:
            client = _client(app, {"authorization": f"Bearer {world.keys[key]}"})
        else:
            client = _client(app)
            assert role is not None
            await sign_in(client, world.users[role])
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def admin(client_for: Any) -> httpx.AsyncClient:
    return await client_for("admin")  # type: ignore[no-any-return]


@pytest.fixture
async def manager(client_for: Any) -> httpx.AsyncClient:
    return await client_for("manager")  # type: ignore[no-any-return]


@pytest.fixture
async def associate(client_for: Any) -> httpx.AsyncClient:
    return await client_for("associate")  # type: ignore[no-any-return]


@pytest.fixture
async def web_channel(client_for: Any) -> httpx.AsyncClient:
    return await client_for(key="web")  # type: ignore[no-any-return]


@pytest.fixture
def catalog(sessionmaker: Any) -> Any:
    """``await catalog.add("TEE-BLK-M", price=1999, stock={"WH-PARIS": 10})`` makes a SKU."""
    from comptoir.catalog.models import Product, Variant
    from comptoir.inventory import service as inventory

    class CatalogMaker:
        async def add(
            self, sku: str, *, price: int = 1000, name: str | None = None,
            barcode: str | None = None, stock: dict[str, int] | None = None,
            tax_class: str = "standard",
        ) -> uuid.UUID:
            async with sessionmaker() as session, session.begin():
                product = Product(name=name or f"Product {sku}",
                                  search_name=(name or f"product {sku}").lower())
                product.variants = [Variant(sku=sku, name=name or sku, price=price, barcode=barcode,
                                            currency="EUR", options={}, weight_g=200,
                                            tax_class=tax_class)]
                session.add(product)
                await session.flush()
                for location, quantity in (stock or {}).items():
                    if quantity:
                        await inventory.adjust(session, sku=sku, location=location, delta=quantity,
                                               reason="test stock", actor="test", kind="receipt")
                return product.id

    return CatalogMaker()



RowCounts = Callable[[], Awaitable[dict[str, int]]]


@pytest.fixture
def row_counts(sessionmaker: Any) -> RowCounts:
    """``await row_counts()`` → rows per operational table (every SQLAlchemy table but keys),
    to show a refusal wrote nothing."""
    from sqlalchemy import func, select

    from comptoir.db.registry import Base

    tables = [t for t in Base.metadata.sorted_tables if t.name != "api_keys"]

    async def count() -> dict[str, int]:
        async with sessionmaker() as session:
            return {t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                    for t in tables}

    return count
