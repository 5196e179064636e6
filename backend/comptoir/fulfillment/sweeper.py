"""Uncollected pickups: a reminder, then the order cancelled and its units back on sale;
and the customer notifications the outbox delivers (logged until e-mail is wired)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.auth.schemas import SYSTEM
from comptoir.db.base import utcnow
from comptoir.db.dialect import dialect_of
from comptoir.errors import DomainError
from comptoir.events.dispatcher import Delivery
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.fulfillment import states
from comptoir.fulfillment.models import Fulfillment
from comptoir.fulfillment.work import lock_both, notify
from comptoir.orders import actions as order_actions
from comptoir.orders.models import Order
from comptoir.orders.schemas import CancelIn
from comptoir.payments import following as payments

log = logging.getLogger("comptoir.fulfillment")


# --- uncollected pickups ----------------------------------------------------------------------


@dataclass
class Sweep:
    """What one pass over the pickups waiting at counters did (order numbers)."""

    reminded: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


async def sweep_uncollected(session: AsyncSession, now: dt.datetime | None = None) -> Sweep:
    """Remind customers half-way through the hold; cancel and restock once it is over.

    For a periodic task (``UncollectedSweeper``): idempotent, each run acts on what is due at
    ``now``. Each pickup is re-read under the order's lock (handed over meanwhile: left
    alone) and handled in a savepoint, so one that cannot be cancelled does not stop the rest.
    """
    now = now or utcnow()
    done = Sweep()
    due = list(await session.scalars(
        select(Fulfillment.id).where(Fulfillment.status == states.Status.READY_FOR_PICKUP.value,
                                     Fulfillment.hold_until.is_not(None))
        .order_by(Fulfillment.hold_until, Fulfillment.id)))
    for fulfillment_id in due:
        try:
            async with session.begin_nested():
                outcome = await _sweep_one(session, fulfillment_id, now)
        except DomainError as refused:
            log.warning("uncollected pickup %s left as it is: %s", fulfillment_id, refused)
            continue
        if outcome is not None:
            getattr(done, outcome[0]).append(outcome[1])
    await session.flush()
    return done


async def _sweep_one(session: AsyncSession, fulfillment_id: uuid.UUID,
                     now: dt.datetime) -> tuple[str, str] | None:
    found = await session.get(Fulfillment, fulfillment_id)
    if found is None:
        return None
    order, fulfillment = await lock_both(session, found)
    if (fulfillment.status != states.Status.READY_FOR_PICKUP.value
            or fulfillment.hold_until is None or fulfillment.ready_at is None):
        return None  # handed over or cancelled since the list was read
    if fulfillment.hold_until <= now:
        await _expire(session, order, fulfillment, now)
        return "cancelled", fulfillment.order_number
    if fulfillment.reminded_at is None and now >= (
        fulfillment.ready_at + (fulfillment.hold_until - fulfillment.ready_at) / 2
    ):
        fulfillment.reminded_at = now
        await notify(session, "email.pickup_reminder", order, fulfillment,
                      pickup_code=order.pickup_code)
        await record_event(session, topic="order", type=EventType.FULFILLMENT_PICKUP_REMINDER_SENT,
                           subject=order.number, actor=SYSTEM.actor,
                           data={"fulfillment_id": str(fulfillment.id),
                                 "locations": [fulfillment.location],
                                 "hold_until": fulfillment.hold_until.isoformat()})
        return "reminded", fulfillment.order_number
    return None


async def _expire(session: AsyncSession, order: Order, fulfillment: Fulfillment,
                  now: dt.datetime) -> None:
    """Not collected in time: the order is cancelled, its units go back on sale."""
    # The order's own cancel gives the reservations back and writes the customer's event.
    await order_actions.cancel(session, fulfillment.order_number,
                               CancelIn(reason="not collected in time"), principal=SYSTEM)
    await payments.follow_change(session, order.number, actor=SYSTEM.actor,
                                trigger="cancellation")
    fulfillment.status = states.Status.CANCELLED.value
    fulfillment.updated_at = now
    await record_event(session, topic="order", type=EventType.FULFILLMENT_CANCELLED,
                       subject=order.number, actor=SYSTEM.actor,
                       data={"fulfillment_id": str(fulfillment.id),
                             "locations": [fulfillment.location],
                             "reason": "not collected in time"})
    await notify(session, "email.pickup_cancelled", order, fulfillment)


# Key of the PostgreSQL advisory lock one sweep holds for its transaction ("compt", 3).
SWEEP_LOCK_KEY = 0x636F6D7074_03


async def sweep_once(sessionmaker: async_sessionmaker[AsyncSession]) -> Sweep | None:
    """One sweep in its own transaction; None when another process is sweeping right now.

    On PostgreSQL a transaction-scoped advisory lock lets one process sweep at a time (the
    others skip their turn rather than wait); SQLite has one writer at a time anyway.
    """
    async with sessionmaker() as session, session.begin():
        if not await dialect_of(session).take_turn(session, SWEEP_LOCK_KEY):
            return None
        return await sweep_uncollected(session)


async def sweep_turn(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """One turn of the periodic sweep (periodic.py), with what it did in the log."""
    done = await sweep_once(sessionmaker)
    if done is not None and (done.reminded or done.cancelled):
        log.info("uncollected pickups: %d reminded, %d cancelled",
                 len(done.reminded), len(done.cancelled))


# --- customer notifications ---------------------------------------------------------------------


async def _log_notification(delivery: Delivery) -> None:
    # No e-mail sender exists yet: the message is logged (and stays in the outbox as sent).
    log.info("notification %s for order %s to %s", delivery.kind,
             delivery.payload.get("order_number"), delivery.payload.get("email"))


NOTIFICATION_HANDLERS = {
    kind: _log_notification
    for kind in ("email.ready_for_pickup", "email.pickup_reminder", "email.pickup_cancelled",
                 "email.items_cancelled")
}
