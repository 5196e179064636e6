"""An order's payment transactions as the verbs see them: read with their outcomes, a new one
asked of its provider, the events they put on the order's timeline, and the checks every
money action makes (the order locked, the transaction named, the currency).

A transaction is decided and written ``pending`` with an outbox message (``CALL``) in the
caller's transaction; the outbox calls the provider after commit (payments/calls.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.db.base import new_id, utcnow
from comptoir.errors import InvalidInput, NotFound
from comptoir.events.service import enqueue, record_event
from comptoir.events.types import EventType
from comptoir.orders.models import Order
from comptoir.orders.reading import find_order
from comptoir.payments import rules
from comptoir.payments.models import PaymentOutcome, PaymentTransaction
from comptoir.payments.rules import Kind, Ledger, TxStatus

__all__ = [
    "AUTHORIZE",
    "CALL",
    "RECORD",
    "RELEASE",
    "Delivered",
    "Entry",
    "check_currency",
    "entries",
    "event",
    "ledger_of",
    "locked_order",
    "named",
    "record_requested",
    "request",
]

CALL = "payment.call"  # the outbox calls the provider for a pending transaction
AUTHORIZE = "payment.authorize"  # capture's: authorize the shop's card once the order stands
RECORD = "payment.record"  # capture's: the channel took the money (provider "external")
RELEASE = "payment.release"  # an authorization the shop made for an order refused: voided

# Units of each order line that have left so far (fulfillment.reading.delivered_units).
Delivered = Callable[[AsyncSession, uuid.UUID], Awaitable[Mapping[uuid.UUID, int]]]


@dataclass(frozen=True, slots=True)
class Entry:
    """A transaction and its outcome, if it has one yet."""

    tx: PaymentTransaction
    outcome: PaymentOutcome | None

    @property
    def status(self) -> TxStatus:
        return TxStatus(self.outcome.status) if self.outcome else TxStatus.PENDING

    def rule(self) -> rules.Tx:
        return rules.Tx(id=self.tx.id, kind=Kind(self.tx.kind), amount=self.tx.amount,
                        status=self.status, parent_id=self.tx.parent_id)


async def entries(session: AsyncSession, order_id: uuid.UUID) -> list[Entry]:
    """The order's transactions with their outcomes, oldest first."""
    rows = (await session.execute(
        select(PaymentTransaction, PaymentOutcome)
        .outerjoin(PaymentOutcome, PaymentOutcome.transaction_id == PaymentTransaction.id)
        .where(PaymentTransaction.order_id == order_id)
        .order_by(PaymentTransaction.created_at, PaymentTransaction.id))).all()
    return [Entry(tx, outcome) for tx, outcome in rows]


def ledger_of(found: Sequence[Entry]) -> Ledger:
    return Ledger.of(entry.rule() for entry in found)


async def request(
    session: AsyncSession, order: Order, kind: Kind, amount: int, *, provider: str,
    parent: uuid.UUID | None, trigger: str, actor: str, reason: str | None = None,
    lines: list[dict[str, Any]] | None = None, credit_note: str | None = None,
) -> PaymentTransaction:
    """A pending transaction, asked of its provider by the outbox once this commits."""
    tx = PaymentTransaction(
        id=new_id(), order_id=order.id, order_number=order.number, kind=kind.value,
        provider=provider, parent_id=parent, amount=amount, currency=order.currency,
        source=None, reason=reason, lines=lines, credit_note_number=credit_note,
        trigger=trigger, actor=actor, created_at=utcnow())
    session.add(tx)
    await enqueue(session, CALL, {"transaction_id": str(tx.id), "order_number": order.number})
    await event(session, EventType.PAYMENT_REQUESTED, tx, actor=actor)
    return tx


async def event(session: AsyncSession, type: EventType, tx: PaymentTransaction, *,
                actor: str, reference: str | None = None,
                failure_code: str | None = None) -> None:
    """A ``payment.*`` event on the order's timeline (and live feed)."""
    await record_event(session, topic="order", type=type, subject=tx.order_number, actor=actor,
                       data={"transaction_id": str(tx.id), "kind": tx.kind,
                             "provider": tx.provider, "amount": tx.amount,
                             "currency": tx.currency, "trigger": tx.trigger,
                             "reference": reference, "failure_code": failure_code,
                             "reason": tx.reason, "credit_note": tx.credit_note_number})


async def record_requested(session: AsyncSession, tx: PaymentTransaction) -> None:
    """The timeline's ``payment.requested`` for a transaction written outside ``request``
    (the authorization a capture asked for)."""
    await event(session, EventType.PAYMENT_REQUESTED, tx, actor=tx.actor)


async def locked_order(session: AsyncSession, number: str, principal: Principal) -> tuple[
    Order, list[Entry]
]:
    """The order (its row locked) and its transactions: what every money action starts with."""
    order = await find_order(session, number, principal, for_update=True)
    return order, await entries(session, order.id)


def named(found: Sequence[Entry], tx_id: uuid.UUID, number: str) -> Entry:
    entry = next((e for e in found if e.tx.id == tx_id), None)
    if entry is None:
        raise NotFound(f"Order {number} has no payment transaction {tx_id}.",
                       code="transaction_not_found")
    return entry


def check_currency(order: Order, currency: str | None) -> None:
    if currency is not None and currency.upper() != order.currency:
        raise InvalidInput(f"Order {order.number} is in {order.currency}, not {currency}.",
                           code="currency_mismatch", currency=order.currency)
