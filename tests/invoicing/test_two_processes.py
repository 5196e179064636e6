"""Two real ``comptoir serve`` processes on one PostgreSQL database ship 200 parcels at once:
the invoices they issue are numbered 1 to 200, no gap, no duplicate."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import sys
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from comptoir.invoicing.numbering import format_number
from comptoir.settings import load_settings
from tests.conftest import ADMIN_DATABASE_URL, IS_POSTGRES, REDIS_URL
from tests.invoicing.conftest import COMPANY, order_body
from tests.multiprocess.conftest import (
    MANAGER,
    MANAGER_PASSWORD,
    REPO,
    SKU,
    Cluster,
    Server,
    _environment,
    _log_tail,
    _seed,
)
from tests.support import drop_redis_keys, free_port, own_database, stop_process, wait_ready

pytestmark = pytest.mark.postgres

ORDERS = 200


async def _seed_sales(cluster_settings: Any) -> None:
    """A web channel, the company's legal details (invoices per shipment), enough stock."""
    from comptoir.config import service as config_service
    from comptoir.config.models import Company, SalesChannel
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    with piccolo_bound_to(cluster_settings):
        await SalesChannel(code="web", name="Boutique", kind="web", currency="EUR",
                           prices_include_tax=True).save()
        await Company(**COMPANY).save()
        engine = create_engine(cluster_settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await inventory.adjust(session, sku=SKU, location="WH-PARIS", delta=ORDERS,
                                       reason="sale stock", actor="seed", kind="receipt")
        finally:
            await engine.dispose()
            config_service.invalidate()


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    if not IS_POSTGRES:
        pytest.skip("needs PostgreSQL (COMPTOIR_DATABASE_URL=postgresql://…)")
    if not REDIS_URL:
        pytest.skip("needs Redis (COMPTOIR_REDIS_URL=redis://…): sessions are shared through it")
    from comptoir.db.migrate import migrate

    run_id = secrets.token_hex(4)
    tmp = tmp_path_factory.mktemp("invoicing-cluster")
    servers: list[Server] = []
    async with own_database(tmp, "inv", ADMIN_DATABASE_URL) as database_url:
        settings = load_settings({
            "COMPTOIR_DATABASE_URL": database_url, "COMPTOIR_REDIS_URL": REDIS_URL,
            "COMPTOIR_REDIS_PREFIX": f"comptoir-inv-{run_id}", "COMPTOIR_VAR_DIR": str(tmp)})
        try:
            await migrate(settings)
            await _seed(settings)
            await _seed_sales(settings)  # before the servers read the configuration
            env = _environment(settings)
            for name in ("a", "b"):
                port = free_port()
                log = tmp / f"server-{name}.log"
                with log.open("wb") as out:
                    process = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "comptoir", "serve", "--no-migrate",
                        "--host", "127.0.0.1", "--port", str(port),
                        cwd=REPO, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT)
                servers.append(Server(url=f"http://127.0.0.1:{port}", process=process, log=log))
            await asyncio.gather(*(
                wait_ready(s.url, s.process, lambda s=s: _log_tail(s)) for s in servers))
            yield Cluster(settings=settings, a=servers[0], b=servers[1])
        finally:
            for server in servers:
                await stop_process(server.process)
            await drop_redis_keys(REDIS_URL, settings.redis_prefix)


async def _send(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    for _attempt in range(50):  # a saturated server answers 503, having done nothing
        answer = await client.post(path, json=body)
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(0.1)
    return answer


async def test_200_parcels_shipped_through_two_processes_are_invoiced_1_to_200(
    cluster: Cluster,
) -> None:
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.invoicing.models import Invoice

    async with httpx.AsyncClient(base_url=cluster.a.url, timeout=60) as a:
        login = await a.post("/api/auth/login",
                             json={"username": MANAGER, "password": MANAGER_PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"x-csrf-token": login.json()["csrf_token"]}
        a.headers.update(headers)
        async with httpx.AsyncClient(base_url=cluster.b.url, cookies=dict(a.cookies),
                                     headers=headers, timeout=60) as b:
            semaphore = asyncio.Semaphore(20)

            async def prepare(i: int) -> str:
                async with semaphore:
                    captured = await _send(a if i % 2 else b, "/api/orders", {
                        **order_body((SKU, 1), external_ref=f"INV-{i}"), "channel": "web"})
                    assert captured.status_code == 201, captured.text
                    return str(captured.json()["number"])

            numbers = set(await asyncio.gather(*(prepare(i) for i in range(ORDERS))))
            work: list[dict[str, Any]] = []
            cursor = None
            while True:
                page = (await a.get("/api/fulfillments", params={
                    "limit": "100", **({"cursor": cursor} if cursor else {})})).json()
                work += [f for f in page["items"] if f["order_number"] in numbers]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert len(work) == ORDERS

            async def pack(i: int, fulfillment: dict[str, Any]) -> None:
                async with semaphore:
                    for action in ("pick", "pack"):
                        done = await _send(a if i % 2 else b,
                                           f"/api/fulfillments/{fulfillment['id']}/{action}", {})
                        assert done.status_code == 200, done.text

            await asyncio.gather(*(pack(i, f) for i, f in enumerate(work)))
            shipped = await asyncio.gather(*(
                _send(b if i % 2 else a, f"/api/fulfillments/{f['id']}/ship",
                      {"carrier": "colissimo", "tracking_number": f"MP{i}"})
                for i, f in enumerate(work)))
            assert all(s.status_code == 200 for s in shipped), [s.text for s in shipped][:3]

    engine = create_engine(cluster.settings)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (await session.execute(select(Invoice.number, Invoice.order_number))).all()
    finally:
        await engine.dispose()
    year = dt.datetime.now(ZoneInfo("Europe/Paris")).year
    assert sorted(number for number, _order in rows) == [
        format_number("FA", year, serial) for serial in range(1, ORDERS + 1)]
    assert {order for _number, order in rows} == numbers
