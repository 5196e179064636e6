"""Stock levels per (SKU, location) and the ledger of every change of on_hand."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import Base, DateTimeUTC, UUIDPrimaryKey, utcnow

__all__ = ["MOVEMENT_KINDS", "InventoryLevel", "InventoryMovement"]

MOVEMENT_KINDS = ("receipt", "adjustment", "count", "sale", "return", "transfer")


class InventoryLevel(UUIDPrimaryKey, Base):
    """``available = on_hand - reserved - safety_stock``; reserved never exceeds on_hand."""

    __tablename__ = "inventory_levels"

    id: Mapped[uuid.UUID]
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"))
    location: Mapped[str] = mapped_column(String(40))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTimeUTC(timezone=True), default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        UniqueConstraint("sku", "location"),
        Index("ix_inventory_levels_location_sku", "location", "sku"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
    )

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


class InventoryMovement(UUIDPrimaryKey, Base):
    """One change of on_hand: on_hand always equals the sum of a level's movements."""

    __tablename__ = "inventory_movements"

    id: Mapped[uuid.UUID]
    sku: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str | None] = mapped_column(String(80), nullable=True)
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_inventory_movements_sku_location_at", "sku", "location", "created_at"),
    )
