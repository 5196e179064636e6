"""Money as people read it: integer minor units of an ISO 4217 currency, formatted in French
or English (the tracking page, invoices). Never through a float."""

from __future__ import annotations

from typing import Literal

__all__ = ["NO_DECIMALS", "format_money", "minor_digits"]

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
# ISO 4217 currencies without minor units; the rest have two.
NO_DECIMALS = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "XPF", "HUF"})
_NARROW_NBSP = "\u202f"
_NBSP = "\u00a0"


def minor_digits(currency: str) -> int:
    """How many digits the currency's minor unit has (0 or 2)."""
    return 0 if currency in NO_DECIMALS else 2


def format_money(minor: int, currency: str, locale: Literal["fr", "en"]) -> str:
    """``1290, "EUR"`` → ``12,90 €`` in French, ``€12.90`` in English."""
    decimals = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 10**decimals) if decimals else (abs(minor), 0)
    grouped = f"{units:,}"
    symbol = _SYMBOLS.get(currency)
    if locale == "fr":
        number = grouped.replace(",", _NARROW_NBSP)
        if decimals:
            number += f",{cents:0{decimals}d}"
        return f"{sign}{number}{_NBSP}{symbol or currency}"
    number = grouped + (f".{cents:0{decimals}d}" if decimals else "")
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency}{_NBSP}{number}"
