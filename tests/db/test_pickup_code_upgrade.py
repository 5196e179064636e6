"""Upgrading a database with parcels already waiting at a counter: they get their code check,
so the store's phones can verify their codes offline from the first day."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
from alembic import command
from sqlalchemy import insert, select

from comptoir.db.engine import create_engine
from comptoir.db.migrate import alembic_config, migrate
from comptoir.fulfillment.counter import PickupCodeDigest
from comptoir.fulfillment.models import Fulfillment
from comptoir.orders.models import Order
from tests.db.conftest import BOTH_DATABASES

BEFORE_DIGESTS = "7c2e9a41d0b3"


@BOTH_DATABASES
async def test_parcels_waiting_at_a_counter_get_their_code_check_on_upgrade(
    kind: str, database_factory: Any
) -> None:
    async with database_factory(kind) as settings:
        await migrate(settings)
        config = alembic_config(settings)
        await anyio.to_thread.run_sync(command.downgrade, config, BEFORE_DIGESTS)

        order_id, waiting, not_ready = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        engine = create_engine(settings)
        try:
            async with engine.begin() as conn:
                await conn.execute(insert(Order.__table__).values(
                    id=order_id, number="CMP-2026-000001", channel="web", status="ready_for_pickup",
                    currency="EUR", prices_include_tax=True, vat_rate_bp=2000,
                    delivery_method="pickup", pickup_location="ST-LYON-01",
                    pickup_code="K7M2PQ9X", subtotal=1000, shipping=0, shipping_tax=0, tax=167,
                    total=1000, tracking_token="t" * 43, search="cmp-2026-000001",
                    created_by="test"))
                for fulfillment_id, status in ((waiting, "ready_for_pickup"), (not_ready, "new")):
                    await conn.execute(insert(Fulfillment.__table__).values(
                        id=fulfillment_id, order_id=order_id, order_number="CMP-2026-000001",
                        location="ST-LYON-01", kind="pickup", status=status))

            await anyio.to_thread.run_sync(command.upgrade, config, "head")

            async with engine.connect() as conn:
                digests = dict((await conn.execute(
                    select(Fulfillment.id, Fulfillment.pickup_code_digest))).tuples().all())
        finally:
            await engine.dispose()
    assert digests[not_ready] is None
    check = PickupCodeDigest.parse(digests[waiting])
    assert check.matches("K7M2PQ9X") and not check.matches("K7M2PQ9Y")
    assert "K7M2PQ9X" not in digests[waiting]
