"""Edits and store rejections are routed by the routing policy, as capture is: stores that
may not ship, daily capacity, the channel's safety stock and the maximum of locations all
apply, and each decision is stored with the order and shown beside capture's."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from comptoir.routing.models import DailyCount
from tests.fulfillment.conftest import act, order_body
from tests.routing.conftest import routing_config  # noqa: F401

PARIS = {"name": "Ada Byron", "line1": "3 rue des Archives", "postal_code": "75004",
         "city": "Paris", "country": "FR"}


def in_paris(*lines: tuple[str, int]) -> dict[str, Any]:
    return order_body(*lines, delivery={"method": "ship", "address": PARIS})


async def capture(web: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await web.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


async def edit(manager: httpx.AsyncClient, number: str, version: int,
               body: dict[str, Any]) -> httpx.Response:
    return await manager.patch(f"/api/orders/{number}", headers={"If-Match": str(version)},
                               json=body)


def held_at(order: dict[str, Any], sku: str) -> dict[str, int]:
    line = next(line for line in order["lines"] if line["sku"] == sku)
    return {a["location"]: a["quantity"] for a in line["allocations"] if a["quantity"]}


async def decisions(manager: httpx.AsyncClient, number: str) -> list[dict[str, Any]]:
    response = await manager.get(f"/api/routing/decisions/{number}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def counted(sessionmaker: Any, location: str) -> int:
    async with sessionmaker() as session:
        return sum(await session.scalars(
            select(DailyCount.routed).where(DailyCount.location == location)))


# --- edits ------------------------------------------------------------------------------------


async def test_an_edit_never_adds_units_at_a_store_the_policy_keeps_from_shipping(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    routing_config: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"ST-PARIS-01": 3, "WH-LYON": 5})
    number = await capture(web, in_paris(("TEE", 1)))
    assert held_at((await manager.get(f"/api/orders/{number}")).json(), "TEE") == {
        "ST-PARIS-01": 1}
    await routing_config.policy(stores_may_ship=False)

    response = await edit(manager, number, 1, {"lines": [{"sku": "TEE", "quantity": 2}]})

    assert response.status_code == 200, response.text
    # The whole order goes where the policy allows: the store gives its unit back.
    assert held_at(response.json(), "TEE") == {"WH-LYON": 2}
    assert await level("TEE", "ST-PARIS-01") == (3, 0, 3)
    assert await level("TEE", "WH-LYON") == (5, 2, 3)
    [_capture, edited] = await decisions(manager, number)
    assert edited["routed"] is True and edited["locations"] == ["WH-LYON"]
    store = next(c for c in edited["candidates"] if c["code"] == "ST-PARIS-01")
    assert store["outcome"] == "excluded"


async def test_an_edit_keeps_the_channels_safety_stock(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    routing_config: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 2, "WH-LYON": 5})
    number = await capture(web, in_paris(("TEE", 1)))
    assert held_at((await manager.get(f"/api/orders/{number}")).json(), "TEE") == {
        "WH-PARIS": 1}
    await routing_config.keep_back("web", 1, "WH-PARIS")

    response = await edit(manager, number, 1, {"lines": [{"sku": "TEE", "quantity": 2}]})

    assert response.status_code == 200, response.text
    held = held_at(response.json(), "TEE")
    assert sum(held.values()) == 2
    # One unit of WH-PARIS stays for other channels' orders.
    assert held.get("WH-PARIS", 0) <= 1
    assert (await level("TEE", "WH-PARIS"))[1] <= 1
    assert len(await decisions(manager, number)) == 2


async def test_an_edit_keeps_the_order_within_the_maximum_of_locations(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    routing_config: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5, "WH-LYON": 5})
    await catalog.add("BAG", stock={"WH-LYON": 5})
    number = await capture(web, in_paris(("TEE", 1)))
    assert held_at((await manager.get(f"/api/orders/{number}")).json(), "TEE") == {
        "WH-PARIS": 1}
    await routing_config.policy(max_splits=1)

    response = await edit(manager, number, 1, {"lines": [{"sku": "BAG", "quantity": 1}]})

    assert response.status_code == 200, response.text
    edited = response.json()
    # Never split: everything moves to the one location that has it all.
    assert held_at(edited, "TEE") == {"WH-LYON": 1}
    assert held_at(edited, "BAG") == {"WH-LYON": 1}
    assert await level("TEE", "WH-PARIS") == (5, 0, 5)
    assert (await decisions(manager, number))[-1]["locations"] == ["WH-LYON"]


async def test_an_edit_that_would_split_beyond_the_maximum_is_refused_and_changes_nothing(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, stored: Any,
    routing_config: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    await catalog.add("BAG", stock={"WH-LYON": 5})
    number = await capture(web, in_paris(("TEE", 1)))
    await routing_config.policy(max_splits=1)
    before = await stored()

    response = await edit(manager, number, 1, {"lines": [{"sku": "BAG", "quantity": 1}]})

    assert response.status_code == 409, response.text
    assert await stored() == before


async def test_an_edit_goes_around_a_location_at_capacity_and_the_decision_is_shown(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    routing_config: Any, sessionmaker: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    await catalog.add("BAG", stock={"WH-LYON": 5, "ST-LYON-01": 5})
    number = await capture(web, in_paris(("TEE", 1)))
    await routing_config.location("WH-LYON", daily_order_capacity=0)

    response = await edit(manager, number, 1, {"lines": [{"sku": "BAG", "quantity": 1}]})

    assert response.status_code == 200, response.text
    assert held_at(response.json(), "BAG") == {"ST-LYON-01": 1}
    assert await level("BAG", "WH-LYON") == (5, 0, 5)
    assert await counted(sessionmaker, "WH-LYON") == 0
    first, latest = await decisions(manager, number)
    assert first["locations"] == ["WH-PARIS"]
    assert latest["routed"] is True and "ST-LYON-01" in latest["locations"]
    full = next(c for c in latest["candidates"] if c["code"] == "WH-LYON")
    assert full["outcome"] == "excluded"


# --- store rejections -------------------------------------------------------------------------


async def _order_at_lyon(web: httpx.AsyncClient, work_for: Any, *lines: tuple[str, int]
                         ) -> tuple[str, dict[str, dict[str, Any]]]:
    number = await capture(web, order_body(*lines))
    return number, await work_for(number)


async def test_rejected_units_never_go_to_a_store_the_policy_keeps_from_shipping(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any, routing_config: Any,  # noqa: F811
) -> None:
    await routing_config.policy(stores_may_ship=False)
    await catalog.add("TEE", stock={"WH-LYON": 3, "ST-LYON-01": 4})
    number, work = await _order_at_lyon(web, work_for, ("TEE", 2))
    assert list(work) == ["WH-LYON"]

    rejected = await act(manager, work["WH-LYON"], "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "damaged"})

    assert rejected.status_code == 200, rejected.text
    assert await level("TEE", "ST-LYON-01") == (4, 0, 4)
    assert "ST-LYON-01" not in await work_for(number)
    order = (await manager.get(f"/api/orders/{number}")).json()
    tee = next(line for line in order["lines"] if line["sku"] == "TEE")
    assert (tee["quantity"], tee["cancelled_quantity"]) == (1, 1)
    [_capture, after] = await decisions(manager, number)
    assert after["routed"] is False
    assert next(c for c in after["candidates"] if c["code"] == "ST-LYON-01")["outcome"] == (
        "excluded")
    await books()


async def test_rejected_units_keep_the_channels_safety_stock(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any, routing_config: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 3, "WH-PARIS": 2})
    number, work = await _order_at_lyon(web, work_for, ("TEE", 2))
    assert list(work) == ["WH-LYON"]
    await routing_config.keep_back("web", 2, "WH-PARIS")

    rejected = await act(manager, work["WH-LYON"], "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "damaged"})

    assert rejected.status_code == 200, rejected.text
    assert await level("TEE", "WH-PARIS") == (2, 0, 2)
    assert "WH-PARIS" not in await work_for(number)
    assert len(await decisions(manager, number)) == 2
    await books()


async def test_rejected_units_keep_the_order_within_the_maximum_of_locations(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any, routing_config: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 3, "ST-PARIS-01": 3})
    await catalog.add("CAP", stock={"WH-PARIS": 3})
    number, work = await _order_at_lyon(web, work_for, ("TEE", 2), ("CAP", 1))
    assert sorted(work) == ["WH-LYON", "WH-PARIS"]  # two locations: the policy's maximum

    rejected = await act(manager, work["WH-LYON"], "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "damaged"})

    assert rejected.status_code == 200, rejected.text
    # A third location would break the maximum: the unit is not sent from ST-PARIS-01.
    assert await level("TEE", "ST-PARIS-01") == (3, 0, 3)
    assert sorted(await work_for(number)) == ["WH-LYON", "WH-PARIS"]
    await books()


async def test_rejected_units_go_around_a_location_at_capacity_and_the_decision_is_shown(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any, routing_config: Any, sessionmaker: Any,  # noqa: F811
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 3, "WH-PARIS": 3, "ST-PARIS-01": 3})
    number, work = await _order_at_lyon(web, work_for, ("TEE", 2))
    assert list(work) == ["WH-LYON"]
    await routing_config.location("WH-PARIS", daily_order_capacity=0)
    await routing_config.location("ST-PARIS-01", daily_order_capacity=5)

    rejected = await act(manager, work["WH-LYON"], "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "damaged"})

    assert rejected.status_code == 200, rejected.text
    assert await level("TEE", "WH-PARIS") == (3, 0, 3)
    assert await level("TEE", "ST-PARIS-01") == (3, 1, 2)
    assert await counted(sessionmaker, "ST-PARIS-01") == 1
    assert sorted(await work_for(number)) == ["ST-PARIS-01", "WH-LYON"]
    [_capture, after] = await decisions(manager, number)
    assert after["routed"] is True and after["locations"] == ["ST-PARIS-01"]
    assert next(c for c in after["candidates"] if c["code"] == "WH-PARIS")["outcome"] == (
        "excluded")
    await books()
