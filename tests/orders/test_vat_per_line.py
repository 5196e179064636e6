"""VAT per line: each SKU's tax class gives its line the delivery country's rate for that
class; shipping goes at the standard rate; the order shows its breakdown per rate."""

from __future__ import annotations

from typing import Any

import httpx

from tests.orders.conftest import ADDRESS, order_body


async def _capture(client: httpx.AsyncClient, *lines: Any, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/orders", json=order_body(*lines, **overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _adds_up(order: dict[str, Any]) -> None:
    rows, totals = order["vat_breakdown"], order["totals"]
    assert sum(row["gross"] for row in rows) == totals["total"]
    assert sum(row["vat"] for row in rows) == totals["tax"]
    assert sum(row["net"] for row in rows) == totals["subtotal"] + totals["shipping"]
    for row in rows:
        lines = [line for line in order["lines"] if line["vat_rate_bp"] == row["vat_rate_bp"]]
        shipping_vat = totals["tax"] - sum(line["tax"] for line in order["lines"])
        extra = shipping_vat if row["vat_rate_bp"] == totals["vat_rate_bp"] else 0
        assert row["vat"] == sum(line["tax"] for line in lines) + extra


async def test_a_mixed_basket_is_taxed_per_line_and_broken_down_per_rate(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", price=2500, stock={"WH-PARIS": 10})
    await catalog.add("MARINIERE", price=4900, stock={"WH-PARIS": 10})
    await catalog.add("BOOK", price=2900, stock={"WH-PARIS": 10}, tax_class="super_reduced")
    await catalog.add("JAM", price=750, stock={"WH-PARIS": 10}, tax_class="super_reduced")
    # 150.50 of goods: above the web channel's free shipping (50.00).
    order = await _capture(web, ("TEE", 2), ("MARINIERE", 1), ("BOOK", 1), ("JAM", 3))
    assert [(line["sku"], line["vat_rate_bp"]) for line in order["lines"]] == [
        ("TEE", 2000), ("MARINIERE", 2000), ("BOOK", 550), ("JAM", 550)]
    # 20 %: 99.00, VAT round(99.00 / 6) = 16.50; 5.5 %: 51.50, VAT 2.68 (shared 151 + 117).
    assert order["vat_breakdown"] == [
        {"vat_rate_bp": 2000, "net": 8250, "vat": 1650, "gross": 9900},
        {"vat_rate_bp": 550, "net": 4882, "vat": 268, "gross": 5150},
    ]
    assert [line["tax"] for line in order["lines"]] == [833, 817, 151, 117]
    assert order["totals"]["tax"] == 1918 and order["totals"]["total"] == 15050
    assert order["totals"]["vat_rate_bp"] == 2000
    _adds_up(order)
    # Read back, the order states the same.
    read = (await manager.get(f"/api/orders/{order['number']}")).json()
    assert read["vat_breakdown"] == order["vat_breakdown"]
    assert [line["vat_rate_bp"] for line in read["lines"]] == [2000, 2000, 550, 550]


async def test_shipping_goes_in_the_standard_rate_row(
    web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("BOOK", price=2900, stock={"WH-PARIS": 10}, tax_class="super_reduced")
    # 29.00 of books, below free shipping: 4.90 of shipping, at 20 %, in a row of its own.
    order = await _capture(web, ("BOOK", 1))
    assert order["vat_breakdown"] == [
        {"vat_rate_bp": 2000, "net": 408, "vat": 82, "gross": 490},
        {"vat_rate_bp": 550, "net": 2749, "vat": 151, "gross": 2900},
    ]
    assert order["totals"]["total"] == 3390
    _adds_up(order)


async def test_a_class_the_country_has_no_rate_for_is_refused_and_nothing_is_kept(
    web: httpx.AsyncClient, catalog: Any, stored: Any
) -> None:
    await catalog.add("BOOK", price=2900, stock={"WH-PARIS": 10}, tax_class="super_reduced")
    before = await stored()
    body = order_body(("BOOK", 1))
    body["delivery"]["address"]["country"] = "DE"  # Germany: no super_reduced rate here
    response = await web.post("/api/orders", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "vat_rate_missing"
    assert "BOOK" in problem["detail"] and "DE" in problem["detail"]
    assert await stored() == before


async def test_a_reduced_line_takes_the_delivery_country_s_reduced_rate(
    web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("PLANT", price=10700, stock={"WH-PARIS": 10}, tax_class="reduced")
    body = order_body(("PLANT", 1))
    body["delivery"]["address"]["country"] = "DE"
    order = (await web.post("/api/orders", json=body)).json()
    assert order["lines"][0]["vat_rate_bp"] == 700
    assert order["lines"][0]["tax"] == 700  # 107.00 * 7 / 107
    assert order["totals"]["vat_rate_bp"] == 1900


async def test_edits_keep_each_line_s_rate_and_new_lines_take_their_class_s(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", price=3000, stock={"WH-PARIS": 10})
    await catalog.add("JAM", price=750, stock={"WH-PARIS": 10}, tax_class="super_reduced")
    await catalog.add("PLANT", price=2200, stock={"WH-PARIS": 10}, tax_class="reduced")
    order = await _capture(web, ("TEE", 2), ("JAM", 1))
    response = await manager.patch(
        f"/api/orders/{order['number']}", headers={"If-Match": "1"},
        json={"lines": [{"sku": "JAM", "quantity": 4}, {"sku": "PLANT", "quantity": 1}]})
    assert response.status_code == 200, response.text
    edited = response.json()
    assert [(line["sku"], line["quantity"], line["vat_rate_bp"]) for line in edited["lines"]] == [
        ("TEE", 2, 2000), ("JAM", 4, 550), ("PLANT", 1, 1000)]
    assert {row["vat_rate_bp"] for row in edited["vat_breakdown"]} == {2000, 1000, 550}
    # 60.00 + 30.00 + 22.00 = 112.00 (free shipping); per rate: 10.00 + 1.56 + 2.00.
    assert edited["totals"]["total"] == 11200
    assert edited["totals"]["tax"] == 1000 + 156 + 200
    _adds_up(edited)

    # Shipped to Germany instead: every line takes Germany's rate for its class, and a class
    # Germany has no rate for (the jam's) refuses the change.
    address = {**ADDRESS, "country": "DE"}
    refused = await manager.patch(
        f"/api/orders/{order['number']}", headers={"If-Match": str(edited["version"])},
        json={"delivery": {"method": "ship", "address": address}})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "vat_rate_missing"
    cancelled = await manager.patch(
        f"/api/orders/{order['number']}", headers={"If-Match": str(edited["version"])},
        json={"lines": [{"sku": "JAM", "quantity": 0}],
              "delivery": {"method": "ship", "address": address}})
    assert cancelled.status_code == 200, cancelled.text
    moved = cancelled.json()
    assert [(line["sku"], line["vat_rate_bp"]) for line in moved["lines"]] == [
        ("TEE", 1900), ("PLANT", 700)]
    assert moved["totals"]["vat_rate_bp"] == 1900
    _adds_up(moved)


async def test_cancelling_units_keeps_the_breakdown_adding_up(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", price=1999, stock={"WH-PARIS": 10})
    await catalog.add("BOOK", price=1450, stock={"WH-PARIS": 10}, tax_class="super_reduced")
    order = await _capture(web, ("TEE", 1), ("BOOK", 3))
    response = await manager.post(f"/api/orders/{order['number']}/cancel", json={
        "lines": [{"sku": "BOOK", "quantity": 2}]})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert [(line["sku"], line["vat_rate_bp"]) for line in changed["lines"]] == [
        ("TEE", 2000), ("BOOK", 550)]
    _adds_up(changed)
    # Shipping stays as agreed (free: 63.49 at capture); 20 % on 19.99 = 3.33; 5.5 % on
    # the book left, 14.50 = 0.76.
    assert changed["vat_breakdown"] == [
        {"vat_rate_bp": 2000, "net": 1666, "vat": 333, "gross": 1999},
        {"vat_rate_bp": 550, "net": 1374, "vat": 76, "gross": 1450},
    ]
