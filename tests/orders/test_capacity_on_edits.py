"""An edit that gives a location work it did not have counts one order there, within its
daily capacity, like a capture."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from comptoir.routing.models import DailyCount
from tests.orders.conftest import order_body


async def counted(sessionmaker: Any, location: str) -> int:
    async with sessionmaker() as session:
        return sum(await session.scalars(
            select(DailyCount.routed).where(DailyCount.location == location)))


async def test_an_edit_needing_a_location_at_capacity_is_refused_and_changes_nothing(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, routing_config: Any,
    stored: Any, sessionmaker: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    await catalog.add("BAG", stock={"WH-LYON": 5})
    await routing_config.location("WH-LYON", daily_order_capacity=0)
    order = (await web.post("/api/orders", json=order_body(("TEE", 1)))).json()
    before = await stored()

    response = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "1"},
                                   json={"lines": [{"sku": "BAG", "quantity": 1}]})

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "no_capacity"
    assert problem["locations"] == ["WH-LYON"]
    assert "no capacity left today" in problem["detail"]
    assert await stored() == before


async def test_an_edit_that_sends_work_to_a_new_location_counts_an_order_there(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, routing_config: Any,
    sessionmaker: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    await catalog.add("BAG", stock={"WH-LYON": 5})
    await routing_config.location("WH-LYON", daily_order_capacity=1)
    order = (await web.post("/api/orders", json=order_body(("TEE", 1)))).json()

    edited = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "1"},
                                 json={"lines": [{"sku": "BAG", "quantity": 1}]})
    assert edited.status_code == 200, edited.text
    assert await counted(sessionmaker, "WH-LYON") == 1
    # More units where it already is: no second order counted there.
    again = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "2"},
                                json={"lines": [{"sku": "BAG", "quantity": 2}]})
    assert again.status_code == 200, again.text
    assert await counted(sessionmaker, "WH-LYON") == 1

    other = (await web.post("/api/orders", json=order_body(("TEE", 1)))).json()
    full = await manager.patch(f"/api/orders/{other['number']}", headers={"If-Match": "1"},
                               json={"lines": [{"sku": "BAG", "quantity": 1}]})
    assert full.status_code == 409 and full.json()["code"] == "no_capacity"
