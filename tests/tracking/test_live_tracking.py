"""The tracking token on ``/ws``: that one order's customer-facing events, and nothing else."""

from __future__ import annotations

from typing import Any

import httpx


async def test_token_holder_receives_their_orders_events_live_and_only_those(
    customer_feed: Any, place: Any, manager: httpx.AsyncClient
) -> None:
    mine, other = await place(), await place()
    customer = await customer_feed()
    ack = await customer.subscribe([f"track:{mine['tracking_token']}"])
    assert ack["topics"] == [f"track:{mine['tracking_token']}"]

    # Staff notes and other orders' events never reach the customer.
    response = await manager.post(f"/api/orders/{mine['number']}/notes",
                                  json={"text": "appeler le transporteur"})
    assert response.status_code == 200, response.text
    response = await manager.post(f"/api/orders/{other['number']}/cancel", json={})
    assert response.status_code == 200, response.text
    assert await customer.quiet() == []

    response = await manager.post(f"/api/orders/{mine['number']}/hold",
                                  json={"reason": "suspected_fraud", "note": "carte volée ?"})
    assert response.status_code == 200, response.text
    response = await manager.post(f"/api/orders/{mine['number']}/cancel",
                                  json={"reason": "fraude confirmée"})
    assert response.status_code == 200, response.text
    held, cancelled = await customer.events(2)
    assert (held["type"], cancelled["type"]) == ("order.held", "order.cancelled")
    for event in (held, cancelled):
        assert event["topic"] == f"track:{mine['tracking_token']}"
        assert event["data"] == {}  # no reason, note or actor: the page reads its own JSON
    assert held["seq"] < cancelled["seq"]

    # A page that reconnects with the last sequence it saw gets what it missed, once.
    again = await customer_feed()
    await again.subscribe([f"track:{mine['tracking_token']}"], since=held["seq"])
    assert [(m["seq"], m["type"]) for m in again.early] == [(cancelled["seq"], "order.cancelled")]


async def test_token_holder_may_not_follow_other_orders_or_the_orders_feed(
    customer_feed: Any, place: Any
) -> None:
    mine, other = await place(), await place()
    customer = await customer_feed()
    ack = await customer.subscribe([f"track:{mine['tracking_token']}", "orders",
                                    f"order:{other['number']}", f"order:{mine['number']}",
                                    "location:WH-PARIS", "inventory:TEE-BLK-M"])
    assert ack["topics"] == [f"track:{mine['tracking_token']}"]
    refused = {message["topic"]: message["code"] for message in customer.early
               if message.get("type") == "error"}
    assert refused == {name: "topic_forbidden" for name in (
        "orders", f"order:{other['number']}", f"order:{mine['number']}",
        "location:WH-PARIS", "inventory:TEE-BLK-M")}


async def test_an_unknown_token_opens_nothing(customer_feed: Any, place: Any) -> None:
    order = await place()
    real = order["tracking_token"]
    customer = await customer_feed()
    await customer.send({"subscribe": [f"track:{'A' if real[0] != 'A' else 'B'}{real[1:]}"],
                         "since": None})
    refusal = await customer.receive()
    assert (refusal["type"], refusal["code"]) == ("error", "topic_forbidden")
    code, _reason = await customer.closed_with()
    assert code == 4401  # an anonymous client that follows nothing is not kept
