"""Bad money input is a 4xx problem+json that says what is wrong, and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.invoicing.conftest import ship
from tests.orders.conftest import order_body
from tests.payments.conftest import Bank, card, payments


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert response.json()["detail"]


async def test_capture_requests_with_bad_payments_are_refused_and_write_nothing(
    web: httpx.AsyncClient, catalog: Any, stored: Any, bank: Bank,
) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    before = await stored()
    cases = [
        ({"provider": "paypal", "token": "tok_ok", "amount": 5000}, 422,
         "unknown_payment_provider"),
        ({"provider": "stripe", "token": "pm_1", "amount": 5000}, 422,
         "payment_provider_mismatch"),
        ({"provider": "sandbox", "token": "tok_ok", "amount": -5}, 422,
         "payment_amount_invalid"),
        ({"provider": "sandbox", "token": "tok_ok", "amount": 5000, "currency": "USD"}, 422,
         "currency_mismatch"),
        ({"provider": "sandbox", "amount": 5000}, 422, "payment_source_required"),
        ({"provider": "sandbox", "token": "tok_ok", "reference": "pi_1", "amount": 5000}, 422,
         "payment_source_required"),
        ({"provider": "sandbox", "token": "tok_ok", "amount": 1}, 422, "payment_amount_short"),
    ]
    for payment, status, code in cases:
        _problem(await web.post("/api/orders", json=order_body(("TEE", 1), payment=payment)),
                 status, code)
    assert await stored() == before


async def test_money_actions_beyond_what_the_ledger_allows_are_refused_and_change_nothing(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, bank: Bank, drain: Any,
    money_rows: Any,
) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 2), payment=card())
    await drain()
    [auth] = (await payments(manager, number))["transactions"]
    base = f"/api/orders/{number}/payments"

    before = await money_rows()
    _problem(await manager.post(f"{base}/{auth['id']}/capture", json={"amount": 10**7}),
             409, "capture_exceeds_authorized")
    _problem(await manager.post(f"{base}/{auth['id']}/capture", json={"amount": -100}),
             422, "payment_amount_invalid")
    _problem(await manager.post(f"{base}/{auth['id']}/capture",
                                json={"amount": 100, "currency": "USD"}), 422,
             "currency_mismatch")
    _problem(await manager.post(f"{base}/{uuid.uuid4()}/capture", json={}), 404,
             "transaction_not_found")
    _problem(await manager.post(f"{base}/refund", json={"reason": "x", "amount": 100}),
             409, "refund_exceeds_captured")
    _problem(await manager.post(f"{base}/refund", json={"reason": " ", "amount": 100}),
             422, "refund_reason_required")
    _problem(await manager.post(f"{base}/{auth['id']}/refund",
                                json={"reason": "x", "amount": 100}), 422, "not_a_capture")
    assert await money_rows() == before

    # Capture part of it, then void the rest: nothing more can be captured on it.
    part = await manager.post(f"{base}/{auth['id']}/capture", json={"amount": 500},
                              headers={"Idempotency-Key": "cap-1"})
    assert part.status_code == 200, part.text
    again = await manager.post(f"{base}/{auth['id']}/capture", json={"amount": 500},
                               headers={"Idempotency-Key": "cap-1"})
    assert again.json() == part.json(), "a repeated key is answered alike, applied once"
    await drain()
    voided = await manager.post(f"{base}/{auth['id']}/void", json={"reason": "customer paid cash"})
    assert voided.status_code == 200, voided.text
    await drain()
    before = await money_rows()
    _problem(await manager.post(f"{base}/{auth['id']}/capture", json={"amount": 100}), 409,
             "authorization_voided")
    _problem(await manager.post(f"{base}/{auth['id']}/void", json={}), 409,
             "authorization_voided")
    _problem(await manager.post(f"{base}/refund", json={"reason": "x", "amount": 501}), 409,
             "refund_exceeds_captured")
    assert await money_rows() == before
    kinds = [(t["kind"], t["status"], t["amount"])
             for t in (await payments(manager, number))["transactions"]]
    assert kinds[1:] == [("capture", "succeeded", 500), ("void", "succeeded",
                                                         auth["amount"] - 500)]
    # The parcel ships: nothing is left to capture, and nothing is asked.
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    assert len((await payments(manager, number))["transactions"]) == 3


async def test_an_associate_cannot_move_money(
    associate: httpx.AsyncClient, manager: httpx.AsyncClient, web: httpx.AsyncClient,
    catalog: Any, bank: Bank, drain: Any,
) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number = (await web.post("/api/orders", json=order_body(("TEE", 1), payment=card()))).json()[
        "number"]
    await drain()
    [auth] = (await payments(manager, number))["transactions"]
    response = await associate.post(f"/api/orders/{number}/payments/{auth['id']}/void", json={})
    assert response.status_code == 403
