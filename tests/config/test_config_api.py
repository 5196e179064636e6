"""Locations and sales channels through the API: what they say, and that they stay read-only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

READ_ONLY_PATHS = ["/api/locations", "/api/locations/WH-PARIS", "/api/channels"]


async def test_staff_and_channel_systems_see_warehouses_and_pickup_stores(client_for: Any) -> None:
    for caller in (await client_for("associate"), await client_for(key="web")):
        response = await caller.get("/api/locations")
        assert response.status_code == 200
        by_code = {loc["code"]: loc for loc in response.json()}
        assert {"WH-PARIS", "WH-LYON", "ST-LYON-01", "ST-PARIS-01"} <= set(by_code)

        warehouse = by_code["WH-PARIS"]
        assert warehouse["kind"] == "warehouse"
        assert warehouse["ships"] is True
        assert warehouse["serves_pickups"] is False

        store = by_code["ST-LYON-01"]
        assert store["kind"] == "store"
        assert store["name"] == "Comptoir Lyon Presqu'île"
        assert store["city"] == "Lyon"
        assert store["serves_pickups"] is True
        assert store["pickup_hold_days"] == 5
        assert store["timezone"] == "Europe/Paris"
        assert (store["latitude"], store["longitude"]) == (45.76, 4.83)
        assert store["active"] is True


async def test_one_location_is_read_by_its_code(associate: httpx.AsyncClient) -> None:
    response = await associate.get("/api/locations/ST-PARIS-01")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "ST-PARIS-01"
    assert body["kind"] == "store"
    assert body["city"] == "Paris"


async def test_unknown_location_is_a_404_naming_it(associate: httpx.AsyncClient) -> None:
    response = await associate.get("/api/locations/ST-NOWHERE-99")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "unknown_location"
    assert "ST-NOWHERE-99" in problem["detail"]


async def test_channels_show_currency_tax_mode_and_shipping_fees(
    manager: httpx.AsyncClient,
) -> None:
    response = await manager.get("/api/channels")
    assert response.status_code == 200
    by_code = {ch["code"]: ch for ch in response.json()}
    assert {"web", "b2b", "pos"} <= set(by_code)

    web = by_code["web"]
    assert web["kind"] == "web"
    assert web["currency"] == "EUR"
    assert web["prices_include_tax"] is True
    rates = {rate["method"]: rate for rate in web["shipping_rates"]}
    assert rates["ship"] == {"method": "ship", "fee": 490, "free_from": 5000}
    assert rates["pickup"] == {"method": "pickup", "fee": 0, "free_from": None}

    assert by_code["b2b"]["prices_include_tax"] is False
    assert by_code["b2b"]["kind"] == "marketplace"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_configuration_cannot_be_changed_through_the_api(
    admin: httpx.AsyncClient, method: str
) -> None:
    before = [(await admin.get(path)).json() for path in READ_ONLY_PATHS]
    for path in READ_ONLY_PATHS:
        response = await admin.request(method, path, json={"code": "WH-PARIS", "name": "Hacked"})
        assert response.status_code == 405, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "method_not_allowed"
    assert [(await admin.get(path)).json() for path in READ_ONLY_PATHS] == before


async def test_anonymous_callers_cannot_read_configuration(anon: httpx.AsyncClient) -> None:
    for path in READ_ONLY_PATHS:
        response = await anon.get(path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
