"""Invoicing tables: invoices, credit notes, the order-line quantities each states, and the
gapless number counters.

An issued document is never changed: its ``statement`` (invoicing/snapshot.py, as JSON) is
what it says, for ever. Only an invoice's ``credited`` and ``status`` follow the credit notes
issued against it (a running balance, never a restatement). No route updates or deletes any
of these rows; they are SQLAlchemy tables, so piccolo-admin does not show them at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import GUID, Base, DateTimeUTC, JsonB, UUIDPrimaryKey

__all__ = ["CreditNote", "DocumentNumberCounter", "Invoice", "InvoicedLine"]

Money = BigInteger


class DocumentNumberCounter(Base):
    """The last number given to a kind of document ("invoice", "credit_note") of a legal
    entity in a year. Drawn by one upsert in the issuing transaction: its row stays locked
    until that transaction ends, so numbers are gapless (a rollback gives it back) and never
    given twice, whatever the number of processes."""

    __tablename__ = "document_number_counters"

    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class _Document(UUIDPrimaryKey):
    """What invoices and credit notes both carry: the listed columns and the statement."""

    id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(32), unique=True)
    entity: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("orders.id"))
    order_number: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_email: Mapped[str] = mapped_column(String(254), default="")
    issued_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    currency: Mapped[str] = mapped_column(String(3))
    net: Mapped[int] = mapped_column(Money)
    vat: Mapped[int] = mapped_column(Money)
    gross: Mapped[int] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20))
    statement: Mapped[dict[str, Any]] = mapped_column(JsonB)
    # Lower-cased number, order number, customer name, e-mail and company: what `q` searches.
    search: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(String(120))


class Invoice(_Document, Base):
    """An issued invoice. ``status``: issued, partially_credited or credited."""

    __tablename__ = "invoices"

    prices_include_tax: Mapped[bool] = mapped_column(Boolean)
    credited: Mapped[int] = mapped_column(Money, default=0)  # gross of its credit notes

    __table_args__ = (
        # Lists are newest first, keyset-paginated on (issued_at, id).
        Index("ix_invoices_issued_at_id", "issued_at", "id"),
        Index("ix_invoices_order_id", "order_id"),
        Index("ix_invoices_order_number", "order_number"),
        Index("ix_invoices_channel_issued_at_id", "channel", "issued_at", "id"),
        Index("ix_invoices_status_issued_at_id", "status", "issued_at", "id"),
        Index("ix_invoices_customer_issued_at_id", "customer_id", "issued_at", "id"),
        Index("ix_invoices_customer_email", "customer_email"),
        CheckConstraint("credited >= 0 AND credited <= gross", name="credited_within_gross"),
    )


class CreditNote(_Document, Base):
    """An issued credit note, correcting (part of) one invoice. ``status``: issued."""

    __tablename__ = "credit_notes"

    invoice_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("invoices.id"))
    invoice_number: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_credit_notes_issued_at_id", "issued_at", "id"),
        Index("ix_credit_notes_invoice_id", "invoice_id"),
        Index("ix_credit_notes_order_number", "order_number"),
        Index("ix_credit_notes_channel_issued_at_id", "channel", "issued_at", "id"),
        Index("ix_credit_notes_customer_issued_at_id", "customer_id", "issued_at", "id"),
        Index("ix_credit_notes_customer_email", "customer_email"),
    )


class InvoicedLine(UUIDPrimaryKey, Base):
    """One line of a document with what it counts against: an invoice's line
    (``credit_note_id`` empty), or a credit note's line crediting the invoice line at the
    same ``position`` of ``invoice_id``. What an order line has had invoiced, and what an
    invoice line still holds, are sums of these rows."""

    __tablename__ = "invoiced_lines"

    id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("invoices.id"))
    credit_note_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("credit_notes.id"), nullable=True)
    order_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("orders.id"))
    position: Mapped[int] = mapped_column(Integer)  # the invoice line's position
    order_line_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    shipping: Mapped[bool] = mapped_column(Boolean, default=False)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Money)  # the order's price (its tax basis)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    net: Mapped[int] = mapped_column(Money)
    vat: Mapped[int] = mapped_column(Money)
    gross: Mapped[int] = mapped_column(Money)

    __table_args__ = (
        Index("ix_invoiced_lines_invoice_id", "invoice_id"),
        Index("ix_invoiced_lines_order_id", "order_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )
