"""Daily capacity holds however many captures race for a location's last slots, and an order
that has stock but no location with capacity today is accepted and waits for it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import select

from comptoir.orders.models import Order, OrderAllocation
from comptoir.orders.waiting import CapacityWatch
from comptoir.routing.models import DailyCount
from tests.orders.conftest import order_body, pickup


def customer(n: int) -> dict[str, str]:
    return {"email": f"rush{n}@example.fr", "name": f"Client {n}", "phone": f"+3360100{n:04d}"}


async def routed_to(sessionmaker: Any) -> Counter[str]:
    """Orders per location they are allocated at (held ones included), and waiting ones."""
    async with sessionmaker() as session:
        rows = (await session.execute(
            select(Order.id, Order.status, OrderAllocation.location).join(
                OrderAllocation, OrderAllocation.order_id == Order.id)
            .where(OrderAllocation.quantity > 0).distinct())).all()
    return Counter("waiting" if status == "awaiting_capacity" else location
                   for _id, status, location in rows)


async def counted(sessionmaker: Any, location: str) -> int:
    async with sessionmaker() as session:
        return sum(await session.scalars(
            select(DailyCount.routed).where(DailyCount.location == location)))


async def fulfillment_queue(manager: httpx.AsyncClient, location: str) -> list[str]:
    page = (await manager.get("/api/fulfillments",
                              params={"location": location, "limit": "100"})).json()
    return [item["order_number"] for item in page["items"]]


async def test_a_store_with_a_daily_capacity_of_ten_takes_exactly_ten_of_a_hundred_racing_orders(
    web: httpx.AsyncClient, catalog: Any, routing_config: Any, sessionmaker: Any, level: Any,
) -> None:
    # The Lyon store is the nearest to the customers, then the Lyon warehouse: both fill up,
    # and the rest of the stock is on their shelves.
    await catalog.add("RUSH", stock={"ST-LYON-01": 150, "WH-LYON": 150})
    await routing_config.location("ST-LYON-01", daily_order_capacity=10)
    await routing_config.location("WH-LYON", daily_order_capacity=30)

    responses = await asyncio.gather(*(
        web.post("/api/orders", json=order_body(("RUSH", 1), customer=customer(i)))
        for i in range(100)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 100}, [r.json() for r in responses if r.status_code != 201][:3]
    assert await routed_to(sessionmaker) == {"ST-LYON-01": 10, "WH-LYON": 30, "waiting": 60}
    assert await counted(sessionmaker, "ST-LYON-01") == 10
    assert await counted(sessionmaker, "WH-LYON") == 30
    answered = Counter(r.json()["status"] for r in responses)
    assert answered == {"confirmed": 40, "awaiting_capacity": 60}
    # Every accepted order holds its unit: nobody else can sell it.
    reserved = (await level("RUSH", "ST-LYON-01"))[1] + (await level("RUSH", "WH-LYON"))[1]
    assert reserved == 100


async def test_captures_racing_for_a_stores_last_slots_never_overshoot_and_go_elsewhere(
    web: httpx.AsyncClient, catalog: Any, routing_config: Any, sessionmaker: Any,
) -> None:
    # Fewer captures than the connection pool holds: nothing but the race is tested here.
    await catalog.add("RUSH", stock={"ST-LYON-01": 50, "WH-LYON": 50})
    await routing_config.location("ST-LYON-01", daily_order_capacity=5)

    responses = await asyncio.gather(*(
        web.post("/api/orders", json=order_body(("RUSH", 1), customer=customer(i)))
        for i in range(30)))

    assert Counter(r.status_code for r in responses) == {201: 30}
    assert await routed_to(sessionmaker) == {"ST-LYON-01": 5, "WH-LYON": 25}
    assert await counted(sessionmaker, "ST-LYON-01") == 5


async def test_an_order_with_stock_but_no_capacity_is_accepted_waiting_and_in_no_queue(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, routing_config: Any,
    level: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=1)
    first = await web.post("/api/orders", json=order_body(("TEE", 1), customer=customer(1)))
    waiting = await web.post("/api/orders", json=order_body(("TEE", 2), customer=customer(2)))

    assert first.status_code == waiting.status_code == 201, waiting.text
    assert first.json()["status"] == "confirmed"
    order = waiting.json()
    assert order["status"] == "awaiting_capacity"
    assert order["lines"][0]["allocations"] == [{"location": "ST-LYON-01", "quantity": 2}]
    assert await level("TEE", "ST-LYON-01") == (5, 3, 2)
    assert await fulfillment_queue(manager, "ST-LYON-01") == [first.json()["number"]]

    detail = (await manager.get(f"/api/orders/{order['number']}")).json()
    assert [e["type"] for e in detail["timeline"]] == ["order.captured",
                                                       "order.awaiting_capacity"]
    assert detail["timeline"][1]["data"]["reason"].startswith("Waiting for capacity: ")
    listed = (await manager.get("/api/orders", params={"status": "awaiting_capacity"})).json()
    assert [o["number"] for o in listed["items"]] == [order["number"]]
    [decision] = (await manager.get(f"/api/routing/decisions/{order['number']}")).json()
    assert decision["awaiting_capacity"] is True and decision["routed"] is False
    assert decision["locations"] == ["ST-LYON-01"]


async def test_a_refusal_for_lack_of_stock_counts_the_units_on_shelves_at_capacity(
    web: httpx.AsyncClient, catalog: Any, routing_config: Any, stored: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=0)
    before = await stored()

    response = await web.post("/api/orders", json=order_body(("TEE", 6)))

    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "out_of_stock"
    assert problem["lines"] == [{"sku": "TEE", "requested": 6, "available": 5}]
    assert "0 available" not in problem["detail"]
    assert await stored() == before


async def test_a_pickup_at_a_store_at_capacity_waits_when_capacity_applies_to_pickups(
    web: httpx.AsyncClient, catalog: Any, routing_config: Any,
) -> None:
    await catalog.add("MUG", stock={"ST-PARIS-01": 3})
    await routing_config.policy(capacity_applies_to_pickups=True)
    await routing_config.location("ST-PARIS-01", daily_order_capacity=0)

    response = await web.post("/api/orders", json=order_body(
        ("MUG", 1), delivery=pickup("ST-PARIS-01")))

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "awaiting_capacity"
    assert response.json()["lines"][0]["allocations"] == [
        {"location": "ST-PARIS-01", "quantity": 1}]


async def test_a_waiting_order_is_routed_when_the_stores_next_day_comes(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, routing_config: Any,
    sessionmaker: Any, level: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=1)
    first = (await web.post("/api/orders", json=order_body(("TEE", 1),
                                                           customer=customer(1)))).json()
    waiting = (await web.post("/api/orders", json=order_body(("TEE", 1),
                                                             customer=customer(2)))).json()
    watch = CapacityWatch(sessionmaker)

    today = await watch.walk()
    assert today.routed == [] and today.tried == 1
    assert (await manager.get(f"/api/orders/{waiting['number']}")).json()["status"] == (
        "awaiting_capacity")

    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    walk = await watch.walk(now=tomorrow)

    assert walk.routed == [waiting["number"]]
    detail = (await manager.get(f"/api/orders/{waiting['number']}")).json()
    assert detail["status"] == "confirmed"
    assert detail["version"] == waiting["version"] + 1
    routed = detail["timeline"][-1]
    assert routed["type"] == "order.routed" and routed["data"]["from"] == "awaiting_capacity"
    assert routed["data"]["locations"] == ["ST-LYON-01"]
    assert await level("TEE", "ST-LYON-01") == (5, 2, 3)  # it kept its unit, no more
    assert sorted(await fulfillment_queue(manager, "ST-LYON-01")) == sorted(
        [first["number"], waiting["number"]])
    async with sessionmaker() as session:
        days = dict((row.local_day, row.routed) for row in await session.scalars(
            select(DailyCount).where(DailyCount.location == "ST-LYON-01")))
    assert days == {dt.datetime.now(dt.UTC).date(): 1, tomorrow.date(): 1}
    assert (await watch.walk(now=tomorrow)).routed == []  # nothing waits any more


async def test_waiting_orders_are_routed_oldest_first_when_capacity_is_raised(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, routing_config: Any,
    sessionmaker: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 10})
    await routing_config.location("ST-LYON-01", daily_order_capacity=1)
    numbers = []
    for i in range(4):
        answer = await web.post("/api/orders", json=order_body(("TEE", 1), customer=customer(i)))
        numbers.append(answer.json()["number"])
    watch = CapacityWatch(sessionmaker)
    assert (await watch.walk()).routed == []

    await routing_config.location("ST-LYON-01", daily_order_capacity=3)
    walk = await watch.walk()

    assert walk.routed == numbers[1:3]  # two more slots: the two oldest waiting orders
    statuses = [(await manager.get(f"/api/orders/{n}")).json()["status"] for n in numbers]
    assert statuses == ["confirmed", "confirmed", "confirmed", "awaiting_capacity"]
    assert await counted(sessionmaker, "ST-LYON-01") == 3


async def test_a_waiting_order_routed_elsewhere_takes_its_reservation_with_it(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, routing_config: Any,
    sessionmaker: Any, level: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5, "WH-PARIS": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=0)
    await routing_config.location("WH-PARIS", daily_order_capacity=0)
    waiting = (await web.post("/api/orders", json=order_body(("TEE", 2)))).json()
    assert waiting["status"] == "awaiting_capacity"
    assert waiting["lines"][0]["allocations"] == [{"location": "ST-LYON-01", "quantity": 2}]

    await routing_config.location("WH-PARIS", daily_order_capacity=5)
    walk = await CapacityWatch(sessionmaker).walk()

    assert walk.routed == [waiting["number"]]
    order = (await manager.get(f"/api/orders/{waiting['number']}")).json()
    assert order["status"] == "confirmed"
    assert order["lines"][0]["allocations"] == [{"location": "WH-PARIS", "quantity": 2}]
    assert await level("TEE", "ST-LYON-01") == (5, 0, 5)
    assert await level("TEE", "WH-PARIS") == (5, 2, 3)
    routed = order["timeline"][-1]["data"]
    assert routed["released"] == [{"sku": "TEE", "location": "ST-LYON-01", "quantity": 2}]
    assert routed["reserved"] == [{"sku": "TEE", "location": "WH-PARIS", "quantity": 2}]


async def test_a_waiting_order_can_be_cancelled_and_gives_its_units_back(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, routing_config: Any,
    level: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=0)
    waiting = (await web.post("/api/orders", json=order_body(("TEE", 2)))).json()
    assert waiting["allowed_actions"] == ["route", "hold", "cancel"]

    cancelled = await manager.post(f"/api/orders/{waiting['number']}/cancel", json={})

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert await level("TEE", "ST-LYON-01") == (5, 0, 5)


async def test_the_customer_reads_that_the_order_is_confirmed_and_waits_to_be_prepared(
    web: httpx.AsyncClient, anon: httpx.AsyncClient, catalog: Any, routing_config: Any,
    sessionmaker: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=0)
    order = (await web.post("/api/orders", json=order_body(("TEE", 1)))).json()
    token = order["tracking_token"]

    english = (await anon.get(f"/api/track/{token}", headers={"Accept-Language": "en"})).json()
    assert english["status_label"] == "Order confirmed, waiting to be prepared"
    assert [step["label"] for step in english["timeline"]] == [
        "Order received", "Items set aside, prepared as soon as a slot frees up"]
    french = (await anon.get(f"/api/track/{token}")).json()
    assert french["status_label"] == "Commande confirmée, en attente de préparation"

    await routing_config.location("ST-LYON-01", daily_order_capacity=5)
    await CapacityWatch(sessionmaker).walk()
    routed = (await anon.get(f"/api/track/{token}")).json()
    assert routed["status_label"] == "Commande confirmée"
    assert routed["timeline"][-1]["label"] == "Préparation planifiée"


async def test_pickups_take_a_slot_of_the_stores_day_but_are_not_refused_for_capacity(
    web: httpx.AsyncClient, catalog: Any, routing_config: Any, sessionmaker: Any,
) -> None:
    # The default policy does not apply capacity to pickups: the customer chose the store.
    await catalog.add("MUG", stock={"ST-LYON-01": 5, "WH-LYON": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=1)
    pickups = [await web.post("/api/orders", json=order_body(
        ("MUG", 1), customer=customer(i), delivery=pickup("ST-LYON-01"))) for i in range(2)]

    assert [(r.status_code, r.json()["status"]) for r in pickups] == [(201, "confirmed")] * 2
    assert await counted(sessionmaker, "ST-LYON-01") == 2
    shipped = (await web.post("/api/orders", json=order_body(("MUG", 1)))).json()
    assert shipped["lines"][0]["allocations"] == [{"location": "WH-LYON", "quantity": 1}]
