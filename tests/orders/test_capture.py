"""Capturing orders: what the answer holds, where stock is reserved, who may capture."""

from __future__ import annotations

from typing import Any

import httpx

from tests.orders.conftest import order_body, pickup


async def test_web_order_is_captured_with_lines_allocations_totals_and_customer(
    web: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("TEE-BLK-M", price=1999, name="T-shirt noir M", stock={"WH-PARIS": 10})
    body = order_body(("TEE-BLK-M", 2), external_ref="SHOP-1001", note="leave at the door")
    response = await web.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["number"].startswith("CMP-")
    assert order["status"] == "confirmed"
    assert order["version"] == 1
    assert response.headers["etag"] == '"1"'
    assert order["channel"] == "web"
    assert order["external_ref"] == "SHOP-1001"
    [line] = order["lines"]
    assert line["sku"] == "TEE-BLK-M"
    assert line["name"] == "T-shirt noir M"
    assert line["quantity"] == 2
    assert line["unit_price"] == 1999  # the catalog price, tax included on the web channel
    assert line["total"] == 3998
    assert line["tax"] == 666  # 3998 * 20/120 = 666.33
    assert line["allocations"] == [{"location": "WH-PARIS", "quantity": 2}]
    # Below the 50 EUR free-shipping threshold: the web channel's 4.90 EUR applies.
    assert order["totals"] == {
        "subtotal": 3998 - 666, "shipping": 490 - 82, "tax": 666 + 82, "total": 3998 + 490,
        "currency": "EUR", "prices_include_tax": True, "vat_rate_bp": 2000,
    }
    assert order["customer"]["email"] == "ada@example.fr"
    assert order["customer"]["id"]
    assert order["delivery"]["method"] == "ship"
    assert order["delivery"]["address"]["city"] == "Lyon"
    assert order["note"] == "leave at the door"
    assert order["tracking_token"]
    assert await level("TEE-BLK-M", "WH-PARIS") == (10, 2, 8)


async def test_order_numbers_are_sequential_within_the_year(
    web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("MUG", stock={"WH-LYON": 10})
    numbers = []
    for _ in range(3):
        response = await web.post("/api/orders", json=order_body(("MUG", 1)))
        numbers.append(response.json()["number"])
    serials = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert serials == [serials[0], serials[0] + 1, serials[0] + 2]
    assert all(len(n.rsplit("-", 1)[1]) >= 6 for n in numbers)


async def test_given_unit_price_wins_over_the_catalog_price(
    web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("CAP", price=2500, stock={"WH-PARIS": 3})
    order = (await web.post("/api/orders", json=order_body(("CAP", 1, 1800)))).json()
    assert order["lines"][0]["unit_price"] == 1800


async def test_free_shipping_from_the_channel_threshold(
    web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("COAT", price=5000, stock={"WH-PARIS": 3})
    order = (await web.post("/api/orders", json=order_body(("COAT", 1)))).json()
    assert order["totals"]["shipping"] == 0
    assert order["totals"]["total"] == 5000


async def test_tax_exclusive_channel_adds_vat_on_top(client_for: Any, catalog: Any) -> None:
    b2b = await client_for(key="b2b")
    await catalog.add("BOX", price=1000, stock={"WH-PARIS": 50})
    order = (await b2b.post("/api/orders", json=order_body(("BOX", 10)))).json()
    line = order["lines"][0]
    assert (line["net"], line["tax"], line["total"]) == (10000, 2000, 12000)
    assert order["totals"]["subtotal"] == 10000
    assert order["totals"]["total"] == 12000  # b2b has no shipping rate configured


async def test_vat_follows_the_delivery_country(web: httpx.AsyncClient, catalog: Any) -> None:
    await catalog.add("LAMP", price=11900, stock={"WH-PARIS": 2})
    body = order_body(("LAMP", 1))
    body["delivery"]["address"]["country"] = "de"
    order = (await web.post("/api/orders", json=body)).json()
    assert order["totals"]["vat_rate_bp"] == 1900
    assert order["lines"][0]["tax"] == 1900  # 11900 * 19/119
    assert order["delivery"]["address"]["country"] == "DE"


async def test_pickup_order_is_reserved_at_the_chosen_store(
    web: httpx.AsyncClient, catalog: Any, level: Any
) -> None:
    await catalog.add("BAG", stock={"WH-PARIS": 10, "ST-LYON-01": 2})
    response = await web.post("/api/orders", json=order_body(
        ("BAG", 2), delivery=pickup("ST-LYON-01")))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["lines"][0]["allocations"] == [{"location": "ST-LYON-01", "quantity": 2}]
    assert order["delivery"] == {"method": "pickup", "address": None, "location": "ST-LYON-01"}
    assert order["totals"]["shipping"] == 0
    assert await level("BAG", "WH-PARIS") == (10, 0, 10)


async def test_shipping_prefers_one_location_that_has_every_line(
    web: httpx.AsyncClient, catalog: Any
) -> None:
    # WH-PARIS has only the first SKU; WH-LYON has both: everything goes from Lyon.
    await catalog.add("A", stock={"WH-PARIS": 5, "WH-LYON": 1})
    await catalog.add("B", stock={"WH-LYON": 1})
    order = (await web.post("/api/orders", json=order_body(("A", 1), ("B", 1)))).json()
    assert [line["allocations"] for line in order["lines"]] == [
        [{"location": "WH-LYON", "quantity": 1}], [{"location": "WH-LYON", "quantity": 1}]]


async def test_shipping_splits_over_the_fewest_locations_when_none_has_everything(
    web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("A", stock={"WH-PARIS": 3, "ST-LYON-01": 5})
    await catalog.add("B", stock={"WH-LYON": 2})
    order = (await web.post("/api/orders", json=order_body(("A", 4), ("B", 2)))).json()
    a, b = order["lines"]
    assert b["allocations"] == [{"location": "WH-LYON", "quantity": 2}]
    # A needs a second location besides WH-LYON: the store, which has all four.
    assert a["allocations"] == [{"location": "ST-LYON-01", "quantity": 4}]


async def test_staff_capture_phone_orders_for_a_channel(
    manager: httpx.AsyncClient, associate: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("PEN", stock={"ST-LYON-01": 5})
    response = await manager.post("/api/orders", json=order_body(("PEN", 1), channel="pos"))
    assert response.status_code == 201, response.text
    assert response.json()["channel"] == "pos"
    response = await associate.post("/api/orders", json=order_body(
        ("PEN", 1), channel="pos", delivery=pickup("ST-LYON-01")))
    assert response.status_code == 201, response.text


async def test_staff_must_say_which_channel(manager: httpx.AsyncClient, catalog: Any) -> None:
    await catalog.add("PEN", stock={"WH-PARIS": 5})
    response = await manager.post("/api/orders", json=order_body(("PEN", 1)))
    assert response.status_code == 422
    assert response.json()["code"] == "channel_required"


async def test_a_channel_key_cannot_capture_for_another_channel(
    web: httpx.AsyncClient, catalog: Any, stored: Any
) -> None:
    await catalog.add("PEN", stock={"WH-PARIS": 5})
    before = await stored()
    response = await web.post("/api/orders", json=order_body(("PEN", 1), channel="b2b"))
    assert response.status_code == 403
    assert response.json()["code"] == "channel_mismatch"
    assert await stored() == before
    # Naming its own channel is fine.
    assert (await web.post("/api/orders", json=order_body(("PEN", 1), channel="web"))
            ).status_code == 201


async def test_anonymous_callers_cannot_capture(anon: httpx.AsyncClient, catalog: Any) -> None:
    await catalog.add("PEN", stock={"WH-PARIS": 5})
    response = await anon.post("/api/orders", json=order_body(("PEN", 1), channel="web"))
    assert response.status_code == 401


async def test_capture_records_the_captured_event_with_its_actor(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("PEN", stock={"WH-PARIS": 5})
    number = (await web.post("/api/orders", json=order_body(("PEN", 2)))).json()["number"]
    events = (await manager.get(f"/api/orders/{number}/events")).json()
    assert [e["type"] for e in events] == ["order.captured"]
    assert events[0]["actor"] == "key:web"
    assert events[0]["data"]["allocations"] == [
        {"sku": "PEN", "location": "WH-PARIS", "quantity": 2}]
