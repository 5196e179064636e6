"""Payments' verbs, given a session: the outcomes providers report, and a manager's
capture and void. Refunds are ``refunds.py``'s; how money follows the order,
``following.py``'s.

Nothing here talks to a provider: the outbox does (payments/calls.py), and
``apply_outcome`` appends what it answered. The order row is locked by whoever moves its
money, so two steps never ask twice for the same goods.
"""

from __future__ import annotations

import uuid
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.db.base import new_id, utcnow
from comptoir.db.insert import insert_unless_exists
from comptoir.events.types import EventType
from comptoir.orders.models import Order
from comptoir.payments.following import follow_order
from comptoir.payments.models import PaymentOutcome, PaymentTransaction
from comptoir.payments.reading import payments_of
from comptoir.payments.rules import Kind, TxStatus
from comptoir.payments.schemas import CaptureIn, PaymentsOut, VoidIn
from comptoir.payments.transactions import (
    Delivered,
    check_currency,
    event,
    ledger_of,
    locked_order,
    named,
    request,
)

__all__ = ["apply_outcome", "capture", "void"]

_OUTCOME_EVENT = {Kind.AUTHORIZATION: EventType.PAYMENT_AUTHORIZED,
                  Kind.CAPTURE: EventType.PAYMENT_CAPTURED, Kind.VOID: EventType.PAYMENT_VOIDED,
                  Kind.REFUND: EventType.PAYMENT_REFUNDED}

_INSERT_OUTCOME = insert_unless_exists(
    PaymentOutcome.__table__, ("transaction_id",), "id")  # type: ignore[arg-type]


async def apply_outcome(
    session: AsyncSession, tx: PaymentTransaction, *, status: str, reference: str | None,
    failure_code: str | None, message: str | None, via: str, delivered: Delivered,
) -> bool:
    """Append the transaction's outcome, once: False when it had one already (a repeated
    answer, a webhook replayed). A succeeded authorization or capture lets the money follow
    the goods again."""
    order = await session.scalar(select(Order).where(Order.id == tx.order_id).with_for_update()
                                 .execution_options(populate_existing=True))
    assert order is not None
    outcome_id = await session.scalar(_INSERT_OUTCOME, {
        "id": new_id(), "transaction_id": tx.id, "order_id": tx.order_id, "status": status,
        "reference": (reference or "")[:200] or None, "failure_code": failure_code,
        "message": (message or "")[:500] or None, "via": via, "at": utcnow()})
    if outcome_id is None:
        return False
    succeeded = status == TxStatus.SUCCEEDED.value
    await event(session, _OUTCOME_EVENT[Kind(tx.kind)] if succeeded
                else EventType.PAYMENT_FAILED, tx, actor=f"provider:{tx.provider}",
                reference=reference, failure_code=failure_code)
    # An authorization lets the money follow goods that left while it was pending; a
    # capture lets what its authorization has left be released. A failure moves nothing
    # more by itself (asking again at once would ask again for ever): a manager decides.
    if succeeded and tx.kind in (Kind.AUTHORIZATION.value, Kind.CAPTURE.value):
        await follow_order(session, order, partial(delivered, session, order.id),
                           actor=f"provider:{tx.provider}", trigger=tx.kind)
    return True


async def capture(session: AsyncSession, number: str, tx_id: uuid.UUID, data: CaptureIn, *,
                  principal: Principal) -> PaymentsOut:
    """A manager captures on an authorization: the amount given, or all it has left."""
    order, found = await locked_order(session, number, principal)
    check_currency(order, data.currency)
    entry, ledger = named(found, tx_id, number), ledger_of(found)
    # plan_capture refuses what is not a usable authorization.
    amount = data.amount if data.amount is not None else max(ledger.open_on(entry.rule()), 1)
    for auth, take in ledger.plan_capture(amount, entry.tx.id):
        await request(session, order, Kind.CAPTURE, take, provider=entry.tx.provider,
                       parent=auth.id, trigger="staff", actor=principal.actor,
                       reason=data.reason)
    return await payments_of(session, order)


async def void(session: AsyncSession, number: str, tx_id: uuid.UUID, data: VoidIn, *,
               principal: Principal) -> PaymentsOut:
    """A manager releases what is left of an authorization."""
    order, found = await locked_order(session, number, principal)
    entry = named(found, tx_id, number)
    auth, left = ledger_of(found).plan_void(entry.tx.id)
    await request(session, order, Kind.VOID, left, provider=entry.tx.provider,
                   parent=auth.id, trigger="staff", actor=principal.actor, reason=data.reason)
    return await payments_of(session, order)
