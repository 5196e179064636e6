"""Orders on the wire: what channels send to capture and edit, and what Comptoir answers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

from comptoir.events.actors import ActorOut

__all__ = [
    "AddressIn",
    "AddressOut",
    "AllocationOut",
    "BillingIn",
    "CancelIn",
    "CancelLineIn",
    "CustomerHistoryOut",
    "CustomerIn",
    "CustomerOut",
    "DeliveryIn",
    "DeliveryOut",
    "EditIn",
    "EditLineIn",
    "EventOut",
    "FraudOut",
    "FraudReasonOut",
    "FraudReviewItem",
    "FraudReviewPage",
    "HoldIn",
    "HoldOut",
    "LineIn",
    "LineOut",
    "NoteIn",
    "OrderDetailOut",
    "OrderIn",
    "OrderOut",
    "OrderPage",
    "OrderSummary",
    "PaymentIn",
    "RejectIn",
    "TotalsOut",
    "VatRateOut",
]

Short = Annotated[str, msgspec.Meta(max_length=200)]
Code = Annotated[str, msgspec.Meta(max_length=64)]


class AddressIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Short
    line1: Short
    line2: Short = ""
    postal_code: Annotated[str, msgspec.Meta(max_length=20)]
    city: Short
    country: Annotated[str, msgspec.Meta(max_length=2)]
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    # Where the parcel goes, when the channel knows it (routing measures distances from
    # here; without it, from the postal code's area).
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None


class DeliveryIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``{"method": "ship", "address": {...}}`` or ``{"method": "pickup", "location": "ST-1"}``."""

    method: Code
    address: AddressIn | None = None
    location: Code | None = None


class CustomerIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    name: Short | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class LineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Code
    quantity: int
    unit_price: int | None = None  # minor units; the catalog price when absent


class PaymentIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the order is paid, as the shop sends it with the order.

    ``sandbox`` or ``stripe``: a card ``token`` (a Stripe PaymentMethod) that Comptoir
    authorizes once the order stands, or the ``reference`` of an authorization the shop made
    itself (a Stripe PaymentIntent with manual capture). ``external``: the channel took the
    money (a marketplace, a till); ``reference`` is its payment's. ``amount``: what the shop
    authorized or took, in minor units of ``currency`` (the channel's when absent)."""

    provider: Code
    token: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    reference: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    amount: int
    currency: Annotated[str, msgspec.Meta(max_length=3)] | None = None


class BillingIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the card or account paying the order is registered, as the shop knows it:
    fraud rules compare it with the delivery (``countries_differ``, ``watched_postcode``)."""

    country: Annotated[str, msgspec.Meta(max_length=2)]
    postal_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class OrderIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The capture contract integrations rely on: keep these names."""

    lines: list[LineIn]
    delivery: DeliveryIn
    channel: Code | None = None  # implied by a channel's API key
    external_ref: Annotated[str, msgspec.Meta(max_length=80)] | None = None
    currency: Annotated[str, msgspec.Meta(max_length=3)] | None = None
    customer: CustomerIn | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    # The customer's language for what Comptoir writes to them (their invoices); French
    # when not said.
    language: Literal["fr", "en"] | None = None
    payment: PaymentIn | None = None
    billing: BillingIn | None = None


class CancelLineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A line by its id or its SKU, and how many of its units to cancel (all when absent)."""

    line_id: uuid.UUID | None = None
    sku: Code | None = None
    quantity: int | None = None


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """No lines: the whole order."""

    lines: list[CancelLineIn] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class RejectIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why a manager rejects an order held for suspected fraud (kept on its timeline)."""

    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class HoldIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Code  # address_check | suspected_fraud | customer_request | stock_problem
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class NoteIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=2000)]


class EditLineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An existing line (by id or SKU) gets a new quantity (0 removes it); a new SKU is added."""

    line_id: uuid.UUID | None = None
    sku: Code | None = None
    quantity: int
    unit_price: int | None = None  # for an added line only


class EditIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    lines: list[EditLineIn] | None = None
    delivery: DeliveryIn | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


# --- answers ------------------------------------------------------------------------------


class AllocationOut(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    quantity: int


class LineOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    sku: str
    name: str
    quantity: int
    cancelled_quantity: int
    unit_price: int
    vat_rate_bp: int  # the line's own VAT rate (its SKU's tax class in the delivery country)
    net: int
    tax: int
    total: int
    allocations: list[AllocationOut]


class TotalsOut(msgspec.Struct, frozen=True, kw_only=True):
    """``subtotal + shipping + tax == total``; subtotal and shipping are net of VAT."""

    subtotal: int
    shipping: int
    tax: int
    total: int
    currency: str
    prices_include_tax: bool
    vat_rate_bp: int  # the delivery country's standard rate: shipping's


class VatRateOut(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the order's VAT breakdown: its lines (and shipping, at the standard rate)
    at one rate. The rows add up to the order's totals to the cent (orders/tax.py)."""

    vat_rate_bp: int
    net: int
    vat: int
    gross: int


class AddressOut(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    line1: str
    line2: str
    postal_code: str
    city: str
    country: str
    phone: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class DeliveryOut(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    address: AddressOut | None = None
    location: str | None = None


class CustomerOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID | None
    email: str | None
    name: str | None
    phone: str | None


class HoldOut(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    note: str | None


class OrderOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    number: str
    status: str
    version: int
    channel: str
    external_ref: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    customer: CustomerOut
    delivery: DeliveryOut
    lines: list[LineOut]
    totals: TotalsOut
    vat_breakdown: list[VatRateOut]  # highest rate first
    note: str | None
    language: str | None = None  # the customer's (fr | en), when the channel said it
    hold: HoldOut | None
    allowed_actions: list[str]
    tracking_token: str


class EventOut(msgspec.Struct, frozen=True, kw_only=True):
    seq: int | None
    type: str
    at: dt.datetime
    actor: str  # as stored: ``staff:<username>``, ``key:<name>``, ``customer``…
    by: ActorOut  # the actor for people: a name and a store, or a system and its channel
    data: dict[str, Any]


class FraudReasonOut(msgspec.Struct, frozen=True, kw_only=True):
    """One rule the order tripped: its code (the rule's kind), points, and what it says in
    the reader's language."""

    code: str
    points: int
    text: str


class FraudOut(msgspec.Struct, frozen=True, kw_only=True):
    """The order's fraud screening at capture: its points, the channel's threshold then
    (held when over it), and why."""

    score: int
    threshold: int | None
    reasons: list[FraudReasonOut]


class OrderDetailOut(OrderOut, frozen=True, kw_only=True):
    timeline: list[EventOut]
    # Managers only (null for anyone else, and for an order that was not screened).
    fraud: FraudOut | None = None


class OrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    status: str
    channel: str
    external_ref: str | None
    created_at: dt.datetime
    customer_name: str | None
    customer_email: str | None
    delivery_method: str
    pickup_location: str | None
    total: int
    currency: str
    version: int
    hold_reason: str | None = None  # why an order on hold is held (stock_problem…)


class CustomerHistoryOut(msgspec.Struct, frozen=True, kw_only=True):
    """The customer's other orders (by e-mail), beside the one under review: how many, what
    the ones not cancelled came to (in this order's currency), the first one's time, and
    how many were cancelled."""

    orders: int
    total_spent: int
    first_order_at: dt.datetime | None
    cancelled: int


class FraudReviewItem(msgspec.Struct, frozen=True, kw_only=True):
    """An order held for suspected fraud, as a manager reviews it."""

    number: str
    created_at: dt.datetime
    total: int
    currency: str
    channel: str
    customer_name: str | None
    customer_email: str | None
    score: int
    threshold: int | None
    reasons: list[FraudReasonOut]
    history: CustomerHistoryOut


class FraudReviewPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[FraudReviewItem]
    next_cursor: str | None


class OrderPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[OrderSummary]
    next_cursor: str | None


