"""Money follows the order: what its state now calls for is captured, released or refunded
(``follow_order``), after goods left, units were cancelled, a hold was released or a review
decided, or a provider's outcome came in; and a refused capture leaves no money held.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.events.service import enqueue
from comptoir.orders import lifecycle
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.schemas import PaymentIn
from comptoir.payments import rules
from comptoir.payments.rules import Kind
from comptoir.payments.transactions import RELEASE, entries, ledger_of, request

__all__ = ["UNSERVED", "follow_change", "follow_order", "release_unused"]

# The refusals after which no order will ever stand for the shop's authorization (out of
# stock, nowhere to serve it). A 422 is not one: the shop corrects the order and sends it
# again with the same authorization.
UNSERVED = frozenset({"out_of_stock", "not_routable"})



async def follow_order(session: AsyncSession, order: Order,
                       delivered: Callable[[], Awaitable[Mapping[uuid.UUID, int]]] | None,
                       *, actor: str, trigger: str) -> None:
    """Capture, void or refund what the order's state now calls for (the order row locked
    by the caller): the worth of the goods that left is captured (all of it at once when the
    channel captures at capture), what no goods will need any more is voided, and money
    captured for goods since cancelled is refunded. Nothing while the order is on hold, and
    nothing for an order paid outside Comptoir. ``delivered()`` reads the units of each
    line that have left so far, only when their worth is needed; None: no goods left since
    the last time (a cancellation), so nothing new is captured for them."""
    if order.status == lifecycle.Status.ON_HOLD.value:
        return
    found = await entries(session, order.id)
    if not found:
        return
    ledger = ledger_of(found)
    channel = await config.get_channel(order.channel)
    cancelled = order.status == lifecycle.Status.CANCELLED.value
    everything_left = order.status in lifecycle.ALL_LEFT
    if channel is not None and channel.capture_policy == "at_capture" and not cancelled:
        target = order.total
    elif everything_left or cancelled:
        target = order.total
    elif delivered is None or order.status in lifecycle.INITIAL:
        # Nothing left since the last time, or nothing left at all: no new reads.
        target = min(ledger.capture_asked, order.total)
    else:
        target = await _goods_worth(session, order, await delivered())
    due = target - ledger.capture_asked
    provider = {e.tx.id: e.tx.provider for e in found}
    requested = False
    if due > 0 and ledger.capturable > 0:
        requested = True
        for auth, amount in ledger.plan_capture(min(due, ledger.capturable)):
            await request(session, order, Kind.CAPTURE, amount, provider=provider[auth.id],
                           parent=auth.id, trigger=trigger, actor=actor)
    # More was paid than the order now costs (units cancelled after they were paid): the
    # difference goes back. Money taken ahead of the goods (a manager's capture) stays.
    excess = ledger.capture_asked - order.total
    if due <= 0 and excess > 0 and ledger.refundable > 0:
        requested = True
        for cap, amount in ledger.plan_refund(min(excess, ledger.refundable)):
            await request(session, order, Kind.REFUND, amount, provider=provider[cap.id],
                           parent=cap.id, trigger=trigger, actor=actor,
                           reason="cancelled" if cancelled else "lines cancelled")
    if requested:
        ledger = ledger_of(await entries(session, order.id))
    if cancelled or everything_left or ledger.capture_asked >= order.total:
        for auth in ledger.authorizations:
            # After its captures are settled (their outcome follows the order again).
            if ledger.open_on(auth) > 0 and not ledger.capturing(auth.id):
                await request(session, order, Kind.VOID, ledger.open_on(auth),
                               provider=provider[auth.id], parent=auth.id, trigger=trigger,
                               actor=actor)


async def _goods_worth(session: AsyncSession, order: Order,
                       left: Mapping[uuid.UUID, int]) -> int:
    lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    return rules.goods_value(
        [rules.LineValue(line.total, line.quantity, left.get(line.id, 0)) for line in lines],
        order.total - sum(line.total for line in lines), order_total=order.total,
        everything_left=False)


async def follow_change(session: AsyncSession, number: str, *, actor: str,
                        trigger: str) -> None:
    """After order ``number`` changed with no goods leaving (units cancelled, a hold
    released, a review decided; its row locked in this transaction): what cancelled units
    held is released, what they were paid refunded, and a channel that charges at capture
    charges an order released from hold."""
    order = await session.scalar(select(Order).where(Order.number == number))
    if order is not None:
        await follow_order(session, order, None, actor=actor, trigger=trigger)


async def release_unused(session: AsyncSession, code: str, payment: PaymentIn | None,
                         channel: str | None) -> bool:
    """After a capture refused with ``code``: an authorization the shop made itself for that
    order (``payment.reference``) is voided through the outbox, so no money stays held
    without an order. A card token was never authorized: nothing to do. True when a release
    was queued (in the session: the caller commits)."""
    if (code not in UNSERVED or payment is None or not payment.reference
            or payment.provider == "external"):
        return False
    await enqueue(session, RELEASE, {
        "provider": payment.provider, "reference": payment.reference,
        "amount": payment.amount, "currency": (payment.currency or "").upper(),
        "channel": channel})
    return True
