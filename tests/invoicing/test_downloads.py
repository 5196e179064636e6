"""An issued invoice downloads as its PDF (Factur-X, EN 16931) at ``/api/invoices/{number}.pdf``:
the same bytes on every download, what it states readable in it, and only for who may read
the invoice."""

from __future__ import annotations

import subprocess
import tempfile
from typing import Any

import httpx
from facturx import get_xml_from_pdf, xml_check_xsd

from tests.invoicing.conftest import ship


def pdf_text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        return subprocess.run(["pdftotext", "-layout", file.name, "-"], check=True,
                              capture_output=True, text=True).stdout


async def test_an_invoice_downloads_as_the_same_factur_x_pdf_every_time(
    manager: httpx.AsyncClient, client_for: Any, catalog: Any, packed: Any, company: Any,
) -> None:
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 3))
    assert (await ship(manager, work["WH-PARIS"], "6A01")).status_code == 200
    [item] = (await manager.get("/api/invoices", params={"order": number})).json()["items"]

    first = await manager.get(f"/api/invoices/{item['number']}.pdf")
    again = await manager.get(f"/api/invoices/{item['number'].lower()}.pdf")

    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf"
    assert f'filename="{item["number"]}.pdf"' in first.headers["content-disposition"]
    assert first.content.startswith(b"%PDF-") and again.content == first.content
    _name, xml = get_xml_from_pdf(first.content, check_xsd=False)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    text = pdf_text(first.content)
    assert item["number"] in text and "12345678200011" in text  # the seller's SIRET
    assert "20" in text and "TVA" in text

    other_channel = await client_for(key="b2b")
    hidden = await other_channel.get(f"/api/invoices/{item['number']}.pdf")
    assert hidden.status_code == 404  # a channel reads only its own documents
    missing = await manager.get("/api/invoices/FA-1999-000001.pdf")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_a_credit_note_downloads_as_its_pdf_naming_its_invoice(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any,
) -> None:
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 2))
    assert (await ship(manager, work["WH-PARIS"], "6A01")).status_code == 200
    [item] = (await manager.get("/api/invoices", params={"order": number})).json()["items"]
    note = await manager.post(f"/api/invoices/{item['number']}/credit-notes",
                              json={"whole": True, "reason": "Colis perdu"})
    assert note.status_code == 201, note.text

    pdf = await manager.get(f"/api/credit-notes/{note.json()['number']}.pdf")

    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert note.json()["number"] in text and item["number"] in text and "Colis perdu" in text
