"""Configuration as the API shows it (read-only)."""

from __future__ import annotations

import msgspec

__all__ = ["ChannelOut", "LocationOut", "ShippingRateOut"]


class LocationOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    country: str
    latitude: float | None
    longitude: float | None
    timezone: str
    ships: bool
    serves_pickups: bool
    daily_order_capacity: int | None
    pickup_hold_days: int
    opening_hours: str
    active: bool


class ShippingRateOut(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    fee: int
    free_from: int | None


class ChannelOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str
    currency: str
    prices_include_tax: bool
    active: bool
    shipping_rates: list[ShippingRateOut] = []


class CompanyOut(msgspec.Struct, frozen=True, kw_only=True):
    legal_name: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    country: str
    vat_number: str
    email: str
    phone: str
