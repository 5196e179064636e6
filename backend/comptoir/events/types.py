"""The registry of event types: every type the code records, its payload, and the words the
customer reads for it on the tracking page (None: the customer does not see it).

``record_event`` (events/service.py) refuses a type that is not here and data that does not
fit its payload Struct; the PWA's types and the tests' checks of its labels come from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import msgspec

from comptoir.events import payloads as p

__all__ = [
    "REGISTRY",
    "EventSpec",
    "EventType",
    "PayloadMismatch",
    "UnregisteredEventType",
    "Words",
    "check_event",
]


class EventType(StrEnum):
    ORDER_CAPTURED = "order.captured"
    ORDER_AWAITING_CAPACITY = "order.awaiting_capacity"
    ORDER_ROUTED = "order.routed"
    ORDER_HELD = "order.held"
    ORDER_RELEASED = "order.released"
    ORDER_NOTE_ADDED = "order.note_added"
    ORDER_EDITED = "order.edited"
    ORDER_LINES_CANCELLED = "order.lines_cancelled"
    ORDER_CANCELLED = "order.cancelled"
    FULFILLMENT_PICKING = "fulfillment.picking"
    FULFILLMENT_PACKED = "fulfillment.packed"
    FULFILLMENT_SHIPPED = "fulfillment.shipped"
    FULFILLMENT_READY_FOR_PICKUP = "fulfillment.ready_for_pickup"
    FULFILLMENT_HANDED_OVER = "fulfillment.handed_over"
    FULFILLMENT_REJECTED = "fulfillment.rejected"
    FULFILLMENT_CUSTOMER_ARRIVED = "fulfillment.customer_arrived"
    FULFILLMENT_PICKUP_REMINDER_SENT = "fulfillment.pickup_reminder_sent"
    FULFILLMENT_CANCELLED = "fulfillment.cancelled"
    FULFILLMENT_SENT_TO_3PL = "fulfillment.sent_to_3pl"
    FULFILLMENT_TRACKING_UPDATED = "fulfillment.tracking_updated"
    INVOICE_ISSUED = "invoice.issued"
    CREDIT_NOTE_ISSUED = "credit_note.issued"
    PAYMENT_REQUESTED = "payment.requested"
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_CAPTURED = "payment.captured"
    PAYMENT_VOIDED = "payment.voided"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_FAILED = "payment.failed"
    CATALOG_PRODUCT_CREATED = "catalog.product_created"
    CATALOG_PRODUCT_UPDATED = "catalog.product_updated"
    CATALOG_PRODUCT_ACTIVATED = "catalog.product_activated"
    CATALOG_PRODUCT_DEACTIVATED = "catalog.product_deactivated"
    INVENTORY_CHANGED = "inventory.changed"

    @property
    def topic(self) -> str:
        """The stream it is recorded on: ``order`` (the order's, its fulfillments', its
        invoices' and credit notes'), ``catalog`` or ``inventory``."""
        domain = self.value.partition(".")[0]
        return "order" if domain in _ORDER_STREAM else domain

    @property
    def label_key(self) -> str:
        """The key of the staff's words for it in the PWA's catalogues (pwa/src/i18n):
        ``event.fulfillment.packed`` is shown on the order's timeline."""
        return f"event.{self.value}"


# Domains whose events are the order's: on its timeline and the live feed's order topics.
_ORDER_STREAM = frozenset({"order", "fulfillment", "invoice", "credit_note", "payment"})


@dataclass(frozen=True, slots=True)
class Words:
    fr: str
    en: str

    def __getitem__(self, locale: Literal["fr", "en"]) -> str:
        return self.fr if locale == "fr" else self.en


@dataclass(frozen=True, slots=True)
class EventSpec:
    payload: type[p.Payload]
    customer: Words | None = None  # shown on the tracking page, in these words


_T = EventType
REGISTRY: dict[EventType, EventSpec] = {
    _T.ORDER_CAPTURED: EventSpec(p.OrderCaptured, Words("Commande reçue", "Order received")),
    _T.ORDER_AWAITING_CAPACITY: EventSpec(p.AwaitingCapacity, Words(
        "Articles réservés, préparation dès qu'un créneau se libère",
        "Items set aside, prepared as soon as a slot frees up")),
    _T.ORDER_ROUTED: EventSpec(p.OrderRouted,
                               Words("Préparation planifiée", "Preparation scheduled")),
    # A hold, whatever its reason, is "being checked".
    _T.ORDER_HELD: EventSpec(p.OrderHeld, Words("En cours de vérification", "Being checked")),
    _T.ORDER_RELEASED: EventSpec(p.OrderReleased,
                                 Words("Vérification terminée", "Check complete")),
    _T.ORDER_NOTE_ADDED: EventSpec(p.NoteAdded),  # staff notes stay with the staff
    _T.ORDER_EDITED: EventSpec(p.OrderEdited, Words("Commande modifiée", "Order updated")),
    _T.ORDER_LINES_CANCELLED: EventSpec(p.LinesCancelled,
                                        Words("Articles annulés", "Some items cancelled")),
    _T.ORDER_CANCELLED: EventSpec(p.LinesCancelled,
                                  Words("Commande annulée", "Order cancelled")),
    _T.FULFILLMENT_PICKING: EventSpec(p.FulfillmentStep,
                                      Words("En préparation", "Being prepared")),
    _T.FULFILLMENT_PACKED: EventSpec(p.FulfillmentStep, Words("Colis prêt", "Parcel packed")),
    _T.FULFILLMENT_SHIPPED: EventSpec(p.FulfillmentShipped,
                                      Words("Colis expédié", "Parcel shipped")),
    _T.FULFILLMENT_READY_FOR_PICKUP: EventSpec(p.ReadyForPickup,
                                               Words("Prête à retirer", "Ready for pickup")),
    _T.FULFILLMENT_HANDED_OVER: EventSpec(p.FulfillmentHandedOver,
                                          Words("Retirée en magasin", "Collected in store")),
    # A store passing the work on is the house's business, not the customer's.
    _T.FULFILLMENT_REJECTED: EventSpec(p.FulfillmentRejected),
    _T.FULFILLMENT_CUSTOMER_ARRIVED: EventSpec(p.CustomerArrived, Words(
        "Arrivée signalée au magasin", "You told the store you were here")),
    _T.FULFILLMENT_PICKUP_REMINDER_SENT: EventSpec(p.PickupReminderSent),
    _T.FULFILLMENT_CANCELLED: EventSpec(p.FulfillmentCancelled),
    _T.FULFILLMENT_SENT_TO_3PL: EventSpec(p.SentToThirdParty),
    _T.FULFILLMENT_TRACKING_UPDATED: EventSpec(p.TrackingUpdated, Words(
        "Suivi du colis mis à jour", "Parcel tracking updated")),
    # Money documents are the staff's; the customer gets them by e-mail, later.
    _T.INVOICE_ISSUED: EventSpec(p.InvoiceIssued),
    _T.CREDIT_NOTE_ISSUED: EventSpec(p.CreditNoteIssued),
    _T.PAYMENT_REQUESTED: EventSpec(p.PaymentMoved),
    _T.PAYMENT_AUTHORIZED: EventSpec(p.PaymentMoved, Words("Paiement autorisé",
                                                           "Payment authorised")),
    _T.PAYMENT_CAPTURED: EventSpec(p.PaymentMoved, Words("Paiement débité", "Payment taken")),
    _T.PAYMENT_VOIDED: EventSpec(p.PaymentMoved),
    _T.PAYMENT_REFUNDED: EventSpec(p.PaymentMoved, Words("Remboursement effectué",
                                                         "Refund made")),
    _T.PAYMENT_FAILED: EventSpec(p.PaymentMoved),
    _T.CATALOG_PRODUCT_CREATED: EventSpec(p.ProductChanged),
    _T.CATALOG_PRODUCT_UPDATED: EventSpec(p.ProductChanged),
    _T.CATALOG_PRODUCT_ACTIVATED: EventSpec(p.ProductChanged),
    _T.CATALOG_PRODUCT_DEACTIVATED: EventSpec(p.ProductChanged),
    _T.INVENTORY_CHANGED: EventSpec(p.InventoryChanged),
}

# What ``check_event`` reads: the payload of each type, by its string.
PAYLOADS: dict[str, type[p.Payload]] = {t.value: spec.payload for t, spec in REGISTRY.items()}
_TOPICS: dict[str, str] = {t.value: t.topic for t in REGISTRY}


class UnregisteredEventType(ValueError):
    """A producer recorded a type the registry does not know: a bug, not a refusal."""


class PayloadMismatch(ValueError):
    """A producer's data does not fit its type's payload Struct: a bug, not a refusal."""


def check_event(type: str, topic: str, data: dict[str, Any]) -> None:
    """Refuse an unregistered type, a type on another topic's stream, or data that does not
    fit the type's payload. A dictionary lookup and one msgspec conversion (microseconds)."""
    payload = PAYLOADS.get(type)
    if payload is None:
        raise UnregisteredEventType(
            f"event type {type!r} is not registered in comptoir.events.types")
    if _TOPICS.get(type, topic) != topic:
        raise UnregisteredEventType(f"event type {type!r} recorded on topic {topic!r}")
    try:
        msgspec.convert(data, payload)
    except msgspec.ValidationError as error:
        raise PayloadMismatch(f"{type} event: {error}") from None
