"""Money follows the goods, through the real API and the outbox: a card authorized once the
order stands, each parcel captured as it ships, the rest released on cancellation, refunds
by lines with their credit notes, and every movement on the order's timeline."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update

from tests.invoicing.conftest import ship
from tests.payments.conftest import Bank, card, payments


async def _statuses(client: httpx.AsyncClient, number: str) -> list[tuple[str, str, int]]:
    return [(t["kind"], t["status"], t["amount"])
            for t in (await payments(client, number))["transactions"]]


async def test_a_card_is_authorized_then_charged_as_the_parcel_ships_and_refunded_by_lines(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any, bank: Bank,
    drain: Any,
) -> None:
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    await catalog.add("CAP", price=800, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 3), ("CAP", 1), payment=card())
    await drain()
    paid = await payments(manager, number)
    assert paid["summary"]["status"] == "authorized"
    assert await _statuses(manager, number) == [("authorization", "succeeded", 4890)]

    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    assert await _statuses(manager, number) == [
        ("authorization", "succeeded", 4890), ("capture", "pending", 4890)]
    await drain()
    paid = await payments(manager, number)
    assert (paid["summary"]["status"], paid["summary"]["balance"],
            paid["summary"]["outstanding"]) == ("paid", 4890, 0)

    tee = next(line for line in (await manager.get(f"/api/orders/{number}")).json()["lines"]
               if line["sku"] == "TEE")
    refunded = await manager.post(f"/api/orders/{number}/payments/refund", json={
        "reason": "one tee came back torn", "lines": [{"line_id": tee["id"], "quantity": 1}]})
    assert refunded.status_code == 200, refunded.text
    refund = refunded.json()["transactions"][-1]
    assert (refund["kind"], refund["status"], refund["amount"]) == ("refund", "pending", 1200)
    assert refund["credit_note"] is not None
    note = (await manager.get(f"/api/credit-notes/{refund['credit_note']}")).json()
    assert note["gross"] == refund["amount"]
    await drain()
    paid = await payments(manager, number)
    assert (paid["summary"]["status"], paid["summary"]["balance"]) == ("partially_refunded", 3690)
    moved = sum(t["amount"] if t["kind"] == "capture" else -t["amount"]
                for t in paid["transactions"]
                if t["status"] == "succeeded" and t["kind"] in ("capture", "refund"))
    assert moved == paid["summary"]["balance"]
    assert set(bank.performed.values()) == {1}, "a call was performed twice"

    timeline = [e["type"] for e in (await manager.get(f"/api/orders/{number}/events")).json()]
    assert [t for t in timeline if t.startswith("payment.")] == [
        "payment.requested", "payment.authorized", "payment.requested", "payment.captured",
        "payment.requested", "payment.refunded"]


async def test_each_parcel_is_charged_as_it_leaves_and_the_last_one_makes_the_total_exact(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, bank: Bank, drain: Any,
) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 3), payment=card())
    await drain()
    first = await ship(manager, work["WH-PARIS"], "C1", lines=[{"sku": "TEE", "quantity": 1}])
    assert first.status_code == 200, first.text
    await drain()
    order = (await manager.get(f"/api/orders/{number}")).json()
    shipping = order["totals"]["total"] - 3000
    assert await _statuses(manager, number) == [
        ("authorization", "succeeded", 3000 + shipping),
        ("capture", "succeeded", 1000 + shipping)]
    assert (await ship(manager, work["WH-PARIS"], "C2")).status_code == 200
    await drain()
    paid = await payments(manager, number)
    assert [t["amount"] for t in paid["transactions"] if t["kind"] == "capture"] == [
        1000 + shipping, 2000]
    assert paid["summary"]["status"] == "paid"
    assert paid["summary"]["capturable"] == 0


async def test_cancelling_the_order_releases_the_authorization(
    manager: httpx.AsyncClient, web: httpx.AsyncClient, catalog: Any, bank: Bank, drain: Any,
) -> None:
    from tests.orders.conftest import order_body

    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number = (await web.post("/api/orders", json=order_body(("TEE", 2), payment=card()))).json()[
        "number"]
    await drain()
    assert (await manager.post(f"/api/orders/{number}/cancel", json={})).status_code == 200
    await drain()
    kinds = await _statuses(manager, number)
    assert [k[:2] for k in kinds] == [("authorization", "succeeded"), ("void", "succeeded")]
    assert kinds[0][2] == kinds[1][2]
    summary = (await payments(manager, number))["summary"]
    assert (summary["status"], summary["capturable"], summary["voided"]) == (
        "unpaid", 0, kinds[0][2])


async def test_a_declined_card_charges_nothing_when_the_parcel_ships(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, bank: Bank, drain: Any,
) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 1), payment=card("tok_declined"))
    await drain()
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    [auth] = (await payments(manager, number))["transactions"]
    assert (auth["status"], auth["failure_code"]) == ("failed", "card_declined")
    assert (await payments(manager, number))["summary"]["status"] == "unpaid"


async def test_a_provider_that_did_not_answer_is_asked_again_with_the_same_key(
    manager: httpx.AsyncClient, web: httpx.AsyncClient, catalog: Any, bank: Bank, drain: Any,
    sessionmaker: Any,
) -> None:
    from comptoir.events.models import OutboxMessage
    from tests.orders.conftest import order_body

    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number = (await web.post("/api/orders", json=order_body(
        ("TEE", 1), payment=card("tok_timeout")))).json()["number"]
    await drain()
    assert [t["status"] for t in (await payments(manager, number))["transactions"]] == [
        "pending"]
    async with sessionmaker() as session, session.begin():  # its backoff is over
        await session.execute(update(OutboxMessage).values(available_at=OutboxMessage.created_at))
    await drain()
    assert [t["status"] for t in (await payments(manager, number))["transactions"]] == [
        "succeeded"]
    keys = [call.idempotency_key for call in bank.asked]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert list(bank.performed.values()) == [1]


async def test_a_webhook_settles_a_pending_authorization_once_however_often_it_comes(
    manager: httpx.AsyncClient, web: httpx.AsyncClient, anon: httpx.AsyncClient, catalog: Any,
    bank: Bank, drain: Any,
) -> None:
    from tests.orders.conftest import order_body

    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number = (await web.post("/api/orders", json=order_body(
        ("TEE", 1), payment=card("tok_webhook")))).json()["number"]
    await drain()
    [auth] = (await payments(manager, number))["transactions"]
    assert auth["status"] == "pending"
    body = [{"transaction_id": auth["id"], "reference": "ref-late", "operation": "authorize",
             "status": "succeeded"}]
    refused = await anon.post("/api/payments/webhooks/sandbox", json=body,
                              headers={"test-signature": "forged"})
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await payments(manager, number))["transactions"][0]["status"] == "pending"
    answers = [await anon.post("/api/payments/webhooks/sandbox", json=body,
                               headers={"test-signature": "good"}) for _ in range(2)]
    assert [a.json() for a in answers] == [{"received": 1, "applied": 1},
                                           {"received": 1, "applied": 0}]
    summary = (await payments(manager, number))["summary"]
    assert summary["status"] == "authorized"
    timeline = [e["type"] for e in (await manager.get(f"/api/orders/{number}/events")).json()]
    assert timeline.count("payment.authorized") == 1


async def test_money_an_external_channel_took_is_recorded_and_its_refunds_too(
    manager: httpx.AsyncClient, web: httpx.AsyncClient, catalog: Any, drain: Any,
) -> None:
    from comptoir.config import service as config
    from comptoir.config.models import SalesChannel
    from tests.orders.conftest import order_body

    await SalesChannel.update({SalesChannel.payment_provider: "external"}).where(
        SalesChannel.code == "web")
    config.invalidate()
    try:
        await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
        created = await web.post("/api/orders", json=order_body(("TEE", 2), payment={
            "provider": "external", "reference": "MKP-PAY-991", "amount": 2490}))
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        assert created.json()["totals"]["total"] == 2490
        await drain()
        paid = await payments(manager, number)
        assert [(t["kind"], t["status"], t["amount"], t["reference"])
                for t in paid["transactions"]] == [("capture", "succeeded", 2490, "MKP-PAY-991")]
        assert paid["summary"]["status"] == "paid"
        refunded = await manager.post(f"/api/orders/{number}/payments/refund",
                                      json={"reason": "goodwill", "amount": 500})
        assert refunded.status_code == 200, refunded.text
        await drain()
        paid = await payments(manager, number)
        assert [(t["kind"], t["status"], t["failure_code"]) for t in paid["transactions"]] == [
            ("capture", "succeeded", None), ("refund", "succeeded", None)]
        summary = paid["summary"]
        assert (summary["status"], summary["balance"]) == ("partially_refunded", 1990)
    finally:
        await SalesChannel.update({SalesChannel.payment_provider: "sandbox"}).where(
            SalesChannel.code == "web")
        config.invalidate()
