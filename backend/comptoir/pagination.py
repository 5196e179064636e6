"""Opaque cursors for keyset pagination: where a list stopped, never an offset.

Every list of the API uses this one codec: a cursor is the sort key of a page's last item,
as a JSON list of strings in URL-safe base64. A cursor that no list gave (mangled, cut, from
another list) is refused with ``invalid_cursor``, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid

import msgspec

from comptoir.errors import InvalidInput

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "CursorValue",
    "cursor_moment",
    "cursor_uuid",
    "decode_cursor",
    "decode_time_cursor",
    "encode_cursor",
    "invalid_cursor",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

CursorValue = str | uuid.UUID | dt.datetime


def _text(value: CursorValue) -> str:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def encode_cursor(*values: CursorValue) -> str:
    """The position after the last item of a page, as a URL-safe token."""
    raw = msgspec.json.encode([_text(value) for value in values])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, size: int) -> tuple[str, ...]:
    """The ``size`` values a cursor from :func:`encode_cursor` carries; 400 if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.json.decode(raw, type=list[str])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        values = []
    if len(values) != size:
        raise invalid_cursor()
    return tuple(values)


def cursor_uuid(value: str) -> uuid.UUID:
    """A cursor's identifier value, or the refusal of the cursor."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid_cursor() from None


def cursor_moment(value: str) -> dt.datetime:
    """A cursor's time value (timezone-aware), or the refusal of the cursor."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise invalid_cursor() from None
    if moment.tzinfo is None:
        raise invalid_cursor()
    return moment


def decode_time_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The (time, id) a cursor of a list sorted by time then id carries."""
    moment, identifier = decode_cursor(cursor, 2)
    return cursor_moment(moment), cursor_uuid(identifier)


def invalid_cursor() -> InvalidInput:
    """The refusal for a cursor no list answer gave (mangled, or from another list)."""
    return InvalidInput(
        "This cursor is not one a list answer gave; start again without it.",
        code="invalid_cursor",
    )
