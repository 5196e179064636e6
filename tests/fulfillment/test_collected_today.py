"""A store's "collected today": handed-over pickups since a moment, the latest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import update

from tests.fulfillment.conftest import act, order_body, pickup


async def _handed_over(web: httpx.AsyncClient, manager: httpx.AsyncClient, work_for: Any,
                       store: str) -> dict[str, Any]:
    response = await web.post("/api/orders", json=order_body(("TEE", 1),
                                                             delivery=pickup(store)))
    assert response.status_code == 201, response.text
    work = (await work_for(response.json()["number"]))[store]
    assert (await act(manager, work, "pick")).status_code == 200
    assert (await act(manager, work, "ready-for-pickup")).status_code == 200
    done = await act(manager, work, "handover", {"override_reason": "ID card checked"})
    assert done.status_code == 200, done.text
    return done.json()  # type: ignore[no-any-return]


async def test_collected_today_lists_todays_handovers_latest_first_page_by_page(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, work_for: Any, sessionmaker: Any,
) -> None:
    from comptoir.fulfillment.models import Fulfillment

    await catalog.add("TEE", stock={"ST-LYON-01": 10, "ST-PARIS-01": 10})
    lyon = [await _handed_over(web, manager, work_for, "ST-LYON-01") for _ in range(4)]
    paris = await _handed_over(web, manager, work_for, "ST-PARIS-01")
    waiting = await web.post("/api/orders", json=order_body(
        ("TEE", 1), delivery=pickup("ST-LYON-01")))
    assert waiting.status_code == 201

    midnight = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    # Handed over yesterday evening, then this morning at 9, 11 and 10 (not in capture order).
    moments = [midnight - dt.timedelta(hours=2), midnight + dt.timedelta(hours=9),
               midnight + dt.timedelta(hours=11), midnight + dt.timedelta(hours=10)]
    async with sessionmaker() as session, session.begin():
        for work, at in zip([*lyon, paris], [*moments, midnight + dt.timedelta(hours=12)],
                            strict=True):
            await session.execute(update(Fulfillment).where(
                Fulfillment.id == work["id"]).values(handed_over_at=at))

    since = {"handed_over_since": midnight.isoformat(), "location": "ST-LYON-01"}
    seen: list[str] = []
    cursor = None
    while True:
        page = await associate.get("/api/fulfillments", params={
            **since, "limit": "2", **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        assert all(item["status"] == "handed_over" for item in page.json()["items"])
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [lyon[2]["id"], lyon[3]["id"], lyon[1]["id"]]

    # A manager across stores; the associate of Lyon is kept to Lyon.
    everywhere = (await manager.get("/api/fulfillments", params={
        "handed_over_since": midnight.isoformat()})).json()["items"]
    assert [item["id"] for item in everywhere] == [
        paris["id"], lyon[2]["id"], lyon[3]["id"], lyon[1]["id"]]
    other = await associate.get("/api/fulfillments", params={
        "handed_over_since": midnight.isoformat(), "location": "ST-PARIS-01"})
    assert other.status_code == 403

    # Without it, the queue is as before: oldest first, every status.
    queue = (await associate.get("/api/fulfillments", params={"location": "ST-LYON-01"})).json()
    assert [item["id"] for item in queue["items"]][:4] == [work["id"] for work in lyon]
    assert queue["items"][-1]["status"] == "new"


async def test_collected_today_refuses_a_time_without_zone_or_another_status(
    associate: httpx.AsyncClient,
) -> None:
    naive = await associate.get("/api/fulfillments",
                                params={"handed_over_since": "2026-11-26T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["code"] == "invalid_since"
    mixed = await associate.get("/api/fulfillments", params={
        "handed_over_since": "2026-11-26T00:00:00Z", "status": "new"})
    assert mixed.status_code == 422
    assert mixed.json()["code"] == "conflicting_filters"
    garbage = await associate.get("/api/fulfillments", params={"handed_over_since": "today"})
    assert garbage.status_code == 400, garbage.text
    assert garbage.json()["code"]
