"""PostgreSQL: captures that arrive together share their statements, and each still gets
exactly the answer it would have had alone."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from comptoir.customers.models import Customer
from comptoir.events.models import Event
from comptoir.events.service import add_event_listener
from comptoir.orders import capture_pg
from comptoir.orders.models import Order
from tests.orders.conftest import order_body

pytestmark = pytest.mark.postgres


@pytest.fixture
def heard() -> Iterator[list[Event]]:
    """Every event announced to listeners (the live feed's source) during the test."""
    events: list[Event] = []
    stop = add_event_listener(lambda batch, _database: events.extend(batch))
    yield events
    stop()


def customer(n: int) -> dict[str, str]:
    return {"email": f"client{n}@example.fr", "name": f"Client {n}", "phone": f"+3360000{n:04d}"}


async def test_concurrent_captures_share_statements_and_each_gets_its_own_order(
    web: httpx.AsyncClient, app: Any, catalog: Any, level: Any, sessionmaker: Any,
    heard: list[Event],
) -> None:
    await catalog.add("TOGETHER", stock={"WH-PARIS": 100})
    batches_before, items_before = capture_pg.statistics(app.state.engine)
    bodies = [order_body(("TOGETHER", 1 + i % 3), customer=customer(i),
                         external_ref=f"TOG-{i}") for i in range(24)]
    responses = await asyncio.gather(*(web.post("/api/orders", json=b) for b in bodies))

    assert [r.status_code for r in responses] == [201] * 24
    batches, items = capture_pg.statistics(app.state.engine)
    assert items - items_before == 24
    assert batches - batches_before < 24, "no two concurrent captures shared a statement"
    orders = [r.json() for r in responses]
    assert len({o["number"] for o in orders}) == 24
    for i, order in enumerate(orders):  # each answer is its own request's order
        assert order["customer"]["email"] == f"client{i}@example.fr"
        assert order["lines"][0]["quantity"] == 1 + i % 3
        assert order["lines"][0]["allocations"] == [
            {"location": "WH-PARIS", "quantity": 1 + i % 3}]
    units = sum(1 + i % 3 for i in range(24))
    assert await level("TOGETHER", "WH-PARIS") == (100, units, 100 - units)
    async with sessionmaker() as session:
        stored = {o.external_ref: o for o in await session.scalars(
            select(Order).where(Order.external_ref.like("TOG-%")))}
        events = list(await session.scalars(
            select(Event).where(Event.type == "order.captured").order_by(Event.seq)))
    assert {ref: o.number for ref, o in stored.items()} == {
        f"TOG-{i}": orders[i]["number"] for i in range(24)}
    assert sorted(e.subject for e in events) == sorted(o["number"] for o in orders)
    assert None not in {e.seq for e in events}
    assert sorted(e.subject for e in heard if e.type == "order.captured") == sorted(
        o["number"] for o in orders)


async def test_a_short_order_among_others_is_refused_alone(
    web: httpx.AsyncClient, catalog: Any, level: Any, stored: Any
) -> None:
    await catalog.add("PLENTIFUL", stock={"WH-PARIS": 100})
    await catalog.add("LAST-ONE", stock={"WH-LYON": 1})
    bodies = [order_body(("PLENTIFUL", 1), customer=customer(i)) for i in range(12)]
    for i in (3, 7, 11):  # three orders race for the last unit, in the middle of the others
        bodies[i] = order_body(("PLENTIFUL", 1), ("LAST-ONE", 1), customer=customer(i))
    responses = await asyncio.gather(*(web.post("/api/orders", json=b) for b in bodies))

    statuses = [r.status_code for r in responses]
    assert Counter(statuses) == {201: 10, 409: 2}, statuses
    assert all(statuses[i] == 201 for i in range(12) if i not in (3, 7, 11))
    refused = [r.json() for r in responses if r.status_code == 409]
    assert {r["code"] for r in refused} == {"out_of_stock"}
    assert all(r["lines"] == [{"sku": "LAST-ONE", "requested": 1, "available": 0}]
               for r in refused)
    assert await level("LAST-ONE", "WH-LYON") == (1, 1, 0)
    assert await level("PLENTIFUL", "WH-PARIS") == (100, 10, 90)
    assert (await stored())["orders"] == 10


async def test_concurrent_first_orders_of_one_new_customer_make_one_customer(
    web: httpx.AsyncClient, catalog: Any, sessionmaker: Any
) -> None:
    await catalog.add("SAME-BUYER", stock={"WH-PARIS": 50})
    buyer = {"email": "Newcomer@Example.fr", "name": "Nina Newcomer", "phone": "+33611111111"}
    responses = await asyncio.gather(*(
        web.post("/api/orders", json=order_body(("SAME-BUYER", 1), customer=buyer))
        for _ in range(10)))

    assert [r.status_code for r in responses] == [201] * 10
    assert len({r.json()["customer"]["id"] for r in responses}) == 1
    async with sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Customer).where(
            Customer.email_lower == "newcomer@example.fr"))
    assert count == 1


async def test_concurrent_repeats_of_one_reference_still_make_one_order(
    web: httpx.AsyncClient, catalog: Any, stored: Any
) -> None:
    await catalog.add("ONE-REF", stock={"WH-PARIS": 50})
    body = order_body(("ONE-REF", 2), external_ref="SHOP-TWICE")
    others = [order_body(("ONE-REF", 1), customer=customer(i)) for i in range(6)]
    responses = await asyncio.gather(*(web.post("/api/orders", json=b)
                                       for b in [body, *others, body, body]))

    repeats = [responses[0], responses[7], responses[8]]
    assert sorted(r.status_code for r in repeats) == [200, 200, 201]
    assert len({r.json()["number"] for r in repeats}) == 1
    assert [r.status_code for r in responses[1:7]] == [201] * 6
    assert (await stored())["orders"] == 7
