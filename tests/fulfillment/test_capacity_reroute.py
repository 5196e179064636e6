"""Units a location rejects go where capacity is left today; when only locations at
capacity have them, they are held there and the order waits for a manager's decision."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from comptoir.routing.models import DailyCount
from tests.fulfillment.conftest import act, order_body, order_status
from tests.routing.conftest import routing_config  # noqa: F401


async def counted(sessionmaker: Any, location: str) -> int:
    async with sessionmaker() as session:
        return sum(await session.scalars(
            select(DailyCount.routed).where(DailyCount.location == location)))


async def _lyon_order(web: httpx.AsyncClient, work_for: Any) -> tuple[str, dict[str, Any]]:
    response = await web.post("/api/orders", json=order_body(("TEE", 2)))
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    work = await work_for(number)
    assert list(work) == ["WH-LYON"]
    return number, work["WH-LYON"]


async def test_rejected_units_go_to_a_location_with_capacity_and_count_an_order_there(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any, routing_config: Any, sessionmaker: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 4, "WH-PARIS": 3})
    await routing_config.location("WH-PARIS", daily_order_capacity=1)
    number, lyon = await _lyon_order(web, work_for)

    rejected = await act(manager, lyon, "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "damaged"})

    assert rejected.status_code == 200, rejected.text
    assert await level("TEE", "WH-PARIS") == (3, 1, 2)
    assert await counted(sessionmaker, "WH-PARIS") == 1
    assert (await work_for(number))["WH-PARIS"]["status"] == "new"
    await books()


async def test_rejected_units_only_a_location_at_capacity_has_are_held_and_the_order_waits(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any, routing_config: Any, sessionmaker: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 4, "WH-PARIS": 3})
    await routing_config.location("WH-PARIS", daily_order_capacity=0)
    number, lyon = await _lyon_order(web, work_for)

    rejected = await act(manager, lyon, "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "damaged"})

    assert rejected.status_code == 200, rejected.text
    # Held at the warehouse at capacity (nobody else sells them), with no work there.
    assert await level("TEE", "WH-PARIS") == (3, 1, 2)
    assert "WH-PARIS" not in await work_for(number)
    assert await counted(sessionmaker, "WH-PARIS") == 0
    assert await order_status(manager, number) == "on_hold"
    order = (await manager.get(f"/api/orders/{number}")).json()
    assert order["hold"]["reason"] == "stock_problem"
    assert "WH-PARIS, at capacity today" in order["hold"]["note"]
    await books()


async def test_a_partly_shipped_order_is_finished_from_a_location_at_capacity_and_says_so(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any, routing_config: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 4, "WH-PARIS": 3})
    await routing_config.location("WH-PARIS", daily_order_capacity=0)
    number, lyon = await _lyon_order(web, work_for)
    for step, body in (("pick", {}), ("pack", {}),
                       ("ship", {"carrier": "dpd", "tracking_number": "P1",
                                 "lines": [{"sku": "TEE", "quantity": 1}]})):
        assert (await act(manager, lyon, step, body)).status_code == 200
    assert await order_status(manager, number) == "partially_shipped"  # cannot be held

    rejected = await act(manager, lyon, "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "not_found"})

    assert rejected.status_code == 200, rejected.text
    assert (await work_for(number))["WH-PARIS"]["status"] == "new"
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    event = next(e for e in timeline if e["type"] == "fulfillment.rejected")
    assert event["data"]["over_capacity"] == [
        {"sku": "TEE", "quantity": 1, "location": "WH-PARIS"}]
    await books()
