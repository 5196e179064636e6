"""Work sent again under the same Idempotency-Key (the store's offline outbox) is done once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.fulfillment.conftest import order_body, order_status, pickup


async def _events(sessionmaker: Any, number: str) -> list[str]:
    from comptoir.events.models import Event

    async with sessionmaker() as session:
        return list(await session.scalars(
            select(Event.type).where(Event.subject == number).order_by(Event.seq)))


async def test_a_replayed_pickup_and_handover_are_done_once_and_answered_the_same(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, work_for: Any, pickup_code: Any, sessionmaker: Any, level: Any,
) -> None:
    from comptoir.events.models import OutboxMessage

    await catalog.add("TEE", stock={"ST-LYON-01": 3})
    captured = await web.post("/api/orders",
                              json=order_body(("TEE", 1), delivery=pickup("ST-LYON-01")))
    number = captured.json()["number"]
    store = (await work_for(number))["ST-LYON-01"]
    url = f"/api/fulfillments/{store['id']}"

    picks = [await associate.post(f"{url}/pick", headers={"Idempotency-Key": "pick-1"})
             for _ in range(2)]
    assert [p.status_code for p in picks] == [200, 200]
    assert picks[1].json() == picks[0].json()

    ready = await asyncio.gather(*(
        associate.post(f"{url}/ready-for-pickup", headers={"Idempotency-Key": "ready-1"})
        for _ in range(5)))
    assert Counter(r.status_code for r in ready) == {200: 5}
    assert all(r.json() == ready[0].json() for r in ready)
    async with sessionmaker() as session:  # the customer is told once
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1

    body = {"code": await pickup_code(number)}
    handed = [await associate.post(f"{url}/handover", json=body,
                                   headers={"Idempotency-Key": "handover-1"}) for _ in range(2)]
    assert [h.status_code for h in handed] == [200, 200], handed[1].text
    assert handed[1].json() == handed[0].json()
    assert await order_status(manager, number) == "completed"
    assert await level("TEE", "ST-LYON-01") == (2, 0, 2)  # one unit left the shelf
    steps = [e for e in await _events(sessionmaker, number) if e.startswith("fulfillment.")]
    assert len(steps) == len(set(steps)) >= 3, steps  # each step recorded once


async def test_a_reused_key_on_another_step_is_refused(
    web: httpx.AsyncClient, associate: httpx.AsyncClient, catalog: Any, work_for: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 3})
    captured = await web.post("/api/orders",
                              json=order_body(("TEE", 1), delivery=pickup("ST-LYON-01")))
    store = (await work_for(captured.json()["number"]))["ST-LYON-01"]
    url = f"/api/fulfillments/{store['id']}"
    picked = await associate.post(f"{url}/pick", headers={"Idempotency-Key": "k"})
    assert picked.status_code == 200
    reused = await associate.post(f"{url}/ready-for-pickup", headers={"Idempotency-Key": "k"})
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert (await associate.get(url)).json()["status"] == "picking"
