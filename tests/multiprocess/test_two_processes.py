"""Two ``comptoir serve`` processes on one PostgreSQL and one Redis work as one Comptoir."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from comptoir.db.engine import create_engine, make_sessionmaker
from comptoir.events.models import OutboxMessage
from comptoir.events.service import enqueue
from tests.events.receiver import WebhookReceiver
from tests.multiprocess.conftest import MANAGER, MANAGER_PASSWORD, SKU, Cluster

pytestmark = pytest.mark.postgres


@pytest.fixture
async def sessionmaker_for(cluster: Cluster) -> AsyncIterator[Any]:
    """Sessions on the cluster's own database, from the test process."""
    engine = create_engine(cluster.settings)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _sign_in(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/auth/login",
                                 json={"username": MANAGER, "password": MANAGER_PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


async def test_staff_signed_in_through_one_process_is_signed_in_through_the_other(
    cluster: Cluster,
) -> None:
    async with httpx.AsyncClient(base_url=cluster.a.url, timeout=10) as a:
        csrf = await _sign_in(a)
        async with httpx.AsyncClient(base_url=cluster.b.url, cookies=dict(a.cookies),
                                     headers={"x-csrf-token": csrf}, timeout=10) as b:
            me = await b.get("/api/auth/me")
            assert me.status_code == 200, me.text
            assert me.json()["name"] == MANAGER and me.json()["role"] == "manager"

            # Signing out through B ends the session for A too.
            assert (await b.post("/api/auth/logout")).status_code == 204
            assert (await a.get("/api/auth/me")).status_code == 401


async def test_stock_adjusted_through_one_process_is_read_through_the_other(
    cluster: Cluster,
) -> None:
    async with httpx.AsyncClient(base_url=cluster.a.url, timeout=10) as a:
        csrf = await _sign_in(a)
        async with httpx.AsyncClient(base_url=cluster.b.url, cookies=dict(a.cookies),
                                     timeout=10) as b:
            query = {"sku": SKU, "location": "WH-PARIS"}
            before = await b.get("/api/inventory", params=query)
            assert before.status_code == 200, before.text
            [level] = before.json()["items"]

            adjusted = await a.post(
                "/api/inventory/adjustments", headers={"x-csrf-token": csrf},
                json={"location": "WH-PARIS", "sku": SKU, "delta": -3,
                      "reason": "broken in transit"},
            )
            assert adjusted.status_code in (200, 201), adjusted.text

            after = await b.get("/api/inventory", params=query)
            [changed] = after.json()["items"]
    assert changed["on_hand"] == level["on_hand"] - 3
    assert changed["available"] == level["available"] - 3


async def _wait_until_settled(sessionmaker: Any, ids: set[Any]) -> None:
    """Until no message is pending any more, or 20 s."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(20):
            while True:
                async with sessionmaker() as session:
                    settled = await session.scalar(
                        select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.id.in_(ids), OutboxMessage.status != "pending")
                    )
                if settled == len(ids):
                    return
                await asyncio.sleep(0.1)


async def test_outbox_messages_are_delivered_once_across_both_processes(
    cluster: Cluster, sessionmaker_for: Any
) -> None:
    count = 200
    async with WebhookReceiver() as receiver:
        async with sessionmaker_for() as session, session.begin():
            messages = [
                await enqueue(session, "webhook",
                              {"url": receiver.url, "body": {"order": f"CMP-2026-{n:06d}"}})
                for n in range(count)
            ]
        ids = {m.id for m in messages}
        await _wait_until_settled(sessionmaker_for, ids)
        await asyncio.sleep(0.3)  # a duplicate, if any, would arrive now

    received = Counter(r.headers["comptoir-delivery"] for r in receiver.received)
    assert set(received) == {str(i) for i in ids}
    assert [n for n in received.values() if n > 1] == []
    bodies = {json.loads(r.body)["order"] for r in receiver.received}
    assert bodies == {f"CMP-2026-{n:06d}" for n in range(count)}

    async with sessionmaker_for() as session:
        rows = (await session.execute(
            select(OutboxMessage.status, OutboxMessage.claimed_by)
            .where(OutboxMessage.id.in_(ids))
        )).all()
    assert {status for status, _ in rows} == {"delivered"}
    # worker ids are "host:pid:random": both server processes took a share of the work.
    pids = {worker.split(":")[1] for _, worker in rows}
    assert pids == {str(cluster.a.process.pid), str(cluster.b.process.pid)}

