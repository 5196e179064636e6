"""Invoices and credit notes on the wire: what a manager sends to issue them, what is read."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from comptoir.invoicing.snapshot import Statement

__all__ = [
    "BillingAddressIn",
    "BusinessBuyerIn",
    "CreditLineIn",
    "CreditNoteIn",
    "CreditNoteOut",
    "CreditNotePage",
    "CreditNoteSummary",
    "InvoiceIn",
    "InvoiceOut",
    "InvoicePage",
    "InvoiceSummary",
]

Short = Annotated[str, msgspec.Meta(max_length=200)]


class BillingAddressIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Short = ""
    line1: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    line2: Short = ""
    postal_code: Annotated[str, msgspec.Meta(max_length=20)]
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    country: Annotated[str, msgspec.Meta(max_length=2, pattern="^[A-Za-z]{2}$")] = "FR"


class BusinessBuyerIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A company buying for its trade: the invoice states it and the B2B mentions."""

    company: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    vat_number: Annotated[str, msgspec.Meta(max_length=40)] = ""
    siret: Annotated[str, msgspec.Meta(max_length=14, pattern="^([0-9]{14})?$")] = ""
    email: Annotated[str, msgspec.Meta(max_length=254)] = ""
    billing_address: BillingAddressIn | None = None


class InvoiceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An invoice on demand for what left and is not invoiced yet; ``buyer`` for a business."""

    buyer: BusinessBuyerIn | None = None
    language: Literal["fr", "en"] | None = None  # None: the order's, else French


class CreditLineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Units of one invoice line: by its ``position`` on the invoice or its order line."""

    position: int | None = None
    order_line_id: uuid.UUID | None = None
    quantity: int


class CreditNoteIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A credit note against an invoice: ``whole``, or some ``lines`` and/or the shipping,
    or an ``amount`` (minor units, tax included: a commercial gesture, split over the
    invoice's VAT rates)."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    whole: bool = False
    lines: Annotated[list[CreditLineIn], msgspec.Meta(max_length=1000)] = []
    shipping: bool = False
    amount: int | None = None


class InvoiceSummary(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    order_number: str
    channel: str
    customer_name: str
    customer_email: str
    issued_at: dt.datetime
    currency: str
    net: int
    vat: int
    gross: int
    credited: int
    status: str  # issued | partially_credited | credited


class InvoiceOut(InvoiceSummary, frozen=True, kw_only=True):
    statement: Statement
    credit_notes: list[str] = []  # their numbers, oldest first


class InvoicePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[InvoiceSummary]
    next_cursor: str | None


class CreditNoteSummary(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    invoice_number: str
    order_number: str
    channel: str
    customer_name: str
    customer_email: str
    issued_at: dt.datetime
    currency: str
    net: int
    vat: int
    gross: int
    status: str  # issued
    reason: str


class CreditNoteOut(CreditNoteSummary, frozen=True, kw_only=True):
    statement: Statement


class CreditNotePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[CreditNoteSummary]
    next_cursor: str | None
