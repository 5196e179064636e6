"""Stock changes sent again under the same Idempotency-Key (the PWA's outbox) apply once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.conftest import RowCounts
from tests.inventory.test_inventory_api import adjustment, assert_problem, level


async def test_a_replayed_adjustment_applies_once_and_answers_the_same(
    manager: httpx.AsyncClient, catalog: Any, row_counts: RowCounts
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 10})
    body = adjustment(delta=-2, reason="casse")
    headers = {"Idempotency-Key": "3b1f-outbox-action"}
    first = await manager.post("/api/inventory/adjustments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    after_first = await row_counts()
    again = await manager.post("/api/inventory/adjustments", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert (await level(manager, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 8
    assert await row_counts() == after_first  # no second movement, no second event
    # Another key is another adjustment.
    other = await manager.post("/api/inventory/adjustments", json=body,
                               headers={"Idempotency-Key": "another-action"})
    assert other.json()["level"]["on_hand"] == 6


async def test_a_reused_key_with_another_body_is_refused_and_changes_nothing(
    manager: httpx.AsyncClient, catalog: Any, row_counts: RowCounts
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 10})
    headers = {"Idempotency-Key": "k-1"}
    first = await manager.post("/api/inventory/adjustments",
                               json=adjustment(delta=-2, reason="casse"), headers=headers)
    assert first.status_code == 201
    before = await row_counts()
    reused = await manager.post("/api/inventory/adjustments",
                                json=adjustment(delta=-3, reason="casse"), headers=headers)
    assert_problem(reused, 422, "idempotency_key_reused")
    # The same key on another stock action is refused too.
    count = await manager.post("/api/inventory/counts", headers=headers, json={
        "location": "WH-PARIS", "sku": "TEE-BLK-M", "on_hand": 8})
    assert_problem(count, 422, "idempotency_key_reused")
    assert await row_counts() == before
    assert (await level(manager, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 8


async def test_twenty_concurrent_identical_adjustments_with_one_key_apply_once(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 50})
    body = adjustment(delta=-2, reason="casse")
    headers = {"Idempotency-Key": "sent-twenty-times"}
    responses = await asyncio.gather(*(
        manager.post("/api/inventory/adjustments", json=body, headers=headers)
        for _ in range(20)))
    assert Counter(r.status_code for r in responses) == {201: 20}, [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert all(answer == answers[0] for answer in answers)
    assert (await level(manager, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 48
    ledger = (await manager.get("/api/inventory/TEE-BLK-M/movements")).json()["items"]
    assert [m["quantity"] for m in ledger] == [-2, 50]


async def test_a_replayed_count_and_safety_stock_apply_once(
    manager: httpx.AsyncClient, catalog: Any, row_counts: RowCounts
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 10})
    count = {"location": "WH-PARIS", "sku": "TEE-BLK-M", "on_hand": 7, "reason": "inventaire"}
    first = await manager.post("/api/inventory/counts", json=count,
                               headers={"Idempotency-Key": "count-1"})
    assert first.status_code == 201, first.text
    # Meanwhile a unit arrives; the replayed count must not set the level back to 7.
    await manager.post("/api/inventory/adjustments", json=adjustment(delta=1, kind="receipt"))
    before = await row_counts()
    again = await manager.post("/api/inventory/counts", json=count,
                               headers={"Idempotency-Key": "count-1"})
    assert (again.status_code, again.json()) == (201, first.json())
    assert (await level(manager, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 8
    assert await row_counts() == before

    safety = {"location": "WH-PARIS", "sku": "TEE-BLK-M", "safety_stock": 2}
    answers = [await manager.post("/api/inventory/safety-stock", json=safety,
                                  headers={"Idempotency-Key": "safety-1"}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].json() == answers[0].json()
    assert answers[0].json()["safety_stock"] == 2


async def test_a_refused_adjustment_does_not_use_up_its_key(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 1})
    body = adjustment(delta=-2, reason="casse")
    headers = {"Idempotency-Key": "too-early"}
    refused = await manager.post("/api/inventory/adjustments", json=body, headers=headers)
    assert refused.json()["code"] == "negative_stock", refused.text
    await manager.post("/api/inventory/adjustments", json=adjustment(delta=5, kind="receipt"))
    retried = await manager.post("/api/inventory/adjustments", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.json()["level"]["on_hand"] == 4


async def test_keys_belong_to_their_caller_and_have_a_bounded_length(
    manager: httpx.AsyncClient, client_for: Any, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 10})
    manager_key = await client_for(key="manager-key")
    body = adjustment(delta=-1, reason="casse")
    for client in (manager, manager_key):
        response = await client.post("/api/inventory/adjustments", json=body,
                                     headers={"Idempotency-Key": "shared"})
        assert response.status_code == 201
    assert (await level(manager, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 8
    too_long = await manager.post("/api/inventory/adjustments", json=body,
                                  headers={"Idempotency-Key": "k" * 201})
    assert_problem(too_long, 422, "invalid_idempotency_key")
    assert (await level(manager, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 8
