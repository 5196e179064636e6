"""Stored routing decisions, and the locations each one sent an order to (for capacity)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import GUID, Base, DateTimeUTC, JsonB, UUIDPrimaryKey, utcnow

__all__ = ["RoutingAssignment", "RoutingDecision"]


class RoutingDecision(UUIDPrimaryKey, Base):
    """Why an order went where it went: every candidate with its score, and the reason."""

    __tablename__ = "routing_decisions"

    id: Mapped[uuid.UUID]
    order_number: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    method: Mapped[str] = mapped_column(String(12))  # ship | pickup
    channel: Mapped[str | None] = mapped_column(String(40), nullable=True)
    routed: Mapped[bool] = mapped_column(Boolean)
    deciding_factor: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    destination: Mapped[str | None] = mapped_column(String(120), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    # [{"location", "sku", "quantity"}], [{"sku", "requested", "available"}], and the
    # candidates as the API shows them (the best ones first; see ``candidates_left_out``).
    allocations: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    shortages: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    candidates_left_out: Mapped[int] = mapped_column(Integer, default=0)
    without_stock: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_routing_decisions_order_number_created_at", "order_number",
                            "created_at"),)


class RoutingAssignment(UUIDPrimaryKey, Base):
    """A location an order was routed to, on that location's calendar day.

    Counting these per (location, day) is how many orders a store took on today: a store at
    its daily capacity is skipped until its tomorrow.
    """

    __tablename__ = "routing_assignments"

    id: Mapped[uuid.UUID]
    decision_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("routing_decisions.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(String(40))
    local_day: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (Index("ix_routing_assignments_location_local_day", "location",
                            "local_day"),)
