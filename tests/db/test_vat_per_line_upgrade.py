"""Upgrading to VAT per line: every order line stored before takes its order's rate (nothing
lost, nothing recomputed), the column is then required; SKUs are 'standard' until changed;
VAT rates are one per (country, tax class)."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest
from alembic import command
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from comptoir.db.base import GUID
from comptoir.db.engine import create_engine
from comptoir.db.migrate import alembic_config, migrate
from comptoir.orders.models import Order, OrderLine
from tests.db.conftest import BOTH_DATABASES

BEFORE_LINE_RATES = "d41f7a2c9e10"


@BOTH_DATABASES
async def test_existing_lines_take_their_order_s_rate_and_the_rate_becomes_required(
    kind: str, database_factory: Any
) -> None:
    async with database_factory(kind) as settings:
        await migrate(settings)
        config = alembic_config(settings)
        await anyio.to_thread.run_sync(command.downgrade, config, BEFORE_LINE_RATES)

        orders = {uuid.uuid4(): 2000, uuid.uuid4(): 1900}
        lines: dict[uuid.UUID, tuple[uuid.UUID, int]] = {}
        engine = create_engine(settings)
        try:
            async with engine.begin() as conn:
                for n, (order_id, rate) in enumerate(orders.items(), start=1):
                    number = f"CMP-2026-00000{n}"
                    await conn.execute(insert(Order.__table__).values(
                        id=order_id, number=number, channel="web", status="confirmed",
                        currency="EUR", prices_include_tax=True, vat_rate_bp=rate,
                        delivery_method="ship", subtotal=2500, shipping=0, shipping_tax=0,
                        tax=500, total=3000, tracking_token=str(n) * 43,
                        search=number.lower(), created_by="test"))
                    for position in (1, 2):
                        line_id = uuid.uuid4()
                        lines[line_id] = (order_id, position)
                        await conn.execute(insert(OrderLine.__table__).values(
                            id=line_id, order_id=order_id, position=position, sku=f"SKU-{n}",
                            name="x", quantity=1, cancelled_quantity=0, unit_price=1500,
                            net=1250, tax=250, total=1500))

            await anyio.to_thread.run_sync(command.upgrade, config, "head")

            async with engine.connect() as conn:
                stored = {row[0]: tuple(row[1:]) for row in (await conn.execute(select(
                    OrderLine.id, OrderLine.vat_rate_bp, OrderLine.net, OrderLine.tax,
                    OrderLine.total))).all()}
            with pytest.raises(IntegrityError):
                async with engine.begin() as conn:
                    await conn.execute(insert(OrderLine.__table__).values(
                        id=uuid.uuid4(), order_id=next(iter(orders)), position=3, sku="X",
                        name="x", quantity=1, cancelled_quantity=0, unit_price=1,
                        vat_rate_bp=None, net=1, tax=0, total=1))
        finally:
            await engine.dispose()
    assert len(stored) == 4
    for line_id, (order_id, _position) in lines.items():
        assert stored[line_id] == (orders[order_id], 1250, 250, 1500)


@BOTH_DATABASES
async def test_skus_are_standard_and_a_country_has_one_rate_per_class(
    kind: str, database_factory: Any
) -> None:
    async with database_factory(kind) as settings:
        await migrate(settings)
        engine = create_engine(settings)
        try:
            async with engine.begin() as conn:
                product = uuid.uuid4()
                await conn.execute(text(
                    "INSERT INTO products (id, name, description, brand, category, active, "
                    "created_at, updated_at, search_name) VALUES (:id, 'P', '', '', '', true, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'p')").bindparams(
                        bindparam("id", type_=GUID)), {"id": product})
                await conn.execute(text(
                    "INSERT INTO variants (id, product_id, sku, name, options, price, currency, "
                    "weight_g, active, created_at, updated_at) VALUES (:id, :product, 'OLD', "
                    "'Old', '{}', 100, 'EUR', 0, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ).bindparams(bindparam("id", type_=GUID), bindparam("product", type_=GUID)),
                    {"id": uuid.uuid4(), "product": product})
                tax_class = (await conn.execute(text(
                    "SELECT tax_class FROM variants WHERE sku = 'OLD'"))).scalar()
                for cls, rate in (("standard", 2000), ("reduced", 1000),
                                  ("super_reduced", 550)):
                    await conn.execute(text(
                        "INSERT INTO config_tax_rate (country, tax_class, rate_bp, name) "
                        "VALUES ('FR', :cls, :rate, 'TVA')"), {"cls": cls, "rate": rate})
                await conn.execute(text(
                    "INSERT INTO config_tax_rate (country, rate_bp, name) "
                    "VALUES ('BE', 2100, 'TVA')"))
                default_class = (await conn.execute(text(
                    "SELECT tax_class FROM config_tax_rate WHERE country = 'BE'"))).scalar()
            with pytest.raises(IntegrityError):
                async with engine.begin() as conn:
                    await conn.execute(text(
                        "INSERT INTO config_tax_rate (country, tax_class, rate_bp, name) "
                        "VALUES ('FR', 'reduced', 700, 'TVA')"))
        finally:
            await engine.dispose()
    assert tax_class == "standard"
    assert default_class == "standard"
