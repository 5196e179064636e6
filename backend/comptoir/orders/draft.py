"""An order made ready to write, decided in pure code: every row, every rule, no I/O.

``draft_order`` turns a checked request (``checks.CaptureRequest``) and what was read for
it (``CaptureFacts``: the variants, the VAT rate, the routing decision…) into an
``OrderDraft`` (its rows are ``rows.py``'s): priced lines, totals, allocations, the order's
status (on hold for a fraud score over the channel's threshold, ``fraud.score``), its events
and outbox messages, the inputs of its number and of its search text, the customer to match
and the answer to store for its Idempotency-Key. A writer (``writing.CaptureWriter``)
persists it; what only the database can decide at write time (the number's serial, the
customer's id and stored name, conflicts) comes back as ``Written`` and is filled in with
``OrderDraft.search`` and ``OrderDraft.answer_for``, the same rules for every writer.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from comptoir.db.base import new_id
from comptoir.errors import InvalidInput
from comptoir.events.types import EventType
from comptoir.inventory.service import SellableVariant
from comptoir.orders import fraud, tax
from comptoir.orders.checks import CaptureRequest, unit_price_for
from comptoir.orders.handoff import HAND_OFF
from comptoir.orders.lifecycle import Status
from comptoir.orders.numbering import NumberFormat, number_format
from comptoir.orders.reading import order_out
from comptoir.orders.rows import (
    AllocationRow,
    CustomerRow,
    DraftEvent,
    Json,
    KeyRow,
    LineRow,
    OrderRow,
    OutboxRow,
    Written,
    row,
)
from comptoir.orders.schemas import OrderOut
from comptoir.routing import scoring
from comptoir.routing import service as routing

if TYPE_CHECKING:
    pass

__all__ = [
    "SUSPECTED_FRAUD",
    "CaptureFacts",
    "OrderDraft",
    "draft_order",
    "new_pickup_code",
    "search_words",
]

SUSPECTED_FRAUD = "suspected_fraud"  # the hold reason (lifecycle.HOLD_REASONS) screening gives

PICKUP_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud at a counter



def new_pickup_code() -> str:
    """8 characters from 31: about 10^12 codes, unguessable at a counter's pace."""
    return "".join(secrets.choice(PICKUP_CODE_ALPHABET) for _ in range(8))


def search_words(*parts: str | None) -> str:
    return " ".join(p.lower() for p in parts if p)


@dataclass(frozen=True, slots=True)
class CaptureFacts:
    """What capture read for the order: the variants, the VAT rates of the destination (the
    standard one, shipping's, and each SKU's, its tax class's), the routing decision, the
    capacity it takes, the 3PL hand-offs of its locations, and what fraud screening needs
    (None: the channel screens no order)."""

    order_id: uuid.UUID
    now: dt.datetime
    variants: Mapping[str, SellableVariant]
    vat_rate_bp: int
    line_rates: Mapping[str, int]  # sku -> VAT rate (pricing.line_rate)
    decision: scoring.Decision
    claims: tuple[routing.DayClaim, ...]
    hand_offs: tuple[Json, ...]
    screening: fraud.Screening | None = None


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """An order ready to write, the same for every writer."""

    order: OrderRow
    lines: tuple[LineRow, ...]
    allocations: tuple[AllocationRow, ...]
    decision: scoring.Decision
    decision_row: Json
    claims: tuple[routing.DayClaim, ...]  # the daily capacity it takes (none while it waits)
    # order.captured, then order.awaiting_capacity if it waits, then order.held if its fraud
    # score is over the channel's threshold
    events: tuple[DraftEvent, ...]
    outbox: tuple[OutboxRow, ...]  # its 3PL hand-offs
    customer: CustomerRow | None
    key: KeyRow | None
    numbering: NumberFormat
    search_words: str  # the search text but for the number and the customer's stored name
    reservations: Mapping[tuple[str, str], int]  # units per (sku, location)
    fraud: fraud.FraudScore | None  # None: not screened
    answer: OrderOut  # the answer, number and customer to fill in (``answer_for``)

    @property
    def accepted(self) -> bool:
        """Routed, or waiting for capacity: the order stands and holds its units."""
        return self.decision.accepted

    def search(self, written: Written) -> str:
        """The ``search`` column: number, external reference, e-mail and name, lower case."""
        name = written.customer.name if written.customer else None
        return f"{written.number.lower()} " + search_words(self.search_words or None, name)

    def event_rows(self, number: str) -> list[Json]:
        """The ``events`` rows, about order ``number`` (numbered at commit: ``seq`` None)."""
        return [{"id": event.id, "seq": None, "topic": "order", "type": event.type,
                 "subject": number, "data": event.data, "actor": self.order.created_by,
                 "at": self.order.created_at} for event in self.events]

    def outbox_rows(self, number: str) -> list[Json]:
        """The ``outbox`` rows, their payloads about order ``number``."""
        return [{**row(message), "payload": {**message.payload, "order_number": number}}
                for message in self.outbox]

    def answer_for(self, written: Written) -> OrderOut:
        """The order as the API shows it, and the answer stored for its Idempotency-Key."""
        customer = self.answer.customer if written.customer is None else written.customer
        return msgspec.structs.replace(self.answer, number=written.number, customer=customer)


def draft_order(request: CaptureRequest, facts: CaptureFacts) -> OrderDraft:
    """The order ``request`` asks for, priced, routed as ``facts.decision`` says: no I/O."""
    data, channel, delivery, now = request.data, request.channel, request.delivery, facts.now
    rate_bp, include_tax, order_id = facts.vat_rate_bp, channel.prices_include_tax, facts.order_id
    asked = [(line.sku, line.quantity,
              unit_price_for(facts.variants[line.sku], line.unit_price, channel),
              facts.line_rates[line.sku]) for line in data.lines]
    fee = tax.shipping_fee(channel.shipping_rates, delivery.method,
                           sum(price * quantity for _, quantity, price, _ in asked))
    priced = tax.vat_breakdown([tax.Charge(price * quantity, line_rate)
                                for _, quantity, price, line_rate in asked],
                               fee, rate_bp, prices_include_tax=include_tax)
    lines = tuple(
        LineRow(id=new_id(), order_id=order_id, position=position, sku=sku,
                name=facts.variants[sku].name, quantity=quantity, cancelled_quantity=0,
                unit_price=price, vat_rate_bp=line_rate, net=amounts.net, tax=amounts.tax,
                total=amounts.total)
        for position, ((sku, quantity, price, line_rate), amounts)
        in enumerate(zip(asked, priced.lines, strict=True), start=1))
    totals = priced.totals
    decision = facts.decision
    routed = Status.AWAITING_CAPACITY if decision.awaiting_capacity else Status.CONFIRMED
    screening = facts.screening
    scored = None if screening is None else fraud.score(
        _fraud_facts(request, totals.total, screening.history), screening.rules)
    held = scored is not None and screening is not None and scored.holds(screening.threshold)
    status = Status.ON_HOLD if held else routed
    given = data.customer
    email = request.email.lower() if request.email else None
    order = OrderRow(
        id=order_id, number="", channel=channel.code, external_ref=data.external_ref,
        status=status.value, held_from=routed.value if held else None,
        hold_reason=SUSPECTED_FRAUD if held else None, hold_note=None,
        version=1, currency=channel.currency, prices_include_tax=include_tax,
        vat_rate_bp=rate_bp, customer_id=None, customer_email=email,
        customer_name=given.name if given else None,
        customer_phone=given.phone if given else None,
        delivery_method=delivery.method, pickup_location=delivery.location_code,
        pickup_code=new_pickup_code() if delivery.method == "pickup" else None,
        ship_to=delivery.ship_to(), note=data.note, language=data.language,
        subtotal=totals.subtotal, shipping=totals.shipping, shipping_tax=totals.shipping_tax,
        tax=totals.tax, total=totals.total, tracking_token=secrets.token_urlsafe(16),
        search="", fraud_score=None if scored is None else scored.points,
        fraud_threshold=None if screening is None else screening.threshold,
        fraud_reasons=None if scored is None else fraud.stored(scored.reasons),
        card_fingerprint=request.card_fingerprint, address_key=request.address_key,
        created_by=request.actor, created_at=now, updated_at=now,
    )
    line_of = {line.sku: line for line in lines}
    allocations = tuple(
        AllocationRow(id=new_id(), order_id=order_id, line_id=line_of[a.sku].id, sku=a.sku,
                      location=a.location, quantity=a.quantity, created_at=now)
        for a in decision.allocations
    ) if decision.accepted else ()
    customer = None if request.email is None or given is None else CustomerRow(
        id=new_id(), email=request.email, email_lower=request.email.lower(), name=given.name,
        phone=given.phone)
    key = None if request.idempotency_key is None else KeyRow(
        id=new_id(), scope=request.scope, key=request.idempotency_key,
        request_hash=request.digest)
    return OrderDraft(
        order=order, lines=lines, allocations=allocations, decision=decision,
        decision_row=routing.decision_rows(decision, now=now),
        claims=facts.claims, events=_events(order, lines, allocations, decision, scored),
        outbox=(*(_outbox_row(HAND_OFF, payload, now) for payload in facts.hand_offs),
                *_payment(request, order)),
        customer=customer, key=key, numbering=number_format(now.year),
        search_words=search_words(data.external_ref, request.email),
        reservations=_reservations(allocations), fraud=scored,
        answer=order_out(order, lines, allocations),
    )


def _fraud_facts(request: CaptureRequest, total: int, history: fraud.History) -> fraud.Facts:
    """The order as the fraud rules see it (``history``: what capture read for them)."""
    billing = request.data.billing
    address = request.delivery.address
    return fraud.Facts(
        total=total, currency=request.channel.currency,
        email=request.email.lower() if request.email else None,
        shipping_country=request.delivery.country, billing_country=request.billing_country,
        shipping_postal_code=address.postal_code if address is not None else None,
        billing_postal_code=billing.postal_code if billing is not None else None,
        history=history)


def _events(order: OrderRow, lines: tuple[LineRow, ...], allocations: tuple[AllocationRow, ...],
            decision: scoring.Decision, scored: fraud.FraudScore | None,
            ) -> tuple[DraftEvent, ...]:
    captured: Json = {
        "status": order.status, "channel": order.channel, "external_ref": order.external_ref,
        "delivery": order.delivery_method, "pickup_location": order.pickup_location,
        "lines": [{"sku": line.sku, "quantity": line.quantity,
                   "unit_price": line.unit_price} for line in lines],
        "allocations": [{"sku": a.sku, "location": a.location, "quantity": a.quantity}
                        for a in allocations],
        "total": order.total, "currency": order.currency,
    }
    events = [DraftEvent(new_id(), EventType.ORDER_CAPTURED, captured)]
    if decision.awaiting_capacity:
        # "held_at", not "locations": no location has work for it yet (realtime/topics.py).
        events.append(DraftEvent(new_id(), EventType.ORDER_AWAITING_CAPACITY, {
            "reason": decision.reason, "held_at": decision.locations}))
    if order.status == Status.ON_HOLD and scored is not None:
        # The score and the codes only: the figures stay on the order, for managers.
        events.append(DraftEvent(new_id(), EventType.ORDER_HELD, {
            "version": order.version, "from": order.held_from, "reason": order.hold_reason,
            "note": None, "score": scored.points,
            "reasons": [{"code": r.code.value, "points": r.points} for r in scored.reasons]}))
    return tuple(events)


def _payment(request: CaptureRequest, order: OrderRow) -> tuple[OutboxRow, ...]:
    """The shop's payment, for payments to authorize once the order stands (a card token, an
    authorization the shop made) or to record (money an external channel took). A capture
    writes no payment row itself: a refused capture then leaves nothing to void."""
    payment = request.data.payment
    if payment is None or order.status not in _PAYABLE:
        return ()
    if payment.amount < order.total:
        raise InvalidInput(f"The payment of {payment.amount} does not cover the order's total "
                           f"of {order.total}.", code="payment_amount_short",
                           amount=payment.amount, total=order.total)
    # A card token is authorized for the order's total; what the shop authorized or took
    # itself is recorded as it is.
    amount = order.total if payment.token else payment.amount
    kind = "payment.record" if payment.provider == "external" else "payment.authorize"
    return (_outbox_row(kind, {
        "provider": payment.provider, "token": payment.token, "reference": payment.reference,
        "amount": amount, "currency": order.currency, "actor": order.created_by},
        order.created_at),)


_PAYABLE = frozenset({Status.CONFIRMED.value, Status.AWAITING_CAPACITY.value,
                      Status.ON_HOLD.value})


def _outbox_row(kind: str, payload: Json, now: dt.datetime) -> OutboxRow:
    return OutboxRow(id=new_id(), kind=kind, payload=payload, event_seq=None, status="pending",
                     attempts=0, available_at=now, claimed_by=None, claimed_until=None,
                     last_error=None, created_at=now, delivered_at=None)


def _reservations(allocations: tuple[AllocationRow, ...]) -> dict[tuple[str, str], int]:
    wanted: dict[tuple[str, str], int] = {}
    for a in allocations:
        wanted[(a.sku, a.location)] = wanted.get((a.sku, a.location), 0) + a.quantity
    return wanted
