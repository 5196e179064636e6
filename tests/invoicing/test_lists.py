"""The lists of invoices and credit notes: filters, the search box, cursor pagination, and
bad input refused as problem+json."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests.invoicing.conftest import ship


@pytest.fixture
async def three_orders(web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any,
                       packed: Any, company: Any) -> list[str]:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 20})
    numbers = []
    for i, email in enumerate(["ada@example.fr", "ada@example.fr", "grace@example.fr"]):
        customer = {"email": email, "name": "Grace Hopper" if "grace" in email
                    else "Ada Byron"}
        number, work = await packed(("TEE", 1), customer=customer)
        assert (await ship(manager, work["WH-PARIS"], f"L{i}")).status_code == 200
        numbers.append(number)
    return numbers


async def _walk(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    found: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def test_invoices_list_newest_first_through_cursor_pages_and_filters(
    manager: httpx.AsyncClient, three_orders: list[str],
) -> None:
    everything = await _walk(manager, "/api/invoices", limit=1)
    assert len(everything) == 3 and everything == sorted(everything, reverse=True)
    assert await _walk(manager, "/api/invoices", limit=2) == everything
    by_order = (await manager.get("/api/invoices", params={"order": three_orders[2]})).json()
    assert [i["order_number"] for i in by_order["items"]] == [three_orders[2]]
    grace = (await manager.get("/api/invoices",
                               params={"customer": "GRACE@example.fr"})).json()["items"]
    assert [i["order_number"] for i in grace] == [three_orders[2]]
    assert [i["order_number"] for i in (await manager.get(
        "/api/invoices", params={"q": "hopper"})).json()["items"]] == [three_orders[2]]
    assert [i["number"] for i in (await manager.get(
        "/api/invoices", params={"q": everything[1]})).json()["items"]] == [everything[1]]
    assert len((await manager.get("/api/invoices", params={"q": three_orders[0]})
                ).json()["items"]) == 1
    assert len((await manager.get("/api/invoices", params={"channel": "web"})
                ).json()["items"]) == 3
    assert (await manager.get("/api/invoices", params={"channel": "pos"})
            ).json()["items"] == []
    assert len((await manager.get("/api/invoices", params={"status": "issued"})
                ).json()["items"]) == 3
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    assert len((await manager.get("/api/invoices", params={
        "from": yesterday, "to": tomorrow})).json()["items"]) == 3
    assert (await manager.get("/api/invoices", params={"from": tomorrow})).json()["items"] == []

    credited = await manager.post(f"/api/invoices/{everything[0]}/credit-notes",
                                  json={"reason": "goodwill", "whole": True})
    assert credited.status_code == 201, credited.text
    assert [i["number"] for i in (await manager.get(
        "/api/invoices", params={"status": "credited"})).json()["items"]] == [everything[0]]
    notes = (await manager.get("/api/credit-notes", params={"order": credited.json()[
        "order_number"]})).json()["items"]
    assert [n["number"] for n in notes] == [credited.json()["number"]]
    assert (await manager.get(f"/api/credit-notes/{notes[0]['number']}")).json()[
        "reason"] == "goodwill"
    assert await _walk(manager, "/api/credit-notes", limit=1, q="goodwill") == [
        credited.json()["number"]]


@pytest.mark.parametrize(("path", "params", "code"), [
    ("/api/invoices", {"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
     "invalid_date_range"),
    ("/api/credit-notes", {"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
     "invalid_date_range"),
    ("/api/invoices", {"cursor": "not-a-cursor"}, "invalid_cursor"),
    ("/api/credit-notes", {"cursor": "eyJ4IjoxfQ"}, "invalid_cursor"),
    ("/api/invoices", {"status": "paid"}, "unknown_status"),
    ("/api/credit-notes", {"status": "credited"}, "unknown_status"),
    ("/api/invoices", {"customer": "nobody"}, "invalid_customer"),
    ("/api/invoices", {"limit": "0"}, "invalid_limit"),
    ("/api/invoices", {"from": "yesterday"}, None),
])
async def test_bad_list_input_is_a_4xx_problem(
    manager: httpx.AsyncClient, path: str, params: dict[str, str], code: str | None,
) -> None:
    answer = await manager.get(path, params=params)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert answer.json()["code"] == code


async def test_unknown_numbers_are_404_and_associates_do_not_read_invoices(
    manager: httpx.AsyncClient, associate: httpx.AsyncClient,
) -> None:
    assert (await manager.get("/api/invoices/FA-2026-424242")).json()["code"] \
        == "invoice_not_found"
    assert (await manager.get("/api/credit-notes/AV-2026-424242")).json()["code"] \
        == "credit_note_not_found"
    assert (await associate.get("/api/invoices")).status_code == 403
