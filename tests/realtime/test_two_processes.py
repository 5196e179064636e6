"""Two ``comptoir serve`` processes on PostgreSQL and Redis: one live feed for everyone."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from comptoir.db.engine import create_engine, make_sessionmaker
from comptoir.events.models import Event
from tests.multiprocess import conftest as multiprocess
from tests.multiprocess.conftest import MANAGER, MANAGER_PASSWORD, SKU, Cluster

pytestmark = pytest.mark.postgres

cluster = multiprocess.cluster  # the two servers (own database, one Redis) of tests/multiprocess


async def _signed_in(url: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=url, timeout=10)
    response = await client.post("/api/auth/login",
                                 json={"username": MANAGER, "password": MANAGER_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["x-csrf-token"] = response.json()["csrf_token"]
    return client, "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def _feed(url: str, cookie: str, topics: list[str]) -> ClientConnection:
    connection = await connect(url.replace("http", "ws", 1) + "/ws",
                               additional_headers={"Cookie": cookie}, open_timeout=5)
    await connection.send(json.dumps({"subscribe": topics, "since": None}))
    while json.loads(await asyncio.wait_for(connection.recv(), 5)).get("type") != "subscribed":
        pass
    return connection


async def _events(connection: ClientConnection, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(found) < count:
            message = json.loads(await connection.recv())
            if "seq" in message and "data" in message:
                found.append(message)
    return found


async def _adjust(client: httpx.AsyncClient, delta: int) -> None:
    response = await client.post("/api/inventory/adjustments", json={
        "location": "WH-PARIS", "sku": SKU, "delta": delta, "reason": "recount"})
    assert response.status_code in (200, 201), response.text


async def test_stock_change_made_through_one_process_reaches_a_client_of_the_other(
    cluster: Cluster,
) -> None:
    a, cookie = await _signed_in(cluster.a.url)
    try:
        on_b = await _feed(cluster.b.url, cookie, [f"inventory:{SKU}"])
        await _adjust(a, -1)
        [message] = await _events(on_b, 1)
        await on_b.close()
    finally:
        await a.aclose()
    assert message["topic"] == f"inventory:{SKU}" and message["type"] == "inventory.changed"
    assert message["data"]["location"] == "WH-PARIS"


async def test_changes_through_both_processes_reach_clients_of_both_in_sequence_order(
    cluster: Cluster,
) -> None:
    a, cookie = await _signed_in(cluster.a.url)
    b = httpx.AsyncClient(base_url=cluster.b.url, cookies=dict(a.cookies),
                          headers={"x-csrf-token": a.headers["x-csrf-token"]}, timeout=10)
    engine = create_engine(cluster.settings)
    try:
        on_a = await _feed(cluster.a.url, cookie, ["location:WH-PARIS"])
        on_b = await _feed(cluster.b.url, cookie, [f"inventory:{SKU}"])
        async with make_sessionmaker(engine)() as session:
            before = await session.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1))

        # Both processes commit at once: their publications interleave in Redis.
        await asyncio.gather(*(_adjust(client, 1) for _ in range(15) for client in (a, b)))
        got_a, got_b = await asyncio.gather(_events(on_a, 30), _events(on_b, 30))

        async with make_sessionmaker(engine)() as session:
            logged = list(await session.scalars(
                select(Event.seq).where(Event.seq > (before or 0), Event.topic == "inventory")
                .order_by(Event.seq)))
        await on_a.close()
        await on_b.close()
    finally:
        await a.aclose()
        await b.aclose()
        await engine.dispose()

    assert len(logged) == 30
    assert [m["seq"] for m in got_a] == logged
    assert [m["seq"] for m in got_b] == logged


async def test_signing_out_through_one_process_closes_the_feed_held_by_the_other(
    cluster: Cluster,
) -> None:
    a, cookie = await _signed_in(cluster.a.url)
    staying, other_cookie = await _signed_in(cluster.a.url)
    try:
        on_b = await _feed(cluster.b.url, cookie, ["orders"])
        other_on_b = await _feed(cluster.b.url, other_cookie, [f"inventory:{SKU}"])
        response = await a.post("/api/auth/logout")
        assert response.status_code == 204, response.text

        async with asyncio.timeout(5):
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await on_b.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        # Another session's feed on the same process goes on.
        await _adjust(staying, 1)
        [message] = await _events(other_on_b, 1)
        assert message["type"] == "inventory.changed"
        await other_on_b.close()
    finally:
        await a.aclose()
        await staying.aclose()
