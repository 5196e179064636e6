"""The PDF of an invoice or a credit note: a valid Factur-X (EN 16931) file, in the customer's
language, stating what the law asks, and the same bytes on every download."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import struct
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import facturx
import msgspec
import pytest
from lxml import etree
from pypdf import PdfReader

from comptoir.invoicing.documents import (
    factur_x_xml,
    format_amount,
    format_money,
    format_rate,
    render_pdf,
)
from comptoir.invoicing.snapshot import (
    Address,
    Buyer,
    RateTotal,
    Seller,
    StatedLine,
    Statement,
    Terms,
)

ROOT = Path(__file__).resolve().parents[2]
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS = {"ram": RAM, "rsm": RSM}

SELLER = Seller(
    legal_name="Quai Neuf",
    legal_form="SAS",
    share_capital="10 000 €",
    siren="123456789",
    siret="12345678900017",
    rcs="RCS Lyon 123 456 789",
    vat_number="FR32123456789",
    address=Address(line1="12 quai Saint-Antoine", postal_code="69002", city="Lyon"),
    email="factures@quaineuf.example",
)


def _line(position: int, name: str, quantity: int, unit_price_net: int, rate_bp: int,
          *, sku: str = "", shipping: bool = False) -> StatedLine:
    net = quantity * unit_price_net
    vat = (net * rate_bp + 5000) // 10000  # half up, as the invoicing service rounds
    return StatedLine(position=position, sku=sku, name=name, quantity=quantity,
                      unit_price_net=unit_price_net, vat_rate_bp=rate_bp, net=net, vat=vat,
                      gross=net + vat, shipping=shipping)


def _rates(lines: tuple[StatedLine, ...]) -> tuple[RateTotal, ...]:
    rates = sorted({line.vat_rate_bp for line in lines}, reverse=True)
    return tuple(
        RateTotal(vat_rate_bp=rate,
                  net=sum(line.net for line in lines if line.vat_rate_bp == rate),
                  vat=sum(line.vat for line in lines if line.vat_rate_bp == rate),
                  gross=sum(line.gross for line in lines if line.vat_rate_bp == rate))
        for rate in rates)


MIXED_LINES = (
    _line(1, "Lyon, ville des traboules (livre)", 2, 1896, 550, sku="LIV-TRAB"),
    _line(2, "Mug émaillé bleu", 1, 125000, 2000, sku="MUG-BLEU"),  # 1 250,00 € net
    _line(3, "Thé noir de Ceylan 100 g", 3, 650, 550, sku="THE-CEYL"),
    _line(4, "Colissimo", 1, 490, 2000, shipping=True),
)


def mixed_invoice(language: str = "fr") -> Statement:
    """A consumer's mixed basket: 20 % and 5.5 % lines plus shipping, paid at the order."""
    lines = MIXED_LINES
    return Statement(
        kind="invoice",
        number="FA-2026-000042",
        issued_at=dt.datetime(2026, 3, 2, 9, 15, 30, tzinfo=dt.UTC),
        issue_date=dt.date(2026, 3, 2),
        language=language,
        currency="EUR",
        seller=SELLER,
        buyer=Buyer(name="Camille Durand", email="camille@example.org",
                    address=Address(line1="4 rue Mercière", postal_code="69002",
                                    city="Lyon")),
        lines=lines,
        rates=_rates(lines),
        net=sum(line.net for line in lines),
        vat=sum(line.vat for line in lines),
        gross=sum(line.gross for line in lines),
        terms=Terms(due_date=dt.date(2026, 3, 2), paid=True),
        order_number="CMP-2026-000123",
        order_date=dt.date(2026, 2, 27),
        channel="web",
        delivery_address=Address(name="Camille Durand", line1="4 rue Mercière",
                                 postal_code="69002", city="Lyon"),
    )


def business_invoice(language: str = "fr") -> Statement:
    """A company buying for its trade: its VAT number and the B2B mentions, payable in 30 days."""
    lines = (_line(1, "Carnet A5 ligné", 40, 450, 2000, sku="CARN-A5"),
             _line(2, "Guide des bouchons lyonnais", 10, 1422, 550, sku="LIV-BOUCH"))
    return Statement(
        kind="invoice",
        number="FA-2026-000043",
        issued_at=dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC),
        issue_date=dt.date(2026, 3, 3),
        language=language,
        currency="EUR",
        seller=SELLER,
        buyer=Buyer(name="Jeanne Martin", business=True, company="Atelier Martin SARL",
                    vat_number="FR40987654321", siret="98765432100012",
                    address=Address(line1="8 place Bellecour", postal_code="69002",
                                    city="Lyon")),
        lines=lines,
        rates=_rates(lines),
        net=sum(line.net for line in lines),
        vat=sum(line.vat for line in lines),
        gross=sum(line.gross for line in lines),
        terms=Terms(due_date=dt.date(2026, 4, 2),
                    late_penalty_rate="3 fois le taux d'intérêt légal",
                    recovery_indemnity=4000,
                    early_payment_discount="Pas d'escompte pour paiement anticipé"),
        order_number="CMP-2026-000124",
    )


def credit_note(language: str = "fr") -> Statement:
    """Part of the mixed basket's invoice given back: one book and the shipping."""
    lines = (_line(1, "Lyon, ville des traboules (livre)", 1, 1896, 550, sku="LIV-TRAB"),
             _line(2, "Colissimo", 1, 490, 2000, shipping=True))
    return Statement(
        kind="credit_note",
        number="AV-2026-000001",
        issued_at=dt.datetime(2026, 3, 10, 16, 45, tzinfo=dt.UTC),
        issue_date=dt.date(2026, 3, 10),
        language=language,
        currency="EUR",
        seller=SELLER,
        buyer=mixed_invoice().buyer,
        lines=lines,
        rates=_rates(lines),
        net=sum(line.net for line in lines),
        vat=sum(line.vat for line in lines),
        gross=sum(line.gross for line in lines),
        terms=Terms(due_date=dt.date(2026, 3, 10)),
        order_number="CMP-2026-000123",
        corrects="FA-2026-000042",
        reason="Livre reçu abîmé",
    )


STATEMENTS = {
    "mixed-fr": lambda: mixed_invoice("fr"),
    "mixed-en": lambda: mixed_invoice("en"),
    "b2b-fr": lambda: business_invoice("fr"),
    "b2b-en": lambda: business_invoice("en"),
    "credit-note-fr": lambda: credit_note("fr"),
    "credit-note-en": lambda: credit_note("en"),
}


def _tiny_png() -> bytes:
    """A one-pixel red PNG, written by hand (no image library in the test)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed; `make test` installs it as root "
                    "on Debian")
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext reads it (layout kept), spaces of every kind made one."""
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    text = subprocess.run([_poppler("pdftotext"), "-layout", str(source), "-"],
                          check=True, capture_output=True).stdout.decode()
    return _spaces(text)


def _spaces(text: str) -> str:
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {name: render_pdf(build()) for name, build in STATEMENTS.items()}


# --- Factur-X -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(STATEMENTS))
def test_embedded_xml_passes_the_factur_x_en16931_schema(
        name: str, rendered: dict[str, bytes]) -> None:
    filename, xml = facturx.get_xml_from_pdf(rendered[name], check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml == factur_x_xml(STATEMENTS[name]())
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"


def test_the_pdf_is_a_pdfa3_factur_x_dated_when_issued(rendered: dict[str, bytes]) -> None:
    reader = PdfReader(io.BytesIO(rendered["b2b-fr"]))
    xmp = reader.root_object["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert b"<xmp:CreateDate>2026-03-03T14:00:00+00:00</xmp:CreateDate>" in xmp
    info = reader.metadata
    assert info is not None
    assert info["/CreationDate"] == info["/ModDate"] == "D:20260303140000+00'00'"
    assert info["/Title"] == "Facture FA-2026-000043"
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox  # A4: 210 x 297 mm in points
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_factur_x_states_the_seller_buyer_rates_and_totals() -> None:
    statement = business_invoice()
    root = etree.fromstring(factur_x_xml(statement))

    def texts(path: str) -> list[str]:
        return [element.text for element in root.xpath(path, namespaces=NS)]

    assert texts("//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    seller = "//ram:SellerTradeParty"
    assert texts(f"{seller}/ram:GlobalID[@schemeID='0009']") == ["12345678900017"]
    assert texts(f"{seller}/ram:SpecifiedTaxRegistration/ram:ID") == ["FR32123456789"]
    assert texts("//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == [
        "FR40987654321"]
    # 40 at 4,50 € and 20 %, 10 at 14,22 € at 5.5 %: one breakdown row per rate.
    assert texts("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/"
                 "ram:RateApplicablePercent") == ["20", "5.5"]
    assert texts("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/"
                 "ram:BasisAmount") == ["180.00", "142.20"]
    assert texts("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/"
                 "ram:CalculatedAmount") == ["36.00", "7.82"]
    assert texts("//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
                 "ram:GrandTotalAmount") == ["366.02"]
    assert texts("//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
                 "ram:DuePayableAmount") == ["366.02"]
    assert texts("//ram:DueDateDateTime/*") == ["20260402"]
    assert texts("//ram:InvoiceCurrencyCode") == ["EUR"]
    assert texts("//ram:IncludedSupplyChainTradeLineItem//ram:BilledQuantity") == ["40", "10"]
    assert texts("//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["4.50", "14.22"]


def test_a_zero_rated_line_is_category_z() -> None:
    lines = (_line(1, "Export", 1, 1000, 0),)
    statement = msgspec.structs.replace(mixed_invoice(), lines=lines, rates=_rates(lines),
                                net=1000, vat=0, gross=1000)
    xml = factur_x_xml(statement)
    root = etree.fromstring(xml)
    assert [e.text for e in root.xpath("//ram:CategoryCode", namespaces=NS)] == ["Z", "Z"]
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True


def test_a_credit_note_is_type_381_and_references_its_invoice() -> None:
    root = etree.fromstring(factur_x_xml(credit_note()))
    assert root.xpath("string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "381"
    assert root.xpath("string(//ram:InvoiceReferencedDocument/ram:IssuerAssignedID)",
                      namespaces=NS) == "FA-2026-000042"
    # A paid consumer invoice owes nothing more; a credit note is positive, its type says it.
    paid = etree.fromstring(factur_x_xml(mixed_invoice()))
    assert paid.xpath("string(//ram:DuePayableAmount)", namespaces=NS) == "0.00"
    assert root.xpath("string(//ram:GrandTotalAmount)", namespaces=NS) == "25.88"


# --- what the PDF says --------------------------------------------------------------------------

def test_pdf_text_shows_the_number_the_vat_breakdown_and_the_siret(
        rendered: dict[str, bytes], tmp_path: Path) -> None:
    text = pdf_text(rendered["mixed-fr"], tmp_path)
    assert "FA-2026-000042" in text
    assert "12345678900017" in text
    assert "Récapitulatif TVA" in text
    statement = mixed_invoice()
    assert len(statement.rates) == 2
    for row in statement.rates:
        cells = [format_rate(row.vat_rate_bp, "fr"), format_money(row.net, "EUR", "fr"),
                 format_money(row.vat, "EUR", "fr"), format_money(row.gross, "EUR", "fr")]
        assert " ".join(_spaces(cell) for cell in cells) in text, cells
    # 1 250,00 € of mug: thousands grouped, decimal comma, the euro sign after.
    assert _spaces("1\u202f250,00\u00a0€") in text
    assert _spaces(format_money(statement.gross, "EUR", "fr")) in text


def test_french_and_english_documents_speak_their_language(
        rendered: dict[str, bytes], tmp_path: Path) -> None:
    french = pdf_text(rendered["mixed-fr"], tmp_path)
    english = pdf_text(rendered["mixed-en"], tmp_path)
    assert "Facture N° FA-2026-000042" in french
    assert "Invoice No. FA-2026-000042" in english
    assert "Total TTC" in french and "Total TTC" not in english
    assert "VAT breakdown" in english and "Récapitulatif TVA" not in english
    assert "€1,250.00" in english and "1 250,00 €" in french
    assert "5,5 %" in french and "5.5%" in english
    assert "02/03/2026" in french and "2 Mar 2026" in english
    assert "Frais de port" in french and "Shipping" in english


def test_business_invoice_states_the_buyer_vat_number_and_b2b_mentions(
        rendered: dict[str, bytes], tmp_path: Path) -> None:
    b2b = pdf_text(rendered["b2b-fr"], tmp_path)
    assert "Atelier Martin SARL" in b2b
    assert "FR40987654321" in b2b
    assert "Date d'échéance : 02/04/2026" in b2b
    assert "3 fois le taux d'intérêt légal" in b2b
    assert "frais de recouvrement" in b2b and "40,00 €" in b2b
    # The seller's legal mentions.
    for mention in ("SAS au capital de 10 000 €", "RCS Lyon 123 456 789", "SIREN 123456789",
                    "FR32123456789", "12 quai Saint-Antoine"):
        assert mention in b2b, mention
    english = pdf_text(rendered["b2b-en"], tmp_path)
    assert "Due date: 2 Apr 2026" in english and "€40.00" in english
    # A consumer's invoice carries none of the B2B mentions.
    consumer = pdf_text(rendered["mixed-fr"], tmp_path)
    assert "recouvrement" not in consumer and "Date d'échéance" not in consumer
    assert "acquittée" in consumer


def test_credit_note_states_the_invoice_it_corrects_and_why(
        rendered: dict[str, bytes], tmp_path: Path) -> None:
    french = pdf_text(rendered["credit-note-fr"], tmp_path)
    assert "Avoir N° AV-2026-000001" in french
    assert "Avoir sur la facture FA-2026-000042" in french
    assert "Livre reçu abîmé" in french
    english = pdf_text(rendered["credit-note-en"], tmp_path)
    assert "Credit note for invoice FA-2026-000042" in english


def test_the_logo_is_printed_when_given(tmp_path: Path) -> None:
    pdfimages = _poppler("pdfimages")
    source = tmp_path / "logo.pdf"
    without = tmp_path / "plain.pdf"
    source.write_bytes(render_pdf(mixed_invoice(), logo=_tiny_png()))
    without.write_bytes(render_pdf(mixed_invoice()))

    def images(path: Path) -> int:
        listing = subprocess.run([pdfimages, "-list", str(path)], check=True,
                                 capture_output=True, text=True).stdout
        return len(listing.strip().splitlines()) - 2  # two header lines

    assert images(source) == 1
    assert images(without) == 0


# --- the same bytes on every download -----------------------------------------------------------

def test_rendering_twice_gives_the_same_bytes(rendered: dict[str, bytes]) -> None:
    for name, build in STATEMENTS.items():
        assert render_pdf(build()) == rendered[name], name
    logo = _tiny_png()
    assert render_pdf(mixed_invoice(), logo=logo) == render_pdf(mixed_invoice(), logo=logo)


def test_another_process_renders_the_same_bytes(
        rendered: dict[str, bytes], tmp_path: Path) -> None:
    out = tmp_path / "other.pdf"
    script = ("import sys; from pathlib import Path; "
              "from tests.invoicing.test_documents import credit_note; "
              "from comptoir.invoicing.documents import render_pdf; "
              "Path(sys.argv[1]).write_bytes(render_pdf(credit_note('fr')))")
    subprocess.run([sys.executable, "-c", script, str(out)], check=True, cwd=ROOT)
    assert out.read_bytes() == rendered["credit-note-fr"]


def test_renders_in_threads_at_once_give_the_same_bytes(rendered: dict[str, bytes]) -> None:
    """The server renders off its event loop, several downloads at a time: factur-x's clock is
    swapped process-wide, and a render must never stamp another's date."""
    names = list(STATEMENTS)
    with ThreadPoolExecutor(max_workers=3) as pool:
        pdfs = list(pool.map(lambda name: render_pdf(STATEMENTS[name]()), names))
    assert pdfs == [rendered[name] for name in names]


def test_documents_differ_when_what_they_state_differs(rendered: dict[str, bytes]) -> None:
    assert len(set(rendered.values())) == len(rendered)


# --- money --------------------------------------------------------------------------------------

def test_money_is_written_from_integer_minor_units() -> None:
    assert format_money(123456, "EUR", "fr") == "1\u202f234,56\u00a0€"
    assert format_money(123456, "EUR", "en") == "€1,234.56"
    assert format_amount(123456, "EUR") == "1234.56"
    assert format_amount(5, "EUR") == "0.05"
    assert format_amount(-5, "EUR") == "-0.05"
    assert format_amount(1500, "JPY") == "1500"
    assert format_rate(550, "fr") == "5,5\u00a0%"
    assert format_rate(2000, "en") == "20%"
    assert format_rate(210, "fr") == "2,1\u00a0%"

