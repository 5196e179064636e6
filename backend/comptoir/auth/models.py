"""API keys for other systems; only a hash of each key is kept."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import Base, DateTimeUTC, UUIDPrimaryKey, utcnow

__all__ = ["ApiKey"]


class ApiKey(UUIDPrimaryKey, Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str | None] = mapped_column(String(40), nullable=True)
    location: Mapped[str | None] = mapped_column(String(40), nullable=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
