"""A state machine drives orders and stock at random; the stock books must always balance.

After every step, for every SKU and location: reserved equals the units allocated to open
order lines, nothing is reserved beyond what is on hand, and on_hand equals its ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select

from tests.orders.conftest import order_body, pickup

T = TypeVar("T")

SKUS = ("SM-A", "SM-B", "SM-C")
LOCATIONS = ("WH-PARIS", "WH-LYON", "ST-LYON-01")
START = {("SM-A", "WH-PARIS"): 3, ("SM-A", "WH-LYON"): 2, ("SM-B", "ST-LYON-01"): 2,
         ("SM-B", "WH-PARIS"): 1, ("SM-C", "WH-LYON"): 4}

lines = st.dictionaries(st.sampled_from(SKUS), st.integers(1, 3), min_size=1, max_size=3)
deliveries = st.sampled_from(["ship", "ST-LYON-01"])


@pytest.fixture
async def event_loop_now() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def test_stock_books_balance_whatever_happens_to_orders(
    event_loop_now: asyncio.AbstractEventLoop, app: Any, world: Any, catalog: Any,
) -> None:
    loop = event_loop_now

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return loop.run_until_complete(coro)

    for sku in SKUS:
        run(catalog.add(sku, price=1500))
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                            headers={"authorization": f"Bearer {world.keys['web']}"})
    manager = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                headers={"authorization": f"Bearer {world.keys['manager-key']}"})
    sessionmaker = app.state.sessionmaker

    class OrdersAndStock(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.orders: dict[str, dict[str, Any]] = {}  # number -> its latest answer

        @initialize()
        def fresh_stock(self) -> None:
            run(self._reset())

        async def _reset(self) -> None:
            from comptoir.customers.models import Customer
            from comptoir.events.models import Event
            from comptoir.idempotency import IdempotencyKey
            from comptoir.inventory import service as inventory
            from comptoir.inventory.models import InventoryLevel, InventoryMovement
            from comptoir.orders.models import Order, OrderAllocation, OrderLine

            async with sessionmaker() as session, session.begin():
                for model in (OrderAllocation, OrderLine, Order, IdempotencyKey, Customer,
                              InventoryMovement, InventoryLevel, Event):
                    await session.execute(delete(model))
                for (sku, location), quantity in START.items():
                    await inventory.adjust(session, sku=sku, location=location, delta=quantity,
                                           reason="start", actor="test", kind="receipt")

        @rule(wanted=lines, delivery=deliveries)
        def capture(self, wanted: dict[str, int], delivery: str) -> None:
            body = order_body(*wanted.items())
            if delivery != "ship":
                body["delivery"] = pickup(delivery)
            response = run(web.post("/api/orders", json=body))
            assert response.status_code in (201, 409), response.text
            if response.status_code == 201:
                self.orders[response.json()["number"]] = response.json()
            else:
                assert response.json()["code"] == "out_of_stock"

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), wanted=lines, delivery=st.none() | deliveries)
        def edit(self, data: st.DataObject, wanted: dict[str, int], delivery: str | None) -> None:
            number = data.draw(st.sampled_from(sorted(self.orders)))
            order = self.orders[number]
            body: dict[str, Any] = {"lines": [{"sku": s, "quantity": q}
                                              for s, q in wanted.items()]}
            if delivery == "ship":
                body["delivery"] = order_body()["delivery"]
            elif delivery is not None:
                body["delivery"] = pickup(delivery)
            response = run(manager.patch(f"/api/orders/{number}", json=body,
                                         headers={"If-Match": str(order["version"])}))
            self._remember(number, response, expected=(200, 409))
            if response.status_code == 409:
                assert response.json()["code"] in ("out_of_stock", "illegal_transition")

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), quantity=st.integers(1, 3))
        def cancel_some(self, data: st.DataObject, quantity: int) -> None:
            number = data.draw(st.sampled_from(sorted(self.orders)))
            order = self.orders[number]
            open_lines = [line for line in order["lines"] if line["quantity"] > 0]
            if not open_lines:
                return
            line = data.draw(st.sampled_from(open_lines))
            response = run(manager.post(f"/api/orders/{number}/cancel", json={
                "lines": [{"line_id": line["id"], "quantity": min(quantity, line["quantity"])}]}))
            self._remember(number, response, expected=(200,))

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def cancel_order(self, data: st.DataObject) -> None:
            number = data.draw(st.sampled_from(sorted(self.orders)))
            response = run(manager.post(f"/api/orders/{number}/cancel"))
            self._remember(number, response, expected=(200, 409))

        def _remember(self, number: str, response: httpx.Response,
                      expected: tuple[int, ...]) -> None:
            assert response.status_code in expected, response.text
            if response.status_code == 200:
                self.orders[number] = response.json()

        @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS),
              delta=st.integers(-3, 3).filter(bool))
        def adjust_stock(self, sku: str, location: str, delta: int) -> None:
            run(self._adjust(sku, location, delta))

        async def _adjust(self, sku: str, location: str, delta: int) -> None:
            from comptoir.errors import Conflict
            from comptoir.inventory import service as inventory

            try:
                async with sessionmaker() as session, session.begin():
                    await inventory.adjust(session, sku=sku, location=location, delta=delta,
                                           reason="random", actor="test")
            except Conflict:
                pass  # below zero, or below what orders hold: refused, nothing changed

        @invariant()
        def books_balance(self) -> None:
            run(self._check_books())

        async def _check_books(self) -> None:
            from comptoir.inventory.models import InventoryLevel, InventoryMovement
            from comptoir.orders.models import OrderAllocation, OrderLine

            async def sums(*columns: Any) -> dict[Any, int]:
                *keys, quantity = columns
                rows = await session.execute(select(*keys, func.sum(quantity)).group_by(*keys))
                return {tuple(row[:-1]) if len(keys) > 1 else row[0]: int(row[-1])
                        for row in rows}

            async with sessionmaker() as session:
                allocated = await sums(OrderAllocation.sku, OrderAllocation.location,
                                       OrderAllocation.quantity)
                ledger = await sums(InventoryMovement.sku, InventoryMovement.location,
                                    InventoryMovement.quantity)
                levels = {(lv.sku, lv.location): lv
                          for lv in (await session.scalars(select(InventoryLevel))).all()}
                for key in set(levels) | set(allocated) | set(ledger):
                    level = levels.get(key)
                    on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
                    assert reserved == allocated.get(key, 0), key
                    assert on_hand - reserved - (level.safety_stock if level else 0) >= 0, key
                    assert on_hand == ledger.get(key, 0), key
                # Each line is allocated exactly its open quantity.
                per_line = await sums(OrderAllocation.line_id, OrderAllocation.quantity)
                for line in (await session.scalars(select(OrderLine))).all():
                    assert per_line.get(line.id, 0) == line.quantity, line.sku

    try:
        run_state_machine_as_test(OrdersAndStock, settings=settings(
            max_examples=20, stateful_step_count=15, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ))
    finally:
        run(web.aclose())
        run(manager.aclose())
