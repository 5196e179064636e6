"""Units a location rejects: out of its books, then routed again by the routing policy (the
order's verb ``reroute_rejected``), held where only locations at capacity have them, or
cancelled on the order when nowhere has them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import SYSTEM, Principal
from comptoir.db.base import new_id, utcnow
from comptoir.events.types import EventType
from comptoir.fulfillment import states
from comptoir.fulfillment.models import Fulfillment
from comptoir.fulfillment.schemas import FulfillmentOut, RejectIn
from comptoir.fulfillment.work import (
    WorkUnderway,
    begin_work,
    finish_work,
    notify,
    settled,
    units_to,
)
from comptoir.inventory import service as inventory
from comptoir.orders import actions as order_actions
from comptoir.orders import lifecycle
from comptoir.orders import service as orders
from comptoir.orders import verbs as order_verbs
from comptoir.orders.handoff import hand_off
from comptoir.orders.models import Order
from comptoir.orders.schemas import HoldIn

# --- rejection ----------------------------------------------------------------------------------


async def _fulfillment_at(
    session: AsyncSession, order: Order, location: str
) -> Fulfillment:
    """The order's not-yet-started fulfillment at ``location``, or a new one."""
    found = await session.scalar(select(Fulfillment).where(
        Fulfillment.order_id == order.id, Fulfillment.location == location,
        Fulfillment.status == states.Status.NEW.value))
    if found is not None:
        return found
    now = utcnow()
    fulfillment = Fulfillment(id=new_id(), order_id=order.id, order_number=order.number,
                              location=location, kind=order.delivery_method,
                              status=states.Status.NEW.value, created_at=now, updated_at=now)
    session.add(fulfillment)
    return fulfillment


async def _work_for(
    session: AsyncSession, work: WorkUnderway, rejected: dict[uuid.UUID, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[uuid.UUID, int]]:
    """Route the rejected units again (the order's verb: the routing policy decides, as at
    capture) and make the work where they went: what went elsewhere (with the work made
    there), what is held at a location with no capacity left today (no work made: the
    caller puts the order on hold), what such a location works all the same because the
    order can no longer be held (partly shipped: finished rather than left half-sent), and
    what nowhere has, per order line."""
    order, here = work.order, work.fulfillment.location
    units = {line.line_id: rejected[line.id] for line in work.lines if rejected.get(line.id)}
    routed = await order_verbs.reroute_rejected(
        session, order, units, {line.line_id: line.sku for line in work.lines}, here=here)
    can_hold = "hold" in lifecycle.allowed_actions(order.status)
    elsewhere: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    worked: list[dict[str, Any]] = []
    for placed, full in [*((m, False) for m in routed.elsewhere),
                         *((m, True) for m in routed.at_capacity)]:
        moved = {"sku": placed.sku, "quantity": placed.quantity, "location": placed.location}
        if full:
            if can_hold:
                held.append(moved)
                continue
            worked.append(moved)
        # Its pick list is made from the allocation (``sync_lines``).
        target = await _fulfillment_at(session, order, placed.location)
        elsewhere.append({**moved, "fulfillment_id": str(target.id)})
    return elsewhere, held, worked, routed.nowhere


async def reject(session: AsyncSession, fulfillment_id: uuid.UUID, data: RejectIn, *,
                 principal: Principal) -> FulfillmentOut:
    """Units the location cannot send: the stock is corrected, the rest goes elsewhere or is
    cancelled on the order (the customer sees it on their timeline)."""
    work = await begin_work(session, fulfillment_id, principal, states.Action.REJECT)
    units = units_to(data.lines, work.lines, "reject")
    location, number = work.fulfillment.location, work.order.number
    reason = f"rejected: {data.reason.replace('_', ' ')}"
    for line in sorted(work.lines, key=lambda line: line.sku):
        quantity = units.get(line.id, 0)
        if not quantity:
            continue
        await order_verbs.take_from_allocation(session, work.order.id, line.line_id, location,
                                               quantity)
        line.quantity -= quantity
        line.rejected_quantity += quantity
        # The units are not sellable (damaged) or not there (not found): out of the books.
        await inventory.release(session, sku=line.sku, location=location, quantity=quantity)
        await inventory.adjust(session, sku=line.sku, location=location, delta=-quantity,
                               reason=reason, actor=principal.actor, reference=number)
    order_lines, _allocations = await orders.lines_and_allocations(session, work.order.id)
    rerouted, over_capacity, worked, nowhere = await _work_for(session, work, units)
    work.fulfillment.status = (settled(work.lines) or states.Status(work.fulfillment.status)).value
    work.data = {
        "reason": data.reason, "note": data.note,
        "lines": [{"sku": line.sku, "quantity": units[line.id]} for line in work.lines
                  if units.get(line.id)],
        "rerouted": rerouted,
        "cancelled": [{"sku": line.sku, "quantity": nowhere[line.id]} for line in order_lines
                      if nowhere.get(line.id)],
    }
    if over_capacity:
        work.data["reserved"] = over_capacity  # held, no work there yet
    if worked:
        work.data["over_capacity"] = worked
    work.data["locations"] = sorted({location, *(r["location"] for r in rerouted)})
    await hand_off(session, order_id=work.order.id, order_number=number,
                   locations=[r["location"] for r in rerouted], actor=principal.actor)
    if over_capacity:
        full = sorted({r["location"] for r in over_capacity})
        await order_actions.hold(session, number, HoldIn(
            reason="stock_problem",
            note=(f"Rejected units can only come from {', '.join(full)}, at capacity today; "
                  "they are held there. Release to send them there anyway, or edit the "
                  "order.")), principal=SYSTEM)
    if nowhere:
        await order_verbs.cancel_unallocated(
            session, work.order, order_lines, nowhere, principal=principal,
            reason="out of stock after a store rejection",
            data={"fulfillment_id": str(work.fulfillment.id), "locations": [location]})
        await notify(session, "email.items_cancelled", work.order, work.fulfillment,
                      lines=work.data["cancelled"])
    return await finish_work(session, work, EventType.FULFILLMENT_REJECTED)


