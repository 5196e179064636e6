"""Helpers for fulfillment tests: capture an order, find its work, read stock and the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.orders.conftest import level, order_body, pickup, stored, web  # noqa: F401

__all__ = ["order_body", "pickup"]


@pytest.fixture
def work_for(manager: httpx.AsyncClient) -> Callable[[str], Any]:
    """``await work_for("CMP-…")`` → {location: fulfillment} of that order (any status)."""

    async def find(number: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        cursor = None
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = (await manager.get("/api/fulfillments", params=params)).json()
            for item in page["items"]:
                if item["order_number"] == number:
                    found.setdefault(item["location"], item)
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    return find


@pytest.fixture
def books(sessionmaker: Any) -> Callable[[], Any]:
    """``await books()``: raises unless every level's reserved is the sum of the open
    allocations there and every on_hand is the sum of its ledger."""
    from comptoir.inventory.models import InventoryLevel, InventoryMovement
    from comptoir.orders.models import OrderAllocation

    async def check() -> None:
        async with sessionmaker() as session:
            allocated = dict(((sku, loc), int(q)) for sku, loc, q in await session.execute(
                select(OrderAllocation.sku, OrderAllocation.location,
                       func.sum(OrderAllocation.quantity))
                .group_by(OrderAllocation.sku, OrderAllocation.location)))
            ledger = dict(((sku, loc), int(q)) for sku, loc, q in await session.execute(
                select(InventoryMovement.sku, InventoryMovement.location,
                       func.sum(InventoryMovement.quantity))
                .group_by(InventoryMovement.sku, InventoryMovement.location)))
            for row in await session.scalars(select(InventoryLevel)):
                key = (row.sku, row.location)
                assert row.reserved == allocated.get(key, 0), (key, row.reserved, allocated)
                assert row.on_hand == ledger.get(key, 0), (key, row.on_hand, ledger)

    return check


@pytest.fixture
def pickup_code(sessionmaker: Any) -> Callable[[str], Any]:
    from comptoir.orders.models import Order

    async def read(number: str) -> str:
        async with sessionmaker() as session:
            code = await session.scalar(select(Order.pickup_code).where(Order.number == number))
            assert code is not None
            return code

    return read


async def order_status(manager: httpx.AsyncClient, number: str) -> str:
    return (await manager.get(f"/api/orders/{number}")).json()["status"]  # type: ignore[no-any-return]


async def act(client: httpx.AsyncClient, fulfillment: dict[str, Any], action: str,
              body: dict[str, Any] | None = None) -> httpx.Response:
    return await client.post(f"/api/fulfillments/{fulfillment['id']}/{action}",
                             json=body if body is not None else {})
