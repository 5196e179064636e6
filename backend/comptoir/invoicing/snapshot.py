"""What an issued invoice or credit note states, frozen at issue (pure types, no I/O).

An issued document is never recomputed from its order: the invoicing service builds one
``Statement`` in the issuing transaction and stores it whole (JSON); the PDF, the
Factur-X XML, the API and the accounting export all read it, and only it.

Money is integer minor units of ``Statement.currency``; rates are basis points
(2000 = 20 %); ``issued_at`` is UTC and ``issue_date`` the seller's calendar day.
A credit note states positive amounts: it is a credit note by its ``kind``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

__all__ = [
    "Address",
    "Buyer",
    "Kind",
    "RateTotal",
    "Seller",
    "StatedLine",
    "Statement",
    "Terms",
]

Kind = Literal["invoice", "credit_note"]


class Address(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    name: str = ""  # who receives mail there (a person or a company)
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FR"  # ISO 3166-1 alpha-2


class Seller(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The legal entity that issues the document, with the French legal mentions."""

    legal_name: str
    legal_form: str = ""  # "SAS", "SARL"…
    share_capital: str = ""  # as written on the document: "10 000 €"
    siren: str = ""  # 9 digits
    siret: str = ""  # 14 digits
    rcs: str = ""  # "RCS Lyon 123 456 789"
    vat_number: str = ""  # "FR12123456789"
    address: Address
    email: str = ""
    phone: str = ""
    website: str = ""


class Buyer(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Who the document is addressed to. ``business``: a company buying for its trade
    (its VAT number and the B2B mentions are then stated)."""

    name: str
    email: str = ""
    business: bool = False
    company: str = ""
    vat_number: str = ""
    siret: str = ""
    address: Address | None = None


class StatedLine(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One line: goods (``sku``) or the shipping (``sku`` empty, ``shipping`` true).

    ``unit_price_net`` is the price of one unit without VAT, in minor units (EN 16931's
    net price; for prices that include VAT it is the line's net divided by the quantity,
    rounded half up, and only informative: the line's ``net`` is what counts)."""

    position: int  # 1, 2…; the shipping line comes last
    sku: str = ""
    name: str
    quantity: int
    unit_price_net: int
    vat_rate_bp: int
    net: int
    vat: int
    gross: int
    shipping: bool = False
    order_line_id: str = ""  # the order line it comes from (empty for shipping)


class RateTotal(msgspec.Struct, frozen=True, kw_only=True):
    """The VAT breakdown's row for one rate: the sums over the lines at that rate."""

    vat_rate_bp: int
    net: int
    vat: int
    gross: int


class Terms(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """When and how the document is to be paid, and what the law makes it state."""

    due_date: dt.date
    paid: bool = False  # paid at the order (consumer sales): "acquittée"
    late_penalty_rate: str = ""  # B2B: "3 fois le taux d'intérêt légal"
    recovery_indemnity: int = 0  # B2B: 4000 (minor units: 40 €), else 0
    early_payment_discount: str = ""  # "Pas d'escompte pour paiement anticipé"


class Statement(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An invoice or a credit note as issued."""

    kind: Kind
    number: str  # "FA-2026-000001", "AV-2026-000001"
    issued_at: dt.datetime  # UTC
    issue_date: dt.date  # the seller's day
    language: str  # "fr" | "en": the document's language
    currency: str  # ISO 4217
    seller: Seller
    buyer: Buyer
    lines: tuple[StatedLine, ...]
    rates: tuple[RateTotal, ...]  # one per rate, by rate descending
    net: int
    vat: int
    gross: int
    terms: Terms
    order_number: str = ""
    order_date: dt.date | None = None
    channel: str = ""
    delivery_address: Address | None = None
    corrects: str = ""  # a credit note: the number of the invoice it corrects
    reason: str = ""  # a credit note: why
    logo_path: str = ""  # the seller's logo at issue, if configured (a file under var/)
