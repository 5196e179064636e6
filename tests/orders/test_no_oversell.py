"""Stock is never sold twice: all-or-nothing reservation, under heavy concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.orders.conftest import order_body, pickup


async def test_last_five_units_go_to_exactly_five_of_two_hundred_racing_orders(
    web: httpx.AsyncClient, catalog: Any, level: Any, stored: Any
) -> None:
    await catalog.add("LAST-ONES", stock={"WH-PARIS": 5})
    body = order_body(("LAST-ONES", 1))
    responses = await asyncio.gather(*(web.post("/api/orders", json=body) for _ in range(200)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 5, 409: 195}, statuses
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert {r["code"] for r in refusals} == {"out_of_stock"}
    assert all(r["lines"][0]["sku"] == "LAST-ONES" for r in refusals)
    assert all(r["lines"][0]["available"] == 0 for r in refusals)
    assert await level("LAST-ONES", "WH-PARIS") == (5, 5, 0)
    numbers = {r.json()["number"] for r in responses if r.status_code == 201}
    assert len(numbers) == 5
    assert (await stored())["orders"] == 5


async def test_an_order_whose_second_line_is_short_reserves_nothing(
    web: httpx.AsyncClient, catalog: Any, level: Any, stored: Any
) -> None:
    await catalog.add("PLENTY", stock={"WH-PARIS": 50})
    await catalog.add("SCARCE", stock={"WH-PARIS": 1})
    before = await stored()
    response = await web.post("/api/orders", json=order_body(("PLENTY", 3), ("SCARCE", 2)))
    assert response.status_code == 409
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "out_of_stock"
    assert problem["lines"] == [{"sku": "SCARCE", "requested": 2, "available": 1}]
    assert await level("PLENTY", "WH-PARIS") == (50, 0, 50)
    assert await level("SCARCE", "WH-PARIS") == (1, 0, 1)
    assert await stored() == before


async def test_every_short_line_is_named_with_what_is_available(
    web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("A", stock={"WH-PARIS": 1, "WH-LYON": 1})
    await catalog.add("B", stock={})
    await catalog.add("C", stock={"WH-LYON": 9})
    response = await web.post("/api/orders", json=order_body(("A", 3), ("B", 1), ("C", 2)))
    assert response.status_code == 409
    assert response.json()["lines"] == [
        {"sku": "A", "requested": 3, "available": 2},
        {"sku": "B", "requested": 1, "available": 0},
    ]


async def test_pickup_counts_only_the_chosen_stores_stock(
    web: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("SHOE", stock={"WH-PARIS": 20, "ST-PARIS-01": 1})
    response = await web.post("/api/orders", json=order_body(
        ("SHOE", 2), delivery=pickup("ST-PARIS-01")))
    assert response.status_code == 409
    assert response.json()["lines"] == [{"sku": "SHOE", "requested": 2, "available": 1}]
    assert await level("SHOE", "ST-PARIS-01") == (1, 0, 1)


async def test_a_race_lost_after_sourcing_still_reserves_nothing(
    web: httpx.AsyncClient, catalog: Any, level: Any, sessionmaker: Any, stored: Any,
    monkeypatch: Any,
) -> None:
    """Another order took the stock after the availability snapshot: the reservation fails."""
    from comptoir.inventory import service as inventory

    await catalog.add("FIRST", stock={"WH-PARIS": 5})
    await catalog.add("RACED", stock={"WH-PARIS": 2})
    async with sessionmaker() as other, other.begin():
        assert await inventory.reserve(other, sku="RACED", location="WH-PARIS", quantity=2)
    before = await stored()
    original = inventory.variants_with_availability

    async def stale_snapshot(session: Any, skus: Any) -> Any:
        variants, stock = await original(session, skus)
        stock["RACED"] = {"WH-PARIS": 2}  # as it was before the other order
        return variants, stock

    monkeypatch.setattr(inventory, "variants_with_availability", stale_snapshot)
    response = await web.post("/api/orders", json=order_body(("FIRST", 1), ("RACED", 1)))
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert response.json()["lines"] == [{"sku": "RACED", "requested": 1, "available": 0}]
    assert await level("FIRST", "WH-PARIS") == (5, 0, 5)
    assert await level("RACED", "WH-PARIS") == (2, 2, 0)
    assert await stored() == before
