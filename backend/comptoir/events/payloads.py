"""What each event's ``data`` holds: one msgspec Struct per event type (events/types.py).

An event is stored as JSON; these Structs are its schema, checked when the event is
recorded (a producer that drifts fails there) and exported to the PWA's types
(``python -m comptoir.events.export``). Unknown fields are refused: a new field is added
here first. Dates travel as ISO 8601 strings, ids as strings.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "AwaitingCapacity",
    "CreditNoteIssued",
    "CustomerArrived",
    "FulfillmentCancelled",
    "FulfillmentHandedOver",
    "FulfillmentRejected",
    "FulfillmentShipped",
    "FulfillmentStep",
    "HeldReason",
    "InventoryChanged",
    "InvoiceIssued",
    "LinesCancelled",
    "NoteAdded",
    "OrderCaptured",
    "OrderEdited",
    "OrderHeld",
    "OrderReleased",
    "OrderRouted",
    "Payload",
    "PickupReminderSent",
    "ProductChanged",
    "ReadyForPickup",
    "SentToThirdParty",
    "TrackingUpdated",
]


class Payload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every payload."""


class Units(Payload, kw_only=True):
    sku: str
    quantity: int


class Placed(Payload, kw_only=True):
    """Units of a SKU at a location (an allocation, a reservation or a release)."""

    sku: str
    location: str
    quantity: int


class Rerouted(Placed, kw_only=True):
    fulfillment_id: str


class CapturedLine(Payload, kw_only=True):
    sku: str
    quantity: int
    unit_price: int


class CancelledLine(Payload, kw_only=True):
    line_id: str
    sku: str
    quantity: int


class EditedLine(Payload, kw_only=True):
    sku: str
    from_: int = msgspec.field(name="from")
    to: int


class DeliveryChoice(Payload, kw_only=True):
    method: str
    location: str | None
    address: dict[str, str | None] | None


class DeliveryChange(Payload, kw_only=True):
    from_: DeliveryChoice = msgspec.field(name="from")
    to: DeliveryChoice


# --- the order ---------------------------------------------------------------------------------


class OrderCaptured(Payload, kw_only=True):
    status: str
    channel: str
    external_ref: str | None
    delivery: str
    pickup_location: str | None
    lines: list[CapturedLine]
    allocations: list[Placed]
    total: int
    currency: str


class AwaitingCapacity(Payload, kw_only=True):
    reason: str
    held_at: list[str]


class OrderRouted(Payload, kw_only=True):
    version: int
    from_: str = msgspec.field(name="from")
    locations: list[str]
    reason: str
    allocations: list[Placed]
    reserved: list[Placed]
    released: list[Placed]


class HeldReason(Payload, kw_only=True):
    """A fraud rule an order tripped: its code (orders.fraud.RuleKind) and points."""

    code: str
    points: int


class OrderHeld(Payload, kw_only=True):
    version: int
    from_: str = msgspec.field(name="from")
    reason: str
    note: str | None
    # Held by fraud screening at capture: the score and the rules it tripped.
    score: int | None = None
    reasons: list[HeldReason] | None = None


class OrderReleased(Payload, kw_only=True):
    version: int
    to: str
    reason: str | None


class NoteAdded(Payload, kw_only=True):
    version: int
    text: str


class LinesCancelled(Payload, kw_only=True):
    """``order.cancelled`` and ``order.lines_cancelled``; a store rejection that nowhere else
    could serve adds the fulfillment and its location."""

    version: int
    from_: str = msgspec.field(name="from")
    reason: str | None
    lines: list[CancelledLine]
    released: list[Placed]
    fulfillment_id: str | None = None
    locations: list[str] | None = None


class OrderEdited(Payload, kw_only=True):
    version: int
    lines: list[EditedLine]
    delivery: DeliveryChange | None = None
    note: str | None = None
    reserved: list[Placed]
    released: list[Placed]


# --- fulfillment -------------------------------------------------------------------------------


class FulfillmentStep(Payload, kw_only=True):
    """A fulfillment moved (picking, packed…); ``from``: the order's status before, when the
    step changed it."""

    version: int
    fulfillment_id: str
    locations: list[str]
    fulfillment_status: str
    order_status: str
    from_: str | None = msgspec.field(default=None, name="from")


class FulfillmentShipped(FulfillmentStep, kw_only=True):
    shipment_id: str
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str | None
    lines: list[Units]


class ReadyForPickup(FulfillmentStep, kw_only=True):
    hold_until: str


class FulfillmentHandedOver(FulfillmentStep, kw_only=True):
    lines: list[Units]
    collected_by: str | None
    with_: str = msgspec.field(name="with")  # "code" or "override"
    id_checked: bool | None = None
    override_reason: str | None = None


class FulfillmentRejected(FulfillmentStep, kw_only=True):
    reason: str
    note: str | None
    lines: list[Units]
    rerouted: list[Rerouted]
    cancelled: list[Units]
    reserved: list[Placed] | None = None  # held at a location at capacity, no work there yet
    over_capacity: list[Placed] | None = None  # sent past a location's capacity


class CustomerArrived(Payload, kw_only=True):
    fulfillment_ids: list[str]
    locations: list[str]
    arrived_at: str


class PickupReminderSent(Payload, kw_only=True):
    fulfillment_id: str
    locations: list[str]
    hold_until: str


class FulfillmentCancelled(Payload, kw_only=True):
    fulfillment_id: str
    locations: list[str]
    reason: str


class SentToThirdParty(Payload, kw_only=True):
    fulfillment_id: str
    locations: list[str]
    delivery_id: str


class TrackingUpdated(Payload, kw_only=True):
    fulfillment_id: str
    locations: list[str]
    shipment_id: str
    carrier: str
    tracking_number: str
    previous_tracking_number: str | None
    tracking_url: str | None


# --- invoicing ---------------------------------------------------------------------------------


class InvoiceIssued(Payload, kw_only=True):
    """An invoice was issued for the order. ``trigger``: shipment, handover or manager."""

    number: str
    trigger: str
    currency: str
    net: int
    vat: int
    gross: int
    business: bool
    lines: list[Units]
    shipping: bool


class CreditNoteIssued(Payload, kw_only=True):
    """A credit note was issued against one of the order's invoices."""

    number: str
    invoice_number: str
    reason: str
    currency: str
    net: int
    vat: int
    gross: int
    whole: bool


# --- catalogue and stock -----------------------------------------------------------------------


class ProductChanged(Payload, kw_only=True):
    id: str
    name: str
    active: bool
    skus: list[str]


class InventoryChanged(Payload, kw_only=True):
    """A level's numbers after the change; with the movement that made it, if any."""

    sku: str
    location: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    kind: str | None = None
    quantity: int | None = None
    reason: str | None = None
