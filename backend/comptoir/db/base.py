"""The declarative base every operational table derives from."""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from uuid_utils.compat import uuid7

__all__ = ["GUID", "Base", "DateTimeUTC", "JsonB", "UUIDPrimaryKey", "new_id", "utcnow"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC: the only clock the domain uses."""
    return dt.datetime.now(dt.UTC)


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
