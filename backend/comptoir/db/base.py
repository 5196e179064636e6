"""The declarative base every operational table derives from."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from uuid_utils.compat import uuid7

__all__ = [
    "GUID",
    "Base",
    "DateTimeUTC",
    "JsonB",
    "UUIDPrimaryKey",
    "clock_at",
    "new_id",
    "utcnow",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Set only by a replay of the past (the demo's month of history, ``seed/history.py``): what
# the services do inside ``clock_at(moment)`` is recorded as done at that moment.
_replayed_moment: ContextVar[dt.datetime | None] = ContextVar("replayed_moment", default=None)


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC: the only clock the domain uses."""
    return _replayed_moment.get() or dt.datetime.now(dt.UTC)


@contextmanager
def clock_at(moment: dt.datetime) -> Iterator[None]:
    """Within this block (this task and what it awaits), ``utcnow()`` is ``moment``."""
    if moment.tzinfo is None:
        raise ValueError("clock_at needs a timezone-aware moment")
    token = _replayed_moment.set(moment.astimezone(dt.UTC))
    try:
        yield
    finally:
        _replayed_moment.reset(token)


def new_id() -> uuid.UUID:
    """A time-ordered UUID (v7), so keys stay index-friendly (the standard library's type)."""
    return uuid7()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        uuid.UUID: GUID,
        dt.datetime: DateTimeUTC(timezone=True),
        dict: JsonB,
    }


class UUIDPrimaryKey:
    """A UUIDv7 primary key named ``id``."""

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=new_id)
