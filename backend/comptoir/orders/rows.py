"""The rows an order draft is made of (``draft.OrderDraft``), as typed dataclasses the
capture writers persist column for column (``row``): the order, its lines and allocations,
its events and outbox messages, the customer to match, the Idempotency-Key to claim, and
what the database decided when it wrote them (``Written``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from comptoir.events.types import EventType, check_event
from comptoir.orders.schemas import CustomerOut

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "AllocationRow",
    "CustomerRow",
    "DraftEvent",
    "Json",
    "KeyRow",
    "LineRow",
    "OrderRow",
    "OutboxRow",
    "Written",
    "row",
]

# What a JSON column holds: the payloads of events, outbox messages and decisions.
Json = dict[str, object]


@dataclass(frozen=True, slots=True)
class OrderRow:
    """The ``orders`` row. ``number``, ``customer_id`` and ``search`` are the writer's to
    fill in (``Written``); ``customer_name``/``customer_phone`` are the ones sent, which a
    returning customer's stored ones complete."""

    id: uuid.UUID
    number: str
    channel: str
    external_ref: str | None
    status: str
    held_from: str | None
    hold_reason: str | None
    hold_note: str | None
    version: int
    currency: str
    prices_include_tax: bool
    vat_rate_bp: int
    customer_id: uuid.UUID | None
    customer_email: str | None
    customer_name: str | None
    customer_phone: str | None
    delivery_method: str
    pickup_location: str | None
    pickup_code: str | None
    ship_to: Json | None
    note: str | None
    language: str | None
    subtotal: int
    shipping: int
    shipping_tax: int
    tax: int
    total: int
    tracking_token: str
    search: str
    fraud_score: int | None
    fraud_threshold: int | None
    fraud_reasons: list[Json] | None
    card_fingerprint: str | None
    address_key: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LineRow:
    id: uuid.UUID
    order_id: uuid.UUID
    position: int
    sku: str
    name: str
    quantity: int
    cancelled_quantity: int
    unit_price: int
    vat_rate_bp: int
    net: int
    tax: int
    total: int


@dataclass(frozen=True, slots=True)
class AllocationRow:
    id: uuid.UUID
    order_id: uuid.UUID
    line_id: uuid.UUID
    sku: str
    location: str
    quantity: int
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DraftEvent:
    """An event of the capture; its subject is the order's number, known once written.
    Checked against the registry when drafted: the batched writer commits it before any
    Python sees it again."""

    id: uuid.UUID
    type: EventType
    data: Json

    def __post_init__(self) -> None:
        check_event(self.type, "order", self.data)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An ``outbox`` row; its payload's ``order_number`` is filled in once written."""

    id: uuid.UUID
    kind: str
    payload: Json
    event_seq: int | None
    status: str
    attempts: int
    available_at: dt.datetime
    claimed_by: str | None
    claimed_until: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """The customer to match by e-mail (any case), or create: name and phone as sent."""

    id: uuid.UUID
    email: str
    email_lower: str
    name: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class KeyRow:
    """The Idempotency-Key to claim, with the answer the draft gives (``answer_for``)."""

    id: uuid.UUID
    scope: str
    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class Written:
    """What the database decided when the order was written: its number, and its customer
    as stored (a returning customer keeps the name and phone the order did not send).
    ``committed``: the writer committed it already (announce now, not at the session's
    commit)."""

    number: str
    customer: CustomerOut | None
    committed: bool = False


_FIELDS: dict[type[DataclassInstance], tuple[str, ...]] = {}


def row(value: DataclassInstance) -> dict[str, object]:
    """A draft's row as the column values an INSERT takes."""
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(kind))
    return {name: getattr(value, name) for name in names}
