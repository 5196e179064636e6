"""A state machine moves orders and their money at random; the money must always add up.

Orders are captured with cards that succeed, are declined, answer only through a webhook or
time out; parcels ship in parts, pickups are handed over, lines are cancelled, managers
refund by lines and by amount, the provider fails now and then and its webhooks come twice;
the outbox runs at random moments. After every step, for every order: captured ≤ authorized
on each authorization, refunded ≤ captured on each capture, nothing captured after a void,
the balance the API shows is the sum of the transactions, every refund of invoiced goods
(by lines or by amount) has its credit notes stating what it gives back, and the provider never
performed a call twice.
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
from sqlalchemy import select, update

from comptoir.payments.providers.base import Operation
from tests.fulfillment.conftest import act
from tests.orders.conftest import order_body, pickup
from tests.payments.conftest import Bank, card

T = TypeVar("T")

SKUS = {"PM-A": 1250, "PM-B": 999}
tokens = st.sampled_from(["tok_ok", "tok_ok", "tok_declined", "tok_webhook", "tok_timeout"])
wanted = st.dictionaries(st.sampled_from(sorted(SKUS)), st.integers(1, 3), min_size=1,
                         max_size=2)


@pytest.fixture
async def event_loop_now() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def test_money_adds_up_whatever_happens_to_orders_parcels_and_providers(
    event_loop_now: asyncio.AbstractEventLoop, app: Any, world: Any, catalog: Any,
    company: Any, bank: Bank, pickup_code: Any,
) -> None:
    loop = event_loop_now

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return loop.run_until_complete(coro)

    def client(key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers={"authorization": f"Bearer {world.keys[key]}"})

    web, manager = client("web"), client("manager-key")
    anon = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    sessionmaker = app.state.sessionmaker
    dispatcher = app.state["dispatcher"]

    class Money(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.orders: dict[str, dict[str, Any]] = {}  # number -> {"pickup": bool}
            self.invoiced_refunds: set[str] = set()  # refunds that must have a credit note

        @initialize()
        def fresh_books(self) -> None:
            run(self._reset())

        async def _reset(self) -> None:
            from comptoir.db.registry import Base

            bank.performed.clear()
            bank.answers.clear()
            bank.asked.clear()
            bank.timeouts.clear()
            bank.fail_next.clear()
            async with sessionmaker() as session, session.begin():
                for table in reversed(Base.metadata.sorted_tables):
                    if table.name != "api_keys":
                        await session.execute(table.delete())
            from comptoir.inventory.service import forget_recent_reads

            forget_recent_reads()
            for sku, price in SKUS.items():
                await catalog.add(sku, price=price, stock={"WH-PARIS": 50, "ST-LYON-01": 50})

        # --- orders -----------------------------------------------------------------------------

        @precondition(lambda self: len(self.orders) < 4)
        @rule(lines=wanted, token=tokens, at_store=st.booleans())
        def capture(self, lines: dict[str, int], token: str, at_store: bool) -> None:
            body = order_body(*lines.items(), payment=card(token))
            if at_store:
                body["delivery"] = pickup("ST-LYON-01")
            response = run(web.post("/api/orders", json=body))
            assert response.status_code == 201, response.text
            self.orders[response.json()["number"]] = {"pickup": at_store}

        @rule(rounds=st.integers(1, 3))
        def outbox_runs(self, rounds: int) -> None:
            for _ in range(rounds):
                run(dispatcher.run_once())

        @rule()
        def time_passes(self) -> None:
            """Backoffs end: what failed is due again."""
            run(self._due_now())

        async def _due_now(self) -> None:
            from comptoir.events.models import OutboxMessage

            async with sessionmaker() as session, session.begin():
                await session.execute(update(OutboxMessage)
                                      .where(OutboxMessage.status == "pending")
                                      .values(available_at=OutboxMessage.created_at))

        @precondition(lambda self: not bank.fail_next)
        @rule(operation=st.sampled_from(list(Operation)))
        def provider_fails_next(self, operation: Operation) -> None:
            bank.fail_next.add(operation)

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def webhook_comes_twice(self, data: st.DataObject) -> None:
            number = data.draw(st.sampled_from(sorted(self.orders)))
            pending = [t for t in self._payments(number)["transactions"]
                       if t["status"] == "pending" and t["kind"] == "authorization"]
            if not pending:
                return
            body = [{"transaction_id": t["id"], "reference": f"late-{t['id']}",
                     "operation": "authorize",
                     "status": data.draw(st.sampled_from(["succeeded", "failed"]))}
                    for t in pending]
            answers = [run(anon.post("/api/payments/webhooks/sandbox", json=body,
                                     headers={"test-signature": "good"})) for _ in range(2)]
            assert [a.status_code for a in answers] == [200, 200]
            assert answers[1].json()["applied"] == 0

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), whole=st.booleans(), settled=st.booleans())
        def goods_leave(self, data: st.DataObject, whole: bool, settled: bool) -> None:
            number = data.draw(st.sampled_from(sorted(self.orders)))
            if settled:  # the payment had time to be authorized before the goods left
                run(self._due_now())
                run(dispatcher.run_once())
            work = run(self._work(number))
            for fulfillment in work:
                if fulfillment["status"] in ("handed_over", "shipped", "cancelled"):
                    continue
                for step in ("pick", "pack"):
                    run(act(manager, fulfillment, step))
                left = [line for line in fulfillment["lines"] if line["quantity"] > 0]
                if not left:
                    continue
                if self.orders[number]["pickup"]:
                    run(act(manager, fulfillment, "ready-for-pickup"))
                    code = run(pickup_code(number))
                    response = run(act(manager, fulfillment, "handover",
                                       {"code": code, "id_checked": True}))
                else:
                    body: dict[str, Any] = {"carrier": "colissimo", "tracking_number": "T"}
                    if not whole:
                        body["lines"] = [{"sku": left[0]["sku"], "quantity": 1}]
                    response = run(act(manager, fulfillment, "ship", body))
                assert response.status_code in (200, 409), response.text

        async def _work(self, number: str) -> list[dict[str, Any]]:
            page = (await manager.get("/api/fulfillments", params={"limit": "100"})).json()
            return [item for item in page["items"] if item["order_number"] == number]

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), quantity=st.integers(1, 2))
        def cancel_lines(self, data: st.DataObject, quantity: int) -> None:
            number = data.draw(st.sampled_from(sorted(self.orders)))
            order = run(manager.get(f"/api/orders/{number}")).json()
            open_lines = [line for line in order["lines"] if line["quantity"] > 0]
            if not open_lines:
                return
            line = data.draw(st.sampled_from(open_lines))
            response = run(manager.post(f"/api/orders/{number}/cancel", json={
                "lines": [{"line_id": line["id"], "quantity": min(quantity, line["quantity"])}]}))
            assert response.status_code in (200, 409), response.text

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def refund_a_unit_that_left(self, data: st.DataObject) -> None:
            number = data.draw(st.sampled_from(sorted(self.orders)))
            order = run(manager.get(f"/api/orders/{number}")).json()
            if order["status"] not in ("shipped", "completed"):
                return
            line = data.draw(st.sampled_from(order["lines"]))
            if line["quantity"] == 0:
                return
            response = run(manager.post(f"/api/orders/{number}/payments/refund", json={
                "reason": "came back", "lines": [{"line_id": line["id"], "quantity": 1}]}))
            assert response.status_code in (200, 409), response.text
            if response.status_code == 200:
                refund = response.json()["transactions"][-1]
                assert refund["kind"] == "refund"
                self.invoiced_refunds.add(refund["id"])
            else:
                assert response.json()["code"] in ("refund_exceeds_captured",
                                                   "refund_exceeds_line"), response.text

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), amount=st.integers(1, 4000))
        def refund_an_amount(self, data: st.DataObject, amount: int) -> None:
            number = data.draw(st.sampled_from(sorted(self.orders)))
            status = run(manager.get(f"/api/orders/{number}")).json()["status"]
            response = run(manager.post(f"/api/orders/{number}/payments/refund",
                                        json={"reason": "goodwill", "amount": amount}))
            assert response.status_code in (200, 409), response.text
            if response.status_code == 409:
                assert response.json()["code"] == "refund_exceeds_captured"
            elif status in ("shipped", "completed"):  # everything it paid for is invoiced
                self.invoiced_refunds.add(response.json()["transactions"][-1]["id"])

        # --- what must always hold ----------------------------------------------------------

        def _payments(self, number: str) -> dict[str, Any]:
            response = run(manager.get(f"/api/orders/{number}/payments"))
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        @invariant()
        def money_adds_up(self) -> None:
            for number in self.orders:
                self._check(number, self._payments(number))
            assert set(bank.performed.values()) <= {1}, "a provider call was performed twice"

        def _check(self, number: str, paid: dict[str, Any]) -> None:
            txs = {t["id"]: t for t in paid["transactions"]}
            live = [t for t in txs.values() if t["status"] != "failed"]
            done = [t for t in txs.values() if t["status"] == "succeeded"]
            for auth in (t for t in txs.values() if t["kind"] == "authorization"):
                drawn = [t for t in live if t["parent_id"] == auth["id"]]
                assert sum(t["amount"] for t in drawn) <= auth["amount"], number
                if drawn:
                    assert auth["status"] == "succeeded", number
                voids = [t for t in drawn if t["kind"] == "void"]
                if voids:
                    assert all(t["created_at"] <= voids[0]["created_at"]
                               for t in drawn if t["kind"] == "capture"), \
                        f"{number}: captured after a void"
            for cap in (t for t in txs.values() if t["kind"] == "capture"):
                refunds = [t for t in live if t["parent_id"] == cap["id"]]
                assert sum(t["amount"] for t in refunds) <= cap["amount"], number
                if refunds:
                    assert cap["status"] == "succeeded", number
            captured = sum(t["amount"] for t in done if t["kind"] == "capture")
            refunded = sum(t["amount"] for t in done if t["kind"] == "refund")
            assert paid["summary"]["balance"] == captured - refunded, number
            assert refunded <= captured, number
            for refund_id in self.invoiced_refunds & set(txs):
                assert txs[refund_id]["credit_note"], f"{number}: a refund with no credit note"
                run(self._same_amount(txs[refund_id]))

        async def _same_amount(self, refund: dict[str, Any]) -> None:
            from comptoir.invoicing.models import CreditNote

            async with sessionmaker() as session:
                gross = sum(await session.scalars(select(CreditNote.gross).where(
                    CreditNote.number.in_(refund["credit_note"].split(", ")))))
            # Its credit notes state at least what it gives back (exactly, unless one of
            # them also covers units another refund gave back).
            assert gross >= refund["amount"]

    try:
        run_state_machine_as_test(Money, settings=settings(
            max_examples=15, stateful_step_count=30, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ))
    finally:
        for c in (web, manager, anon):
            run(c.aclose())
