"""The customer at the counter: "I'm here" from the tracking page, and the check-in the
store's screen shows live."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.base import utcnow
from comptoir.errors import Conflict, NotFound
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.fulfillment import states
from comptoir.fulfillment.models import Fulfillment
from comptoir.orders.models import Order

# --- "I'm here" -----------------------------------------------------------------------------------


async def customer_arrived(session: AsyncSession, order_id: uuid.UUID) -> dt.datetime:
    """The customer says they are at the counter: the store's screen shows it live.

    Only for a pickup waiting at the counter (409 otherwise). A second tap changes nothing
    and gives back the time of the first.
    """
    order = await session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if order is None:
        raise NotFound("No such order.", code="not_found")
    waiting = list(await session.scalars(
        select(Fulfillment).where(Fulfillment.order_id == order_id,
                                  Fulfillment.kind == "pickup",
                                  Fulfillment.status == states.Status.READY_FOR_PICKUP.value)
        .order_by(Fulfillment.created_at, Fulfillment.id)
        .with_for_update().execution_options(populate_existing=True)))
    if not waiting:
        raise Conflict("This order is not waiting at the counter yet: the store will tell you "
                       "when it is ready.", code="not_ready_for_pickup",
                       order_status=order.status)
    already = [f.customer_arrived_at for f in waiting if f.customer_arrived_at is not None]
    if len(already) == len(waiting):
        return min(already)
    now = utcnow()
    for fulfillment in waiting:
        if fulfillment.customer_arrived_at is None:
            fulfillment.customer_arrived_at = fulfillment.updated_at = now
    await record_event(session, topic="order", type=EventType.FULFILLMENT_CUSTOMER_ARRIVED,
                       subject=order.number, actor="customer",
                       data={"fulfillment_ids": [str(f.id) for f in waiting],
                             "locations": sorted({f.location for f in waiting}),
                             "arrived_at": now.isoformat()})
    await session.flush()
    return now


async def counter_check_in(session: AsyncSession, order_id: uuid.UUID) -> tuple[
    bool, dt.datetime | None
]:
    """For the tracking page: is the order waiting at a counter, and since when has the
    customer said they are there (None: not yet)."""
    rows = (await session.execute(
        select(Fulfillment.customer_arrived_at).where(
            Fulfillment.order_id == order_id, Fulfillment.kind == "pickup",
            Fulfillment.status == states.Status.READY_FOR_PICKUP.value))).all()
    arrived = [at for (at,) in rows if at is not None]
    return bool(rows), (min(arrived) if rows and len(arrived) == len(rows) else None)


