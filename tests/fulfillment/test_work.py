"""Store and warehouse work end to end: parcels, pickups at the counter, rejections, holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import select

from tests.fulfillment.conftest import act, order_body, order_status, pickup


async def _capture(web: httpx.AsyncClient, *lines: tuple[str, int], **extra: Any) -> str:
    response = await web.post("/api/orders", json=order_body(*lines, **extra))
    assert response.status_code == 201, response.text
    return response.json()["number"]  # type: ignore[no-any-return]


async def test_an_order_split_over_two_warehouses_ships_in_two_parcels(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    await catalog.add("CAP", stock={"WH-LYON": 4})
    number = await _capture(web, ("TEE", 2), ("CAP", 1))
    work = await work_for(number)
    assert sorted(work) == ["WH-LYON", "WH-PARIS"]
    paris, lyon = work["WH-PARIS"], work["WH-LYON"]
    assert [(line["sku"], line["quantity"]) for line in paris["lines"]] == [("TEE", 2)]

    for fulfillment in (paris, lyon):
        assert (await act(manager, fulfillment, "pick")).status_code == 200
        assert (await act(manager, fulfillment, "pack")).status_code == 200
    assert await order_status(manager, number) == "in_fulfillment"

    sent = await act(manager, paris, "ship", {"carrier": "colissimo", "service": "expert",
                                              "tracking_number": "6A0001"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "shipped"
    assert sent.json()["shipments"][0]["tracking_url"].endswith("code=6A0001")
    assert await order_status(manager, number) == "partially_shipped"
    assert await level("TEE", "WH-PARIS") == (3, 0, 3)  # gone from the shelf and the books
    assert await level("CAP", "WH-LYON") == (4, 1, 3)  # still waiting to leave

    sent = await act(manager, lyon, "ship", {"carrier": "dhl", "tracking_number": "JD01"})
    assert sent.status_code == 200, sent.text
    assert await order_status(manager, number) == "shipped"
    assert await level("CAP", "WH-LYON") == (3, 0, 3)
    await books()
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    shipped = [e for e in timeline if e["type"] == "fulfillment.shipped"]
    assert [e["data"]["locations"] for e in shipped] == [["WH-PARIS"], ["WH-LYON"]]


async def test_a_fulfillment_can_ship_in_several_parcels(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any,
) -> None:
    await catalog.add("MUG", stock={"WH-PARIS": 5})
    number = await _capture(web, ("MUG", 3))
    paris = (await work_for(number))["WH-PARIS"]
    await act(manager, paris, "pick")
    await act(manager, paris, "pack")
    first = await act(manager, paris, "ship", {"carrier": "ups", "tracking_number": "1Z1",
                                               "lines": [{"sku": "MUG", "quantity": 2}]})
    assert first.json()["status"] == "partially_shipped"
    assert await order_status(manager, number) == "partially_shipped"
    assert await level("MUG", "WH-PARIS") == (3, 1, 2)
    too_many = await act(manager, paris, "ship", {"carrier": "ups", "tracking_number": "1Z2",
                                                  "lines": [{"sku": "MUG", "quantity": 2}]})
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "quantity_exceeds_line"
    last = await act(manager, paris, "ship", {"carrier": "ups", "tracking_number": "1Z2"})
    assert last.json()["status"] == "shipped"
    assert len(last.json()["shipments"]) == 2
    assert await order_status(manager, number) == "shipped"
    await books()


async def test_a_refused_move_says_which_moves_are_allowed(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, work_for: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    number = await _capture(web, ("TEE", 1))
    paris = (await work_for(number))["WH-PARIS"]
    refused = await act(manager, paris, "ship", {"carrier": "dhl", "tracking_number": "X"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "illegal_transition"
    assert refused.json()["allowed"] == ["pick", "reject", "cancel"]
    counter = await act(manager, paris, "ready-for-pickup")
    assert counter.status_code == 409


async def test_a_pickup_is_handed_over_only_with_the_right_code(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, level: Any, work_for: Any, pickup_code: Any, stored: Any, books: Any,
    app: Any, sessionmaker: Any,
) -> None:
    from comptoir.events.models import OutboxMessage

    await catalog.add("TEE", barcode="3700000000017", stock={"ST-LYON-01": 3})
    number = await _capture(web, ("TEE", 1), delivery=pickup("ST-LYON-01"))
    store = (await work_for(number))["ST-LYON-01"]
    detail = (await associate.get(f"/api/fulfillments/{store['id']}")).json()
    assert detail["lines"] == [{"sku": "TEE", "name": "TEE", "barcode": "3700000000017",
                                "quantity": 1, "shipped_quantity": 0, "rejected_quantity": 0}]
    assert (await act(associate, store, "pick")).status_code == 200
    ready = await act(associate, store, "ready-for-pickup")
    assert ready.status_code == 200, ready.text
    assert await order_status(manager, number) == "ready_for_pickup"
    hold_until = dt.datetime.fromisoformat(ready.json()["hold_until"])
    ready_at = dt.datetime.fromisoformat(ready.json()["ready_at"])
    assert hold_until - ready_at == dt.timedelta(days=5)  # the store's pickup_hold_days
    async with sessionmaker() as session:
        kinds = list(await session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["email.ready_for_pickup"]
    assert await app.state.dispatcher.run_once() == 1

    before = await stored()
    code = await pickup_code(number)
    wrong = "".join("A" if c != "A" else "B" for c in code)
    refused = await act(associate, store, "handover", {"code": wrong})
    assert refused.status_code == 409
    assert refused.json()["code"] == "wrong_pickup_code"
    assert await stored() == before
    assert await order_status(manager, number) == "ready_for_pickup"
    assert await level("TEE", "ST-LYON-01") == (3, 1, 2)

    done = await act(associate, store, "handover",
                     {"code": code.lower(), "collected_by": "Ada Byron"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "handed_over"
    assert done.json()["collected_by"] == "Ada Byron"
    assert await order_status(manager, number) == "completed"
    assert await level("TEE", "ST-LYON-01") == (2, 0, 2)
    await books()


async def test_only_a_manager_hands_over_without_the_code_and_says_why(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, work_for: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 3})
    number = await _capture(web, ("TEE", 1), delivery=pickup("ST-LYON-01"))
    store = (await work_for(number))["ST-LYON-01"]
    await act(associate, store, "pick")
    await act(associate, store, "ready-for-pickup")
    nothing = await act(associate, store, "handover", {})
    assert nothing.status_code == 422
    assert nothing.json()["code"] == "pickup_code_required"
    refused = await act(associate, store, "handover", {"override_reason": "lost the e-mail"})
    assert refused.status_code == 403
    done = await act(manager, store, "handover", {"override_reason": "ID card checked"})
    assert done.status_code == 200, done.text
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    handed = [e for e in timeline if e["type"] == "fulfillment.handed_over"]
    assert handed[0]["data"]["override_reason"] == "ID card checked"
    assert handed[0]["actor"] == "staff:manager1"


async def test_a_rejection_reroutes_the_remainder_and_keeps_the_books_right(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    work_for: Any, books: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 3, "WH-LYON": 4})
    number = await _capture(web, ("TEE", 2))
    work = await work_for(number)
    assert list(work) == ["WH-LYON"] or list(work) == ["WH-PARIS"]
    first, = work.values()
    here = first["location"]
    there = "WH-PARIS" if here == "WH-LYON" else "WH-LYON"
    on_hand_here = (await level("TEE", here))[0]
    on_hand_there = (await level("TEE", there))[0]
    await act(manager, first, "pick")
    rejected = await act(manager, first, "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "damaged"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["lines"][0]["rejected_quantity"] == 1
    assert await level("TEE", here) == (on_hand_here - 1, 1, on_hand_here - 2)
    assert await level("TEE", there) == (on_hand_there, 1, on_hand_there - 1)
    other = (await work_for(number))[there]
    assert other["status"] == "new"
    assert [(line["sku"], line["quantity"]) for line in other["lines"]] == [("TEE", 1)]
    await books()
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    event = next(e for e in timeline if e["type"] == "fulfillment.rejected")
    assert event["data"]["rerouted"][0]["location"] == there
    assert sorted(event["data"]["locations"]) == sorted([here, there])

    # Both parcels leave: the order is shipped and the books still add up.
    await act(manager, first, "pack")
    await act(manager, first, "ship", {"carrier": "dpd", "tracking_number": "A1"})
    await act(manager, other, "pick")
    await act(manager, other, "pack")
    await act(manager, other, "ship", {"carrier": "dpd", "tracking_number": "A2"})
    assert await order_status(manager, number) == "shipped"
    await books()


async def test_a_rejection_nowhere_else_can_serve_is_cancelled_for_the_customer(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, level: Any, work_for: Any, books: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 2})
    await catalog.add("CAP", stock={"ST-LYON-01": 1})
    number = await _capture(web, ("TEE", 2), ("CAP", 1), delivery=pickup("ST-LYON-01"))
    store = (await work_for(number))["ST-LYON-01"]
    rejected = await act(associate, store, "reject",
                         {"lines": [{"sku": "TEE", "quantity": 1}], "reason": "not_found"})
    assert rejected.status_code == 200, rejected.text
    assert await level("TEE", "ST-LYON-01") == (1, 1, 0)
    order = (await manager.get(f"/api/orders/{number}")).json()
    tee = next(line for line in order["lines"] if line["sku"] == "TEE")
    assert (tee["quantity"], tee["cancelled_quantity"]) == (1, 1)
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    assert any(e["type"] == "order.lines_cancelled" for e in timeline)
    await books()


async def test_an_uncollected_pickup_gets_a_reminder_then_is_cancelled_and_restocked(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, level: Any, work_for: Any, books: Any, sessionmaker: Any,
) -> None:
    from comptoir.db.base import utcnow
    from comptoir.fulfillment.service import sweep_uncollected

    await catalog.add("TEE", stock={"ST-LYON-01": 2})
    number = await _capture(web, ("TEE", 2), delivery=pickup("ST-LYON-01"))
    store = (await work_for(number))["ST-LYON-01"]
    await act(associate, store, "pick")
    await act(associate, store, "ready-for-pickup")
    assert await level("TEE", "ST-LYON-01") == (2, 2, 0)

    async def sweep(days: float) -> Any:
        async with sessionmaker() as session, session.begin():
            return await sweep_uncollected(session, utcnow() + dt.timedelta(days=days))

    assert (await sweep(1)).reminded == []
    assert (await sweep(3)).reminded == [number]
    assert (await sweep(3.5)).reminded == []  # once
    assert await level("TEE", "ST-LYON-01") == (2, 2, 0)
    swept = await sweep(6)
    assert swept.cancelled == [number]
    assert await order_status(manager, number) == "cancelled"
    assert await level("TEE", "ST-LYON-01") == (2, 0, 2)
    assert (await sweep(7)).cancelled == []
    await books()


async def test_an_associate_works_only_for_their_own_store(
    web: httpx.AsyncClient, client_for: Any, catalog: Any, work_for: Any, stored: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 2})
    number = await _capture(web, ("TEE", 1), delivery=pickup("ST-LYON-01"))
    store = (await work_for(number))["ST-LYON-01"]
    paris = await client_for("associate_paris")
    before = await stored()
    assert (await paris.get(f"/api/fulfillments/{store['id']}")).status_code == 404
    assert (await act(paris, store, "pick")).status_code == 404
    listed = await paris.get("/api/fulfillments", params={"location": "ST-LYON-01"})
    assert listed.status_code == 403
    own = (await paris.get("/api/fulfillments")).json()
    assert own["items"] == []
    assert await stored() == before
    channel = await client_for(key="web")
    assert (await channel.get("/api/fulfillments")).status_code == 403


async def test_work_on_a_cancelled_order_leaves_the_queue_and_cannot_go_on(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, work_for: Any, level: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 2})
    number = await _capture(web, ("TEE", 1), delivery=pickup("ST-LYON-01"))
    store = (await work_for(number))["ST-LYON-01"]
    await act(associate, store, "pick")
    assert (await manager.post(f"/api/orders/{number}/cancel", json={})).status_code == 200
    refused = await act(associate, store, "ready-for-pickup")
    assert refused.status_code == 409
    assert refused.json()["code"] == "illegal_transition"
    queue = (await associate.get("/api/fulfillments", params={"status": "picking"})).json()
    assert queue["items"] == []
    assert (await work_for(number))["ST-LYON-01"]["status"] == "cancelled"
    assert await level("TEE", "ST-LYON-01") == (2, 0, 2)


async def test_the_pick_list_follows_an_edit_made_before_picking_starts(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, work_for: Any,
    books: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    number = await _capture(web, ("TEE", 1))
    paris = (await work_for(number))["WH-PARIS"]
    assert [line["quantity"] for line in paris["lines"]] == [1]
    version = (await manager.get(f"/api/orders/{number}")).json()["version"]
    edited = await manager.patch(f"/api/orders/{number}",
                                 json={"lines": [{"sku": "TEE", "quantity": 3}]},
                                 headers={"If-Match": f'"{version}"'})
    assert edited.status_code == 200, edited.text
    paris = (await work_for(number))["WH-PARIS"]
    assert [line["quantity"] for line in paris["lines"]] == [3]
    shipped = await act(manager, paris, "pick")
    await act(manager, paris, "pack")
    shipped = await act(manager, paris, "ship", {"carrier": "dhl", "tracking_number": "Z"})
    assert shipped.json()["lines"][0]["shipped_quantity"] == 3
    await books()
