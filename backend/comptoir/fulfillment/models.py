"""Fulfillment tables: a location's work on an order, its lines, and the parcels it sent."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import GUID, Base, DateTimeUTC, JsonB, UUIDPrimaryKey, utcnow

__all__ = ["Fulfillment", "FulfillmentLine", "Shipment"]


class Fulfillment(UUIDPrimaryKey, Base):
    """What one location must pick and send (``kind`` "ship") or hand over ("pickup")."""

    __tablename__ = "fulfillments"

    id: Mapped[uuid.UUID]
    order_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("orders.id"))
    order_number: Mapped[str] = mapped_column(String(24))
    location: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    ready_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True),
                                                         nullable=True)
    # The end of the hold clock started by "ready for pickup".
    hold_until: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True),
                                                           nullable=True)
    # When the customer tapped "I'm here" on their tracking page (pickups ready at the counter).
    customer_arrived_at: Mapped[dt.datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), nullable=True)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True),
                                                            nullable=True)
    # The pickup code's salted, slow hash (fulfillment/counter.py), made when the parcel is
    # ready: the store's phones check a code with it when the network is cut.
    pickup_code_digest: Mapped[str | None] = mapped_column(String(120), nullable=True)
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True),
                                                               nullable=True)
    handed_over_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    collected_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)

    __table_args__ = (
        # A location's queue, oldest first, keyset-paginated on (created_at, id): of one
        # status or of every status; the same for every location.
        Index("ix_fulfillments_location_status_created", "location", "status", "created_at",
              "id"),
        Index("ix_fulfillments_location_created", "location", "created_at", "id"),
        Index("ix_fulfillments_status_created", "status", "created_at", "id"),
        Index("ix_fulfillments_created", "created_at", "id"),
        Index("ix_fulfillments_status_hold_until", "status", "hold_until"),
        # An order's work; whether it has work made at a location yet.
        Index("ix_fulfillments_order_location", "order_id", "location"),
        # A store's "collected today", the latest first, keyset-paginated on (handed_over_at, id).
        Index("ix_fulfillments_location_handed_over", "location", "handed_over_at", "id",
              sqlite_where=text("handed_over_at IS NOT NULL"),
              postgresql_where=text("handed_over_at IS NOT NULL")),
        # At most one not-yet-started fulfillment per order and location: two first reads of
        # a queue cannot both make it.
        Index("ux_fulfillments_order_location_new", "order_id", "location", unique=True,
              sqlite_where=text("status = 'new'"), postgresql_where=text("status = 'new'")),
    )


class FulfillmentLine(UUIDPrimaryKey, Base):
    """Units of an order line this location handles: ``quantity`` still to send or hand over."""

    __tablename__ = "fulfillment_lines"

    id: Mapped[uuid.UUID]
    fulfillment_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("fulfillments.id"),
                                                      index=True)
    line_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("order_lines.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0)
    rejected_quantity: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("shipped_quantity >= 0", name="shipped_not_negative"),
        CheckConstraint("rejected_quantity >= 0", name="rejected_not_negative"),
    )


class Shipment(UUIDPrimaryKey, Base):
    """One parcel given to a carrier: which units went in it and how to follow it."""

    __tablename__ = "shipments"

    id: Mapped[uuid.UUID]
    fulfillment_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("fulfillments.id"),
                                                      index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(60))
    tracking_number: Mapped[str] = mapped_column(String(80))
    tracking_url: Mapped[str | None] = mapped_column(String(300), nullable=True)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JsonB)
    shipped_by: Mapped[str] = mapped_column(String(120))
    shipped_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
