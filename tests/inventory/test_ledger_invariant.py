"""Whatever happens to a level, on_hand equals the sum of its movements (a hypothesis test)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from comptoir.errors import Conflict
from comptoir.inventory import service as inventory
from comptoir.inventory.models import InventoryLevel, InventoryMovement

LOCATIONS = ("WH-PARIS", "ST-LYON-01")
START = 4  # units received before the random operations, so reservations happen early
_skus = itertools.count()


@dataclass
class Books:
    """What the level should be, computed without Comptoir."""

    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0


location = st.sampled_from(LOCATIONS)
operation = st.one_of(
    st.tuples(st.just("adjust"), location, st.integers(-6, 8)),
    st.tuples(st.just("count"), location, st.integers(-1, 10)),
    st.tuples(st.just("reserve"), location, st.integers(1, 4)),
    st.tuples(st.just("release"), location, st.integers(1, 3)),
    st.tuples(st.just("safety"), location, st.integers(0, 3)),
)


async def _apply(
    client: httpx.AsyncClient, sessionmaker: Any, sku: str, op: tuple[str, str, int],
    books: Books,
) -> None:
    kind, loc, n = op
    if kind == "adjust":
        response = await client.post("/api/inventory/adjustments", json={
            "sku": sku, "location": loc, "delta": n, "reason": "hypothesis"})
        after = books.on_hand + n
        expected = 422 if n == 0 else 409 if after < 0 or after < books.reserved else 201
        assert response.status_code == expected, (op, books, response.text)
        if expected == 201:
            books.on_hand = after
    elif kind == "count":
        response = await client.post("/api/inventory/counts", json={
            "sku": sku, "location": loc, "on_hand": n})
        refused = n < 0 or (n != books.on_hand and n < books.reserved)
        expected = (422 if n < 0 else 409) if refused else 201
        assert response.status_code == expected, (op, books, response.text)
        if expected == 201:
            books.on_hand = n
    elif kind == "safety":
        response = await client.post("/api/inventory/safety-stock", json={
            "sku": sku, "location": loc, "safety_stock": n})
        assert response.status_code == 200, response.text
        books.safety_stock = n
    elif kind == "reserve":
        async with sessionmaker() as session, session.begin():
            won = await inventory.reserve(session, sku=sku, location=loc, quantity=n)
        if books.on_hand - books.reserved - books.safety_stock >= n:
            assert won, (op, books)
            books.reserved += n
        else:
            assert not won, (op, books)
    else:
        try:
            async with sessionmaker() as session, session.begin():
                await inventory.release(session, sku=sku, location=loc, quantity=n)
        except Conflict:
            assert books.reserved < n, (op, books)
        else:
            books.reserved -= n


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=1, max_size=10))
async def test_on_hand_always_equals_the_sum_of_its_movements(
    operations: list[tuple[str, str, int]], client_for: Any, catalog: Any, sessionmaker: Any,
) -> None:
    client = await client_for(key="manager-key")
    sku = f"LEDGER-{next(_skus)}"  # one SKU per example: examples share the database
    await catalog.add(sku, stock=dict.fromkeys(LOCATIONS, START))
    books = {loc: Books(on_hand=START) for loc in LOCATIONS}
    for op in operations:
        await _apply(client, sessionmaker, sku, op, books[op[1]])

    async with sessionmaker() as session:
        levels = {lv.location: lv for lv in await session.scalars(
            select(InventoryLevel).where(InventoryLevel.sku == sku))}
        ledger = dict((await session.execute(
            select(InventoryMovement.location, func.sum(InventoryMovement.quantity))
            .where(InventoryMovement.sku == sku).group_by(InventoryMovement.location))).all())
    for loc, expected in books.items():
        lv = levels[loc]
        assert lv.on_hand == ledger.get(loc, 0) == expected.on_hand
        assert lv.reserved == expected.reserved
        assert 0 <= lv.reserved <= lv.on_hand
        assert lv.available == max(0, lv.on_hand - lv.reserved - lv.safety_stock) >= 0
        shown = (await client.get("/api/inventory", params={"sku": sku, "location": loc})).json()
        assert shown["items"][0]["available"] == lv.available
