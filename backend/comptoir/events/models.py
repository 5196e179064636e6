"""Tables of the event log and the outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import GUID, Base, DateTimeUTC, JsonB, new_id, utcnow

__all__ = ["Event", "OutboxMessage"]

class Event(Base):
    """One domain event. ``seq`` is the global order of everything that happened.

    ``seq`` is given when the transaction commits, in commit order (events/service.py), so a
    reader that has seen sequence N never later finds a committed event below N: resuming
    "everything after N" misses nothing. Until then it is NULL.
    """

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=new_id)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    topic: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_events_topic_subject_seq", "topic", "subject", "seq"),)


class OutboxMessage(Base):
    """A side effect to deliver after commit, at least once, with retries."""

    __tablename__ = "outbox"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    event_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), nullable=True
    )
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), nullable=True
    )

    __table_args__ = (Index("ix_outbox_status_available_at", "status", "available_at"),)
