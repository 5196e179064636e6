"""Fulfillment work as the API takes and shows it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

__all__ = [
    "FulfillmentLineOut",
    "FulfillmentOut",
    "FulfillmentPage",
    "HandoverIn",
    "PickupCodeCheckOut",
    "RejectIn",
    "ShipIn",
    "ShipmentOut",
    "UnitsIn",
]

Text200 = Annotated[str, msgspec.Meta(max_length=200)]


class UnitsIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class ShipIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """No lines: every unit still to send goes in this parcel."""

    carrier: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    service: Annotated[str, msgspec.Meta(max_length=60)] = ""
    tracking_number: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    lines: list[UnitsIn] | None = None


class HandoverIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The customer's pickup code, or (managers) a reason to hand over without it; and, for
    an order whose fulfillment says ``id_check_required``, that the customer's ID was
    checked (refused without it)."""

    code: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    override_reason: Text200 | None = None
    collected_by: Text200 | None = None
    id_checked: bool = False


class RejectIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    lines: Annotated[list[UnitsIn], msgspec.Meta(min_length=1, max_length=100)]
    reason: Literal["damaged", "not_found", "other"]
    note: Text200 | None = None


class FulfillmentLineOut(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    name: str
    barcode: str | None
    quantity: int  # still to pick and send or hand over
    shipped_quantity: int
    rejected_quantity: int


class ShipmentOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str | None
    lines: list[UnitsIn]
    shipped_at: dt.datetime


class PickupCodeCheckOut(msgspec.Struct, frozen=True, kw_only=True):
    """How a phone checks a pickup code without the network (never the code itself): the
    code, in upper case without spaces or dashes, UTF-8, through PBKDF2 with SHA-256 (as
    WebCrypto names it), ``iterations`` rounds and ``salt``, gives the 32 bytes ``hash``.
    ``salt`` and ``hash`` are base64url without padding."""

    algorithm: Literal["PBKDF2-SHA256"]
    iterations: int
    salt: str
    hash: str


class FulfillmentOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    order_number: str
    location: str
    kind: str
    status: str
    allowed_actions: list[str]
    created_at: dt.datetime
    ready_at: dt.datetime | None = None
    hold_until: dt.datetime | None = None
    handed_over_at: dt.datetime | None = None
    collected_by: str | None = None
    customer_arrived_at: dt.datetime | None = None  # "I'm here" from the tracking page
    # A pickup waiting at the counter: how to check its code offline (see PickupCodeCheckOut).
    pickup_code_check: PickupCodeCheckOut | None = None
    # A pickup whose order is above its channel's ID-check amount: the handover must say
    # ``id_checked``.
    id_check_required: bool = False
    lines: list[FulfillmentLineOut] = []
    shipments: list[ShipmentOut] = []


class FulfillmentPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[FulfillmentOut]
    next_cursor: str | None
