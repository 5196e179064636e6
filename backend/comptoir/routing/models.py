"""Stored routing decisions, and the orders each location took on each of its days."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import Base, DateTimeUTC, JsonB, UUIDPrimaryKey, utcnow

__all__ = ["DailyCount", "RoutingDecision"]


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
    reason: Mapped[str] = mapped_column(Text)  # in English
    # The reason as a code and its parameters (``reasons.Reason``), said in the reader's
    # language; None for decisions stored before (only ``reason`` then).
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JsonB, nullable=True)
    destination: Mapped[str | None] = mapped_column(String(120), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    # [{"location", "sku", "quantity"}], [{"sku", "requested", "available"}], and the
    # candidates as the API shows them (the best ones first; see ``candidates_left_out``),
    # each with its ``explanation`` (none in decisions stored before).
    allocations: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    shortages: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    candidates_left_out: Mapped[int] = mapped_column(Integer, default=0)
    without_stock: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_routing_decisions_order_number_created_at", "order_number",
                            "created_at"),)


class DailyCount(Base):
    """How many orders a location with a daily capacity took on one of its calendar days.

    Counted and checked in one conditional write (``routing.service.count_orders``, and the
    same upsert inside the PostgreSQL capture statement): a location never takes more than
    ``capacity`` orders a day, however many captures race for its last slot. ``capacity``
    is the limit the last checked count was held to (configuration may change it during
    the day; None: only counted without a check, as pickups are when the policy does not
    apply capacity to them). Locations without a limit are not counted.
    """

    __tablename__ = "routing_daily_counts"

    location: Mapped[str] = mapped_column(String(40), primary_key=True)
    local_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    routed: Mapped[int] = mapped_column(Integer, default=0)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
