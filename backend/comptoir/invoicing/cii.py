"""The Factur-X XML of an issued invoice or credit note: the Cross Industry Invoice (UN/CEFACT
CII D16B) of the EN 16931 profile, written with lxml from the frozen ``Statement`` alone.

Money is integer minor units to the end: amounts are written with ``divmod``, never through
a float. A credit note states positive amounts; it is one by its type code (381) and names
the invoice it corrects.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from comptoir.invoicing.snapshot import Address, StatedLine, Statement
from comptoir.invoicing.wording import (
    format_money,
    legal_information,
    locale_of,
    percent,
    terms_sentence,
    words,
)
from comptoir.money import minor_digits

__all__ = ["factur_x_xml", "format_amount"]

_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": _RSM, "ram": _RAM, "udt": _UDT, "qdt": _QDT}
# Factur-X's EN 16931 ("comfort") profile identifies itself by the norm's own URN.
_EN16931 = "urn:cen.eu:en16931:2017"
_TYPE_CODES = {"invoice": "380", "credit_note": "381"}


def _decimals(currency: str) -> int:
    return minor_digits(currency)


def format_amount(minor: int, currency: str) -> str:
    """Minor units as the XML's decimal: ``123456, "EUR"`` → ``1234.56`` (no float on the way)."""
    decimals = _decimals(currency)
    if not decimals:
        return str(minor)
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 10**decimals)
    return f"{sign}{units}.{cents:0{decimals}d}"


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
    out.note(document, legal_information(statement), "REG")
    if statement.kind == "credit_note":
        out.note(document, statement.reason, "AAI")
    terms = statement.terms
    if statement.buyer.business:
        out.note(document, terms.late_penalty_rate, "PMD")
        if terms.recovery_indemnity:
            out.note(document, words(statement)["indemnity_sentence"].format(
                amount=format_money(terms.recovery_indemnity, statement.currency,
                                    locale_of(statement))), "PMT")
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
        out.add(tax, "ram:RateApplicablePercent", percent(line.vat_rate_bp))
        summation = out.add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        out.amount(summation, "ram:LineTotalAmount", line.net)

    agreement = out.add(transaction, "ram:ApplicableHeaderTradeAgreement")
    seller = statement.seller
    party = out.add(agreement, "ram:SellerTradeParty")
    if seller.siret:
        out.add(party, "ram:GlobalID", seller.siret, schemeID="0009")  # 0009: SIRET
    out.add(party, "ram:Name", seller.legal_name)
    mentions = legal_information(statement)
    if mentions:
        out.add(party, "ram:Description", mentions)
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
        out.add(tax, "ram:RateApplicablePercent", percent(rate.vat_rate_bp))
    payment_terms = out.add(settlement, "ram:SpecifiedTradePaymentTerms")
    out.add(payment_terms, "ram:Description", terms_sentence(statement))
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
