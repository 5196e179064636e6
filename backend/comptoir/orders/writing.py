"""The one interface capture writes an order through, and what a write answers.

Two writers persist the same ``draft.OrderDraft``: ``write_sql.SqlWriter`` (plain
SQLAlchemy: SQLite, and the reference) and ``capture_pg.PgWriter`` (PostgreSQL: one
statement, shared by the captures of the moment). ``writer_for`` picks one for a session.
A write the database refuses comes back as ``Refused`` with its ``Refusal``: nothing of
the order stands, and the session's transaction must be rolled back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.db.dialect import POSTGRESQL, dialect_of
from comptoir.orders.draft import OrderDraft
from comptoir.orders.rows import Written

__all__ = ["CaptureWriter", "Refusal", "Refused", "Written", "writer_for"]


class Refusal(enum.StrEnum):
    """Why the database would not take the order as drafted."""

    REPEATED_EXTERNAL_REF = "repeated_external_ref"  # the channel sent this reference before
    NOT_ROUTED = "not_routed"  # a draft routing refused (written only to find a repeat)
    IDEMPOTENCY_KEY_TAKEN = "idempotency_key_taken"  # a twin request holds the key
    AT_CAPACITY = "at_capacity"  # a chosen location's day filled since routing read it
    SHORT = "short"  # a level has fewer units than routing read
    CUSTOMER_NOT_VISIBLE = "customer_not_visible"  # created meanwhile by another capture
    RACE = "race"  # refused with others, or lost a deadlock: written again, it may stand


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal


class CaptureWriter(Protocol):
    """Persists an ``OrderDraft``: the rows it holds, with what only the database decides at
    write time (the number's serial, the customer's row, conflicts, reservations, capacity)."""

    async def prepare(self, session: AsyncSession, year: int) -> AsyncEngine | None:
        """Ready ``session`` for an attempt's reads (and ``year``'s numbering); the engine to
        read on with the other captures of the moment, or None to read in the session."""
        ...

    async def write(self, session: AsyncSession, draft: OrderDraft) -> Written | Refused:
        ...


def writer_for(session: AsyncSession) -> CaptureWriter:
    """The batched PostgreSQL writer on PostgreSQL, the plain one elsewhere."""
    from comptoir.orders.capture_pg import PgWriter
    from comptoir.orders.write_sql import SqlWriter

    if dialect_of(session).name == POSTGRESQL.name:
        return PgWriter(session)
    return SqlWriter()
