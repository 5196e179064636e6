"""Two hundred paid orders race for the last five units: five orders stand, and no money
stays held for an order that does not exist.

A card token is authorized only once its order stands (the capture's outbox message is
written with the order, in its transaction): the 195 refused orders' cards are never
authorized. An authorization the shop made itself before sending the order (its
``reference``) is voided when the order is refused for want of stock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx

from comptoir.payments.providers.base import Operation, ProviderCall
from comptoir.payments.providers.sandbox_banks import MEMORY_BANK, BankRecord
from tests.orders.conftest import order_body

RACERS = 200


async def _race(web: httpx.AsyncClient, payments: list[dict[str, Any]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*(
        web.post("/api/orders", json=order_body(("LAST-ONES", 1), payment=payment))
        for payment in payments)))


async def _new_records(before: set[str]) -> list[BankRecord]:
    return [r for r in await MEMORY_BANK.operations() if r.key not in before]


async def test_card_tokens_of_refused_orders_are_never_authorized(
    web: httpx.AsyncClient, catalog: Any, level: Any, drain: Any, stored: Any,
) -> None:
    await catalog.add("LAST-ONES", price=2500, stock={"WH-PARIS": 5})
    before = {r.key for r in await MEMORY_BANK.operations()}
    responses = await _race(web, [{"provider": "sandbox", "token": "tok_ok", "amount": 10**5}
                                  for _ in range(RACERS)])
    assert Counter(r.status_code for r in responses) == {201: 5, 409: 195}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    numbers = {r.json()["number"] for r in responses if r.status_code == 201}
    await drain()
    performed = await _new_records(before)
    assert sorted((r.call.operation, r.call.order_number, r.status) for r in performed) == \
        sorted((Operation.AUTHORIZE, number, "succeeded") for number in numbers)
    assert await level("LAST-ONES", "WH-PARIS") == (5, 5, 0)
    assert (await stored())["orders"] == 5


async def test_authorizations_the_shop_made_for_refused_orders_are_voided(
    web: httpx.AsyncClient, catalog: Any, drain: Any, app: Any,
) -> None:
    await catalog.add("LAST-ONES", price=2500, stock={"WH-PARIS": 5})
    sandbox = app.state["payment_calls"].providers["sandbox"]
    references = []
    for _ in range(RACERS):  # the shop authorizes each card before it sends the order
        answer = await sandbox.call(ProviderCall(
            transaction_id=uuid.uuid4(), operation=Operation.AUTHORIZE, amount=2500 + 490,
            currency="EUR", order_number="", source="tok_ok"))
        assert answer.status == "succeeded"
        references.append(answer.reference)
    before = {r.key for r in await MEMORY_BANK.operations()}
    responses = await _race(web, [{"provider": "sandbox", "reference": reference,
                                   "amount": 2500 + 490} for reference in references])
    assert Counter(r.status_code for r in responses) == {201: 5, 409: 195}
    kept = {ref for ref, r in zip(references, responses, strict=True) if r.status_code == 201}
    refused = set(references) - kept
    await drain()
    performed = await _new_records(before)
    voided = {r.call.source for r in performed
              if r.call.operation is Operation.VOID and r.status == "succeeded"}
    assert voided == refused, "every refused order's authorization is released, none other"
    # The five orders' authorizations are recorded (checked at the sandbox), not voided.
    assert Counter(r.call.operation for r in performed) == {
        Operation.VOID: 195, Operation.AUTHORIZE: 5}
    # A shop that sends a refused order again does not void it twice.
    again = await _race(web, [{"provider": "sandbox", "reference": sorted(refused)[0],
                               "amount": 2500 + 490}])
    assert again[0].status_code == 409
    await drain()
    assert len([r for r in await _new_records(before)
                if r.call.operation is Operation.VOID]) == 195
