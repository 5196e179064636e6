"""Credit notes: the only correction of an issued invoice, never more than it still holds;
issued invoices and credit notes cannot be changed or deleted."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.config.test_admin import admin_sign_in
from tests.conftest import PASSWORD, World
from tests.invoicing.conftest import ship

YEAR = dt.datetime.now(ZoneInfo("Europe/Paris")).year


@pytest.fixture
async def invoiced(web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any,
                   packed: Any, company: Any) -> dict[str, Any]:
    """An invoice of 3 TEE at 12.00 and 1 CAP at 8.00, and 4.90 of shipping."""
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    await catalog.add("CAP", price=800, stock={"WH-PARIS": 5})
    _number, work = await packed(("TEE", 3), ("CAP", 1))
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    page = (await manager.get("/api/invoices")).json()
    [item] = page["items"]
    invoice: dict[str, Any] = (await manager.get(f"/api/invoices/{item['number']}")).json()
    assert [(line.get("sku", ""), line["quantity"]) for line in invoice["statement"]["lines"]] \
        == [("TEE", 3), ("CAP", 1), ("", 1)]
    assert invoice["gross"] == 3600 + 800 + 490
    return invoice


async def _credit(manager: httpx.AsyncClient, invoice: dict[str, Any],
                  **body: Any) -> httpx.Response:
    return await manager.post(f"/api/invoices/{invoice['number']}/credit-notes",
                              json={"reason": "damaged in transit", **body})


async def test_partial_credit_notes_take_what_the_invoice_still_holds_and_never_more(
    manager: httpx.AsyncClient, invoiced: dict[str, Any], invoice_rows: Any,
) -> None:
    tee_line = invoiced["statement"]["lines"][0]
    first = await _credit(manager, invoiced, lines=[{"position": 1, "quantity": 2}])
    assert first.status_code == 201, first.text
    note = first.json()
    assert note["number"] == f"AV-{YEAR}-000001"
    assert note["invoice_number"] == invoiced["number"]
    assert note["statement"]["kind"] == "credit_note"
    assert note["statement"]["corrects"] == invoiced["number"]
    assert note["statement"]["reason"] == "damaged in transit"
    assert [(line["sku"], line["quantity"], line["gross"])
            for line in note["statement"]["lines"]] == [("TEE", 2, 2400)]

    before = await invoice_rows()
    too_many = await _credit(manager, invoiced,
                             lines=[{"order_line_id": tee_line["order_line_id"], "quantity": 2}])
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "credit_exceeds_invoice"
    assert too_many.json()["remaining"] == 1
    assert await invoice_rows() == before  # nothing issued, no number drawn

    rest = await _credit(manager, invoiced, lines=[{"position": 1, "quantity": 1}],
                         shipping=True)
    assert rest.status_code == 201, rest.text
    assert rest.json()["number"] == f"AV-{YEAR}-000002"
    assert rest.json()["gross"] == 1200 + 490
    shipping_again = await _credit(manager, invoiced, shipping=True)
    assert shipping_again.status_code == 409
    assert shipping_again.json()["code"] == "credit_exceeds_invoice"

    now = (await manager.get(f"/api/invoices/{invoiced['number']}")).json()
    assert now["status"] == "partially_credited"
    assert now["credited"] == 2400 + 1200 + 490
    assert now["credit_notes"] == [f"AV-{YEAR}-000001", f"AV-{YEAR}-000002"]
    assert now["statement"] == invoiced["statement"]  # the invoice itself never changes

    whole = await _credit(manager, invoiced, whole=True)
    assert whole.status_code == 201, whole.text
    assert [(line["sku"], line["quantity"]) for line in whole.json()["statement"]["lines"]] \
        == [("CAP", 1)]
    done = (await manager.get(f"/api/invoices/{invoiced['number']}")).json()
    assert done["status"] == "credited" and done["credited"] == invoiced["gross"]
    nothing = await _credit(manager, invoiced, whole=True)
    assert nothing.status_code == 409
    assert nothing.json()["code"] == "nothing_to_credit"


async def test_a_whole_credit_note_gives_back_the_invoice_to_the_cent(
    manager: httpx.AsyncClient, invoiced: dict[str, Any],
) -> None:
    note = await _credit(manager, invoiced, whole=True)
    assert note.status_code == 201, note.text
    stated = note.json()["statement"]
    assert (stated["net"], stated["vat"], stated["gross"]) == (
        invoiced["net"], invoiced["vat"], invoiced["gross"])
    assert stated["rates"] == invoiced["statement"]["rates"]
    timeline = (await manager.get(f"/api/orders/{invoiced['order_number']}/events")).json()
    [event] = [e for e in timeline if e["type"] == "credit_note.issued"]
    assert event["data"]["number"] == note.json()["number"]
    assert event["data"]["invoice_number"] == invoiced["number"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"lines": [{"position": 1, "quantity": 0}]}, 422, "invalid_quantity"),
    ({"lines": [{"position": 1, "quantity": -1}]}, 422, "invalid_quantity"),
    ({"lines": [{"position": 9, "quantity": 1}]}, 422, "line_not_invoiced"),
    ({"lines": [{"position": 3, "quantity": 1}]}, 422, "line_not_invoiced"),  # the shipping
    ({"lines": [{"order_line_id": "00000000-0000-0000-0000-000000000000", "quantity": 1}]},
     422, "line_not_invoiced"),
    ({"lines": [{"position": 1, "quantity": 4}]}, 409, "credit_exceeds_invoice"),
    ({"whole": True, "lines": [{"position": 1, "quantity": 1}]}, 422, "invalid_input"),
    ({}, 422, "line_required"),
    ({"reason": "   ", "whole": True}, 422, "credit_note_reason_required"),
])
async def test_bad_credit_notes_are_refused_and_change_nothing(
    manager: httpx.AsyncClient, invoiced: dict[str, Any], invoice_rows: Any,
    body: dict[str, Any], status: int, code: str,
) -> None:
    before = await invoice_rows()
    refused = await _credit(manager, invoiced, **body)
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == code
    assert await invoice_rows() == before


async def test_credit_notes_for_unknown_invoices_and_by_non_managers_are_refused(
    manager: httpx.AsyncClient, associate: httpx.AsyncClient, invoiced: dict[str, Any],
    invoice_rows: Any,
) -> None:
    before = await invoice_rows()
    missing = await manager.post(f"/api/invoices/FA-{YEAR}-999999/credit-notes",
                                 json={"reason": "x", "whole": True})
    assert missing.status_code == 404
    assert missing.json()["code"] == "invoice_not_found"
    forbidden = await associate.post(f"/api/invoices/{invoiced['number']}/credit-notes",
                                     json={"reason": "x", "whole": True})
    assert forbidden.status_code == 403
    assert await invoice_rows() == before


@pytest.mark.filterwarnings("ignore:If running sessions in production")
async def test_issued_documents_cannot_be_changed_or_deleted(
    manager: httpx.AsyncClient, admin: httpx.AsyncClient, anon: httpx.AsyncClient,
    world: World, invoiced: dict[str, Any], invoice_rows: Any,
) -> None:
    note = (await _credit(manager, invoiced, lines=[{"position": 2, "quantity": 1}])).json()
    before = await invoice_rows()
    for client in (manager, admin):
        for path in (f"/api/invoices/{invoiced['number']}",
                     f"/api/credit-notes/{note['number']}"):
            for method in ("PUT", "PATCH", "DELETE"):
                answer = await client.request(method, path, json={"gross": 0})
                assert answer.status_code == 405, (method, path, answer.text)
    assert await invoice_rows() == before
    assert (await manager.get(f"/api/invoices/{invoiced['number']}")).json()["statement"] \
        == invoiced["statement"]
    # piccolo-admin edits configuration tables only: invoices are not among them.
    signed_in = await admin_sign_in(anon, world.users["admin"], PASSWORD)
    assert signed_in.status_code == 200
    tables = (await anon.get("/admin/api/tables/")).json()
    assert "config_company" in tables
    assert not any("invoice" in name or "credit" in name for name in tables)


async def test_a_credit_note_for_an_amount_splits_it_over_the_invoices_rates_and_never_more(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any, invoice_rows: Any,
) -> None:
    from tests.invoicing.conftest import ship

    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    await catalog.add("BOOK", price=2000, stock={"WH-PARIS": 5}, tax_class="reduced")
    _number, work = await packed(("TEE", 2), ("BOOK", 1))
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    [item] = (await manager.get("/api/invoices")).json()["items"]
    invoice = (await manager.get(f"/api/invoices/{item['number']}")).json()
    rates = {rate["vat_rate_bp"]: rate["gross"] for rate in invoice["statement"]["rates"]}
    assert len(rates) == 2, rates

    gesture = await manager.post(f"/api/invoices/{invoice['number']}/credit-notes",
                                 json={"reason": "late delivery", "amount": 1001})
    assert gesture.status_code == 201, gesture.text
    note = gesture.json()
    lines = note["statement"]["lines"]
    assert note["gross"] == 1001 == sum(line["gross"] for line in lines)
    assert {line["vat_rate_bp"] for line in lines} == set(rates)
    for line in lines:  # each rate's share of the gesture, its VAT taken out of it
        assert abs(line["gross"] - 1001 * rates[line["vat_rate_bp"]] / invoice["gross"]) <= 1
        assert line["net"] + line["vat"] == line["gross"]
        assert abs(line["vat"] - line["net"] * line["vat_rate_bp"] / 10_000) <= 1
        assert line["name"] == "Geste commercial"
    assert note["net"] + note["vat"] == 1001
    # The goods lines are untouched: they can still be credited, up to what is left.
    tee = next(line for line in invoice["statement"]["lines"] if line["sku"] == "TEE")
    assert (await _credit(manager, invoice, lines=[
        {"position": tee["position"], "quantity": 2}])).status_code == 201
    before = await invoice_rows()
    left = invoice["gross"] - 1001 - 2400
    too_much = await _credit(manager, invoice, amount=left + 1)
    assert too_much.status_code == 409 and too_much.json()["code"] == "credit_exceeds_invoice"
    both = await _credit(manager, invoice, amount=5, whole=True)
    assert both.status_code == 422
    assert await invoice_rows() == before
    rest = await _credit(manager, invoice, amount=left)
    assert rest.status_code == 201, rest.text
    after = (await manager.get(f"/api/invoices/{invoice['number']}")).json()
    assert (after["status"], after["credited"]) == ("credited", invoice["gross"])
    pdf = await manager.get(f"/api/credit-notes/{note['number']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    import facturx

    _name, xml = facturx.get_xml_from_pdf(pdf.content, check_xsd=False)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
