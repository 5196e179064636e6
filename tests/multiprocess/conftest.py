"""Two real ``comptoir serve`` processes on a PostgreSQL database of their own and one Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from comptoir.settings import Settings, load_settings
from tests.conftest import ADMIN_DATABASE_URL, IS_POSTGRES, REDIS_URL
from tests.support import drop_redis_keys, free_port, own_database, stop_process, wait_ready

REPO = Path(__file__).resolve().parents[2]
MANAGER = "mp-manager"
MANAGER_PASSWORD = "two-processes-42"
SKU = "MP-TEE-BLK-M"


@dataclass
class Server:
    url: str
    process: asyncio.subprocess.Process
    log: Path


@dataclass
class Cluster:
    settings: Settings
    a: Server
    b: Server


def _environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COMPTOIR_") and k != "PICCOLO_CONF"}
    assert settings.redis_url is not None
    env.update({
        "COMPTOIR_DATABASE_URL": settings.database_url,
        "COMPTOIR_REDIS_URL": settings.redis_url,
        "COMPTOIR_REDIS_PREFIX": settings.redis_prefix,
        "COMPTOIR_SECRET_KEY": settings.secret_key,
        "COMPTOIR_VAR_DIR": settings.var_dir,
        "COMPTOIR_OUTBOX_POLL_SECONDS": "0.1",
        "COMPTOIR_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _log_tail(server: Server) -> str:
    return server.log.read_text(errors="replace")[-3000:] if server.log.exists() else ""


async def _seed(settings: Settings) -> None:
    """One warehouse, a manager, and a SKU with stock, written with the services."""
    from comptoir.auth.service import create_staff
    from comptoir.catalog.models import Product, Variant
    from comptoir.config import service as config_service
    from comptoir.config.models import Location
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    with piccolo_bound_to(settings):
        await Location(code="WH-PARIS", name="Entrepôt Paris Nord", kind="warehouse",
                       city="Paris", latitude=48.93, longitude=2.36, ships=True,
                       serves_pickups=False).save()
        await create_staff(username=MANAGER, password=MANAGER_PASSWORD, role="manager")
        config_service.invalidate()
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                product = Product(name="T-shirt noir", search_name="t-shirt noir")
                product.variants = [Variant(sku=SKU, name="T-shirt noir M", price=1999,
                                            currency="EUR", options={"size": "M"},
                                            weight_g=200)]
                session.add(product)
                await session.flush()
                await inventory.adjust(session, sku=SKU, location="WH-PARIS", delta=10,
                                       reason="opening stock", actor="seed", kind="receipt")
        finally:
            await engine.dispose()
            config_service.invalidate()  # nothing of this database stays in the cache


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    if not IS_POSTGRES:
        pytest.skip("needs PostgreSQL (COMPTOIR_DATABASE_URL=postgresql://…)")
    if not REDIS_URL:
        pytest.skip("needs Redis (COMPTOIR_REDIS_URL=redis://…): sessions are shared through it")
    from comptoir.db.migrate import migrate

    run_id = secrets.token_hex(4)
    tmp = tmp_path_factory.mktemp("cluster")
    servers: list[Server] = []
    async with own_database(tmp, "mp", ADMIN_DATABASE_URL) as database_url:
        settings = load_settings({
            "COMPTOIR_DATABASE_URL": database_url,
            "COMPTOIR_REDIS_URL": REDIS_URL,
            "COMPTOIR_REDIS_PREFIX": f"comptoir-mp-{run_id}",
            "COMPTOIR_VAR_DIR": str(tmp),
        })
        try:
            await migrate(settings)
            env = _environment(settings)
            for name in ("a", "b"):
                port = free_port()
                log = tmp / f"server-{name}.log"
                with log.open("wb") as out:
                    process = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "comptoir", "serve", "--no-migrate",
                        "--host", "127.0.0.1", "--port", str(port),
                        cwd=REPO, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
                    )
                servers.append(Server(url=f"http://127.0.0.1:{port}", process=process, log=log))
            await _seed(settings)  # while the servers start
            await asyncio.gather(*(
                wait_ready(s.url, s.process, lambda s=s: _log_tail(s)) for s in servers))
            yield Cluster(settings=settings, a=servers[0], b=servers[1])
        finally:
            for server in servers:
                await stop_process(server.process)
            await drop_redis_keys(REDIS_URL, settings.redis_prefix)
