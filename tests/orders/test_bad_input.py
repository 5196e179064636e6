"""Every bad capture is a 4xx problem with a code, and leaves the database as it was."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.orders.conftest import order_body, pickup


def _without(key: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body.pop(key)
    return change


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return change


CASES: list[tuple[str, Callable[[dict[str, Any]], None], int, str]] = [
    ("unknown SKU", _set("lines.0.sku", "NO-SUCH-SKU"), 422, "unknown_sku"),
    ("quantity 0", _set("lines.0.quantity", 0), 422, "invalid_quantity"),
    ("negative quantity", _set("lines.0.quantity", -2), 422, "invalid_quantity"),
    ("huge quantity", _set("lines.0.quantity", 10**9), 422, "quantity_too_large"),
    ("negative price", _set("lines.0.unit_price", -1), 422, "invalid_price"),
    ("absurd price", _set("lines.0.unit_price", 10**15), 422, "price_too_large"),
    ("no lines", _set("lines", []), 422, "no_lines"),
    ("too many lines", _set("lines", [{"sku": f"S{i}", "quantity": 1} for i in range(101)]),
     422, "too_many_lines"),
    ("the same SKU twice", _set("lines", [{"sku": "TEE", "quantity": 1}] * 2), 422,
     "duplicate_sku"),
    ("another channel's currency", _set("currency", "USD"), 422, "currency_mismatch"),
    ("another channel", _set("channel", "b2b"), 403, "channel_mismatch"),
    ("shipping without an address", _set("delivery", {"method": "ship"}), 422,
     "address_required"),
    ("address without a city", _set("delivery.address.city", " "), 422, "incomplete_address"),
    ("a country that is not one", _set("delivery.address.country", "F1"), 422,
     "invalid_country"),
    ("pickup at an unknown location", _set("delivery", pickup("ST-NOWHERE")), 422,
     "unknown_location"),
    ("pickup at a warehouse", _set("delivery", pickup("WH-PARIS")), 422,
     "pickup_not_available"),
    ("pickup without a store", _set("delivery", {"method": "pickup"}), 422,
     "location_required"),
    ("teleportation", _set("delivery.method", "teleport"), 422, "unknown_delivery_method"),
    ("a bad e-mail", _set("customer.email", "ada.example.fr"), 422, "invalid_email"),
    ("a blank external reference", _set("external_ref", "  "), 422, "invalid_external_ref"),
    ("a quantity in words", _set("lines.0.quantity", "two"), 400, "invalid_request"),
    # Wrong JSON types are refused even when they read like the right value.
    ("a quantity as a string", _set("lines.0.quantity", "2"), 400, "invalid_request"),
    ("a quantity as a boolean", _set("lines.0.quantity", True), 400, "invalid_request"),
    ("a quantity with a fraction", _set("lines.0.quantity", 1.0), 400, "invalid_request"),
    ("a price as a string", _set("lines.0.unit_price", "1999"), 400, "invalid_request"),
    ("a SKU as a number", _set("lines.0.sku", 1234), 400, "invalid_request"),
    ("a price with decimals", _set("lines.0.unit_price", 19.99), 400, "invalid_request"),
    ("lines that are not a list", _set("lines", {"sku": "TEE"}), 400, "invalid_request"),
    ("no lines at all", _without("lines"), 400, "invalid_request"),
    ("no delivery", _without("delivery"), 400, "invalid_request"),
    ("an external reference too long", _set("external_ref", "X" * 81), 400,
     "invalid_request"),
    ("a note too long", _set("note", "X" * 2001), 400, "invalid_request"),
]


@pytest.fixture
async def tee(catalog: Any) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 10, "ST-LYON-01": 10})


@pytest.mark.parametrize(("case", "change", "status", "code"), CASES,
                         ids=[case[0] for case in CASES])
async def test_bad_capture_is_refused_and_changes_nothing(
    tee: None, web: httpx.AsyncClient, stored: Any,
    case: str, change: Callable[[dict[str, Any]], None], status: int, code: str,
) -> None:
    body = order_body(("TEE", 1, 1000), external_ref="BAD-1")
    change(body)
    before = await stored()
    response = await web.post("/api/orders", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert await stored() == before
    # The same reference captures fine once the body is right.
    assert (await web.post("/api/orders", json=order_body(("TEE", 1), external_ref="BAD-1"))
            ).status_code == 201


async def test_malformed_json_is_refused(tee: None, web: httpx.AsyncClient, stored: Any) -> None:
    before = await stored()
    response = await web.post("/api/orders", content=b'{"lines": [', headers={
        "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert await stored() == before


async def test_staff_naming_an_unknown_channel_is_refused(
    tee: None, manager: httpx.AsyncClient, stored: Any
) -> None:
    before = await stored()
    response = await manager.post("/api/orders", json=order_body(("TEE", 1), channel="nope"))
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_channel"
    assert await stored() == before


async def test_a_sku_no_longer_sold_is_refused(
    tee: None, web: httpx.AsyncClient, stored: Any, sessionmaker: Any
) -> None:
    from sqlalchemy import update

    from comptoir.catalog.models import Variant

    async with sessionmaker() as session, session.begin():
        await session.execute(update(Variant).where(Variant.sku == "TEE").values(active=False))
    before = await stored()
    response = await web.post("/api/orders", json=order_body(("TEE", 1)))
    assert response.status_code == 422
    assert response.json()["code"] == "sku_inactive"
    assert await stored() == before


async def test_an_idempotency_key_too_long_is_refused(
    tee: None, web: httpx.AsyncClient, stored: Any
) -> None:
    before = await stored()
    response = await web.post("/api/orders", json=order_body(("TEE", 1)),
                              headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert await stored() == before


async def test_bad_input_with_an_idempotency_key_changes_nothing_either(
    tee: None, web: httpx.AsyncClient, stored: Any
) -> None:
    before = await stored()
    body = copy.deepcopy(order_body(("NOPE", 1)))
    response = await web.post("/api/orders", json=body, headers={"Idempotency-Key": "bad-1"})
    assert response.json()["code"] == "unknown_sku"
    assert await stored() == before
