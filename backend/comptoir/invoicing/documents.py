"""The documents of an issued invoice or credit note: its Factur-X XML and its PDF.

``factur_x_xml`` writes the Cross Industry Invoice (UN/CEFACT CII D16B) that Factur-X's
EN 16931 profile asks for; ``render_pdf`` renders the human-readable document from
``templates/invoicing/document.html`` with WeasyPrint (A4, PDF/A-3b) and embeds that XML
with the ``factur-x`` package. Both read the frozen ``Statement`` and nothing else.

Rendering is deterministic, so a document is rendered on every download instead of being
stored: the same ``Statement`` (and logo) gives byte-identical PDFs on every call, in every
process. What would otherwise vary is fixed from the statement:

- WeasyPrint's creation and modification dates come from ``issued_at`` (the document's
  ``dcterms`` meta), its file identifier (``/ID``) is a hash of the number and
  ``issued_at``, and it fetches nothing but ``data:`` URLs (the logo), so no file or network
  read can change the result;
- the ``factur-x`` package stamps the current time in three places (``/Info``, the XMP
  metadata, the embedded file's ``/ModDate``); its two clock functions are swapped for ones
  that return ``issued_at`` while it runs, under a lock (the swap is process-wide). Fonts come
  from the system (fontconfig: DejaVu Sans, installed by ``make test``'s prerequisites), so
  the same bytes hold for one machine set-up; another font version gives another subset.

Money is integer minor units to the end: amounts are written with ``divmod``, never through
a float. A credit note states positive amounts; it is one by its type code (381).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape
from lxml import etree

from comptoir.invoicing.snapshot import Address, StatedLine, Statement

# Money reads the same on the documents as on the customer's tracking page.
from comptoir.tracking.wording import format_money

__all__ = [
    "DocumentLocale",
    "factur_x_xml",
    "format_amount",
    "format_money",
    "format_rate",
    "render_html",
    "render_pdf",
    "words",
]

DocumentLocale = Literal["fr", "en"]

# --- the CII XML -------------------------------------------------------------------------------

_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": _RSM, "ram": _RAM, "udt": _UDT, "qdt": _QDT}
# Factur-X's EN 16931 ("comfort") profile identifies itself by the norm's own URN.
_EN16931 = "urn:cen.eu:en16931:2017"
_TYPE_CODES = {"invoice": "380", "credit_note": "381"}
# ISO 4217 currencies without minor units; the rest have two.
_NO_DECIMALS = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "XPF", "HUF"})


def _decimals(currency: str) -> int:
    return 0 if currency in _NO_DECIMALS else 2


def format_amount(minor: int, currency: str) -> str:
    """Minor units as the XML's decimal: ``123456, "EUR"`` → ``1234.56`` (no float on the way)."""
    decimals = _decimals(currency)
    if not decimals:
        return str(minor)
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 10**decimals)
    return f"{sign}{units}.{cents:0{decimals}d}"


def _percent(rate_bp: int) -> str:
    """Basis points as a percentage: 2000 → ``20``, 550 → ``5.5``, 0 → ``0``."""
    units, rest = divmod(rate_bp, 100)
    return f"{units}.{rest:02d}".rstrip("0").rstrip(".") if rest else str(units)


def _category(rate_bp: int) -> str:
    """EN 16931's VAT category: ``S`` (standard, any positive rate) or ``Z`` (zero rated)."""
    return "S" if rate_bp > 0 else "Z"


def _net_price(line: StatedLine, currency: str) -> str:
    """The line's net unit price (BT-146). The stated ``unit_price_net`` when quantity times
    it is the line's net; otherwise (prices that include VAT, rounded) the line's net divided
    by the quantity, to four decimals, so the price and the net agree as closely as CII lets
    them (the line's net is what counts)."""
    if line.quantity <= 0 or line.quantity * line.unit_price_net == line.net:
        return format_amount(line.unit_price_net, currency)
    exact = Decimal(line.net) / Decimal(line.quantity) / Decimal(10) ** _decimals(currency)
    return str(exact.quantize(Decimal("0.0001")))


def _day(day: dt.date) -> str:
    return f"{day:%Y%m%d}"


class _Writer:
    """Builds the tree in the order the schema requires (CII is a sequence everywhere)."""

    def __init__(self, currency: str) -> None:
        self.currency = currency

    @staticmethod
    def add(parent: etree._Element, tag: str, text: str | None = None,
            **attributes: str) -> etree._Element:
        prefix, _, name = tag.partition(":")
        element = etree.SubElement(parent, f"{{{_NSMAP[prefix]}}}{name}", attributes)
        if text is not None:
            element.text = text
        return element

    def amount(self, parent: etree._Element, tag: str, minor: int,
               *, with_currency: bool = False) -> None:
        attributes = {"currencyID": self.currency} if with_currency else {}
        self.add(parent, tag, format_amount(minor, self.currency), **attributes)

    def date(self, parent: etree._Element, tag: str, day: dt.date,
             *, qualified: bool = False) -> None:
        holder = self.add(parent, tag)
        self.add(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString",
                 _day(day), format="102")

    def note(self, parent: etree._Element, content: str, subject: str) -> None:
        if content:
            note = self.add(parent, "ram:IncludedNote")
            self.add(note, "ram:Content", content)
            self.add(note, "ram:SubjectCode", subject)

    def address(self, parent: etree._Element, address: Address) -> None:
        postal = self.add(parent, "ram:PostalTradeAddress")
        if address.postal_code:
            self.add(postal, "ram:PostcodeCode", address.postal_code)
        if address.line1:
            self.add(postal, "ram:LineOne", address.line1)
        if address.line2:
            self.add(postal, "ram:LineTwo", address.line2)
        if address.city:
            self.add(postal, "ram:CityName", address.city)
        self.add(postal, "ram:CountryID", address.country or "FR")


def _seller_legal_information(statement: Statement) -> str:
    """BT-33, the seller's additional legal information: ``SAS au capital de 10 000 € · RCS …``."""
    seller = statement.seller
    words_ = words(statement)
    parts = []
    if seller.legal_form and seller.share_capital:
        parts.append(words_["capital_sentence"].format(form=seller.legal_form,
                                                       capital=seller.share_capital))
    elif seller.legal_form:
        parts.append(seller.legal_form)
    if seller.rcs:
        parts.append(seller.rcs)
    return " · ".join(parts)


def factur_x_xml(statement: Statement) -> bytes:
    """The statement as a Factur-X EN 16931 CII document (UTF-8, with its XML declaration)."""
    out = _Writer(statement.currency)
    root = etree.Element(f"{{{_RSM}}}CrossIndustryInvoice", nsmap=_NSMAP)
    context = out.add(root, "rsm:ExchangedDocumentContext")
    guideline = out.add(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    out.add(guideline, "ram:ID", _EN16931)

    document = out.add(root, "rsm:ExchangedDocument")
    out.add(document, "ram:ID", statement.number)
    out.add(document, "ram:TypeCode", _TYPE_CODES[statement.kind])
    out.date(document, "ram:IssueDateTime", statement.issue_date)
    out.note(document, _seller_legal_information(statement), "REG")
    if statement.kind == "credit_note":
        out.note(document, statement.reason, "AAI")
    terms = statement.terms
    if statement.buyer.business:
        out.note(document, terms.late_penalty_rate, "PMD")
        if terms.recovery_indemnity:
            out.note(document, words(statement)["indemnity_sentence"].format(
                amount=format_money(terms.recovery_indemnity, statement.currency,
                                    _locale(statement))), "PMT")
    out.note(document, terms.early_payment_discount, "AAB")

    transaction = out.add(root, "rsm:SupplyChainTradeTransaction")
    for line in statement.lines:
        item = out.add(transaction, "ram:IncludedSupplyChainTradeLineItem")
        out.add(out.add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID",
                str(line.position))
        product = out.add(item, "ram:SpecifiedTradeProduct")
        if line.sku:
            out.add(product, "ram:SellerAssignedID", line.sku)
        out.add(product, "ram:Name", line.name)
        agreement = out.add(item, "ram:SpecifiedLineTradeAgreement")
        price = out.add(agreement, "ram:NetPriceProductTradePrice")
        out.add(price, "ram:ChargeAmount", _net_price(line, statement.currency))
        delivery = out.add(item, "ram:SpecifiedLineTradeDelivery")
        # C62: "one" (a unit), UN/ECE recommendation 20.
        out.add(delivery, "ram:BilledQuantity", str(line.quantity), unitCode="C62")
        settlement = out.add(item, "ram:SpecifiedLineTradeSettlement")
        tax = out.add(settlement, "ram:ApplicableTradeTax")
        out.add(tax, "ram:TypeCode", "VAT")
        out.add(tax, "ram:CategoryCode", _category(line.vat_rate_bp))
        out.add(tax, "ram:RateApplicablePercent", _percent(line.vat_rate_bp))
        summation = out.add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        out.amount(summation, "ram:LineTotalAmount", line.net)

    agreement = out.add(transaction, "ram:ApplicableHeaderTradeAgreement")
    seller = statement.seller
    party = out.add(agreement, "ram:SellerTradeParty")
    if seller.siret:
        out.add(party, "ram:GlobalID", seller.siret, schemeID="0009")  # 0009: SIRET
    out.add(party, "ram:Name", seller.legal_name)
    legal_information = _seller_legal_information(statement)
    if legal_information:
        out.add(party, "ram:Description", legal_information)
    if seller.siren:
        organization = out.add(party, "ram:SpecifiedLegalOrganization")
        out.add(organization, "ram:ID", seller.siren, schemeID="0002")  # 0002: SIREN
    out.address(party, seller.address)
    if seller.email:
        uri = out.add(party, "ram:URIUniversalCommunication")
        out.add(uri, "ram:URIID", seller.email, schemeID="EM")
    if seller.vat_number:
        registration = out.add(party, "ram:SpecifiedTaxRegistration")
        out.add(registration, "ram:ID", seller.vat_number, schemeID="VA")

    buyer = statement.buyer
    party = out.add(agreement, "ram:BuyerTradeParty")
    if buyer.business and buyer.siret:
        out.add(party, "ram:GlobalID", buyer.siret, schemeID="0009")
    out.add(party, "ram:Name", (buyer.business and buyer.company) or buyer.name)
    if buyer.business and buyer.siret:
        organization = out.add(party, "ram:SpecifiedLegalOrganization")
        out.add(organization, "ram:ID", buyer.siret[:9], schemeID="0002")
    if buyer.address is not None:
        out.address(party, buyer.address)
    if buyer.email:
        uri = out.add(party, "ram:URIUniversalCommunication")
        out.add(uri, "ram:URIID", buyer.email, schemeID="EM")
    if buyer.business and buyer.vat_number:
        registration = out.add(party, "ram:SpecifiedTaxRegistration")
        out.add(registration, "ram:ID", buyer.vat_number, schemeID="VA")
    if statement.order_number:
        order = out.add(agreement, "ram:BuyerOrderReferencedDocument")
        out.add(order, "ram:IssuerAssignedID", statement.order_number)

    delivery = out.add(transaction, "ram:ApplicableHeaderTradeDelivery")
    if statement.delivery_address is not None:
        ship_to = out.add(delivery, "ram:ShipToTradeParty")
        if statement.delivery_address.name:
            out.add(ship_to, "ram:Name", statement.delivery_address.name)
        out.address(ship_to, statement.delivery_address)

    settlement = out.add(transaction, "ram:ApplicableHeaderTradeSettlement")
    out.add(settlement, "ram:InvoiceCurrencyCode", statement.currency)
    for rate in statement.rates:
        tax = out.add(settlement, "ram:ApplicableTradeTax")
        out.amount(tax, "ram:CalculatedAmount", rate.vat)
        out.add(tax, "ram:TypeCode", "VAT")
        out.amount(tax, "ram:BasisAmount", rate.net)
        out.add(tax, "ram:CategoryCode", _category(rate.vat_rate_bp))
        out.add(tax, "ram:RateApplicablePercent", _percent(rate.vat_rate_bp))
    payment_terms = out.add(settlement, "ram:SpecifiedTradePaymentTerms")
    out.add(payment_terms, "ram:Description", _terms_sentence(statement))
    out.date(payment_terms, "ram:DueDateDateTime", terms.due_date)
    totals = out.add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    out.amount(totals, "ram:LineTotalAmount", sum(line.net for line in statement.lines))
    out.amount(totals, "ram:TaxBasisTotalAmount", statement.net)
    out.amount(totals, "ram:TaxTotalAmount", statement.vat, with_currency=True)
    out.amount(totals, "ram:GrandTotalAmount", statement.gross)
    prepaid = statement.gross if terms.paid else 0
    if prepaid:
        out.amount(totals, "ram:TotalPrepaidAmount", prepaid)
    out.amount(totals, "ram:DuePayableAmount", statement.gross - prepaid)
    if statement.kind == "credit_note" and statement.corrects:
        referenced = out.add(settlement, "ram:InvoiceReferencedDocument")
        out.add(referenced, "ram:IssuerAssignedID", statement.corrects)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))


# --- wording -----------------------------------------------------------------------------------

_WORDS: dict[str, dict[DocumentLocale, str]] = {
    "invoice": {"fr": "Facture", "en": "Invoice"},
    "credit_note": {"fr": "Avoir", "en": "Credit note"},
    "number": {"fr": "N°", "en": "No."},
    "colon": {"fr": "\u00a0:", "en": ":"},
    "issue_date": {"fr": "Date d'émission", "en": "Issue date"},
    "order": {"fr": "Commande", "en": "Order"},
    "order_date": {"fr": "Date de commande", "en": "Order date"},
    "seller": {"fr": "Vendeur", "en": "Seller"},
    "buyer": {"fr": "Client", "en": "Customer"},
    "delivered_to": {"fr": "Livraison", "en": "Delivered to"},
    "siren": {"fr": "SIREN", "en": "SIREN"},
    "siret": {"fr": "SIRET", "en": "SIRET"},
    "vat_number": {"fr": "N° TVA intracommunautaire", "en": "VAT number"},
    "capital_sentence": {"fr": "{form} au capital de {capital}",
                         "en": "{form} with a share capital of {capital}"},
    "corrects": {"fr": "Avoir sur la facture", "en": "Credit note for invoice"},
    "reason": {"fr": "Motif", "en": "Reason"},
    "description": {"fr": "Désignation", "en": "Description"},
    "shipping": {"fr": "Frais de port", "en": "Shipping"},
    "quantity": {"fr": "Qté", "en": "Qty"},
    "unit_price_net": {"fr": "Prix unit. HT", "en": "Unit price excl. VAT"},
    "vat_rate": {"fr": "TVA", "en": "VAT"},
    "net": {"fr": "Total HT", "en": "Net"},
    "vat": {"fr": "Montant TVA", "en": "VAT"},
    "gross": {"fr": "Total TTC", "en": "Gross"},
    "vat_breakdown": {"fr": "Récapitulatif TVA", "en": "VAT breakdown"},
    "rate": {"fr": "Taux", "en": "Rate"},
    "base": {"fr": "Base HT", "en": "Net amount"},
    "total_net": {"fr": "Total HT", "en": "Total excl. VAT"},
    "total_vat": {"fr": "Total TVA", "en": "Total VAT"},
    "total_gross": {"fr": "Total TTC", "en": "Total incl. VAT"},
    "total_credited": {"fr": "Total TTC à créditer", "en": "Total credited incl. VAT"},
    "terms": {"fr": "Conditions de paiement", "en": "Payment terms"},
    "due_date": {"fr": "Date d'échéance", "en": "Due date"},
    "paid": {"fr": "Facture acquittée\u00a0: payée à la commande.",
             "en": "Paid with the order."},
    "due_sentence": {"fr": "À payer au plus tard le {date}.",
                     "en": "Payable by {date}."},
    "late_penalty": {"fr": "Pénalités de retard", "en": "Late-payment penalties"},
    "indemnity_sentence": {
        "fr": "Indemnité forfaitaire pour frais de recouvrement en cas de retard de "
              "paiement\u00a0: {amount} (articles L441-10 et D441-5 du Code de commerce).",
        "en": "Fixed compensation for recovery costs in case of late payment: {amount} "
              "(French Commercial Code, articles L441-10 and D441-5)."},
    "credit_terms": {"fr": "Montant porté au crédit du client.",
                     "en": "Amount credited to the customer."},
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NBSP = "\u00a0"


def _locale(statement: Statement) -> DocumentLocale:
    return "en" if statement.language.lower().startswith("en") else "fr"


def words(statement: Statement) -> dict[str, str]:
    """The document's words in its language (French unless the statement says English)."""
    locale = _locale(statement)
    return {key: wording[locale] for key, wording in _WORDS.items()}


def format_rate(rate_bp: int, locale: DocumentLocale) -> str:
    """``550`` → ``5,5 %`` in French, ``5.5%`` in English."""
    percent = _percent(rate_bp)
    return f"{percent.replace('.', ',')}{_NBSP}%" if locale == "fr" else f"{percent}%"


def _format_day(day: dt.date, locale: DocumentLocale) -> str:
    if locale == "fr":
        return f"{day:%d/%m/%Y}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def _terms_sentence(statement: Statement) -> str:
    words_ = words(statement)
    if statement.kind == "credit_note":
        return words_["credit_terms"]
    if statement.terms.paid:
        return words_["paid"]
    return words_["due_sentence"].format(
        date=_format_day(statement.terms.due_date, _locale(statement)))


# --- the PDF -----------------------------------------------------------------------------------

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _logo_uri(logo: bytes) -> str:
    """The logo as a ``data:`` URL (the only kind the renderer fetches); PNG, JPEG or SVG."""
    if logo.startswith(b"\x89PNG"):
        media_type = "image/png"
    elif logo.startswith(b"\xff\xd8"):
        media_type = "image/jpeg"
    elif logo.startswith(b"GIF8"):
        media_type = "image/gif"
    else:
        media_type = "image/svg+xml"
    return f"data:{media_type};base64,{base64.b64encode(logo).decode('ascii')}"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def render_html(statement: Statement, *, logo: bytes | None = None) -> str:
    """The document as HTML, in its language (what ``render_pdf`` prints)."""
    locale = _locale(statement)
    currency = statement.currency

    def money(minor: int) -> str:
        return format_money(minor, currency, locale)

    return _environment().get_template("invoicing/document.html").render(
        statement=statement,
        locale=locale,
        w=words(statement),
        money=money,
        rate=lambda bp: format_rate(bp, locale),
        day=lambda day: _format_day(day, locale),
        legal_information=_seller_legal_information(statement),
        terms_sentence=_terms_sentence(statement),
        logo_uri=_logo_uri(logo) if logo else "",
        created=_utc(statement.issued_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


# The factur-x package reads the clock through these two module functions; swapping them is
# process-wide, so one render at a time goes through them (a few milliseconds each).
_FACTURX_CLOCK = threading.Lock()


@contextlib.contextmanager
def _facturx_clock(moment: dt.datetime) -> Iterator[None]:
    pdf_date = moment.strftime("D:%Y%m%d%H%M%S+00'00'")
    xmp_date = moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def pdf_timestamp(date: dt.datetime | None = None) -> str:
        return pdf_date

    def metadata_timestamp() -> str:
        return xmp_date

    import facturx.facturx as facturx_module

    with _FACTURX_CLOCK:
        saved = (facturx_module._get_pdf_timestamp, facturx_module._get_metadata_timestamp)
        facturx_module._get_pdf_timestamp = pdf_timestamp
        facturx_module._get_metadata_timestamp = metadata_timestamp
        try:
            yield
        finally:
            facturx_module._get_pdf_timestamp, facturx_module._get_metadata_timestamp = saved


def render_pdf(statement: Statement, *, logo: bytes | None = None) -> bytes:
    """The document as a Factur-X PDF (PDF/A-3b carrying the EN 16931 XML): A4, in the
    statement's language, the logo at the top when given. Byte-identical for the same
    statement and logo (see the module's docstring)."""
    # Imported here: WeasyPrint loads Pango and its fonts, factur-x loads pypdf (together about
    # a second and a half), which only a render needs; the app starts without them.
    import facturx
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    issued_at = _utc(statement.issued_at)
    identifier = hashlib.sha256(
        f"{statement.number}|{issued_at.isoformat()}".encode()).hexdigest()[:32]
    printed = HTML(
        string=render_html(statement, logo=logo),
        base_url="data:,",
        url_fetcher=URLFetcher(allowed_protocols={"data"}),
    ).write_pdf(pdf_variant="pdf/a-3b", pdf_identifier=identifier.encode("ascii"))
    words_ = words(statement)
    title = f"{words_[statement.kind]} {statement.number}"
    with _facturx_clock(issued_at):
        document = facturx.generate_from_binary(
            printed,
            factur_x_xml(statement),
            flavor="factur-x",
            level="en16931",
            check_xsd=False,  # the tests check it; a render need not parse the schema again
            pdf_metadata={
                "author": statement.seller.legal_name,
                "keywords": f"{words_[statement.kind]}, Factur-X",
                "title": title,
                "subject": f"{title} · {statement.seller.legal_name}",
            },
            lang=_locale(statement),
        )
    return bytes(document)
