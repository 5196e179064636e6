"""Payment tables: the transactions of an order, and the outcome each one came to.

A ledger: rows are appended, never edited. A transaction (authorization, capture, void,
refund) is written when it is decided, ``pending``; its outcome (``succeeded`` or
``failed``, with the provider's reference) is appended once, when the provider's answer or
webhook arrives. The outcome's unique ``transaction_id`` is what makes a replayed webhook or
a repeated answer harmless: the second outcome is not written. A transaction's status is
its outcome's, or ``pending`` while it has none.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import GUID, Base, DateTimeUTC, JsonB, UUIDPrimaryKey, utcnow

__all__ = ["PaymentOutcome", "PaymentTransaction"]

Money = BigInteger


class PaymentTransaction(UUIDPrimaryKey, Base):
    """One movement of an order's money, as decided. ``parent_id``: the authorization a
    capture or a void draws on; the capture a refund gives back."""

    __tablename__ = "payment_transactions"

    id: Mapped[uuid.UUID]
    order_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("orders.id"))
    order_number: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))  # authorization | capture | void | refund
    provider: Mapped[str] = mapped_column(String(16))  # sandbox | stripe | external
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("payment_transactions.id"), nullable=True)
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    # An authorization's card token or the shop's own reference for it; a capture recorded
    # for a channel that took the money, the channel's reference.
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # A refund by lines: [{"order_line_id", "sku", "name", "quantity", "amount"}].
    lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonB, nullable=True)
    # A refund of invoiced goods: the credit note issued with it.
    credit_note_number: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # What made it: "shipment", "handover", "cancellation", "staff", "capture"…
    trigger: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_payment_transactions_order", "order_id", "created_at"),
        Index("ix_payment_transactions_created_at", "created_at"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class PaymentOutcome(UUIDPrimaryKey, Base):
    """How a transaction ended, appended once: ``succeeded`` or ``failed``."""

    __tablename__ = "payment_outcomes"

    id: Mapped[uuid.UUID]
    transaction_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("payment_transactions.id"), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    failure_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    via: Mapped[str] = mapped_column(String(10))  # answer | webhook | recorded
    at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_payment_outcomes_reference", "reference"),
        CheckConstraint("status IN ('succeeded', 'failed')", name="status_final"),
    )
