"""The managers' review of orders held for suspected fraud: the queue, approve, reject.

Capture holds an order whose fraud score is over its channel's threshold (``draft``,
``fraud``). A manager reads the queue (newest first, each order with its score, reasons
and the customer's other orders) and, in one tap, approves it (the hold is released: the
order goes on from where it was stopped) or rejects it (the whole order is cancelled: its
reserved units go back to stock). Either is refused with ``not_held_for_fraud`` for an
order that is not held for that reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from comptoir.auth.schemas import Principal
from comptoir.errors import Conflict, InvalidInput
from comptoir.orders import actions, fraud
from comptoir.orders.draft import SUSPECTED_FRAUD
from comptoir.orders.lifecycle import Status
from comptoir.orders.models import Order
from comptoir.orders.reading import find_order, fraud_reasons
from comptoir.orders.schemas import (
    CancelIn,
    CustomerHistoryOut,
    FraudReviewItem,
    FraudReviewPage,
    OrderOut,
    RejectIn,
)
from comptoir.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_time_cursor, encode_cursor

__all__ = ["NotHeldForFraud", "approve", "fraud_queue", "reject"]


class NotHeldForFraud(Conflict):
    code = "not_held_for_fraud"


def _check_held_for_fraud(order: Order) -> None:
    if order.status != Status.ON_HOLD or order.hold_reason != SUSPECTED_FRAUD:
        held = (f"on hold ({order.hold_reason})" if order.status == Status.ON_HOLD
                else order.status.replace("_", " "))
        raise NotHeldForFraud(
            f"{order.number} is not held for suspected fraud (it is {held}): there is "
            "nothing to approve or reject.", current_status=order.status,
            hold_reason=order.hold_reason)


async def approve(
    session: AsyncSession, number: str, *, principal: Principal, if_match: str | None = None
) -> OrderOut:
    """Release an order held for suspected fraud: it goes on from where it was stopped."""
    order = await find_order(session, number, principal, for_update=True)
    actions.check_version(order, if_match, required=False)
    _check_held_for_fraud(order)
    # Payments: capture what the channel's policy says to capture now (at_capture) here,
    # in this transaction, before the order goes on.
    return await actions.release_locked(session, order, principal=principal)


async def reject(
    session: AsyncSession, number: str, data: RejectIn, *, principal: Principal,
    if_match: str | None = None,
) -> OrderOut:
    """Cancel the whole of an order held for suspected fraud; its units go back to stock."""
    order = await find_order(session, number, principal, for_update=True)
    actions.check_version(order, if_match, required=False)
    _check_held_for_fraud(order)
    # Payments: void the order's authorization here, in this transaction.
    return await actions.cancel_locked(
        session, order, CancelIn(reason=data.reason or SUSPECTED_FRAUD), principal=principal)


def _history_columns() -> list[Any]:
    """The customer's other orders (same e-mail), as correlated subqueries of the page's
    query: one statement for the whole page, each read from the e-mail's index."""
    other = aliased(Order)
    same = and_(other.customer_email == Order.customer_email, other.id != Order.id)
    cancelled = other.status == Status.CANCELLED.value
    return [
        select(func.count()).select_from(other).where(same).scalar_subquery()
        .label("history_orders"),
        select(func.coalesce(func.sum(other.total), 0))
        .where(same, ~cancelled, other.currency == Order.currency).scalar_subquery()
        .label("history_spent"),
        select(func.min(other.created_at)).where(same).scalar_subquery()
        .label("history_first"),
        select(func.count()).select_from(other).where(same, cancelled).scalar_subquery()
        .label("history_cancelled"),
    ]


async def fraud_queue(
    session: AsyncSession, *, locale: fraud.Locale, cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> FraudReviewPage:
    """Orders held for suspected fraud, newest first, a page at a time (keyset)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"A page holds 1 to {MAX_LIMIT} orders.", code="invalid_limit")
    query = (select(Order.id, Order.number, Order.created_at, Order.total, Order.currency,
                    Order.channel, Order.customer_name, Order.customer_email,
                    Order.fraud_score, Order.fraud_threshold, Order.fraud_reasons,
                    *_history_columns())
             .where(Order.status == Status.ON_HOLD.value,
                    Order.hold_reason == SUSPECTED_FRAUD))
    if cursor:
        after_at, after_id = decode_time_cursor(cursor)
        query = query.where(tuple_(Order.created_at, Order.id) < (after_at, after_id))
    rows = (await session.execute(
        query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [FraudReviewItem(
        number=row.number, created_at=row.created_at, total=row.total, currency=row.currency,
        channel=row.channel, customer_name=row.customer_name,
        customer_email=row.customer_email, score=row.fraud_score or 0,
        threshold=row.fraud_threshold, reasons=fraud_reasons(row.fraud_reasons, locale),
        history=CustomerHistoryOut(orders=row.history_orders,
                                   total_spent=int(row.history_spent or 0),
                                   first_order_at=row.history_first,
                                   cancelled=row.history_cancelled))
        for row in rows]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return FraudReviewPage(items=items, next_cursor=next_cursor)
