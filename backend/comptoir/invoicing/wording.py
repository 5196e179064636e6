"""What an issued document says in words, in its language (fr or en): the labels, money,
rates, dates, the payment-terms sentence and the seller's legal mentions. The PDF and the
Factur-X XML say them alike."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from comptoir.invoicing.snapshot import Statement

# Money reads the same on the documents as on the customer's tracking page.
from comptoir.money import format_money

__all__ = ["DocumentLocale", "format_day", "format_money", "format_rate", "legal_information",
           "locale_of", "percent", "terms_sentence", "words"]

DocumentLocale = Literal["fr", "en"]

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


def percent(rate_bp: int) -> str:
    """Basis points as a percentage: 2000 → ``20``, 550 → ``5.5``, 0 → ``0``."""
    units, rest = divmod(rate_bp, 100)
    return f"{units}.{rest:02d}".rstrip("0").rstrip(".") if rest else str(units)


def locale_of(statement: Statement) -> DocumentLocale:
    return "en" if statement.language.lower().startswith("en") else "fr"


def words(statement: Statement) -> dict[str, str]:
    """The document's words in its language (French unless the statement says English)."""
    locale = locale_of(statement)
    return {key: wording[locale] for key, wording in _WORDS.items()}


def format_rate(rate_bp: int, locale: DocumentLocale) -> str:
    """``550`` → ``5,5 %`` in French, ``5.5%`` in English."""
    figure = percent(rate_bp)
    return f"{figure.replace('.', ',')}{_NBSP}%" if locale == "fr" else f"{figure}%"


def format_day(day: dt.date, locale: DocumentLocale) -> str:
    if locale == "fr":
        return f"{day:%d/%m/%Y}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def terms_sentence(statement: Statement) -> str:
    words_ = words(statement)
    if statement.kind == "credit_note":
        return words_["credit_terms"]
    if statement.terms.paid:
        return words_["paid"]
    return words_["due_sentence"].format(
        date=format_day(statement.terms.due_date, locale_of(statement)))




def legal_information(statement: Statement) -> str:
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
