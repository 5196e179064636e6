"""Stock on the wire: levels, movements, and the requests that change them."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from comptoir.request_body import Text

__all__ = [
    "ADJUSTMENT_KINDS",
    "AdjustmentIn",
    "CountIn",
    "LevelOut",
    "LevelPage",
    "MovementOut",
    "MovementPage",
    "SafetyStockIn",
    "SkuAvailableOut",
    "StockChangeOut",
]

# What a person may record by hand; sales come from orders and counts from POST /counts.
ADJUSTMENT_KINDS = ("receipt", "adjustment", "return", "transfer")


class AdjustmentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Add (positive ``delta``) or remove (negative) units at a location, saying why."""

    location: Text
    sku: Text
    delta: int
    reason: Text
    kind: Text = "adjustment"
    reference: Text | None = None


class CountIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a physical count found; the difference from the books becomes a movement."""

    location: Text
    sku: Text
    on_hand: int
    reason: Text = ""


class SafetyStockIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Units kept back from what is promised to orders at this location."""

    location: Text
    sku: Text
    safety_stock: int


class LevelOut(msgspec.Struct, kw_only=True):
    sku: str
    location: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int


class SkuAvailableOut(msgspec.Struct, kw_only=True):
    """What a SKU has to promise: per location, and in all (a search result's stock line)."""

    sku: str
    available: int
    locations: dict[str, int]


class LevelPage(msgspec.Struct, kw_only=True):
    items: list[LevelOut]
    next_cursor: str | None


class MovementOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    sku: str
    location: str
    kind: str
    quantity: int
    on_hand_after: int
    reason: str
    reference: str | None
    actor: str
    created_at: dt.datetime


class MovementPage(msgspec.Struct, kw_only=True):
    items: list[MovementOut]
    next_cursor: str | None


class StockChangeOut(msgspec.Struct, kw_only=True):
    """A level after a change, and the ledger row that recorded it (none if nothing changed)."""

    level: LevelOut
    movement: MovementOut | None
