"""An order held for suspected fraud is charged nothing; approved, it is charged as its
channel says; rejected, its card's authorization is released and its stock is back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.orders.conftest import fraud_rules, order_body  # noqa: F401
from tests.payments.conftest import Bank, card, payments

BIG = {"kind": "amount_over", "points": 60, "amount": 10_000}


@pytest.fixture
async def charged_at_capture() -> AsyncIterator[None]:
    from comptoir.config import service as config
    from comptoir.config.models import SalesChannel

    await SalesChannel.update({SalesChannel.capture_policy: "at_capture"}).where(
        SalesChannel.code == "web")
    config.invalidate()
    yield
    await SalesChannel.update({SalesChannel.capture_policy: "on_shipment"}).where(
        SalesChannel.code == "web")
    config.invalidate()


async def test_a_held_order_is_charged_only_once_approved_and_a_rejected_one_is_released(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    fraud_rules: Any, charged_at_capture: None, bank: Bank, drain: Any,  # noqa: F811
) -> None:
    await fraud_rules(50, BIG)
    await catalog.add("WATCH", price=25_000, stock={"WH-PARIS": 5})
    numbers = []
    for _ in range(2):
        response = await web.post("/api/orders", json=order_body(("WATCH", 1), payment=card()))
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "on_hold"
        numbers.append(response.json()["number"])
    await drain()
    for number in numbers:  # authorized, and not a cent taken while it is held
        assert [(t["kind"], t["status"]) for t in (await payments(manager, number))[
            "transactions"]] == [("authorization", "succeeded")]
    approved, rejected = numbers

    assert (await manager.post(f"/api/orders/{approved}/approve")).status_code == 200
    await drain()
    paid = await payments(manager, approved)
    assert [(t["kind"], t["status"], t["trigger"]) for t in paid["transactions"]] == [
        ("authorization", "succeeded", "capture"), ("capture", "succeeded", "review")]
    assert paid["summary"]["status"] == "paid"

    assert (await manager.post(f"/api/orders/{rejected}/reject", json={})).status_code == 200
    await drain()
    released = await payments(manager, rejected)
    assert [(t["kind"], t["status"]) for t in released["transactions"]] == [
        ("authorization", "succeeded"), ("void", "succeeded")]
    assert released["summary"]["captured"] == 0
    assert await level("WATCH", "WH-PARIS") == (5, 1, 4)
