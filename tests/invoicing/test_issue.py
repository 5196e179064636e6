"""Invoices issued when goods leave (each parcel, each pickup handed over, or once per
order) and on a manager's demand, with the B2B mentions for a business customer."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from tests.invoicing.conftest import act, capture, order_body, pickup, set_company, ship

PARIS = ZoneInfo("Europe/Paris")


def fa(serial: int) -> str:
    return f"FA-{dt.datetime.now(PARIS).year}-{serial:06d}"


async def _invoices_of(manager: httpx.AsyncClient, number: str) -> list[dict[str, Any]]:
    page = (await manager.get("/api/invoices", params={"order": number})).json()
    return [(await manager.get(f"/api/invoices/{item['number']}")).json()
            for item in reversed(page["items"])]


async def test_each_parcel_is_invoiced_as_it_ships_with_the_shipping_on_the_first(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, packed: Any,
    company: Any,
) -> None:
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 3))  # 36.00 € < 50 €: shipping 4.90 € charged
    paris = work["WH-PARIS"]
    first = await ship(manager, paris, "6A01", [{"sku": "TEE", "quantity": 2}])
    assert first.status_code == 200, first.text
    [invoice] = await _invoices_of(manager, number)
    assert invoice["number"] == fa(1)
    stated = invoice["statement"]
    assert [(line.get("sku", ""), line["quantity"], line["gross"]) for line in stated["lines"]] \
        == [("TEE", 2, 2400), ("", 1, 490)]
    assert stated["lines"][1]["shipping"] is True
    assert stated["seller"]["siret"] == "12345678200011"
    assert stated["seller"]["legal_form"] == "SAS"
    assert stated["buyer"]["name"] == "Ada Byron"
    assert stated["order_number"] == number
    assert "business" not in stated["buyer"]  # a consumer: no B2B mentions
    assert stated["terms"].get("recovery_indemnity", 0) == 0
    # Lines, the VAT breakdown and the totals add up to the cent; the VAT is 20 % TTC.
    assert stated["gross"] == 2890 == sum(line["gross"] for line in stated["lines"])
    assert [(r["vat_rate_bp"], r["net"] + r["vat"]) for r in stated["rates"]] == [(2000, 2890)]
    assert stated["lines"][0]["vat"] == 400  # 24.00 TTC at 20 %: 4.00 of VAT

    second = await ship(manager, paris, "6A02")
    assert second.status_code == 200, second.text
    invoices = await _invoices_of(manager, number)
    assert [i["number"] for i in invoices] == [fa(1), fa(2)]
    assert [(line["sku"], line["quantity"]) for line in invoices[1]["statement"]["lines"]] \
        == [("TEE", 1)]  # the shipping is not invoiced twice
    order = (await manager.get(f"/api/orders/{number}")).json()
    assert sum(i["gross"] for i in invoices) == order["totals"]["total"]

    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    issued = [e for e in timeline if e["type"] == "invoice.issued"]
    assert [(e["data"]["number"], e["data"]["trigger"]) for e in issued] == [
        (fa(1), "shipment"), (fa(2), "shipment")]


async def test_a_pickup_handed_over_at_the_counter_is_invoiced_in_the_same_step(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, work_for: Any, pickup_code: Any, company: Any,
) -> None:
    await catalog.add("MUG", price=900, stock={"ST-LYON-01": 4})
    number = await capture(web, ("MUG", 2), delivery=pickup("ST-LYON-01"))
    store = (await work_for(number))["ST-LYON-01"]
    assert (await act(associate, store, "pick")).status_code == 200
    assert (await act(associate, store, "ready-for-pickup")).status_code == 200
    assert await _invoices_of(manager, number) == []  # nothing has left yet
    done = await act(associate, store, "handover", {"code": await pickup_code(number)})
    assert done.status_code == 200, done.text
    [invoice] = await _invoices_of(manager, number)
    assert invoice["number"] == fa(1)
    assert invoice["gross"] == 1800 and invoice["status"] == "issued"
    assert [(line["sku"], line["quantity"]) for line in invoice["statement"]["lines"]] == [
        ("MUG", 2)]
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    types = [e["type"] for e in timeline]
    assert types.index("invoice.issued") == types.index("fulfillment.handed_over") + 1


async def test_per_order_policy_invoices_once_when_everything_has_left(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, packed: Any,
    company: Any,
) -> None:
    await set_company(invoicing_policy="per_order")
    await catalog.add("TEE", price=2000, stock={"WH-PARIS": 5})
    await catalog.add("CAP", price=1500, stock={"WH-LYON": 5})
    number, work = await packed(("TEE", 1), ("CAP", 2))
    assert (await ship(manager, work["WH-PARIS"], "P1")).status_code == 200
    assert await _invoices_of(manager, number) == []  # partially shipped: not yet
    assert (await ship(manager, work["WH-LYON"], "L1")).status_code == 200
    [invoice] = await _invoices_of(manager, number)
    assert sorted((line["sku"], line["quantity"]) for line in invoice["statement"]["lines"]) \
        == [("CAP", 2), ("TEE", 1)]
    order = (await manager.get(f"/api/orders/{number}")).json()
    assert invoice["gross"] == order["totals"]["total"]


async def test_without_the_company_s_legal_details_nothing_is_invoiced_and_goods_still_leave(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, packed: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 1))
    assert (await ship(manager, work["WH-PARIS"], "X1")).status_code == 200
    assert await _invoices_of(manager, number) == []
    refused = await manager.post(f"/api/orders/{number}/invoices", json={})
    assert refused.status_code == 409
    assert refused.json()["code"] == "invoicing_not_configured"


async def test_a_manager_invoices_a_business_customer_on_demand_with_the_b2b_mentions(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, packed: Any,
    company: Any, invoice_rows: Any,
) -> None:
    await set_company(invoicing_policy="per_order", payment_terms_days=45)
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 3))
    early = await manager.post(f"/api/orders/{number}/invoices", json={})
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "order_not_delivered"
    assert (await ship(manager, work["WH-PARIS"], "B1", [{"sku": "TEE", "quantity": 1}])
            ).status_code == 200
    before = await invoice_rows()
    assert before["invoices"] == []
    buyer = {"company": "Librairie du Parc SARL", "vat_number": "fr40303265045",
             "siret": "30326504500017",
             "billing_address": {"line1": "1 place Bellecour", "postal_code": "69002",
                                 "city": "Lyon"}}
    issued = await manager.post(f"/api/orders/{number}/invoices", json={"buyer": buyer})
    assert issued.status_code == 201, issued.text
    invoice = issued.json()
    stated = invoice["statement"]
    assert invoice["number"] == fa(1)
    assert [(line.get("sku", ""), line["quantity"]) for line in stated["lines"]] == [
        ("TEE", 1), ("", 1)]
    assert stated["buyer"]["business"] is True
    assert stated["buyer"]["company"] == "Librairie du Parc SARL"
    assert stated["buyer"]["vat_number"] == "FR40303265045"
    assert stated["buyer"]["address"]["line1"] == "1 place Bellecour"
    issue_date = dt.date.fromisoformat(stated["issue_date"])
    assert dt.date.fromisoformat(stated["terms"]["due_date"]) == issue_date + dt.timedelta(45)
    assert stated["terms"]["recovery_indemnity"] == 4000
    assert "intérêt légal" in stated["terms"]["late_penalty_rate"]
    assert stated["terms"]["early_payment_discount"]
    assert invoice["customer_name"] == "Librairie du Parc SARL"

    again = await manager.post(f"/api/orders/{number}/invoices", json={"buyer": buyer})
    assert again.status_code == 409
    assert again.json()["code"] == "already_invoiced"
    assert (await invoice_rows())["invoices"] == [fa(1)]


async def test_unknown_order_is_404_and_only_managers_issue(
    manager: httpx.AsyncClient, associate: httpx.AsyncClient, web: httpx.AsyncClient,
    company: Any, invoice_rows: Any,
) -> None:
    before = await invoice_rows()
    missing = await manager.post("/api/orders/CMP-2026-999999/invoices", json={})
    assert missing.status_code == 404
    assert missing.json()["code"] == "order_not_found"
    assert (await associate.post("/api/orders/CMP-2026-999999/invoices", json={})
            ).status_code == 403
    assert (await web.post("/api/orders/CMP-2026-999999/invoices", json={})
            ).status_code == 403
    bad = await manager.post("/api/orders/CMP-2026-999999/invoices",
                             json={"buyer": {"company": "X", "siret": "12"}})
    assert 400 <= bad.status_code < 500
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert await invoice_rows() == before


async def test_a_rolled_back_issue_gives_its_number_back(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, packed: Any,
    company: Any, sessionmaker: Any,
) -> None:
    from comptoir.fulfillment.reading import delivered_units
    from comptoir.invoicing import service
    from comptoir.invoicing.models import Invoice
    from comptoir.orders.models import Order

    await set_company(invoicing_policy="per_order")
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 2))
    await ship(manager, work["WH-PARIS"], "R1", [{"sku": "TEE", "quantity": 1}])
    async with sessionmaker() as session:
        order = await session.scalar(select(Order).where(Order.number == number)
                                     .with_for_update())
        assert order is not None
        invoice = await service.issue_invoice(
            session, order, await delivered_units(session, order.id), actor="test",
            trigger="manager")
        assert invoice is not None and invoice.number == fa(1)
        await session.rollback()  # e.g. the request failed after the number was drawn
        assert await session.scalar(select(Invoice.number)) is None
    issued = await manager.post(f"/api/orders/{number}/invoices", json={})
    assert issued.status_code == 201, issued.text
    assert issued.json()["number"] == fa(1)  # no gap


async def test_an_invoice_is_written_in_the_customers_language_given_at_capture(
    manager: httpx.AsyncClient, web: httpx.AsyncClient, catalog: Any, packed: Any,
    company: Any, stored: Any,
) -> None:
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    english, work = await packed(("TEE", 1), language="en")
    unsaid, other = await packed(("TEE", 1))
    for fulfillment in (work["WH-PARIS"], other["WH-PARIS"]):
        assert (await ship(manager, fulfillment, "6A10")).status_code == 200

    assert (await manager.get(f"/api/orders/{english}")).json()["language"] == "en"
    [in_english] = await _invoices_of(manager, english)
    [in_french] = await _invoices_of(manager, unsaid)
    assert in_english["statement"]["language"] == "en"
    assert in_english["statement"]["lines"][-1]["name"] == "Shipping"
    assert in_french["statement"]["language"] == "fr"
    assert in_french["statement"]["lines"][-1]["name"] == "Livraison"
    before = await stored()
    refused = await web.post("/api/orders", json=order_body(("TEE", 1), language="de"))
    assert refused.status_code == 400, refused.text
    assert "language" in refused.json()["detail"]
    assert await stored() == before
