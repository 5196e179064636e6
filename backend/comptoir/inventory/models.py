"""Stock levels per (SKU, location) and the ledger of every change of on_hand."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, aliased, mapped_column

from comptoir.db.base import Base, DateTimeUTC, UUIDPrimaryKey, utcnow

__all__ = ["MOVEMENT_KINDS", "InventoryLevel", "InventoryMovement", "available_sql",
           "available_units"]

MOVEMENT_KINDS = ("receipt", "adjustment", "count", "sale", "return", "transfer")


def available_units(on_hand: int, reserved: int, safety_stock: int) -> int:
    """What can be promised: on hand, less what orders reserved, less the safety stock kept
    back; never below 0. ``InventoryLevel.available`` is this formula, in Python and in SQL;
    ``available_sql`` writes it for a statement of text. Nowhere else is it written."""
    return max(0, on_hand - reserved - safety_stock)


def available_sql(alias: str) -> str:
    """``InventoryLevel.available`` as SQL text, for statements written as text, the levels
    table named ``alias`` (``l`` gives ``l.on_hand - l.reserved - l.safety_stock``)."""
    level = aliased(InventoryLevel, name=alias)
    return str(level.available.compile(compile_kwargs={"literal_binds": True}))


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

    @hybrid_property
    def available(self) -> int:
        """What can be promised of this level (``available_units``)."""
        return available_units(self.on_hand, self.reserved, self.safety_stock)

    @available.inplace.expression
    @classmethod
    def _available_in_sql(cls) -> ColumnElement[int]:
        # The formula as SQL, not clamped at 0: queries compare it to a quantity (>= q) or to 0
        # (<= 0), where clamping changes nothing; readers clamp what they show.
        return cls.on_hand - cls.reserved - cls.safety_stock


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
