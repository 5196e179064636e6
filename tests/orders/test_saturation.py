"""A sale's burst: more simultaneous captures than the database pool holds are all served,
and past a bounded wait a request is refused 503 with Retry-After — never a 500, never a stall.

The apps here get a pool of a few connections, so a burst of a few dozen requests is what a
sale's hundreds are to the default pool.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import World
from tests.orders.conftest import order_body
from tests.support import api_client, running_app


@pytest.fixture
async def capacity_counted() -> AsyncIterator[None]:
    """The warehouses take at most 100,000 orders a day, as a retailer sets it: routing reads
    their counts of the day at each capture."""
    from comptoir.config import service as config
    from comptoir.config.models import Location

    warehouses = Location.code.is_in(["WH-PARIS", "WH-LYON"])
    await Location.update({Location.daily_order_capacity: 100_000}).where(warehouses)
    config.invalidate()
    yield
    await Location.update({Location.daily_order_capacity: None}).where(warehouses)
    config.invalidate()


def customer(n: int) -> dict[str, str]:
    return {"email": f"burst{n}@example.fr", "name": f"Burst {n}", "phone": f"+3361000{n:04d}"}


async def test_a_burst_of_ten_times_the_pool_is_served_whole(
    settings: Any, world: World, catalog: Any, level: Any, stored: Any,
    capacity_counted: None,
) -> None:
    await catalog.add("BURST", stock={"WH-PARIS": 1000})
    async with running_app(settings, db_pool_size=4, queue_timeout=5) as small, \
            api_client(small, world.keys["web"]) as web:
        # Today's code, with this pool: 1 x 201 and 39 x 500 after 10 s.
        responses = await asyncio.gather(*(
            web.post("/api/orders", json=order_body(("BURST", 1), customer=customer(i)))
            for i in range(40)))

    assert Counter(r.status_code for r in responses) == {201: 40}, [
        r.text for r in responses if r.status_code != 201][:3]
    assert len({r.json()["number"] for r in responses}) == 40
    assert await level("BURST", "WH-PARIS") == (1000, 40, 960)
    assert (await stored())["orders"] == 40


async def test_three_hundred_orders_racing_for_seven_units_get_seven_orders_and_409s(
    web: httpx.AsyncClient, catalog: Any, level: Any, stored: Any, capacity_counted: None,
) -> None:
    await catalog.add("LAST-SEVEN", stock={"WH-LYON": 7})
    # Today's code on PostgreSQL: 7 x 201, 32 x 409 and 261 x 500.
    responses = await asyncio.gather(*(
        web.post("/api/orders", json=order_body(("LAST-SEVEN", 1), customer=customer(i)))
        for i in range(300)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 7, 409: 293}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    assert await level("LAST-SEVEN", "WH-LYON") == (7, 7, 0)
    assert (await stored())["orders"] == 7


@pytest.mark.postgres
async def test_captures_beyond_the_waiting_limit_are_refused_503_and_nothing_is_written(
    settings: Any, world: World, catalog: Any, level: Any, sessionmaker: Any,
) -> None:
    await catalog.add("HELD", stock={"WH-PARIS": 100})
    async with running_app(settings, max_waiting_captures=3, queue_timeout=30) as small, \
            api_client(small, world.keys["web"]) as web:
        async with sessionmaker() as session, session.begin():
            # Another transaction holds the level: the first shared statement waits on it,
            # and the captures behind it wait for their turn.
            await session.execute(text(
                "SELECT 1 FROM inventory_levels WHERE sku = 'HELD' FOR UPDATE"))
            first = asyncio.create_task(
                web.post("/api/orders", json=order_body(("HELD", 1), customer=customer(0))))
            await _until(lambda: _waiting(small) == 0 and _writing(small))
            queued = [asyncio.create_task(web.post(
                "/api/orders", json=order_body(("HELD", 1), customer=customer(i))))
                for i in range(1, 4)]
            await _until(lambda: _waiting(small) == 3)
            refused = await asyncio.gather(*(web.post(
                "/api/orders", json=order_body(("HELD", 1), customer=customer(i)))
                for i in range(4, 9)))
        answered = await _settled(sessionmaker, first, *queued)

    assert [r.status_code for r in refused] == [503] * 5
    for response in refused:
        assert response.headers["retry-after"].isdigit()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "overloaded"
    assert [r.status_code for r in answered] == [201] * 4
    assert await level("HELD", "WH-PARIS") == (100, 4, 96)


@pytest.mark.postgres
async def test_a_capture_that_waits_too_long_for_its_turn_is_refused_503(
    settings: Any, world: World, catalog: Any, level: Any, sessionmaker: Any,
) -> None:
    await catalog.add("SLOW", stock={"WH-PARIS": 100})
    async with running_app(settings, queue_timeout=0.5) as small, \
            api_client(small, world.keys["web"]) as web:
        async with sessionmaker() as session, session.begin():
            await session.execute(text(
                "SELECT 1 FROM inventory_levels WHERE sku = 'SLOW' FOR UPDATE"))
            first = asyncio.create_task(
                web.post("/api/orders", json=order_body(("SLOW", 1), customer=customer(0))))
            await _until(lambda: _writing(small))
            late = await web.post("/api/orders",
                                  json=order_body(("SLOW", 1), customer=customer(1)))
        (written,) = await _settled(sessionmaker, first)

    assert late.status_code == 503 and late.json()["code"] == "overloaded"
    assert late.headers["retry-after"] == "1"
    assert written.status_code == 201  # the one whose statement had started is not dropped
    assert await level("SLOW", "WH-PARIS") == (100, 1, 99)


async def test_a_request_that_cannot_get_a_connection_in_time_is_refused_503(
    settings: Any, world: World, catalog: Any,
) -> None:
    await catalog.add("POOLED", stock={"WH-PARIS": 5})
    async with running_app(settings, db_pool_size=2, queue_timeout=0.3) as small, \
            api_client(small, world.keys["manager-key"]) as manager:
        engine = small.state.engine
        held = [await engine.connect() for _ in range(engine.pool.size())]
        try:
            started = time.monotonic()
            busy = await manager.get("/api/orders")
            waited = time.monotonic() - started
        finally:
            for connection in held:
                await connection.close()
        free = await manager.get("/api/orders")

    assert busy.status_code == 503, busy.text
    assert busy.json()["code"] == "overloaded"
    assert busy.headers["retry-after"] == "1"
    assert waited < 10
    assert free.status_code == 200


def _coalescer(app: Any) -> Any:
    from comptoir.orders import capture_pg

    coalescers = list(capture_pg._together.get(app.state.engine, {}).values())
    return coalescers[0] if coalescers else None


def _waiting(app: Any) -> int:
    coalescer = _coalescer(app)
    return -1 if coalescer is None else int(coalescer.waiting)


def _writing(app: Any) -> bool:
    coalescer = _coalescer(app)
    return coalescer is not None and coalescer.batches >= 1


async def _settled(sessionmaker: Any, *tasks: Any, seconds: float = 60) -> list[Any]:
    """The tasks' answers, once the lock they waited on is gone; if they still wait after
    ``seconds``, the test fails with what the database's sessions were waiting for."""
    _done, pending = await asyncio.wait(tasks, timeout=seconds)
    if pending:
        async with sessionmaker() as session:
            waits = (await session.execute(text(
                "SELECT a.pid, a.state, a.wait_event_type, a.wait_event, "
                "left(a.query, 60) AS query, pg_blocking_pids(a.pid) AS blocked_by "
                "FROM pg_stat_activity a WHERE a.datname = current_database() "
                "AND a.pid <> pg_backend_pid()"))).all()
        pytest.fail("captures still waiting after the lock was released:\n"
                    + "\n".join(map(str, waits)))
    return [task.result() for task in tasks]


async def _until(condition: Any, seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (polls state a request changes)
            await asyncio.sleep(0.01)

