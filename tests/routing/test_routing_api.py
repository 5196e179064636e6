"""Routing through the API and the database: simulate, the policy, capacity, stored decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from comptoir.routing import service
from comptoir.routing.scoring import Delivery

LYON = {"postal_code": "69001", "country": "FR", "city": "Lyon"}


def simulation(*lines: tuple[str, int], **delivery: Any) -> dict[str, Any]:
    return {"lines": [{"sku": sku, "quantity": q} for sku, q in lines],
            "delivery": delivery or {"method": "ship", "address": LYON}}


async def row_counts(sessionmaker: Any) -> dict[str, int]:
    from comptoir.db.registry import Base

    async with sessionmaker() as session:
        return {t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables if t.name != "api_keys"}


async def levels(sessionmaker: Any) -> list[tuple[str, str, int, int]]:
    from comptoir.inventory.models import InventoryLevel

    async with sessionmaker() as session:
        rows = await session.execute(select(InventoryLevel.sku, InventoryLevel.location,
                                            InventoryLevel.on_hand, InventoryLevel.reserved)
                                     .order_by(InventoryLevel.sku, InventoryLevel.location))
        return [tuple(r) for r in rows]


def by_code(decision: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in decision["candidates"] if c["code"] == code)


async def test_simulate_shows_where_an_order_would_go_and_why(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5, "WH-LYON": 5})

    response = await manager.post("/api/routing/simulate", json=simulation(("TEE", 2)))

    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["routed"] is True
    assert decision["locations"] == ["WH-LYON"]
    assert decision["allocations"] == [{"location": "WH-LYON", "sku": "TEE", "quantity": 2}]
    assert decision["deciding_factor"] == "distance"
    assert decision["reason"].startswith("WH-LYON: nearest with all items, ")
    assert decision["destination"] == "département 69 (Rhône (Lyon))"
    assert by_code(decision, "WH-LYON")["outcome"] == "chosen"
    paris = by_code(decision, "WH-PARIS")
    assert paris["outcome"] == "lost" and paris["reason"].startswith("farther: ")
    assert paris["distance_km"] > 300 and paris["score"] > by_code(decision, "WH-LYON")["score"]
    assert decision["without_stock"] == 2  # the two stores hold no tees


async def test_simulating_reserves_nothing_and_records_nothing(
    manager: httpx.AsyncClient, catalog: Any, sessionmaker: Any
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 3})
    await catalog.add("CAP", stock={"WH-PARIS": 3})
    before_rows, before_levels = await row_counts(sessionmaker), await levels(sessionmaker)

    response = await manager.post("/api/routing/simulate",
                                  json=simulation(("TEE", 3), ("CAP", 3)))

    assert response.status_code == 200, response.text
    assert response.json()["deciding_factor"] == "split"
    assert await row_counts(sessionmaker) == before_rows
    assert await levels(sessionmaker) == before_levels


BAD_INPUT = [
    ({"lines": [], "delivery": {"method": "ship", "address": LYON}}, 422, "lines_required"),
    (simulation(("TEE", 0)), 422, "invalid_quantity"),
    (simulation(("TEE", -2)), 422, "invalid_quantity"),
    (simulation(("NOPE", 1)), 422, "unknown_sku"),
    ({**simulation(("TEE", 1)), "channel": "nope"}, 422, "unknown_channel"),
    (simulation(("TEE", 1), method="drone"), 422, "unknown_delivery_method"),
    (simulation(("TEE", 1), method="ship"), 422, "address_required"),
    (simulation(("TEE", 1), method="ship", address={"country": "FR"}), 422,
     "incomplete_address"),
    (simulation(("TEE", 1), method="ship", address={"postal_code": "69001", "country": "F1"}),
     422, "invalid_country"),
    (simulation(("TEE", 1), method="ship", address={"latitude": 95.0, "longitude": 4.0}), 422,
     "invalid_coordinates"),
    (simulation(("TEE", 1), method="ship", address={"latitude": 45.0}), 422,
     "invalid_coordinates"),
    (simulation(("TEE", 1), method="pickup"), 422, "location_required"),
    (simulation(("TEE", 1), method="pickup", location="ST-NOWHERE"), 422, "unknown_location"),
    ({"lines": [{"sku": "TEE", "quantity": "two"}],
      "delivery": {"method": "ship", "address": LYON}}, 400, "invalid_request"),
    ({"lines": [{"sku": "TEE"}], "delivery": {"method": "ship", "address": LYON}}, 400,
     "invalid_request"),
    ("{not json", 400, "malformed_json"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_INPUT,
                         ids=[f"{code}-{i}" for i, (_b, _s, code) in enumerate(BAD_INPUT)])
async def test_simulate_refuses_bad_input_with_a_code_and_changes_nothing(
    manager: httpx.AsyncClient, catalog: Any, sessionmaker: Any, body: Any, status: int,
    code: str,
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 3})
    before = await row_counts(sessionmaker)

    if isinstance(body, str):
        response = await manager.post("/api/routing/simulate", content=body,
                                      headers={"content-type": "application/json"})
    else:
        response = await manager.post("/api/routing/simulate", json=body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert await row_counts(sessionmaker) == before


async def test_only_managers_may_simulate_or_read_the_policy(
    client_for: Any, anon: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 3})
    body = simulation(("TEE", 1))

    assert (await anon.post("/api/routing/simulate", json=body)).status_code == 401
    assert (await anon.get("/api/routing/policy")).status_code == 401
    for who in [await client_for("associate"), await client_for(key="web"),
                await client_for(key="store-lyon-key")]:
        response = await who.post("/api/routing/simulate", json=body)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
        assert (await who.get("/api/routing/policy")).status_code == 403
        assert (await who.get("/api/routing/decisions/CMP-2026-000001")).status_code == 403
    for who in [await client_for("manager"), await client_for("admin"),
                await client_for(key="manager-key")]:
        assert (await who.post("/api/routing/simulate", json=body)).status_code == 200
        assert (await who.get("/api/routing/policy")).status_code == 200


async def test_the_policy_shows_defaults_then_what_the_admin_configured(
    manager: httpx.AsyncClient, routing_config: Any
) -> None:
    defaults = (await manager.get("/api/routing/policy")).json()
    assert defaults["max_splits"] == 2 and defaults["stores_may_ship"] is True
    assert defaults["channel_safety_stock"] == []
    assert {loc["code"] for loc in defaults["locations"]} >= {"WH-PARIS", "ST-LYON-01"}

    await routing_config.policy(distance_weight=2.0, max_splits=3, default_store_capacity=40)
    await routing_config.location("WH-PARIS", routing_priority=5, shipping_cost=450)
    await routing_config.keep_back("b2b", 2)
    shown = (await manager.get("/api/routing/policy")).json()

    assert shown["distance_weight"] == 2.0 and shown["max_splits"] == 3
    assert shown["channel_safety_stock"] == [{"channel": "b2b", "location": None, "units": 2}]
    paris = next(loc for loc in shown["locations"] if loc["code"] == "WH-PARIS")
    assert (paris["priority"], paris["shipping_cost"], paris["daily_capacity"]) == (5, 450, None)
    store = next(loc for loc in shown["locations"] if loc["code"] == "ST-LYON-01")
    assert (store["daily_capacity"], store["routed_today"], store["capacity_left"]) == (40, 0, 40)


async def test_configured_priority_changes_the_winner_and_the_reason_says_so(
    manager: httpx.AsyncClient, catalog: Any, routing_config: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5, "WH-LYON": 5})
    await routing_config.location("WH-PARIS", routing_priority=10)

    decision = (await manager.post("/api/routing/simulate",
                                   json=simulation(("TEE", 1)))).json()

    assert decision["locations"] == ["WH-PARIS"]
    assert decision["deciding_factor"] == "priority"
    assert decision["reason"].startswith("WH-PARIS: highest priority (10) with all items")


async def test_a_store_at_its_daily_capacity_is_skipped_until_tomorrow(
    manager: httpx.AsyncClient, catalog: Any, routing_config: Any, sessionmaker: Any
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5, "WH-PARIS": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=1)
    first = (await manager.post("/api/routing/simulate", json=simulation(("TEE", 1)))).json()
    assert first["locations"] == ["ST-LYON-01"]

    # One order routed there today (as capture records it) fills the store for the day.
    async with sessionmaker() as session, session.begin():
        decision = await service.route(session, [("TEE", 1)],
                                       Delivery("ship", postal_code="69001", country="FR"),
                                       channel="web")
        await service.record_decision(session, "CMP-2026-000001", decision)

    second = (await manager.post("/api/routing/simulate", json=simulation(("TEE", 1)))).json()
    assert second["locations"] == ["WH-PARIS"]
    skipped = by_code(second, "ST-LYON-01")
    assert skipped["outcome"] == "excluded"
    assert skipped["reason"] == "at capacity (1 of 1 orders today)"
    policy = (await manager.get("/api/routing/policy")).json()
    store = next(loc for loc in policy["locations"] if loc["code"] == "ST-LYON-01")
    assert (store["routed_today"], store["capacity_left"]) == (1, 0)

    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    async with sessionmaker() as session:
        again = await service.route(session, [("TEE", 1)],
                                    Delivery("ship", postal_code="69001", country="FR"),
                                    channel="web", now=tomorrow)
    assert again.locations == ["ST-LYON-01"]


async def test_a_stores_day_ends_at_its_own_midnight(
    catalog: Any, routing_config: Any, sessionmaker: Any
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5, "WH-PARIS": 5})
    await routing_config.location("ST-LYON-01", daily_order_capacity=1)
    lyon = Delivery("ship", postal_code="69001", country="FR")
    # 23:30 in Lyon (21:30 UTC in winter): the store's last order of the day.
    late = dt.datetime(2026, 1, 15, 22, 30, tzinfo=dt.UTC)
    async with sessionmaker() as session, session.begin():
        decision = await service.route(session, [("TEE", 1)], lyon, channel="web", now=late)
        assert decision.locations == ["ST-LYON-01"]
        await service.record_decision(session, "CMP-2026-000002", decision, now=late)

    async with sessionmaker() as session:
        # Still the same day in Lyon at 23:50 (UTC 22:50): full.
        same_day = await service.route(session, [("TEE", 1)], lyon, channel="web",
                                       now=late + dt.timedelta(minutes=20))
        # 00:30 in Lyon is 23:30 UTC, still "yesterday" in UTC: the store takes orders again.
        next_day = await service.route(session, [("TEE", 1)], lyon, channel="web",
                                       now=late + dt.timedelta(hours=1))
    assert same_day.locations == ["WH-PARIS"]
    assert next_day.locations == ["ST-LYON-01"]


async def test_the_default_store_capacity_applies_to_stores_without_their_own(
    manager: httpx.AsyncClient, catalog: Any, routing_config: Any
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5, "WH-PARIS": 5})
    await routing_config.policy(default_store_capacity=0)

    decision = (await manager.post("/api/routing/simulate", json=simulation(("TEE", 1)))).json()

    assert decision["locations"] == ["WH-PARIS"]
    assert by_code(decision, "ST-LYON-01")["reason"] == "at capacity (0 of 0 orders today)"


async def test_channel_safety_stock_from_configuration_keeps_units_for_other_channels(
    manager: httpx.AsyncClient, catalog: Any, routing_config: Any
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 2, "WH-PARIS": 10})
    await routing_config.keep_back("b2b", 2)
    await routing_config.keep_back("b2b", 0, location="WH-PARIS")

    web = (await manager.post("/api/routing/simulate",
                              json={**simulation(("TEE", 1)), "channel": "web"})).json()
    b2b = (await manager.post("/api/routing/simulate",
                              json={**simulation(("TEE", 1)), "channel": "b2b"})).json()

    assert web["locations"] == ["WH-LYON"]
    assert b2b["locations"] == ["WH-PARIS"]
    assert by_code(b2b, "WH-LYON")["reason"] == (
        "none of the items beyond the channel's safety stock")


async def test_a_pickup_at_a_location_that_does_no_pickups_is_explained(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 2})

    response = await manager.post("/api/routing/simulate",
                                  json=simulation(("TEE", 1), method="pickup",
                                                  location="WH-LYON"))

    assert response.status_code == 200
    decision = response.json()
    assert decision["routed"] is False and decision["deciding_factor"] == "pickup_store"
    assert decision["reason"] == "Cannot route: the pickup store WH-LYON does not serve pickups."


async def test_a_stored_decision_is_read_back_with_its_candidates_and_reason(
    manager: httpx.AsyncClient, catalog: Any, sessionmaker: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5, "WH-LYON": 5})
    async with sessionmaker() as session, session.begin():
        decision = await service.route(session, [("TEE", 2)],
                                       Delivery("ship", postal_code="69001", country="FR"),
                                       channel="web")
        await service.record_decision(session, "CMP-2026-000042", decision)

    response = await manager.get("/api/routing/decisions/CMP-2026-000042")

    assert response.status_code == 200, response.text
    [stored] = response.json()
    assert stored["order_number"] == "CMP-2026-000042"
    assert stored["reason"] == decision.reason
    assert stored["allocations"] == [{"location": "WH-LYON", "sku": "TEE", "quantity": 2}]
    assert [c["code"] for c in stored["candidates"]] == ["WH-LYON", "WH-PARIS"]
    assert stored["candidates"][1]["reason"].startswith("farther: ")
    assert stored["channel"] == "web" and stored["method"] == "ship"
    assert (await manager.get("/api/routing/decisions/CMP-2026-999999")).json() == []
