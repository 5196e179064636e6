"""The customer table: one row per e-mail address, matched case-insensitively."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import Base, DateTimeUTC, UUIDPrimaryKey, utcnow

__all__ = ["Customer"]


class Customer(UUIDPrimaryKey, Base):
    """A person who ordered; ``email_lower`` is the matching key."""

    __tablename__ = "customers"

    id: Mapped[uuid.UUID]
    email: Mapped[str] = mapped_column(String(254))
    email_lower: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTimeUTC(timezone=True), default=utcnow, onupdate=utcnow
    )
