"""The inventory API: levels, adjustments, counts, safety stock, the ledger, and refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import RowCounts


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def adjustment(sku: str = "TEE-BLK-M", location: str = "WH-PARIS", delta: int = 5,
               **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "location": location, "delta": delta, "reason": "réception", **extra}


async def level(client: httpx.AsyncClient, sku: str, location: str) -> dict[str, Any]:
    items = (await client.get("/api/inventory", params={"sku": sku, "location": location})).json()
    assert len(items["items"]) == 1, items
    return items["items"][0]  # type: ignore[no-any-return]


async def test_a_receipt_adds_stock_and_writes_a_movement(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M")
    response = await manager.post("/api/inventory/adjustments", json=adjustment(
        delta=12, kind="receipt", reference="PO-2026-0042"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["level"] == {"sku": "TEE-BLK-M", "location": "WH-PARIS", "on_hand": 12,
                             "reserved": 0, "safety_stock": 0, "available": 12}
    movement = body["movement"]
    assert movement["kind"] == "receipt"
    assert movement["quantity"] == 12
    assert movement["on_hand_after"] == 12
    assert movement["reason"] == "réception"
    assert movement["reference"] == "PO-2026-0042"
    assert movement["actor"] == "staff:manager1"
    assert movement["created_at"].endswith("Z")
    assert await level(manager, "TEE-BLK-M", "WH-PARIS") == body["level"]


async def test_removing_stock_is_an_adjustment_by_default(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 10})
    response = await manager.post("/api/inventory/adjustments",
                                  json=adjustment(delta=-3, reason="casse"))
    assert response.status_code == 201
    assert response.json()["movement"]["kind"] == "adjustment"
    assert response.json()["level"]["on_hand"] == 7


async def test_stock_changes_are_recorded_in_the_event_log(
    manager: httpx.AsyncClient, catalog: Any, sessionmaker: Any
) -> None:
    from comptoir.events.service import events_after

    await catalog.add("TEE-BLK-M")
    await manager.post("/api/inventory/adjustments", json=adjustment(delta=4))
    async with sessionmaker() as session:
        events = await events_after(session, 0, topic="inventory")
    assert [(e.type, e.subject, e.data["on_hand"]) for e in events] == [
        ("inventory.changed", "TEE-BLK-M@WH-PARIS", 4)
    ]


async def test_a_count_records_the_difference_from_the_books(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 10})
    response = await manager.post("/api/inventory/counts", json={
        "sku": "TEE-BLK-M", "location": "WH-PARIS", "on_hand": 8, "reason": "inventaire annuel"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["level"]["on_hand"] == 8
    assert body["movement"]["kind"] == "count"
    assert body["movement"]["quantity"] == -2
    assert body["movement"]["reason"] == "inventaire annuel"

    same = await manager.post("/api/inventory/counts", json={
        "sku": "TEE-BLK-M", "location": "WH-PARIS", "on_hand": 8})
    assert same.status_code == 201
    assert same.json()["movement"] is None  # the books were right: nothing to record
    movements = (await manager.get("/api/inventory/TEE-BLK-M/movements")).json()["items"]
    assert [m["quantity"] for m in movements] == [-2, 10]


async def test_a_first_count_at_a_new_location_creates_its_level(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M")
    response = await manager.post("/api/inventory/counts", json={
        "sku": "TEE-BLK-M", "location": "ST-PARIS-01", "on_hand": 3})
    assert response.json()["level"]["on_hand"] == 3
    assert response.json()["movement"]["quantity"] == 3


async def test_safety_stock_is_kept_back_from_what_is_available(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"ST-LYON-01": 5})
    response = await manager.post("/api/inventory/safety-stock", json={
        "sku": "TEE-BLK-M", "location": "ST-LYON-01", "safety_stock": 2})
    assert response.status_code == 200, response.text
    assert response.json() == {"sku": "TEE-BLK-M", "location": "ST-LYON-01", "on_hand": 5,
                               "reserved": 0, "safety_stock": 2, "available": 3}
    more = await manager.post("/api/inventory/safety-stock", json={
        "sku": "TEE-BLK-M", "location": "ST-LYON-01", "safety_stock": 9})
    assert more.json()["available"] == 0  # never negative


async def test_levels_filter_by_sku_and_location(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 5, "WH-LYON": 2})
    await catalog.add("TEE-BLK-L", stock={"WH-PARIS": 1})
    by_sku = (await manager.get("/api/inventory", params={"sku": "TEE-BLK-M"})).json()["items"]
    assert {(lv["sku"], lv["location"], lv["on_hand"]) for lv in by_sku} == {
        ("TEE-BLK-M", "WH-PARIS", 5), ("TEE-BLK-M", "WH-LYON", 2)}
    at_paris = (await manager.get("/api/inventory", params={"location": "WH-PARIS"})).json()
    assert [lv["sku"] for lv in at_paris["items"]] == ["TEE-BLK-L", "TEE-BLK-M"]


async def test_level_pagination_walks_every_level_exactly_once(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    locations = ["ST-LYON-01", "ST-PARIS-01", "WH-LYON", "WH-PARIS"]
    for sku in ("PAG-A", "PAG-B", "PAG-C"):
        await catalog.add(sku, stock=dict.fromkeys(locations, 1))
    seen: list[tuple[str, str]] = []
    params: dict[str, Any] = {"limit": 5}
    while True:
        page = (await manager.get("/api/inventory", params=params)).json()
        seen += [(lv["sku"], lv["location"]) for lv in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [(sku, loc) for sku in ("PAG-A", "PAG-B", "PAG-C") for loc in locations]


async def test_movements_are_listed_newest_first_page_by_page(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M")
    for delta in (1, 2, 3, 4, 5):
        await manager.post("/api/inventory/adjustments", json=adjustment(delta=delta))
    await manager.post("/api/inventory/adjustments", json=adjustment(location="WH-LYON", delta=9))
    quantities: list[int] = []
    params: dict[str, Any] = {"limit": 2, "location": "WH-PARIS"}
    while True:
        page = (await manager.get("/api/inventory/TEE-BLK-M/movements", params=params)).json()
        quantities += [m["quantity"] for m in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert quantities == [5, 4, 3, 2, 1]
    everywhere = (await manager.get("/api/inventory/TEE-BLK-M/movements")).json()["items"]
    assert [m["location"] for m in everywhere][:1] == ["WH-LYON"]
    assert len(everywhere) == 6


# --- refusals: a code, and nothing written ------------------------------------------------------


BAD_CHANGES = [
        ("adjustments", adjustment(sku="NOPE"), 422, "unknown_sku"),
        ("adjustments", adjustment(location="WH-NOWHERE"), 422, "unknown_location"),
        ("adjustments", adjustment(delta=-4), 409, "negative_stock"),
        ("adjustments", adjustment(delta=0), 422, "zero_delta"),
        ("adjustments", adjustment(delta=10**9), 422, "quantity_too_large"),
        ("adjustments", adjustment(kind="sale"), 422, "unknown_movement_kind"),
        ("adjustments", adjustment(kind="gift"), 422, "unknown_movement_kind"),
        ("adjustments", adjustment(reason="  "), 422, "reason_required"),
        ("adjustments", adjustment(reason="x" * 201), 422, "text_too_long"),
        ("adjustments", {"sku": "TEE-BLK-M", "location": "WH-PARIS", "delta": 1}, 400,
         "invalid_request"),
        ("adjustments", adjustment(delta="beaucoup"), 400, "invalid_request"),
        ("counts", {"sku": "NOPE", "location": "WH-PARIS", "on_hand": 1}, 422, "unknown_sku"),
        ("counts", {"sku": "TEE-BLK-M", "location": "XX", "on_hand": 1}, 422, "unknown_location"),
        ("counts", {"sku": "TEE-BLK-M", "location": "WH-PARIS", "on_hand": -1}, 422,
         "negative_count"),
        ("counts", {"sku": "TEE-BLK-M", "location": "WH-PARIS", "on_hand": 1}, 409,
         "stock_reserved"),
        ("safety-stock", {"sku": "TEE-BLK-M", "location": "WH-PARIS", "safety_stock": -1}, 422,
         "negative_safety_stock"),
        ("safety-stock", {"sku": "NOPE", "location": "WH-PARIS", "safety_stock": 1}, 422,
         "unknown_sku"),
]


async def test_bad_stock_change_is_refused_and_nothing_is_written(
    manager: httpx.AsyncClient, catalog: Any, sessionmaker: Any, row_counts: RowCounts,
    subtests: pytest.Subtests,
) -> None:
    from comptoir.inventory import service as inventory

    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 3})
    async with sessionmaker() as session, session.begin():
        assert await inventory.reserve(session, sku="TEE-BLK-M", location="WH-PARIS", quantity=2)
    before_rows, before_level = await row_counts(), await level(manager, "TEE-BLK-M", "WH-PARIS")
    for path, body, status, code in BAD_CHANGES:
        with subtests.test(path=path, code=code, body=body):
            assert_problem(await manager.post(f"/api/inventory/{path}", json=body), status, code)
            assert await row_counts() == before_rows
            assert await level(manager, "TEE-BLK-M", "WH-PARIS") == before_level


async def test_reserved_units_cannot_be_adjusted_away(
    manager: httpx.AsyncClient, catalog: Any, sessionmaker: Any
) -> None:
    from comptoir.inventory import service as inventory

    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 3})
    async with sessionmaker() as session, session.begin():
        assert await inventory.reserve(session, sku="TEE-BLK-M", location="WH-PARIS", quantity=2)
    body = assert_problem(await manager.post("/api/inventory/adjustments",
                                             json=adjustment(delta=-2)), 409, "stock_reserved")
    assert body["reserved"] == 2
    assert (await manager.post("/api/inventory/adjustments",
                               json=adjustment(delta=-1))).status_code == 201


async def test_reading_with_an_unknown_filter_says_so(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M")
    assert_problem(await manager.get("/api/inventory", params={"location": "WH-PARSI"}), 422,
                   "unknown_location")
    assert_problem(await manager.get("/api/inventory", params={"sku": "NOPE"}), 422,
                   "unknown_sku")
    assert_problem(await manager.get("/api/inventory/NOPE/movements"), 404, "unknown_sku")
    assert_problem(await manager.get("/api/inventory/TEE-BLK-M/movements",
                                     params={"location": "XX"}), 422, "unknown_location")
    assert_problem(await manager.get("/api/inventory", params={"cursor": "bm9wZQ"}), 422,
                   "invalid_cursor")
    assert_problem(await manager.get("/api/inventory/TEE-BLK-M/movements",
                                     params={"cursor": "WyJ4Il0"}), 422, "invalid_cursor")


# --- who may do what ----------------------------------------------------------------------------


async def test_an_associate_changes_stock_only_at_their_own_store(
    client_for: Any, catalog: Any, row_counts: RowCounts
) -> None:
    await catalog.add("TEE-BLK-M", stock={"ST-LYON-01": 4, "WH-PARIS": 4})
    for associate in (await client_for("associate"), await client_for(key="store-lyon-key")):
        own = await associate.post("/api/inventory/adjustments",
                                   json=adjustment(location="ST-LYON-01", delta=1))
        assert own.status_code == 201, own.text
        counted = await associate.post("/api/inventory/counts", json={
            "sku": "TEE-BLK-M", "location": "ST-LYON-01", "on_hand": 4})
        assert counted.status_code == 201
        safety = await associate.post("/api/inventory/safety-stock", json={
            "sku": "TEE-BLK-M", "location": "ST-LYON-01", "safety_stock": 1})
        assert safety.status_code == 200

        before = await row_counts()
        elsewhere = [
            await associate.post("/api/inventory/adjustments", json=adjustment(delta=1)),
            await associate.post("/api/inventory/counts", json={
                "sku": "TEE-BLK-M", "location": "WH-PARIS", "on_hand": 0}),
            await associate.post("/api/inventory/safety-stock", json={
                "sku": "TEE-BLK-M", "location": "WH-PARIS", "safety_stock": 3}),
        ]
        for response in elsewhere:
            assert_problem(response, 403, "other_location")
        assert await row_counts() == before
        # Reading stock anywhere is fine.
        assert (await level(associate, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 4


async def test_managers_change_stock_anywhere(client_for: Any, catalog: Any) -> None:
    await catalog.add("TEE-BLK-M")
    for who in (await client_for("admin"), await client_for("manager"),
                await client_for(key="manager-key")):
        for location in ("WH-LYON", "ST-PARIS-01"):
            response = await who.post("/api/inventory/adjustments",
                                      json=adjustment(location=location, delta=1))
            assert response.status_code == 201, response.text


async def test_channel_keys_and_anonymous_callers_have_no_inventory_access(
    web_channel: httpx.AsyncClient, anon: httpx.AsyncClient, catalog: Any,
    row_counts: RowCounts,
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 4})
    before = await row_counts()
    for client, status, code in ((web_channel, 403, "forbidden"),
                                 (anon, 401, "not_authenticated")):
        assert_problem(await client.get("/api/inventory"), status, code)
        assert_problem(await client.get("/api/inventory/TEE-BLK-M/movements"), status, code)
        assert_problem(await client.post("/api/inventory/adjustments", json=adjustment()),
                       status, code)
        assert_problem(await client.post("/api/inventory/counts", json={
            "sku": "TEE-BLK-M", "location": "WH-PARIS", "on_hand": 0}), status, code)
        assert_problem(await client.post("/api/inventory/safety-stock", json={
            "sku": "TEE-BLK-M", "location": "WH-PARIS", "safety_stock": 1}), status, code)
    assert await row_counts() == before


# --- concurrency --------------------------------------------------------------------------------


async def test_concurrent_receipts_to_one_level_lose_nothing(
    client_for: Any, catalog: Any, sessionmaker: Any
) -> None:
    # Runs on both databases; on PostgreSQL the requests really overlap in the server.
    from sqlalchemy import func, select

    from comptoir.inventory.models import InventoryMovement

    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 7})
    client = await client_for(key="manager-key")
    responses = await asyncio.gather(*[
        client.post("/api/inventory/adjustments", json=adjustment(delta=1, kind="receipt"))
        for _ in range(50)
    ])
    assert [r.status_code for r in responses] == [201] * 50
    assert (await level(client, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 57
    # Each answer saw a different on_hand: no two requests read the same state.
    assert sorted(r.json()["movement"]["on_hand_after"] for r in responses) == list(range(8, 58))
    async with sessionmaker() as session:
        movements = await session.scalar(
            select(func.count()).select_from(InventoryMovement)
            .where(InventoryMovement.sku == "TEE-BLK-M", InventoryMovement.quantity == 1))
    assert movements == 50


async def test_concurrent_removals_never_take_stock_below_zero(
    client_for: Any, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 10})
    client = await client_for(key="manager-key")
    responses = await asyncio.gather(*[
        client.post("/api/inventory/adjustments", json=adjustment(delta=-1, reason="casse"))
        for _ in range(25)
    ])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 10 + [409] * 15
    assert all(r.json()["code"] == "negative_stock" for r in responses if r.status_code == 409)
    assert (await level(client, "TEE-BLK-M", "WH-PARIS"))["on_hand"] == 0


@pytest.mark.postgres
async def test_concurrent_counts_and_adjustments_keep_the_ledger_exact_on_postgres(
    client_for: Any, catalog: Any, sessionmaker: Any
) -> None:
    from sqlalchemy import func, select

    from comptoir.inventory.models import InventoryMovement

    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 20})
    client = await client_for(key="manager-key")
    requests = []
    for i in range(40):
        if i % 4 == 0:
            requests.append(client.post("/api/inventory/counts", json={
                "sku": "TEE-BLK-M", "location": "WH-PARIS", "on_hand": 30}))
        else:
            requests.append(client.post("/api/inventory/adjustments",
                                        json=adjustment(delta=-1 if i % 2 else 2)))
    responses = await asyncio.gather(*requests)
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    on_hand = (await level(client, "TEE-BLK-M", "WH-PARIS"))["on_hand"]
    async with sessionmaker() as session:
        ledger = await session.scalar(select(func.sum(InventoryMovement.quantity))
                                      .where(InventoryMovement.sku == "TEE-BLK-M"))
    assert ledger == on_hand
