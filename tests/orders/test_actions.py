"""What staff do to orders: cancel, hold, release, edit, notes — each on the timeline."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.orders.conftest import ADDRESS, order_body, pickup


async def _capture(client: httpx.AsyncClient, *lines: Any, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/orders", json=order_body(*lines, **overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _timeline(client: httpx.AsyncClient, number: str) -> list[dict[str, Any]]:
    return (await client.get(f"/api/orders/{number}/events")).json()  # type: ignore[no-any-return]


# --- cancel -------------------------------------------------------------------------------


async def test_cancelling_an_order_gives_its_stock_back(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    await catalog.add("CAP", stock={"WH-PARIS": 5})
    order = await _capture(web, ("TEE", 2), ("CAP", 1))
    response = await manager.post(f"/api/orders/{order['number']}/cancel",
                                  json={"reason": "customer changed their mind"})
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert [(line["quantity"], line["cancelled_quantity"]) for line in cancelled["lines"]] == [
        (0, 2), (0, 1)]
    assert all(line["allocations"] == [] for line in cancelled["lines"])
    assert cancelled["totals"]["total"] == 0
    assert cancelled["allowed_actions"] == []
    assert await level("TEE", "WH-PARIS") == (5, 0, 5)
    assert await level("CAP", "WH-PARIS") == (5, 0, 5)
    events = await _timeline(manager, order["number"])
    assert [e["type"] for e in events] == ["order.captured", "order.cancelled"]
    assert events[1]["actor"] == "staff:manager1"
    assert events[1]["data"]["reason"] == "customer changed their mind"
    assert events[1]["data"]["released"] == [
        {"sku": "CAP", "location": "WH-PARIS", "quantity": 1},
        {"sku": "TEE", "location": "WH-PARIS", "quantity": 2}]


async def test_cancelling_some_units_releases_exactly_those(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 10})
    await catalog.add("CAP", price=1000, stock={"WH-PARIS": 10})
    order = await _capture(web, ("TEE", 3), ("CAP", 1))  # 40 EUR: shipping is charged
    tee, _cap = order["lines"]
    response = await manager.post(f"/api/orders/{order['number']}/cancel", json={
        "lines": [{"line_id": tee["id"], "quantity": 2}, {"sku": "CAP"}]})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["status"] == "confirmed"
    assert [(line["quantity"], line["cancelled_quantity"]) for line in changed["lines"]] == [
        (1, 2), (0, 1)]
    assert changed["lines"][0]["allocations"] == [{"location": "WH-PARIS", "quantity": 1}]
    assert changed["lines"][0]["total"] == 1000
    # Shipping as agreed stays: the order now totals one T-shirt plus shipping.
    assert changed["totals"]["total"] == 1000 + 490
    assert await level("TEE", "WH-PARIS") == (10, 1, 9)
    assert await level("CAP", "WH-PARIS") == (10, 0, 10)
    assert [e["type"] for e in await _timeline(manager, order["number"])][-1] == (
        "order.lines_cancelled")
    # Cancelling what is left ends the order.
    response = await manager.post(f"/api/orders/{order['number']}/cancel", json={
        "lines": [{"sku": "TEE", "quantity": 1}]})
    assert response.json()["status"] == "cancelled"
    assert await level("TEE", "WH-PARIS") == (10, 0, 10)


async def test_cancelling_more_than_is_left_is_refused_and_changes_nothing(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, stored: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    order = await _capture(web, ("TEE", 2))
    before = await stored()
    for body, code in [
        ({"lines": [{"sku": "TEE", "quantity": 3}]}, "quantity_exceeds_line"),
        ({"lines": [{"sku": "TEE", "quantity": 0}]}, "invalid_quantity"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "unknown_line"),
        ({"lines": [{"quantity": 1}]}, "line_required"),
        ({"lines": [{"line_id": "01930000-0000-7000-8000-000000000000"}]}, "unknown_line"),
    ]:
        response = await manager.post(f"/api/orders/{order['number']}/cancel", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == code
    assert await stored() == before


async def test_a_cancelled_order_cannot_be_cancelled_again(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    order = await _capture(web, ("TEE", 1))
    await manager.post(f"/api/orders/{order['number']}/cancel")
    response = await manager.post(f"/api/orders/{order['number']}/cancel")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "illegal_transition"
    assert problem["allowed"] == []


async def test_a_split_line_gives_back_from_each_location(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 2, "WH-LYON": 2})
    order = await _capture(web, ("TEE", 4))
    assert order["lines"][0]["allocations"] == [{"location": "WH-LYON", "quantity": 2},
                                                {"location": "WH-PARIS", "quantity": 2}]
    await manager.post(f"/api/orders/{order['number']}/cancel", json={
        "lines": [{"sku": "TEE", "quantity": 3}]})
    lyon, paris = await level("TEE", "WH-LYON"), await level("TEE", "WH-PARIS")
    assert lyon[1] + paris[1] == 1


# --- hold and release -------------------------------------------------------------------------


async def test_hold_and_release_with_a_reason(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    order = await _capture(web, ("TEE", 1))
    held = await manager.post(f"/api/orders/{order['number']}/hold",
                              json={"reason": "suspected_fraud", "note": "3 cards tried"})
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "on_hold"
    assert held.json()["hold"] == {"reason": "suspected_fraud", "note": "3 cards tried"}
    assert held.json()["allowed_actions"] == ["release", "cancel"]
    again = await manager.post(f"/api/orders/{order['number']}/hold",
                               json={"reason": "address_check"})
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    assert again.json()["allowed"] == ["release", "cancel"]
    released = await manager.post(f"/api/orders/{order['number']}/release")
    assert released.status_code == 200
    assert released.json()["status"] == "confirmed"
    assert released.json()["hold"] is None
    assert released.json()["version"] == 3
    events = await _timeline(manager, order["number"])
    assert [e["type"] for e in events] == ["order.captured", "order.held", "order.released"]
    assert events[1]["data"]["reason"] == "suspected_fraud"


async def test_an_unknown_hold_reason_is_refused(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    order = await _capture(web, ("TEE", 1))
    response = await manager.post(f"/api/orders/{order['number']}/hold",
                                  json={"reason": "bad_vibes"})
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_hold_reason"
    assert response.json()["allowed"] == [
        "address_check", "suspected_fraud", "customer_request", "stock_problem"]


async def test_releasing_an_order_that_is_not_held_is_refused(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    order = await _capture(web, ("TEE", 1))
    response = await manager.post(f"/api/orders/{order['number']}/release")
    assert response.status_code == 409
    assert response.json()["allowed"] == ["hold", "cancel", "start_fulfillment"]


# --- edit -----------------------------------------------------------------------------------


async def test_editing_needs_the_version_read(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, stored: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    order = await _capture(web, ("TEE", 1))
    path = f"/api/orders/{order['number']}"
    body = {"lines": [{"sku": "TEE", "quantity": 2}]}
    before = await stored()
    missing = await manager.patch(path, json=body)
    assert missing.status_code == 428
    assert missing.json()["code"] == "version_required"
    stale = await manager.patch(path, json=body, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    assert stale.json()["current_version"] == 1
    assert await stored() == before
    ok = await manager.patch(path, json=body, headers={"If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    assert ok.headers["etag"] == '"2"'
    # The version just used is stale now.
    assert (await manager.patch(path, json=body, headers={"If-Match": "1"})).status_code == 412


async def test_two_editors_with_the_same_version_one_wins(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    order = await _capture(web, ("TEE", 1))
    path = f"/api/orders/{order['number']}"
    responses = await asyncio.gather(*(
        manager.patch(path, json={"lines": [{"sku": "TEE", "quantity": q}]},
                      headers={"If-Match": "1"}) for q in (2, 3, 4, 5)))
    assert Counter(r.status_code for r in responses) == {200: 1, 412: 3}
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert await level("TEE", "WH-PARIS") == (10, winner["lines"][0]["quantity"],
                                              10 - winner["lines"][0]["quantity"])


async def test_editing_quantities_adds_and_removes_lines_and_moves_stock(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 10})
    await catalog.add("CAP", price=1000, stock={"WH-PARIS": 10})
    await catalog.add("BAG", price=2000, stock={"WH-PARIS": 1, "WH-LYON": 5})
    order = await _capture(web, ("TEE", 1), ("CAP", 2))
    response = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "1"},
                                   json={"lines": [{"sku": "TEE", "quantity": 3},
                                                   {"sku": "CAP", "quantity": 0},
                                                   {"sku": "BAG", "quantity": 1}]})
    assert response.status_code == 200, response.text
    edited = response.json()
    assert [(line["sku"], line["quantity"]) for line in edited["lines"]] == [
        ("TEE", 3), ("BAG", 1)]
    # The new line is reserved where the order already ships from.
    assert edited["lines"][1]["allocations"] == [{"location": "WH-PARIS", "quantity": 1}]
    assert edited["totals"]["total"] == 3000 + 2000  # free shipping from 50 EUR now
    assert await level("TEE", "WH-PARIS") == (10, 3, 7)
    assert await level("CAP", "WH-PARIS") == (10, 0, 10)
    assert await level("BAG", "WH-PARIS") == (1, 1, 0)
    [event] = [e for e in await _timeline(manager, order["number"]) if e["type"] == "order.edited"]
    assert {(c["sku"], c["from"], c["to"]) for c in event["data"]["lines"]} == {
        ("TEE", 1, 3), ("CAP", 2, 0), ("BAG", 0, 1)}


async def test_an_edit_that_cannot_be_reserved_changes_nothing(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any, stored: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 3})
    await catalog.add("CAP", stock={"WH-PARIS": 3})
    order = await _capture(web, ("TEE", 1), ("CAP", 1))
    before = await stored()
    response = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "1"},
                                   json={"lines": [{"sku": "TEE", "quantity": 2},
                                                   {"sku": "CAP", "quantity": 9}]})
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert response.json()["lines"] == [{"sku": "CAP", "requested": 8, "available": 2}]
    assert await stored() == before
    assert await level("TEE", "WH-PARIS") == (3, 1, 2)
    unchanged = (await manager.get(f"/api/orders/{order['number']}")).json()
    assert unchanged["version"] == 1


async def test_switching_to_pickup_moves_the_reservation_to_the_store(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5, "ST-LYON-01": 2})
    order = await _capture(web, ("TEE", 2))
    response = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "1"},
                                   json={"delivery": pickup("ST-LYON-01")})
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["delivery"] == {"method": "pickup", "address": None, "location": "ST-LYON-01"}
    assert edited["lines"][0]["allocations"] == [{"location": "ST-LYON-01", "quantity": 2}]
    assert edited["totals"]["shipping"] == 0
    assert await level("TEE", "WH-PARIS") == (5, 0, 5)
    assert await level("TEE", "ST-LYON-01") == (2, 2, 0)
    # And back to shipping, to Germany this time: VAT follows the address.
    address = {**ADDRESS, "country": "DE"}
    response = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "2"},
                                   json={"delivery": {"method": "ship", "address": address}})
    back = response.json()
    assert back["totals"]["vat_rate_bp"] == 1900
    assert back["delivery"]["address"]["country"] == "DE"
    assert [a["location"] for a in back["lines"][0]["allocations"]] == ["ST-LYON-01"]
    assert back["totals"]["shipping"] + back["totals"]["tax"] + back["totals"]["subtotal"] == (
        back["totals"]["total"])


async def test_switching_to_a_store_without_the_stock_changes_nothing(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5, "ST-PARIS-01": 1})
    order = await _capture(web, ("TEE", 2))
    response = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "1"},
                                   json={"delivery": pickup("ST-PARIS-01")})
    assert response.status_code == 409
    assert response.json()["lines"] == [{"sku": "TEE", "requested": 2, "available": 1}]
    assert await level("TEE", "WH-PARIS") == (5, 2, 3)


async def test_changing_the_address_keeps_the_reservation(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    order = await _capture(web, ("TEE", 2))
    new_address = {**ADDRESS, "line1": "10 quai Saint-Antoine"}
    response = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "1"},
                                   json={"delivery": {"method": "ship", "address": new_address}})
    assert response.status_code == 200, response.text
    assert response.json()["delivery"]["address"]["line1"] == "10 quai Saint-Antoine"
    assert await level("TEE", "WH-PARIS") == (5, 2, 3)


async def test_edits_stop_when_fulfillment_starts(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, sessionmaker: Any
) -> None:
    from sqlalchemy import update

    from comptoir.orders.models import Order

    await catalog.add("TEE", stock={"WH-PARIS": 5})
    order = await _capture(web, ("TEE", 1))
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Order).where(Order.number == order["number"])
                              .values(status="in_fulfillment"))
    response = await manager.patch(f"/api/orders/{order['number']}", headers={"If-Match": "1"},
                                   json={"lines": [{"sku": "TEE", "quantity": 2}]})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


async def test_an_edit_keeps_at_least_one_line(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    order = await _capture(web, ("TEE", 1))
    path = f"/api/orders/{order['number']}"
    for body, code in [({"lines": [{"sku": "TEE", "quantity": 0}]}, "no_lines"),
                       ({}, "nothing_to_change"),
                       ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "unknown_sku"),
                       ({"lines": [{"sku": "TEE", "quantity": -1}]}, "invalid_quantity")]:
        response = await manager.patch(path, json=body, headers={"If-Match": "1"})
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == code


# --- notes and access ----------------------------------------------------------------------


async def test_staff_add_notes_to_the_timeline(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5, "WH-PARIS": 5})
    lyon = await _capture(web, ("TEE", 1), delivery=pickup("ST-LYON-01"))
    response = await associate.post(f"/api/orders/{lyon['number']}/notes",
                                    json={"text": "Customer called, comes Saturday"})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    events = await _timeline(manager, lyon["number"])
    assert events[-1]["type"] == "order.note_added"
    assert events[-1]["actor"] == "staff:associate1"
    assert events[-1]["data"]["text"] == "Customer called, comes Saturday"
    empty = await manager.post(f"/api/orders/{lyon['number']}/notes", json={"text": "  "})
    assert empty.json()["code"] == "empty_note"
    # Not on another store's orders.
    await catalog.add("CAP", stock={"WH-PARIS": 5})
    shipped = await _capture(web, ("CAP", 1))  # from the warehouse, not the store
    response = await associate.post(f"/api/orders/{shipped['number']}/notes", json={"text": "x"})
    assert response.status_code == 404


async def test_only_managers_change_orders(
    web: httpx.AsyncClient, associate: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5})
    order = await _capture(web, ("TEE", 1), delivery=pickup("ST-LYON-01"))
    number = order["number"]
    for client in (web, associate):
        assert (await client.post(f"/api/orders/{number}/cancel")).status_code == 403
        assert (await client.post(f"/api/orders/{number}/hold",
                                  json={"reason": "address_check"})).status_code == 403
        assert (await client.post(f"/api/orders/{number}/release")).status_code == 403
        assert (await client.patch(f"/api/orders/{number}", json={"note": "x"},
                                   headers={"If-Match": "1"})).status_code == 403
    assert (await web.post(f"/api/orders/{number}/notes", json={"text": "x"})).status_code == 403


async def test_actions_on_an_unknown_order_are_not_found(manager: httpx.AsyncClient) -> None:
    for path in ("cancel", "release", "notes"):
        response = await manager.post(f"/api/orders/CMP-2020-000001/{path}",
                                      json={"text": "x"} if path == "notes" else None)
        assert response.status_code == 404, path
        assert response.json()["code"] == "order_not_found"
