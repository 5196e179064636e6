"""Stock-outs: the levels with nothing left to promise, for a manager's dashboard."""

from __future__ import annotations

from typing import Any

import httpx

from tests.inventory.test_inventory_api import adjustment, assert_problem


async def _outs(client: httpx.AsyncClient, **params: Any) -> list[tuple[str, str, int]]:
    response = await client.get("/api/inventory/outs", params=params)
    assert response.status_code == 200, response.text
    return [(lv["sku"], lv["location"], lv["available"]) for lv in response.json()["items"]]


async def test_a_level_is_out_when_reservations_or_safety_stock_take_what_is_on_hand(
    manager: httpx.AsyncClient, catalog: Any, sessionmaker: Any
) -> None:
    from comptoir.inventory import service as inventory

    await catalog.add("OUT-SOLD", stock={"WH-PARIS": 2})
    await catalog.add("OUT-KEPT", stock={"ST-LYON-01": 3})
    await catalog.add("OUT-FINE", stock={"WH-PARIS": 4})
    assert await _outs(manager) == []

    async with sessionmaker() as session, session.begin():
        assert await inventory.reserve(session, sku="OUT-SOLD", location="WH-PARIS", quantity=2)
    response = await manager.post("/api/inventory/safety-stock", json={
        "sku": "OUT-KEPT", "location": "ST-LYON-01", "safety_stock": 3})
    assert response.status_code == 200, response.text
    assert await _outs(manager) == [("OUT-KEPT", "ST-LYON-01", 0), ("OUT-SOLD", "WH-PARIS", 0)]
    assert await _outs(manager, location="WH-PARIS") == [("OUT-SOLD", "WH-PARIS", 0)]

    # A receipt puts the level back in stock: it leaves the list.
    response = await manager.post("/api/inventory/adjustments",
                                  json=adjustment("OUT-SOLD", "WH-PARIS", 1, kind="receipt"))
    assert response.status_code == 201, response.text
    assert await _outs(manager) == [("OUT-KEPT", "ST-LYON-01", 0)]


async def test_stock_outs_are_walked_page_by_page_exactly_once(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    locations = ["ST-LYON-01", "WH-LYON", "WH-PARIS"]
    for sku in ("PAGE-A", "PAGE-B"):
        await catalog.add(sku, stock=dict.fromkeys(locations, 1))
        for location in locations:
            response = await manager.post("/api/inventory/adjustments",
                                          json=adjustment(sku, location, -1, reason="casse"))
            assert response.status_code == 201, response.text
    seen: list[tuple[str, str]] = []
    params: dict[str, Any] = {"limit": 4}
    while True:
        page = (await manager.get("/api/inventory/outs", params=params)).json()
        seen += [(lv["sku"], lv["location"]) for lv in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [(sku, loc) for sku in ("PAGE-A", "PAGE-B") for loc in locations]


async def test_only_managers_read_stock_outs_and_bad_filters_are_refused(
    manager: httpx.AsyncClient, associate: httpx.AsyncClient, web_channel: httpx.AsyncClient
) -> None:
    assert (await associate.get("/api/inventory/outs")).status_code == 403
    assert (await web_channel.get("/api/inventory/outs")).status_code == 403
    assert_problem(await manager.get("/api/inventory/outs", params={"location": "NOWHERE"}),
                   422, "unknown_location")
    assert_problem(await manager.get("/api/inventory/outs", params={"cursor": "nope"}),
                   422, "invalid_cursor")


async def test_what_several_skus_have_to_promise_comes_in_one_call(
    associate: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("AV-A", stock={"WH-PARIS": 4, "ST-LYON-01": 2})
    await catalog.add("AV-B")
    response = await manager.post("/api/inventory/safety-stock", json={
        "sku": "AV-A", "location": "ST-LYON-01", "safety_stock": 5})
    assert response.status_code == 200, response.text
    response = await associate.get("/api/inventory/available",
                                   params=[("sku", "AV-B"), ("sku", "AV-A"), ("sku", "AV-A")])
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"sku": "AV-B", "available": 0, "locations": {}},
        {"sku": "AV-A", "available": 4, "locations": {"WH-PARIS": 4, "ST-LYON-01": 0}},
    ]
    too_many = [("sku", f"S{n}") for n in range(101)]
    assert (await associate.get("/api/inventory/available", params=too_many)).status_code == 400
    assert (await associate.get("/api/inventory/available")).status_code == 400
