"""Routing's reasons reach the API as codes with their parameters, stored with the decision,
beside the English sentence; decisions stored before codes still read with their sentence."""

from __future__ import annotations

from typing import Any

import httpx

from comptoir.db.base import new_id, utcnow
from comptoir.routing.explanation import english
from comptoir.routing.models import RoutingDecision
from comptoir.routing.reasons import Reason
from tests.orders.conftest import order_body
from tests.routing.test_routing_api import by_code, simulation


def said(reason: dict[str, Any]) -> str:
    """The English sentence for a reason as the API sends it."""
    import msgspec

    return english(msgspec.convert(reason, Reason))


async def test_simulate_gives_each_reason_as_a_code_with_its_parameters(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5, "WH-LYON": 5})

    decision = (await manager.post("/api/routing/simulate", json=simulation(("TEE", 2)))).json()

    why = decision["explanation"]
    assert why["code"] == "single_location" and why["location"] == "WH-LYON"
    assert why["because"] == {"code": "nearest"}
    assert 0 <= why["km"] < 50
    assert said(why) == decision["reason"]
    paris = by_code(decision, "WH-PARIS")
    assert paris["explanation"]["code"] == "farther"
    assert paris["explanation"]["km"] > 300 and paris["explanation"]["other_km"] == why["km"]
    assert said(paris["explanation"]) == paris["reason"]
    assert by_code(decision, "WH-LYON")["explanation"] == {"code": "nearest"}


async def test_a_refusal_names_what_is_short_as_lines(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-LYON": 1})

    decision = (await manager.post("/api/routing/simulate", json=simulation(("TEE", 3)))).json()

    assert decision["explanation"] == {
        "code": "out_of_stock", "lines": [{"sku": "TEE", "quantity": 3, "available": 1}]}
    assert decision["reason"] == ("Cannot route: not enough stock where orders may ship from: "
                                  "TEE (1 of 3).")


async def test_a_captured_orders_decision_is_stored_with_its_codes(
    web_channel: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5, "WH-LYON": 5})
    response = await web_channel.post("/api/orders", json=order_body(("TEE", 1)))
    assert response.status_code == 201, response.text
    number = response.json()["number"]

    [stored] = (await manager.get(f"/api/routing/decisions/{number}")).json()

    assert stored["explanation"]["code"] == "single_location"
    assert said(stored["explanation"]) == stored["reason"]
    for candidate in stored["candidates"]:
        assert said(candidate["explanation"]) == candidate["reason"]


async def test_a_decision_stored_before_reasons_had_codes_reads_with_its_sentence(
    manager: httpx.AsyncClient, sessionmaker: Any
) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(RoutingDecision(
            id=new_id(), order_number="CMP-2026-000007", created_at=utcnow(), method="ship",
            channel="web", routed=True, deciding_factor="distance",
            reason="WH-LYON: nearest with all items, 3.2 km.", destination=None, score=3.2,
            allocations=[{"location": "WH-LYON", "sku": "TEE", "quantity": 1}], shortages=[],
            candidates=[{"code": "WH-LYON", "kind": "warehouse", "outcome": "chosen",
                         "reason": "nearest", "distance_km": 3.2, "distance_points": 3.2,
                         "shipping_cost_points": 0.0, "priority_points": 0.0, "score": 3.2,
                         "lines_in_full": 1}],
            candidates_left_out=0, without_stock=0))

    response = await manager.get("/api/routing/decisions/CMP-2026-000007")

    assert response.status_code == 200, response.text
    [old] = response.json()
    assert old["explanation"] is None
    assert old["reason"] == "WH-LYON: nearest with all items, 3.2 km."
    assert old["candidates"][0]["explanation"] is None
    assert old["candidates"][0]["reason"] == "nearest"
