"""What a tracking token shows its holder (the JSON of ``GET /api/track/{token}``)."""

from __future__ import annotations

import datetime as dt

import msgspec

__all__ = [
    "Arrival",
    "TrackedAddress",
    "TrackedLine",
    "TrackedStep",
    "TrackedStore",
    "Tracking",
]


class TrackedLine(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    quantity: int  # still ordered
    cancelled_quantity: int
    unit_price: int  # minor units, as the channel priced it
    total: int
    unit_price_text: str  # formatted for the page's language
    total_text: str


class TrackedAddress(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    line1: str
    line2: str
    postal_code: str
    city: str
    country: str


class TrackedStore(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    country: str
    opening_hours: str


class TrackedStep(msgspec.Struct, frozen=True, kw_only=True):
    """One customer-facing moment of the order's timeline."""

    seq: int
    type: str
    label: str
    at: dt.datetime
    at_text: str


class Tracking(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    locale: str  # "fr" or "en", from Accept-Language
    status: str  # the order's status code (confirmed, on_hold, shipped…)
    status_label: str  # the same in the customer's words
    placed_at: dt.datetime
    currency: str
    lines: list[TrackedLine]
    shipping: int
    total: int
    shipping_text: str
    total_text: str
    delivery_method: str  # "ship" or "pickup"
    address: TrackedAddress | None = None  # when shipped
    store: TrackedStore | None = None  # when picked up
    pickup_code: str | None = None  # what to quote or scan at the counter (pickup only)
    timeline: list[TrackedStep]
    seq: int  # the last event seen: where the live feed resumes (``since``)
    # Pickups waiting at the counter: the customer may say "I'm here" (once).
    can_check_in: bool = False
    arrived_at: dt.datetime | None = None


class Arrival(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to "I'm here": the store has been told (at ``arrived_at``)."""

    arrived_at: dt.datetime
    message: str  # in the customer's language
