"""PostgreSQL: captures may route on this process's recent read of their SKUs; what that
read has missed costs a fresh read, never a wrong answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from comptoir.inventory.service import recent_reads
from tests.orders.conftest import order_body

pytestmark = pytest.mark.postgres


@pytest.fixture
def short_memory() -> Iterator[None]:
    """Recent reads kept 0.3 s instead of 2 s, for the tests that wait them out."""
    kept = recent_reads.seconds
    recent_reads.seconds = 0.3
    yield
    recent_reads.seconds = kept


async def behind_the_app(sessionmaker: Any, sql: str, **params: Any) -> None:
    """A change this process is not told of, as another process's would be."""
    async with sessionmaker() as session, session.begin():
        await session.execute(text(sql), params)


async def test_stock_another_process_received_is_found_though_the_recent_read_had_none(
    web: httpx.AsyncClient, catalog: Any, sessionmaker: Any, level: Any
) -> None:
    await catalog.add("ONE-LEFT", stock={"WH-LYON": 1})
    first = await web.post("/api/orders", json=order_body(("ONE-LEFT", 1)))
    assert first.status_code == 201
    # What this process read says one unit at Lyon; the write finds none, reads afresh.
    second = await web.post("/api/orders", json=order_body(("ONE-LEFT", 1)))
    assert second.status_code == 409 and second.json()["code"] == "out_of_stock"
    # Another process receives 3 units: the recent read (0 at Lyon) would refuse the order.
    await behind_the_app(sessionmaker, "UPDATE inventory_levels SET on_hand = on_hand + 3 "
                                       "WHERE sku = 'ONE-LEFT' AND location = 'WH-LYON'")
    third = await web.post("/api/orders", json=order_body(("ONE-LEFT", 2)))
    assert third.status_code == 201, third.text
    assert third.json()["lines"][0]["allocations"] == [{"location": "WH-LYON", "quantity": 2}]
    assert await level("ONE-LEFT", "WH-LYON") == (4, 3, 1)


async def test_a_sku_another_process_created_is_sold_at_once(
    web: httpx.AsyncClient, catalog: Any, sessionmaker: Any
) -> None:
    refused = await web.post("/api/orders", json=order_body(("BRAND-NEW", 1)))
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_sku"
    # Made without any event in this process: its recent read still says "no such SKU".
    await catalog.add("BRAND-NEW", stock={})
    await behind_the_app(
        sessionmaker, "INSERT INTO inventory_levels (id, sku, location, on_hand, reserved, "
                      "safety_stock, updated_at) VALUES (gen_random_uuid(), 'BRAND-NEW', "
                      "'WH-PARIS', 2, 0, 0, now())")
    sold = await web.post("/api/orders", json=order_body(("BRAND-NEW", 1)))
    assert sold.status_code == 201, sold.text


async def test_a_price_changed_here_applies_to_the_next_capture(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    product_id = await catalog.add("REPRICED", price=1000, stock={"WH-PARIS": 10})
    before = await web.post("/api/orders", json=order_body(("REPRICED", 1)))
    assert before.json()["lines"][0]["unit_price"] == 1000
    changed = await manager.patch(f"/api/products/{product_id}",
                                  json={"variants": [{"sku": "REPRICED", "price": 1250}]})
    assert changed.status_code == 200, changed.text
    after = await web.post("/api/orders", json=order_body(("REPRICED", 1)))
    assert after.json()["lines"][0]["unit_price"] == 1250


async def test_a_price_another_process_changed_applies_once_the_recent_read_expires(
    web: httpx.AsyncClient, catalog: Any, sessionmaker: Any, short_memory: None
) -> None:
    await catalog.add("REPRICED-ELSEWHERE", price=1000, stock={"WH-PARIS": 10})
    assert (await web.post("/api/orders", json=order_body(("REPRICED-ELSEWHERE", 1)))
            ).json()["lines"][0]["unit_price"] == 1000
    await behind_the_app(sessionmaker, "UPDATE variants SET price = 1250 WHERE sku = :sku",
                         sku="REPRICED-ELSEWHERE")
    await asyncio.sleep(0.35)
    later = await web.post("/api/orders", json=order_body(("REPRICED-ELSEWHERE", 1)))
    assert later.json()["lines"][0]["unit_price"] == 1250


async def test_a_variant_another_process_deactivated_is_refused_once_the_read_expires(
    web: httpx.AsyncClient, catalog: Any, sessionmaker: Any, short_memory: None,
    stored: Any,
) -> None:
    await catalog.add("WITHDRAWN", stock={"WH-PARIS": 10})
    assert (await web.post("/api/orders", json=order_body(("WITHDRAWN", 1)))).status_code == 201
    await behind_the_app(sessionmaker, "UPDATE variants SET active = false WHERE sku = :sku",
                         sku="WITHDRAWN")
    await asyncio.sleep(0.35)
    before = await stored()
    refused = await web.post("/api/orders", json=order_body(("WITHDRAWN", 1)))
    assert refused.status_code == 422 and refused.json()["code"] == "sku_inactive"
    assert await stored() == before
