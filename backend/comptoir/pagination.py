"""Opaque cursors for keyset pagination: where a list stopped, never an offset."""

from __future__ import annotations

import base64
import binascii

import msgspec

from comptoir.errors import InvalidInput

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "decode_cursor", "encode_cursor", "invalid_cursor"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(*values: str) -> str:
    """The position after the last item of a page, as a URL-safe token."""
    raw = msgspec.json.encode(list(values))
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


def invalid_cursor() -> InvalidInput:
    """The refusal for a cursor no list answer gave (mangled, or from another list)."""
    return InvalidInput(
        "This cursor is not one a list answer gave; start again without it.",
        code="invalid_cursor",
    )
