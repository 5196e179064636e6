"""Reading orders: one order with its timeline, lists with filters and cursors, who sees what."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from tests.orders.conftest import order_body, pickup


async def _capture(client: httpx.AsyncClient, *lines: Any, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/orders", json=order_body(*lines, **overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_an_order_reads_back_with_lines_allocations_totals_and_timeline(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", price=1999, stock={"WH-PARIS": 5})
    captured = await _capture(web, ("TEE", 2), external_ref="SHOP-9")
    response = await manager.get(f"/api/orders/{captured['number']}")
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    order = response.json()
    timeline = order.pop("timeline")
    assert order.pop("fraud") is None  # the channel screens no order
    assert order == captured
    assert [event["type"] for event in timeline] == ["order.captured"]
    assert timeline[0]["actor"] == "key:web"


async def test_an_unknown_order_is_not_found(manager: httpx.AsyncClient) -> None:
    response = await manager.get("/api/orders/CMP-2026-999999")
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"
    assert (await manager.get("/api/orders/CMP-2026-999999/events")).json()["code"] == (
        "order_not_found")


async def test_a_channel_sees_only_its_own_orders(
    web: httpx.AsyncClient, client_for: Any, catalog: Any
) -> None:
    b2b = await client_for(key="b2b")
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    mine = await _capture(web, ("TEE", 1))
    theirs = await _capture(b2b, ("TEE", 1))
    assert (await web.get(f"/api/orders/{mine['number']}")).status_code == 200
    response = await web.get(f"/api/orders/{theirs['number']}")
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"
    listed = (await web.get("/api/orders")).json()["items"]
    assert [o["number"] for o in listed] == [mine["number"]]
    # Asking for another channel's orders gives nothing, not theirs.
    assert (await web.get("/api/orders", params={"channel": "b2b"})).json()["items"] == []


async def test_an_associate_sees_the_orders_of_their_store(
    web: httpx.AsyncClient, associate: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5, "ST-PARIS-01": 5})
    await catalog.add("CAP", stock={"WH-PARIS": 5})
    lyon = await _capture(web, ("TEE", 1), delivery=pickup("ST-LYON-01"))
    paris = await _capture(web, ("TEE", 1), delivery=pickup("ST-PARIS-01"))
    shipped = await _capture(web, ("CAP", 1))  # from the Paris warehouse, the only one
    assert (await associate.get(f"/api/orders/{lyon['number']}")).status_code == 200
    assert (await associate.get(f"/api/orders/{paris['number']}")).status_code == 404
    assert (await associate.get(f"/api/orders/{shipped['number']}")).status_code == 404
    listed = (await associate.get("/api/orders")).json()["items"]
    assert [o["number"] for o in listed] == [lyon["number"]]


async def test_the_list_is_newest_first_and_pages_with_a_cursor(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 50})
    numbers = [(await _capture(web, ("TEE", 1)))["number"] for _ in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await manager.get("/api/orders", params=params)).json()
        seen += [o["number"] for o in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(numbers))
    assert pages == 3


async def test_orders_captured_in_the_same_instant_page_without_loss(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 50})
    created = await asyncio.gather(*(web.post("/api/orders", json=order_body(("TEE", 1)))
                                     for _ in range(12)))
    numbers = {r.json()["number"] for r in created}
    seen: list[str] = []
    cursor = None
    while True:
        page = (await manager.get("/api/orders", params={"limit": 5, **(
            {"cursor": cursor} if cursor else {})})).json()
        seen += [o["number"] for o in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == numbers


async def test_filters_by_status_channel_and_location(
    web: httpx.AsyncClient, client_for: Any, manager: httpx.AsyncClient, catalog: Any
) -> None:
    b2b = await client_for(key="b2b")
    # Shipped orders go from the warehouse (the only one with CAP), picked-up ones from the store.
    await catalog.add("TEE", stock={"ST-LYON-01": 5})
    await catalog.add("CAP", stock={"WH-PARIS": 5})
    from_paris = await _capture(web, ("CAP", 1))
    pickup_lyon = await _capture(web, ("TEE", 1), delivery=pickup("ST-LYON-01"))
    wholesale = await _capture(b2b, ("CAP", 1))
    await manager.post(f"/api/orders/{pickup_lyon['number']}/hold",
                       json={"reason": "address_check"})

    async def numbers(**params: Any) -> set[str]:
        response = await manager.get("/api/orders", params=params)
        assert response.status_code == 200, response.text
        return {o["number"] for o in response.json()["items"]}

    assert await numbers(status="on_hold") == {pickup_lyon["number"]}
    assert await numbers(status="confirmed") == {from_paris["number"], wholesale["number"]}
    assert await numbers(status="confirmed,on_hold") == {
        from_paris["number"], wholesale["number"], pickup_lyon["number"]}
    assert await numbers(channel="b2b") == {wholesale["number"]}
    assert await numbers(location="ST-LYON-01") == {pickup_lyon["number"]}
    assert await numbers(location="WH-PARIS") == {from_paris["number"], wholesale["number"]}
    assert await numbers(channel="web", location="WH-PARIS") == {from_paris["number"]}


async def test_filters_by_creation_time(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    order = await _capture(web, ("TEE", 1))
    created = dt.datetime.fromisoformat(order["created_at"])
    before = (created - dt.timedelta(minutes=1)).isoformat()
    after = (created + dt.timedelta(minutes=1)).isoformat()

    async def count(**params: str) -> int:
        response = await manager.get("/api/orders", params=params)
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    assert await count(**{"from": before}) == 1
    assert await count(**{"from": after}) == 0
    assert await count(to=after) == 1
    assert await count(to=before) == 0
    assert await count(**{"from": before, "to": after}) == 1


async def test_search_finds_orders_by_number_reference_email_or_name(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    ada = await _capture(web, ("TEE", 1), external_ref="SHOP-4242")
    grace = await _capture(web, ("TEE", 1), customer={"email": "Grace.Hopper@Navy.example",
                                                       "name": "Grace Hopper"})

    async def found(q: str) -> set[str]:
        response = await manager.get("/api/orders", params={"q": q})
        assert response.status_code == 200, response.text
        return {o["number"] for o in response.json()["items"]}

    assert await found(ada["number"]) == {ada["number"]}
    assert await found(ada["number"].lower()) == {ada["number"]}
    assert await found("SHOP-4242") == {ada["number"]}
    assert await found("ada@example.fr") == {ada["number"]}
    assert await found("grace.hopper@navy") == {grace["number"]}
    assert await found("@navy.example") == {grace["number"]}  # a whole domain
    assert await found("hopper") == {grace["number"]}
    assert await found("Byron") == {ada["number"]}
    assert await found("nobody-like-this") == set()
    assert await found("100%") == set()  # LIKE wildcards are searched for literally


async def test_search_of_several_words_finds_customers_by_the_beginning_of_their_name(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    numbers = {}
    for n, name in enumerate(["Marie Martin", "Marie Martinez", "Marie Dupont", "Éric Lefèvre",
                              "Martin Marie"]):
        order = await _capture(web, ("TEE", 1), external_ref=f"SHOP-{n}",
                               customer={"email": f"client{n}@example.fr", "name": name})
        numbers[name] = order["number"]

    async def found(q: str) -> set[str]:
        response = await manager.get("/api/orders", params={"q": q})
        assert response.status_code == 200, response.text
        return {o["number"] for o in response.json()["items"]}

    assert await found("marie mart") == {numbers["Marie Martin"], numbers["Marie Martinez"]}
    assert await found("  MARIE   Martin ") == {numbers["Marie Martin"],
                                                numbers["Marie Martinez"]}
    assert await found("Marie Martinez") == {numbers["Marie Martinez"]}
    assert await found("marie d") == {numbers["Marie Dupont"]}
    assert await found("Éric Lef") == {numbers["Éric Lefèvre"]}
    assert await found("ÉRIC LEFÈVRE") == {numbers["Éric Lefèvre"]}
    assert await found("martin marie") == {numbers["Martin Marie"]}
    assert await found("marie 100%") == set()  # LIKE wildcards are searched for literally
    # One word is looked for anywhere: a first or last name, by its beginning or not.
    assert await found("martin") == {numbers["Marie Martin"], numbers["Marie Martinez"],
                                     numbers["Martin Marie"]}
    assert await found("artin") == await found("martin")
    assert await found("lefèvre") == {numbers["Éric Lefèvre"]}
    assert await found("hop-3") == {numbers["Éric Lefèvre"]}  # a fragment of a reference


async def test_a_search_with_a_digit_finds_references_by_their_beginning_else_anywhere(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 10})
    numbers = {}
    for n, ref in enumerate(["SHOP-4242", "SHOP-14242", "mkt-124242", "4242-B"]):
        order = await _capture(web, ("TEE", 1), external_ref=ref,
                               customer={"email": f"client{n}7@example.fr", "name": "Ada Byron"})
        numbers[ref] = order["number"]

    async def found(q: str) -> set[str]:
        response = await manager.get("/api/orders", params={"q": q})
        assert response.status_code == 200, response.text
        return {o["number"] for o in response.json()["items"]}

    assert await found("shop-42") == {numbers["SHOP-4242"]}
    assert await found("SHOP-1") == {numbers["SHOP-14242"]}
    assert await found("MKT-12") == {numbers["mkt-124242"]}
    assert await found("4242") == {numbers["4242-B"]}  # a reference begins with it
    # Nothing begins with it: any reference (or number, e-mail, name) holding it.
    assert await found("242") == set(numbers.values())
    assert await found("24242") == {numbers["mkt-124242"]}
    assert await found("P-424") == {numbers["SHOP-4242"]}
    assert await found("client37") == {numbers["4242-B"]}  # an e-mail by its beginning
    serial = numbers["SHOP-4242"].rsplit("-", 1)[1]
    assert numbers["SHOP-4242"] in await found(serial)  # the end of an order number


async def test_a_name_search_pages_newest_first_with_its_filters(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 20})
    mine = []
    for n in range(7):
        order = await _capture(web, ("TEE", 1), customer={"email": f"ada{n}@example.fr",
                                                          "name": "Ada Lovelace"})
        mine.append(order["number"])
    await _capture(web, ("TEE", 1), customer={"email": "ada@other.example", "name": "Ada Byron"})
    cancelled = mine[2]
    response = await manager.post(f"/api/orders/{cancelled}/cancel", json={},
                                  headers={"If-Match": "1"})
    assert response.status_code == 200, response.text

    async def walk(**params: Any) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            page = (await manager.get("/api/orders", params={
                **params, "limit": 3, **({"cursor": cursor} if cursor else {})})).json()
            seen += [o["number"] for o in page["items"]]
            if not (cursor := page["next_cursor"]):
                return seen

    newest_first = list(reversed(mine))
    assert await walk(q="ada love") == newest_first
    assert await walk(q="ada love", status="confirmed") == [
        n for n in newest_first if n != cancelled]
    assert await walk(q="ada love", status="cancelled") == [cancelled]
    assert await walk(q="ada love", channel="amazon") == []


async def test_list_refuses_bad_parameters_with_a_code(manager: httpx.AsyncClient) -> None:
    for params, code in [({"status": "lost"}, "unknown_status"),
                         ({"cursor": "not-a-cursor"}, "invalid_cursor"),
                         ({"limit": 0}, "invalid_limit"),
                         ({"limit": 10_000}, "invalid_limit")]:
        response = await manager.get("/api/orders", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["code"] == code
    response = await manager.get("/api/orders", params={"from": "yesterday"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


async def test_reading_needs_a_caller(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/api/orders")).status_code == 401


async def test_a_held_order_says_why_in_the_list(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("CAP", stock={"WH-PARIS": 5})
    held = await _capture(web, ("CAP", 1))
    kept = await _capture(web, ("CAP", 1))
    response = await manager.post(f"/api/orders/{held['number']}/hold",
                                  json={"reason": "stock_problem"})
    assert response.status_code == 200, response.text
    rows = {o["number"]: o for o in (await manager.get("/api/orders")).json()["items"]}
    assert rows[held["number"]]["hold_reason"] == "stock_problem"
    assert rows[kept["number"]]["hold_reason"] is None
