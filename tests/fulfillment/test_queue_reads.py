"""A location's queue is read in a few statements for the whole page, however long it is."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fulfillment.conftest import act, order_body
from tests.orders.test_statement_budget import statements


async def start_work(web: httpx.AsyncClient, manager: httpx.AsyncClient, count: int) -> None:
    """``count`` more orders shipped from Paris, each picked and one parcel of it sent."""
    for _ in range(count):
        assert (await web.post("/api/orders", json=order_body(("QUEUED", 2), ("OTHER", 1)))
                ).status_code == 201
    page = (await manager.get("/api/fulfillments", params={"location": "WH-PARIS",
                                                           "status": "new"})).json()
    assert len(page["items"]) == count
    for item in page["items"]:
        assert (await act(manager, item, "pick")).status_code == 200
        assert (await act(manager, item, "pack")).status_code == 200
        shipped = await act(manager, item, "ship", {
            "carrier": "colissimo", "tracking_number": f"T-{item['order_number']}",
            "lines": [{"sku": "QUEUED", "quantity": 1}]})
        assert shipped.status_code == 200, shipped.text


async def test_a_queue_page_costs_the_same_statements_for_three_or_twelve_started_orders(
    app: Any, web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("QUEUED", barcode="3760000000011", stock={"WH-PARIS": 100})
    await catalog.add("OTHER", barcode="3760000000028", stock={"WH-PARIS": 100})
    counts = []
    for more in (3, 9):
        await start_work(web, manager, more)
        with statements(app) as seen:
            page = await manager.get("/api/fulfillments", params={"location": "WH-PARIS"})
        assert page.status_code == 200
        items = page.json()["items"]
        counts.append((len(items), len(seen)))
        for item in items:  # every row still whole: its lines, barcodes and parcel
            assert item["status"] == "partially_shipped"
            assert [(line["sku"], line["barcode"], line["shipped_quantity"])
                    for line in item["lines"]] == [("OTHER", "3760000000028", 0),
                                                   ("QUEUED", "3760000000011", 1)]
            assert [s["tracking_number"] for s in item["shipments"]] == [
                f"T-{item['order_number']}"]
    assert [n for n, _ in counts] == [3, 12]
    assert counts[0][1] == counts[1][1], counts
