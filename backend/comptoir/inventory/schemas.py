"""Stock on the wire: levels, movements, and the requests that change them."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

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


class AdjustmentIn(msgspec.Struct, kw_only=True):
    """Add (positive ``delta``) or remove (negative) units at a location, saying why."""

    location: str
    sku: str
    delta: int
    reason: str
    kind: str = "adjustment"
    reference: str | None = None


class CountIn(msgspec.Struct, kw_only=True):
    """What a physical count found; the difference from the books becomes a movement."""

    location: str
    sku: str
    on_hand: int
    reason: str = ""


class SafetyStockIn(msgspec.Struct, kw_only=True):
    """Units kept back from what is promised to orders at this location."""

    location: str
    sku: str
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
