"""Payments on the wire: an order's transactions and balance, and the staff's actions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

__all__ = [
    "CaptureIn",
    "PaymentSummaryOut",
    "PaymentsOut",
    "RefundIn",
    "RefundLineIn",
    "TransactionOut",
    "VoidIn",
]

Reason = Annotated[str, msgspec.Meta(max_length=500)]


class TransactionOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str  # authorization | capture | void | refund
    status: str  # pending | succeeded | failed
    provider: str
    amount: int
    currency: str
    parent_id: uuid.UUID | None
    reference: str | None  # the provider's id for it, once it answered
    failure_code: str | None
    message: str | None
    reason: str | None
    trigger: str
    credit_note: str | None
    lines: list[dict[str, object]] | None
    actor: str
    created_at: dt.datetime
    settled_at: dt.datetime | None
    # What a manager may still do with it, in minor units.
    capturable: int = 0
    refundable: int = 0


class PaymentSummaryOut(msgspec.Struct, frozen=True, kw_only=True):
    """The order's money at a glance. ``balance``: what the customer paid and was not given
    back (captured - refunded); ``outstanding``: the order's total less the balance."""

    status: str  # unpaid | authorized | partially_captured | paid | partially_refunded | …
    currency: str
    total: int
    authorized: int
    captured: int
    refunded: int
    voided: int
    balance: int
    outstanding: int
    capturable: int
    refundable: int
    pending: int  # transactions still waiting for their provider


class PaymentsOut(msgspec.Struct, frozen=True, kw_only=True):
    order_number: str
    summary: PaymentSummaryOut
    transactions: list[TransactionOut]


class CaptureIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Capture on an authorization: ``amount`` (minor units), all it has left when absent."""

    amount: int | None = None
    currency: Annotated[str, msgspec.Meta(max_length=3)] | None = None
    reason: Reason | None = None


class VoidIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason | None = None


class RefundLineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An order line by its id or SKU, and how many of its units are refunded."""

    line_id: uuid.UUID | None = None
    sku: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    quantity: int


class RefundIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A refund by ``amount`` or by ``lines`` (their share of what they cost), with a
    reason; ``shipping``: the shipping is refunded too (by lines only)."""

    reason: Reason
    amount: int | None = None
    lines: list[RefundLineIn] | None = None
    shipping: bool = False
    currency: Annotated[str, msgspec.Meta(max_length=3)] | None = None
