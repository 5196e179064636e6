"""What a tracking token shows its holder (the JSON of ``GET /api/track/{token}``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from comptoir.tracking.proof import Proof

__all__ = [
    "Arrival",
    "PickupCode",
    "PickupCodeAccess",
    "ProofIn",
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
    """Where the parcel goes, masked (``tracking/masking.py``): the link may be forwarded."""

    name: str  # "Ada B."
    line1: str  # "1*** r*** de la R***"
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


# "shown": this device proved it is the customer's; "proof_needed": ask first (the last four
# digits of the phone, or the e-mail); "at_counter": the order has neither, the customer
# shows an ID at the counter.
PickupCodeAccess = Literal["shown", "proof_needed", "at_counter"]


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
    # What to quote or scan at the counter (pickup only), once this device has shown it is
    # the customer's; ``pickup_code_access`` says whether it is given, to be asked for with
    # one of ``proof_by``, or to be had at the counter only.
    pickup_code: str | None = None
    pickup_code_access: PickupCodeAccess | None = None
    proof_by: list[Proof] = []
    timeline: list[TrackedStep]
    seq: int  # the last event seen: where the live feed resumes (``since``)
    # Pickups waiting at the counter: the customer may say "I'm here" (once).
    can_check_in: bool = False
    arrived_at: dt.datetime | None = None


class Arrival(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to "I'm here": the store has been told (at ``arrived_at``)."""

    arrived_at: dt.datetime
    message: str  # in the customer's language


class ProofIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The customer proves it is them: the last four digits of the order's phone number, or
    its e-mail address."""

    answer: Annotated[str, msgspec.Meta(max_length=254)]


class PickupCode(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a right proof: the code, and its QR code to show at the counter."""

    pickup_code: str
    qr_svg: str  # an inline SVG drawing of the code, titled in the customer's language
