"""A location's queue pages at any backlog: thousands of orders waiting, no 500, each once.

The backlog is written straight into the order tables (as a sale's captures leave it:
confirmed orders allocated at their locations, no fulfillment made yet), far past what one
statement may carry (32,767 parameters on PostgreSQL, 32,766 on SQLite).
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, insert, select

from tests.fulfillment.conftest import act

WAREHOUSE_ORDERS = 4_300  # each a fulfillment of 8 values: 34,400 values in one INSERT
STORE_ORDERS = 25
MAX_PAGE = 100


@dataclass
class Backlog:
    # (order number, location) of each piece of work waiting, oldest order first.
    waiting: list[tuple[str, str]] = field(default_factory=list)
    created: dict[str, dt.datetime] = field(default_factory=dict)  # per order number

    def at(self, location: str | None) -> list[tuple[str, str]]:
        return [work for work in self.waiting if location in (None, work[1])]

    def is_oldest(self, items: list[dict[str, Any]], location: str | None) -> bool:
        """``items`` are the oldest work waiting at ``location`` (None: anywhere), each once,
        in any order among orders made at the same moment."""
        got = [(item["order_number"], item["location"]) for item in items]
        waiting = self.at(location)
        return (len(set(got)) == len(got) and set(got) <= set(waiting)
                and [self.created[n] for n, _ in got]
                == [self.created[n] for n, _ in waiting[:len(got)]])


START = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


class Writer:
    """Orders as a sale's captures leave them, written in bulk by ``write``."""

    def __init__(self) -> None:
        self.backlog = Backlog()
        self.rows: dict[str, list[dict[str, Any]]] = {"orders": [], "lines": [],
                                                      "allocations": []}

    def add(self, serial: int, status: str, places: list[tuple[str, str, int]], *,
            pickup: str | None = None, created: dt.datetime | None = None,
            order_id: uuid.UUID | None = None) -> str:
        order_id = order_id or uuid.uuid4()
        number = f"CMP-2026-{serial:06d}"
        created = created or START + dt.timedelta(seconds=serial // 3)
        self.backlog.created[number] = created
        self.rows["orders"].append({
            "id": order_id, "number": number, "channel": "web", "status": status,
            "held_from": "confirmed" if status == "on_hold" else None,
            "hold_reason": "address_check" if status == "on_hold" else None,
            "version": 1, "currency": "EUR", "prices_include_tax": True, "vat_rate_bp": 2000,
            "customer_email": f"c{serial}@example.fr", "customer_name": f"Client {serial}",
            "delivery_method": "pickup" if pickup else "ship", "pickup_location": pickup,
            "pickup_code": "K7M2Q9XA" if pickup else None,
            "ship_to": None if pickup else {"name": "Ada Byron", "line1": "3 rue de la Paix",
                                            "line2": "", "postal_code": "69001",
                                            "city": "Lyon", "country": "FR"},
            "subtotal": 1000, "shipping": 0, "shipping_tax": 0, "tax": 167, "total": 1000,
            "tracking_token": secrets.token_urlsafe(32), "search": number.lower(),
            "created_by": "key:web", "created_at": created, "updated_at": created,
        })
        for position, (sku, location, quantity) in enumerate(places, start=1):
            line_id = uuid.uuid4()
            self.rows["lines"].append({
                "id": line_id, "order_id": order_id, "position": position, "sku": sku,
                "name": sku, "quantity": quantity, "cancelled_quantity": 0,
                "unit_price": 1000, "vat_rate_bp": 2000, "net": 833, "tax": 167,
                "total": 1000})
            self.rows["allocations"].append({
                "id": uuid.uuid4(), "order_id": order_id, "line_id": line_id, "sku": sku,
                "location": location, "quantity": 0 if status == "cancelled" else quantity,
                "created_at": created})
        if status in ("confirmed", "in_fulfillment"):
            for location in sorted({location for _, location, _ in places}):
                self.backlog.waiting.append((number, location))
        return number

    async def write(self, sessionmaker: Any) -> Backlog:
        from comptoir.orders.models import Order, OrderAllocation, OrderLine

        async with sessionmaker() as session, session.begin():
            for model, rows in ((Order, "orders"), (OrderLine, "lines"),
                                (OrderAllocation, "allocations")):
                await session.execute(insert(model), self.rows[rows])
        return self.backlog


async def write_backlog(sessionmaker: Any) -> Backlog:
    """Confirmed orders waiting at WH-PARIS (some split with WH-LYON), pickups waiting at
    ST-PARIS-01, and orders that wait nowhere (on hold, cancelled). Orders come in threes
    with the same creation time, as a batched capture stamps them."""
    writer = Writer()
    serial = 0
    for n in range(WAREHOUSE_ORDERS):
        serial += 1
        if n % 50 == 7:  # split: one line from each warehouse
            writer.add(serial, "confirmed", [("BACKLOG-A", "WH-PARIS", 1),
                                             ("BACKLOG-B", "WH-LYON", 2)])
        elif n % 97 == 3:
            writer.add(serial, "on_hold", [("BACKLOG-A", "WH-PARIS", 1)])
        elif n % 89 == 5:
            writer.add(serial, "cancelled", [("BACKLOG-A", "WH-PARIS", 1)])
        else:
            writer.add(serial, "confirmed", [("BACKLOG-A", "WH-PARIS", 1),
                                             ("BACKLOG-B", "WH-PARIS", 1)]
                       if n % 2 else [("BACKLOG-A", "WH-PARIS", 2)])
        if n % (WAREHOUSE_ORDERS // STORE_ORDERS) == 0:
            serial += 1
            writer.add(serial, "confirmed", [("BACKLOG-A", "ST-PARIS-01", 1)],
                       pickup="ST-PARIS-01")
    backlog = await writer.write(sessionmaker)
    assert len(backlog.at("WH-PARIS")) > 32_767 // 8
    return backlog


@pytest.fixture
async def backlog(sessionmaker: Any, catalog: Any) -> Backlog:
    await catalog.add("BACKLOG-A", barcode="3760000000103", stock={"WH-PARIS": 10})
    await catalog.add("BACKLOG-B", barcode="3760000000110", stock={"WH-LYON": 10})
    return await write_backlog(sessionmaker)


Page = dict[str, Any]
Read = Callable[..., Awaitable[Page]]


# What PostgreSQL accepts in one statement; SQLite, as Debian builds it, takes far more.
MAX_VALUES = 32_767


@pytest.fixture
def read(app: Any, manager: httpx.AsyncClient) -> Read:
    """``await read(location=…, limit=…)``: a page of the queue, answered 200 by statements
    that each carry at most MAX_VALUES values, on either database."""
    largest: list[int] = []

    def count(_conn: Any, _cursor: Any, _sql: str, parameters: Any, _context: Any,
              executemany: bool) -> None:
        largest.append(max((len(p) for p in parameters), default=0) if executemany
                       else len(parameters or ()))

    async def get(**params: Any) -> Page:
        largest.clear()
        engine = app.state.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = await manager.get("/api/fulfillments", params={
                k: str(v) for k, v in params.items() if v is not None})
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (params, response.status_code, response.text[:300])
        assert max(largest) <= MAX_VALUES, (params, max(largest))
        return response.json()  # type: ignore[no-any-return]

    return get


async def walk(read: Read, limit: int, **params: Any) -> tuple[list[Page], list[str | None]]:
    """Every page of a queue, following the cursors: (items, the cursors given)."""
    items: list[Page] = []
    cursors: list[str | None] = []
    cursor = None
    while True:
        page = await read(limit=limit, cursor=cursor, **params)
        assert len(page["items"]) == limit or page["next_cursor"] is None
        items += page["items"]
        cursor = page["next_cursor"]
        cursors.append(cursor)
        if cursor is None:
            return items, cursors


def in_queue_order(items: list[Page]) -> bool:
    keys = [(dt.datetime.fromisoformat(i["created_at"]), uuid.UUID(i["id"])) for i in items]
    return all(a < b for a, b in itertools.pairwise(keys))


async def test_a_queue_with_thousands_waiting_answers_every_page_size(
    backlog: Backlog, read: Read, sessionmaker: Any
) -> None:
    from comptoir.fulfillment.models import Fulfillment

    await read(location="WH-PARIS", limit=5)
    async with sessionmaker() as session:
        made = await session.scalar(select(func.count()).select_from(Fulfillment))
    # Made for the page read (and the look-ahead that tells whether another page follows).
    assert made is not None and made <= 2 * (5 + 1), made
    for limit in range(1, MAX_PAGE + 1):
        for location in ("WH-PARIS", None):
            first = await read(location=location, limit=limit)
            second = await read(location=location, limit=limit, cursor=first["next_cursor"])
            items = first["items"] + second["items"]
            assert len(items) == 2 * limit
            assert backlog.is_oldest(items, location), (location, limit)
        store = await read(location="ST-PARIS-01", limit=limit, status="new")
        assert len(store["items"]) == min(limit, STORE_ORDERS)
        assert backlog.is_oldest(store["items"], "ST-PARIS-01")


async def test_paging_through_a_large_backlog_gives_every_waiting_order_once(
    backlog: Backlog, read: Read, manager: httpx.AsyncClient
) -> None:
    # Some work already started among the orders not yet read: the queue mixes both.
    started = (await read(location="WH-PARIS", limit=3))["items"][1]
    assert (await act(manager, started, "pick")).status_code == 200

    items, cursors = await walk(read, 37, location="WH-PARIS")
    assert sorted(i["order_number"] for i in items) == sorted(
        n for n, _ in backlog.at("WH-PARIS"))
    assert in_queue_order(items)
    assert [i["status"] for i in items].count("picking") == 1
    # Read again, now that every fulfillment exists: the same rows, order and cursors.
    again, cursors_again = await walk(read, 37, location="WH-PARIS")
    assert [i["id"] for i in again] == [i["id"] for i in items]
    assert cursors_again == cursors

    to_pick, _ = await walk(read, MAX_PAGE, location="WH-PARIS", status="new")
    assert sorted(i["order_number"] for i in to_pick) == sorted(
        n for n, _ in backlog.at("WH-PARIS") if n != started["order_number"])
    assert in_queue_order(to_pick)

    everywhere, _ = await walk(read, MAX_PAGE)
    assert sorted((i["order_number"], i["location"]) for i in everywhere) == sorted(
        backlog.waiting)
    assert in_queue_order(everywhere)
    lyon = [i for i in everywhere if i["location"] == "WH-LYON"]
    assert lyon and all([(line["sku"], line["quantity"]) for line in i["lines"]]
                        == [("BACKLOG-B", 2)] for i in lyon)


async def test_work_released_at_the_moment_a_page_ended_does_not_cut_the_walk_short(
    sessionmaker: Any, catalog: Any, read: Read, manager: httpx.AsyncClient
) -> None:
    from comptoir.fulfillment.service import _made_id

    await catalog.add("BACKLOG-A", stock={"WH-PARIS": 10})
    # Orders on hold, stamped at the same moment as the last order of the first page, whose
    # work sorts before it: released once that page is read, they land behind its cursor,
    # where the walk has already been (as they would if all work had been made at once).
    last = uuid.uuid4()
    held: list[uuid.UUID] = []
    while len(held) < 2:
        candidate = uuid.uuid4()
        if _made_id(candidate, "WH-PARIS") < _made_id(last, "WH-PARIS"):
            held.append(candidate)
    writer = Writer()
    moment = START + dt.timedelta(minutes=3)
    for serial in (1, 2):
        writer.add(serial, "confirmed", [("BACKLOG-A", "WH-PARIS", 1)],
                   created=START + dt.timedelta(seconds=serial))
    writer.add(3, "confirmed", [("BACKLOG-A", "WH-PARIS", 1)], created=moment, order_id=last)
    on_hold = [writer.add(serial, "on_hold", [("BACKLOG-A", "WH-PARIS", 1)], created=moment,
                          order_id=order_id) for serial, order_id in zip((4, 5), held, strict=True)]
    for serial in range(6, 14):
        writer.add(serial, "confirmed", [("BACKLOG-A", "WH-PARIS", 1)],
                   created=moment + dt.timedelta(seconds=serial))
    backlog = await writer.write(sessionmaker)

    first = await read(location="WH-PARIS", limit=3)
    assert first["items"][-1]["order_number"] == "CMP-2026-000003"
    for number in on_hold:
        assert (await manager.post(f"/api/orders/{number}/release")).status_code == 200
    items, cursor = first["items"], first["next_cursor"]
    while cursor is not None:
        page = await read(location="WH-PARIS", limit=3, cursor=cursor)
        items, cursor = items + page["items"], page["next_cursor"]
    numbers = [i["order_number"] for i in items]
    assert len(set(numbers)) == len(numbers)
    assert [n for n in numbers if n not in on_hold] == [n for n, _ in backlog.waiting]
