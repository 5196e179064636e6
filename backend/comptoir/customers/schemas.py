"""Customers on the wire: a customer with their recent orders and what they spent."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from comptoir.orders.schemas import OrderSummary

__all__ = ["CustomerDetailOut", "CustomerTotalsOut"]


class CustomerTotalsOut(msgspec.Struct, frozen=True, kw_only=True):
    order_count: int
    # Minor units per currency, over orders that were not cancelled.
    spent: dict[str, int]


class CustomerDetailOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str
    name: str | None
    phone: str | None
    created_at: dt.datetime
    totals: CustomerTotalsOut
    orders: list[OrderSummary]  # the most recent first
