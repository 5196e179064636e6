"""Customers are matched by e-mail at capture and shown with their orders and totals."""

from __future__ import annotations

from typing import Any

import httpx

from tests.orders.conftest import order_body


async def _capture(client: httpx.AsyncClient, customer: dict[str, Any], *lines: Any,
                   **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/orders", json=order_body(*lines, customer=customer,
                                                                  **overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_same_email_in_any_case_is_the_same_customer(
    client_for: Any, catalog: Any
) -> None:
    web = await client_for(key="web")
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 10})
    first = await _capture(web, {"email": "Ada@Example.fr", "name": "Ada"}, ("TEE", 1))
    second = await _capture(web, {"email": "ada@example.FR"}, ("TEE", 1))
    assert first["customer"]["id"] == second["customer"]["id"]
    assert second["customer"]["name"] == "Ada"  # kept when not given again


async def test_a_new_name_or_phone_updates_the_customer(
    client_for: Any, manager: httpx.AsyncClient, catalog: Any
) -> None:
    web = await client_for(key="web")
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    first = await _capture(web, {"email": "ada@example.fr", "name": "Ada", "phone": "+331"},
                           ("TEE", 1))
    await _capture(web, {"email": "ada@example.fr", "name": "Ada Lovelace"}, ("TEE", 1))
    customer = (await manager.get(f"/api/customers/{first['customer']['id']}")).json()
    assert customer["name"] == "Ada Lovelace"
    assert customer["phone"] == "+331"
    # The first order keeps the name it was placed under.
    order = (await manager.get(f"/api/orders/{first['number']}")).json()
    assert order["customer"]["name"] == "Ada"


async def test_a_customer_shows_recent_orders_first_and_what_they_spent(
    client_for: Any, manager: httpx.AsyncClient, catalog: Any
) -> None:
    web = await client_for(key="web")
    b2b = await client_for(key="b2b")
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 10})
    ada = {"email": "ada@example.fr", "name": "Ada"}
    one = await _capture(web, ada, ("TEE", 1))  # 10.00 + 4.90 shipping
    two = await _capture(b2b, ada, ("TEE", 2))  # 2 x 10.00 + 20 % VAT, no shipping
    three = await _capture(web, ada, ("TEE", 1))
    await manager.post(f"/api/orders/{three['number']}/cancel")
    response = await manager.get(f"/api/customers/{one['customer']['id']}")
    assert response.status_code == 200
    customer = response.json()
    assert customer["email"] == "ada@example.fr"
    assert [o["number"] for o in customer["orders"]] == [
        three["number"], two["number"], one["number"]]
    assert customer["totals"] == {"order_count": 3, "spent": {"EUR": 1490 + 2400}}


async def test_an_unknown_customer_is_not_found(manager: httpx.AsyncClient) -> None:
    response = await manager.get("/api/customers/01930000-0000-7000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["code"] == "customer_not_found"


async def test_only_managers_read_customers(
    client_for: Any, associate: httpx.AsyncClient, catalog: Any
) -> None:
    web = await client_for(key="web")
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    order = await _capture(web, {"email": "ada@example.fr"}, ("TEE", 1))
    path = f"/api/customers/{order['customer']['id']}"
    assert (await associate.get(path)).status_code == 403
    assert (await web.get(path)).status_code == 403
    admin = await client_for("admin")
    assert (await admin.get(path)).status_code == 200


async def test_a_bad_email_is_refused_and_nothing_is_stored(
    client_for: Any, catalog: Any, sessionmaker: Any
) -> None:
    from sqlalchemy import func, select

    from comptoir.customers.models import Customer

    web = await client_for(key="web")
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    response = await web.post("/api/orders", json=order_body(
        ("TEE", 1), customer={"email": "not-an-email"}))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_email"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 0


async def test_an_order_without_a_customer_is_anonymous(
    client_for: Any, catalog: Any
) -> None:
    pos = await client_for("associate")
    await catalog.add("TEE", stock={"ST-LYON-01": 10})
    body = order_body(("TEE", 1), channel="pos",
                      delivery={"method": "pickup", "location": "ST-LYON-01"})
    del body["customer"]
    response = await pos.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["customer"] == {"id": None, "email": None, "name": None,
                                           "phone": None}
