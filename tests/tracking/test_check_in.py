""""I'm here": the customer checks in from the tracking page; the store sees it live."""

from __future__ import annotations

from typing import Any

import httpx

from tests.realtime.conftest import feed, staff_cookie  # noqa: F401  (fixtures)
from tests.tracking.conftest import get_page


async def _store_work(associate: httpx.AsyncClient, number: str) -> dict[str, Any]:
    page = (await associate.get("/api/fulfillments", params={"location": "ST-LYON-01"})).json()
    [work] = [item for item in page["items"] if item["order_number"] == number]
    return work  # type: ignore[no-any-return]


async def test_the_customer_checks_in_once_and_the_store_screen_shows_it_live(
    anon: httpx.AsyncClient, place: Any, associate: httpx.AsyncClient, feed: Any,  # noqa: F811
    pickup_code: Any,
) -> None:
    order = await place(pickup_at="ST-LYON-01")
    token = order["tracking_token"]
    arrived = f"/api/track/{token}/arrived"

    # Not ready yet: refused, with a code the page turns into the customer's words.
    early = await anon.post(arrived)
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "not_ready_for_pickup"
    assert (await anon.get(f"/api/track/{token}")).json()["can_check_in"] is False

    work = await _store_work(associate, order["number"])
    for action in ("pick", "ready-for-pickup"):
        response = await associate.post(f"/api/fulfillments/{work['id']}/{action}", json={})
        assert response.status_code == 200, response.text
    view = (await anon.get(f"/api/track/{token}")).json()
    assert (view["can_check_in"], view["arrived_at"]) == (True, None)
    page = (await get_page(anon, token, "en")).text
    assert 'id="im-here"' in page and "I&#39;m here" in page

    store = await feed("associate")
    await store.subscribe(["location:ST-LYON-01"])
    first = await anon.post(arrived, headers={"Accept-Language": "fr"})
    assert first.status_code == 200, first.text
    assert first.json()["message"] == "Le magasin est prévenu de votre arrivée."
    [event] = await store.events(1)
    assert (event["topic"], event["type"]) == ("location:ST-LYON-01",
                                               "fulfillment.customer_arrived")
    assert event["data"]["fulfillment_ids"] == [work["id"]]

    # A second tap is the same check-in: no new event, the same time.
    again = await anon.post(arrived, headers={"Accept-Language": "en"})
    assert again.status_code == 200
    assert again.json()["arrived_at"] == first.json()["arrived_at"]
    assert again.json()["message"] == "The store knows you are here."
    assert await store.quiet() == []

    shown = (await associate.get(f"/api/fulfillments/{work['id']}")).json()
    assert shown["customer_arrived_at"] is not None
    view = (await anon.get(f"/api/track/{token}", headers={"Accept-Language": "fr"})).json()
    assert (view["can_check_in"], view["arrived_at"]) == (False, shown["customer_arrived_at"])
    assert view["timeline"][-1]["label"] == "Arrivée signalée au magasin"
    page = (await get_page(anon, token, "fr")).text
    assert "Le magasin est prévenu de votre arrivée." in page

    # Collected: checking in again is refused.
    code = await pickup_code(order["number"])
    response = await associate.post(f"/api/fulfillments/{work['id']}/handover",
                                    json={"code": code})
    assert response.status_code == 200, response.text
    late = await anon.post(arrived)
    assert (late.status_code, late.json()["code"]) == (409, "not_ready_for_pickup")


async def test_checking_in_needs_a_token_that_tracks_an_order(
    anon: httpx.AsyncClient, place: Any,
) -> None:
    order = await place()  # shipped to the customer: no counter to check in at
    assert (await anon.post("/api/track/not-a-real-token-at-all/arrived")).status_code == 404
    refused = await anon.post(f"/api/track/{order['tracking_token']}/arrived")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_ready_for_pickup")
