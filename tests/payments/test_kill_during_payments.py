"""``kill -9`` of a server while captures and refunds are in flight, then a restart: every
transaction ends succeeded or failed at the provider and in Comptoir, with the same amount,
and none is performed twice.

A channel charged at capture (``capture_policy=at_capture``) authorizes each order through
the outbox and, once authorized, captures it in full; cancelling a captured order refunds it.

The provider is the sandbox bank in a process of its own (its SQLite file is what the
provider did); Comptoir is a real ``comptoir serve`` on a database of its own (SQLite, or
PostgreSQL with ``COMPTOIR_DATABASE_URL``). ``tok_slow`` answers take a second, so calls are
in flight when the server is killed; ``tok_timeout`` loses its first answer, so a retry
with the same key is always part of the run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from comptoir.payments.providers.base import Operation
from comptoir.payments.providers.sandbox_banks import BankRecord, HttpBank
from comptoir.settings import Settings, load_settings
from tests.conftest import ADMIN_DATABASE_URL
from tests.payments.bank import REPO, BankProcess, until
from tests.support import free_port, own_database, stop_process, wait_ready

SKU = "KILL-TEE-M"
PRICE = 1999
ORDERS = 24
TOKENS = ("tok_slow", "tok_timeout", "tok_ok", "tok_slow", "tok_declined", "tok_insufficient")
SETTLE_SECONDS = 90
KIND_OF = {Operation.AUTHORIZE: "authorization", Operation.CAPTURE: "capture",
           Operation.VOID: "void", Operation.REFUND: "refund"}


@dataclass
class Shop:
    settings: Settings
    bank: BankProcess
    directory: Path
    web_key: str
    manager_key: str
    url: str = ""
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def log(self) -> Path:
        return self.directory / f"server-{self.starts}.log"

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    async def start(self) -> None:
        self.starts += 1
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("COMPTOIR_") and k != "PICCOLO_CONF"}
        env.update({
            "COMPTOIR_DATABASE_URL": self.settings.database_url,
            "COMPTOIR_SECRET_KEY": self.settings.secret_key,
            "COMPTOIR_VAR_DIR": self.settings.var_dir,
            "COMPTOIR_OUTBOX_POLL_SECONDS": "0.1",
            "COMPTOIR_SANDBOX_BANK_URL": self.bank.url,
            "COMPTOIR_SANDBOX_SLOW_SECONDS": "1",
            "COMPTOIR_SANDBOX_TIMEOUT_ATTEMPTS": "1",
            "COMPTOIR_LOG_LEVEL": "warning",
            "PYTHONUNBUFFERED": "1",
        })
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "comptoir", "serve", "--no-migrate",
                "--host", "127.0.0.1", "--port", str(port),
                cwd=REPO, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT)
        await wait_ready(self.url, self.process, self._log_tail)

    async def kill(self) -> None:
        """SIGKILL, as a crash: calls in flight are neither answered nor recorded."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    def client(self, key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30,
                                 headers={"authorization": f"Bearer {key}"})


async def _seed(settings: Settings) -> tuple[str, str]:
    """A warehouse, a SKU with stock, a web channel charged at capture through the sandbox;
    its key and a manager's."""
    from comptoir.auth.service import create_api_key
    from comptoir.catalog.models import Product, Variant
    from comptoir.config import service as config_service
    from comptoir.config.models import Location, SalesChannel
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to
    from comptoir.inventory import service as inventory

    with piccolo_bound_to(settings):
        await Location(code="WH-PARIS", name="Entrepôt Paris Nord", kind="warehouse",
                       city="Paris", latitude=48.93, longitude=2.36, ships=True,
                       serves_pickups=False).save()
        await SalesChannel(code="web", name="Boutique en ligne", kind="web", currency="EUR",
                           prices_include_tax=True, payment_provider="sandbox",
                           capture_policy="at_capture").save()
        config_service.invalidate()
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                product = Product(name="T-shirt", search_name="t-shirt")
                product.variants = [Variant(sku=SKU, name="T-shirt M", price=PRICE,
                                            currency="EUR", options={"size": "M"},
                                            weight_g=200)]
                session.add(product)
                await session.flush()
                await inventory.adjust(session, sku=SKU, location="WH-PARIS", delta=ORDERS,
                                       reason="opening stock", actor="seed", kind="receipt")
                _row, web_key = await create_api_key(session, name="web", role="channel",
                                                     channel="web")
                _row, manager_key = await create_api_key(session, name="manager",
                                                         role="manager")
        finally:
            await engine.dispose()
            config_service.invalidate()
    return web_key, manager_key


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    from comptoir.db.migrate import migrate

    bank = BankProcess.in_directory(tmp_path)
    await bank.start()
    try:
        async with own_database(tmp_path, "kill", ADMIN_DATABASE_URL or None) as database_url:
            settings = load_settings({
                "COMPTOIR_DATABASE_URL": database_url,
                "COMPTOIR_VAR_DIR": str(tmp_path / "var"),
                "COMPTOIR_SANDBOX_BANK_URL": bank.url,
            })
            await migrate(settings)
            web_key, manager_key = await _seed(settings)
            shop = Shop(settings=settings, bank=bank, directory=tmp_path, web_key=web_key,
                        manager_key=manager_key)
            try:
                await shop.start()
                yield shop
            finally:
                if shop.process is not None:
                    await stop_process(shop.process)
    finally:
        await bank.kill()


class Books:
    """What Comptoir's database says of its payments."""

    def __init__(self, settings: Settings) -> None:
        from comptoir.db.engine import create_engine, make_sessionmaker

        self.engine = create_engine(settings)
        self.sessionmaker = make_sessionmaker(self.engine)

    async def count(self, kind: str, status: str | None = None) -> int:
        from comptoir.payments.models import PaymentOutcome, PaymentTransaction

        query = select(func.count()).select_from(PaymentTransaction).where(
            PaymentTransaction.kind == kind)
        if status is not None:
            query = query.join(PaymentOutcome,
                               PaymentOutcome.transaction_id == PaymentTransaction.id).where(
                PaymentOutcome.status == status)
        async with self.sessionmaker() as session:
            return int(await session.scalar(query) or 0)

    async def unsettled(self) -> int:
        from comptoir.payments.models import PaymentOutcome, PaymentTransaction

        async with self.sessionmaker() as session:
            return int(await session.scalar(
                select(func.count()).select_from(PaymentTransaction)
                .outerjoin(PaymentOutcome,
                           PaymentOutcome.transaction_id == PaymentTransaction.id)
                .where(PaymentOutcome.id.is_(None))) or 0)

    async def transactions(self) -> list[tuple[Any, Any]]:
        """Every transaction with its outcome (None while it has none)."""
        from comptoir.payments.models import PaymentOutcome, PaymentTransaction

        async with self.sessionmaker() as session:
            rows = (await session.execute(
                select(PaymentTransaction, PaymentOutcome)
                .outerjoin(PaymentOutcome,
                           PaymentOutcome.transaction_id == PaymentTransaction.id))).all()
        return [(row[0], row[1]) for row in rows]


async def _capture_orders(shop: Shop) -> list[str]:
    numbers: list[str] = []
    async with shop.client(shop.web_key) as web:
        for n, token in zip(range(ORDERS), itertools.cycle(TOKENS), strict=False):
            response = await web.post("/api/orders", headers={"idempotency-key": f"kill-{n}"},
                                      json={
                "external_ref": f"KILL-{n}",
                "currency": "EUR",
                "customer": {"email": f"client{n}@example.fr", "name": "Client"},
                "lines": [{"sku": SKU, "quantity": 1}],
                "delivery": {"method": "ship", "address": {
                    "name": "Client", "line1": "1 rue de Rivoli", "postal_code": "75001",
                    "city": "Paris", "country": "FR"}},
                "payment": {"provider": "sandbox", "token": token, "amount": PRICE},
            })
            assert response.status_code == 201, response.text
            assert response.json()["totals"]["total"] == PRICE, response.json()
            numbers.append(response.json()["number"])
    return numbers


async def _refund(shop: Shop, numbers: list[str]) -> None:
    """Cancel captured orders: their captures are refunded."""
    async with shop.client(shop.manager_key) as manager:
        for number in numbers:
            response = await manager.post(f"/api/orders/{number}/cancel",
                                          json={"reason": "customer_request"})
            assert response.status_code in (200, 409), response.text


async def test_payments_in_flight_when_the_server_is_killed_end_once_with_the_same_amounts(
    shop: Shop,
) -> None:
    books = Books(shop.settings)
    try:
        numbers = await _capture_orders(shop)

        # Some captures succeeded: cancel those orders, so refunds start while the other
        # captures (slow, or losing their first answer) are still on their way.
        async def some_captured() -> bool:
            return await books.count("capture", "succeeded") >= 3

        await until(some_captured, lambda: "no capture succeeded", seconds=SETTLE_SECONDS)
        await _refund(shop, numbers[:ORDERS // 2])
        await until(lambda: _in_flight(books), lambda: "no call in flight to kill")
        await shop.kill()

        await shop.start()

        async def all_settled() -> bool:
            return await books.unsettled() == 0

        await until(all_settled, lambda: f"transactions still pending after "
                    f"{SETTLE_SECONDS} s:\n{shop._log_tail()}", seconds=SETTLE_SECONDS)
        transactions = await books.transactions()
    finally:
        await books.engine.dispose()

    performed = {r.call.transaction_id: r for r in await HttpBank(shop.bank.url).operations()}
    comptoir = {tx.id: (tx, outcome) for tx, outcome in transactions}
    assert transactions, "no payment transaction was made"
    # The bank did nothing Comptoir has no transaction for (a key is performed once: the
    # bank keeps one row per key), and Comptoir asked for each of its transactions.
    assert set(performed) == set(comptoir)
    for tx_id, (tx, outcome) in comptoir.items():
        record = performed[tx_id]
        assert outcome is not None and outcome.status in ("succeeded", "failed")
        assert (KIND_OF[record.operation], record.amount, record.currency) == (
            tx.kind, tx.amount, tx.currency)
        assert record.status == outcome.status, (tx.kind, tx.source, record, outcome)
        assert record.reference == outcome.reference
    _money_moved_once_per_order(list(performed.values()))


async def _in_flight(books: Books) -> bool:
    return await books.unsettled() > 0


def _money_moved_once_per_order(records: list[BankRecord]) -> None:
    """At the bank: no order captured beyond what it authorized, nor refunded beyond what
    it paid: a capture or refund made twice under two keys would show here."""
    moved: dict[str, dict[Operation, int]] = defaultdict(lambda: defaultdict(int))
    for record in records:
        if record.status == "succeeded":
            moved[record.call.order_number][record.operation] += record.amount
    for number, amounts in moved.items():
        assert amounts[Operation.CAPTURE] <= amounts[Operation.AUTHORIZE] <= PRICE, number
        assert amounts[Operation.REFUND] <= amounts[Operation.CAPTURE], number
