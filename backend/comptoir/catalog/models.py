"""Catalog tables: a product groups variants; a variant is a sellable SKU."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from comptoir.db.base import GUID, Base, DateTimeUTC, JsonB, UUIDPrimaryKey, utcnow

__all__ = ["Product", "Variant"]


class Product(UUIDPrimaryKey, Base):
    __tablename__ = "products"

    id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str] = mapped_column(String(120), default="")
    category: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTimeUTC(timezone=True), default=utcnow, onupdate=utcnow
    )
    # The lower-cased name, for case-insensitive search that can use an index.
    search_name: Mapped[str] = mapped_column(String(200), default="", index=True)

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", lazy="selectin", order_by="Variant.sku",
        cascade="all, delete-orphan",
    )


class Variant(UUIDPrimaryKey, Base):
    __tablename__ = "variants"

    id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    barcode: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    options: Mapped[dict[str, str]] = mapped_column(JsonB, default=dict)
    price: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    # Which of the delivery country's VAT rates applies (orders.pricing.TAX_CLASSES).
    tax_class: Mapped[str] = mapped_column(String(16), default="standard",
                                           server_default="standard")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTimeUTC(timezone=True), default=utcnow, onupdate=utcnow
    )

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")

    __table_args__ = (Index("ix_variants_product_sku", "product_id", "sku"),)
