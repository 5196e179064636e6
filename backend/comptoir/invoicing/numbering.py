"""Invoice and credit-note numbers: ``<prefix>-<year>-<at least 6 digits>`` (pure).

``FA-2026-000001``: the prefix is the company's (configuration), the year is the seller's
calendar year of issue, the serial is continuous per legal entity, kind and year (drawn from
``DocumentNumberCounter`` in the issuing transaction, see service.draw_number).
"""

from __future__ import annotations

import re

__all__ = ["DIGITS", "format_number", "looks_like_number", "parse_number"]

DIGITS = 6
_PATTERN = re.compile(r"^([A-Z0-9]{1,10})-(\d{4})-(\d{6,})$")


def format_number(prefix: str, year: int, serial: int) -> str:
    """``FA-2026-000123``; serials past 999999 simply grow a digit."""
    if serial < 1:
        raise ValueError("document serials start at 1")
    return f"{prefix.strip().upper()}-{year:04d}-{serial:0{DIGITS}d}"


def parse_number(number: str) -> tuple[str, int, int] | None:
    """``(prefix, year, serial)`` of a well-formed number, else None."""
    match = _PATTERN.match(number.strip().upper())
    if match is None:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3))


def looks_like_number(text: str) -> bool:
    return parse_number(text) is not None
