"""Retries never make a second order: Idempotency-Key and (channel, external reference)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx

from tests.orders.conftest import order_body


async def test_fifty_concurrent_identical_requests_with_one_key_make_one_order(
    web: httpx.AsyncClient, catalog: Any, level: Any, stored: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 100})
    body = order_body(("TEE", 2))
    headers = {"Idempotency-Key": "checkout-7f3a"}
    responses = await asyncio.gather(
        *(web.post("/api/orders", json=body, headers=headers) for _ in range(50)))
    assert Counter(r.status_code for r in responses) == {201: 50}
    answers = [r.json() for r in responses]
    assert all(answer == answers[0] for answer in answers)
    assert (await stored())["orders"] == 1
    assert await level("TEE", "WH-PARIS") == (100, 2, 98)


async def test_same_key_same_body_gives_the_same_answer_later(
    web: httpx.AsyncClient, catalog: Any, stored: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    body = order_body(("TEE", 1))
    first = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "k-1"})
    again = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert (await stored())["orders"] == 1
    # Another key is another order.
    other = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "k-2"})
    assert other.json()["number"] != first.json()["number"]


async def test_same_key_with_another_body_is_refused(
    web: httpx.AsyncClient, catalog: Any, stored: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    await web.post("/api/orders", json=order_body(("TEE", 1)), headers={"Idempotency-Key": "k"})
    before = await stored()
    response = await web.post("/api/orders", json=order_body(("TEE", 3)),
                              headers={"Idempotency-Key": "k"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert await stored() == before


async def test_idempotency_keys_belong_to_their_caller(
    web: httpx.AsyncClient, client_for: Any, catalog: Any
) -> None:
    b2b = await client_for(key="b2b")
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    body = order_body(("TEE", 1))
    first = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "shared"})
    second = await b2b.post("/api/orders", json=body, headers={"Idempotency-Key": "shared"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["number"] != second.json()["number"]


async def test_a_refused_capture_does_not_burn_its_key(
    web: httpx.AsyncClient, catalog: Any, level: Any, sessionmaker: Any
) -> None:
    from comptoir.inventory import service as inventory

    await catalog.add("TEE", stock={})
    body = order_body(("TEE", 1))
    refused = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "retry-me"})
    assert refused.status_code == 409
    async with sessionmaker() as session, session.begin():  # the stock arrives
        await inventory.adjust(session, sku="TEE", location="WH-LYON", delta=1, reason="receipt",
                               actor="test", kind="receipt")
    accepted = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "retry-me"})
    assert accepted.status_code == 201
    assert await level("TEE", "WH-LYON") == (1, 1, 0)


async def test_a_repeated_external_reference_returns_the_existing_order(
    web: httpx.AsyncClient, catalog: Any, level: Any, stored: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 2})
    body = order_body(("TEE", 2), external_ref="SHOP-1001")
    first = await web.post("/api/orders", json=body)
    assert first.status_code == 201
    before = await stored()
    # The stock is gone now, yet the repeat is answered with the order it already made.
    again = await web.post("/api/orders", json=body)
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert await stored() == before
    assert await level("TEE", "WH-PARIS") == (2, 2, 0)


async def test_concurrent_duplicates_of_one_external_reference_make_one_order(
    web: httpx.AsyncClient, catalog: Any, level: Any, stored: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 100})
    body = order_body(("TEE", 1), external_ref="SHOP-2002")
    responses = await asyncio.gather(*(web.post("/api/orders", json=body) for _ in range(20)))
    assert Counter(r.status_code for r in responses) == {201: 1, 200: 19}
    assert len({r.json()["number"] for r in responses}) == 1
    assert (await stored())["orders"] == 1
    assert await level("TEE", "WH-PARIS") == (100, 1, 99)


async def test_external_references_are_unique_per_channel_only(
    web: httpx.AsyncClient, client_for: Any, catalog: Any
) -> None:
    b2b = await client_for(key="b2b")
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    body = order_body(("TEE", 1), external_ref="REF-1")
    assert (await web.post("/api/orders", json=body)).status_code == 201
    assert (await b2b.post("/api/orders", json=body)).status_code == 201


async def test_a_retry_after_its_first_attempt_took_the_last_units_gets_that_order(
    web: httpx.AsyncClient, catalog: Any, level: Any, stored: Any
) -> None:
    await catalog.add("LAST", stock={"WH-PARIS": 1})
    body = order_body(("LAST", 1))
    first = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "net-glitch"})
    assert first.status_code == 201
    before = await stored()
    retry = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "net-glitch"})
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert await stored() == before
    assert await level("LAST", "WH-PARIS") == (1, 1, 0)
    # Without the key, the same body is a new order, and there is no stock left for it.
    assert (await web.post("/api/orders", json=body)).json()["code"] == "out_of_stock"


async def test_a_replay_is_the_first_answer_even_after_the_order_changed(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    body = order_body(("TEE", 1))
    first = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "k-9"})
    number = first.json()["number"]
    await manager.post(f"/api/orders/{number}/hold", json={"reason": "address_check"})
    replay = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "k-9"})
    assert replay.json() == first.json()
    assert replay.json()["status"] == "confirmed"


async def test_an_answer_stored_before_an_upgrade_is_replayed_as_the_order_reads_now(
    web: httpx.AsyncClient, catalog: Any, stored: Any, sessionmaker: Any
) -> None:
    """An answer stored by an earlier version lacks fields today's has (here per-line VAT):
    its retry gets the same order, as it reads now, not an error."""
    from sqlalchemy import update

    from comptoir.idempotency import IdempotencyKey

    await catalog.add("TEE", stock={"WH-PARIS": 10})
    body = order_body(("TEE", 1))
    first = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "old-1"})
    assert first.status_code == 201, first.text
    old = dict(first.json())
    del old["vat_breakdown"]
    old["lines"] = [{k: v for k, v in line.items() if k != "vat_rate_bp"}
                    for line in old["lines"]]
    async with sessionmaker() as session, session.begin():
        await session.execute(update(IdempotencyKey).where(IdempotencyKey.key == "old-1")
                              .values(response=json.dumps(old)))

    again = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "old-1"})

    assert again.status_code == 201, again.text
    assert again.json()["number"] == first.json()["number"]
    assert again.json()["vat_breakdown"] == first.json()["vat_breakdown"]
    assert (await stored())["orders"] == 1
