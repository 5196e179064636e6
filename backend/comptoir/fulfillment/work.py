"""The steps of the work at a location: pick, pack, ship, ready for pickup, hand over.

Each step locks the order then the fulfillment, checks the move, changes stock through the
inventory service, lets the order's status follow (the order's verbs) and appends one order
event, all in the caller's transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.config import service as config
from comptoir.config.schemas import CarrierOut
from comptoir.db.base import new_id, utcnow
from comptoir.errors import Conflict, Forbidden, InvalidInput
from comptoir.events.service import enqueue, record_event
from comptoir.events.types import EventType
from comptoir.fulfillment import counter, states
from comptoir.fulfillment.creation import sync_lines
from comptoir.fulfillment.models import Fulfillment, FulfillmentLine, Shipment
from comptoir.fulfillment.reading import (
    MANAGER_ROLES,
    delivered_units,
    fulfillment_not_found,
    may_work_at,
    needs_id_check,
    render,
)
from comptoir.fulfillment.schemas import FulfillmentOut, HandoverIn, ShipIn, UnitsIn
from comptoir.inventory import service as inventory
from comptoir.invoicing import service as invoicing
from comptoir.orders import lifecycle
from comptoir.orders import verbs as order_verbs
from comptoir.orders.models import Order
from comptoir.payments import following as payments

# --- the work ---------------------------------------------------------------------------------


@dataclass
class WorkUnderway:
    """A fulfillment being changed, with its order, both locked."""

    order: Order
    fulfillment: Fulfillment
    lines: list[FulfillmentLine]
    principal: Principal
    data: dict[str, Any] = field(default_factory=dict)


async def lock_both(session: AsyncSession, found: Fulfillment) -> tuple[Order, Fulfillment]:
    """Lock the order then the fulfillment (the order actions' lock order), read afresh."""
    order = await session.scalar(select(Order).where(Order.id == found.order_id)
                                 .with_for_update().execution_options(populate_existing=True))
    fulfillment = await session.scalar(
        select(Fulfillment).where(Fulfillment.id == found.id).with_for_update()
        .execution_options(populate_existing=True))
    assert order is not None and fulfillment is not None
    return order, fulfillment


async def begin_work(
    session: AsyncSession, fulfillment_id: uuid.UUID, principal: Principal, action: str
) -> WorkUnderway:
    """Lock the order then the fulfillment (the order actions' lock order), check the move."""
    found = await session.get(Fulfillment, fulfillment_id)
    if found is None or not may_work_at(principal, found.location):
        raise fulfillment_not_found(fulfillment_id)
    order, fulfillment = await lock_both(session, found)
    if order.status in (lifecycle.Status.ON_HOLD, lifecycle.Status.CANCELLED):
        raise lifecycle.IllegalTransition(
            f"{order.number} is {order.status.replace('_', ' ')}: its fulfillment cannot "
            f"{action} now.", current_status=fulfillment.status, order_status=order.status,
            action=action, allowed=[])
    states.move(fulfillment.status, fulfillment.kind, action)
    lines = await sync_lines(session, fulfillment)
    states.move(fulfillment.status, fulfillment.kind, action)  # the sync may have ended it
    return WorkUnderway(order, fulfillment, lines, principal)


async def _follow_fulfillments(session: AsyncSession, order: Order) -> None:
    """The order's status follows its fulfillments, through the order lifecycle's moves."""
    await session.flush()
    rows = (await session.execute(select(Fulfillment.kind, Fulfillment.status)
                                  .where(Fulfillment.order_id == order.id))).all()
    target = states.order_target(order.status, [(kind, status) for kind, status in rows])
    order_verbs.follow(order, states.order_moves(order.status, target))


async def finish_work(
    session: AsyncSession, work: WorkUnderway, type: EventType,
) -> FulfillmentOut:
    order, fulfillment = work.order, work.fulfillment
    previous = order.status
    if order.status != lifecycle.Status.CANCELLED:
        await _follow_fulfillments(session, order)
    fulfillment.updated_at = order_verbs.touch(order)
    await record_event(
        session, topic="order", type=type, subject=order.number,
        actor=work.principal.actor,
        data={"version": order.version, "fulfillment_id": str(fulfillment.id),
              "locations": [fulfillment.location], "fulfillment_status": fulfillment.status,
              "order_status": order.status,
              **({"from": previous} if previous != order.status else {}), **work.data})
    delivered = partial(delivered_units, session, order.id)
    if type in _GOODS_LEAVE:
        # Invoiced in the same transaction as the goods leave (the company's policy says
        # whether now: per shipment, or once everything has left).
        await invoicing.goods_left(session, order, delivered,
                                   actor=work.principal.actor, trigger=_GOODS_LEAVE[type])
    if type in _MONEY_MOVES:
        # Money follows the goods: captured as they leave, released when units are cancelled.
        await payments.follow_order(session, order, delivered, actor=work.principal.actor,
                                    trigger=_MONEY_MOVES[type])
    await session.flush()
    return await render(session, fulfillment, work.lines)


_GOODS_LEAVE: dict[EventType, invoicing.Trigger] = {
    EventType.FULFILLMENT_SHIPPED: "shipment", EventType.FULFILLMENT_HANDED_OVER: "handover"}
_MONEY_MOVES: dict[EventType, str] = {**_GOODS_LEAVE, EventType.FULFILLMENT_REJECTED: "rejection"}


async def pick(session: AsyncSession, fulfillment_id: uuid.UUID, *,
               principal: Principal) -> FulfillmentOut:
    work = await begin_work(session, fulfillment_id, principal, states.Action.PICK)
    work.fulfillment.status = states.Status.PICKING.value
    return await finish_work(session, work, EventType.FULFILLMENT_PICKING)


async def pack(session: AsyncSession, fulfillment_id: uuid.UUID, *,
               principal: Principal) -> FulfillmentOut:
    work = await begin_work(session, fulfillment_id, principal, states.Action.PACK)
    work.fulfillment.status = states.Status.PACKED.value
    return await finish_work(session, work, EventType.FULFILLMENT_PACKED)


def units_to(items: Iterable[UnitsIn], lines: Sequence[FulfillmentLine], what: str) -> dict[
    uuid.UUID, int
]:
    """Units per fulfillment line, refused when a SKU is not there or has too few left."""
    wanted: dict[uuid.UUID, int] = {}
    for item in items:
        candidates = [line for line in lines if line.sku == item.sku]
        if not candidates:
            raise InvalidInput(f"{item.sku} is not in this fulfillment.", code="unknown_sku",
                               sku=item.sku)
        left = item.quantity
        for line in candidates:  # one SKU normally has one line; spread if not
            take = min(left, line.quantity - wanted.get(line.id, 0))
            if take > 0:
                wanted[line.id] = wanted.get(line.id, 0) + take
                left -= take
        if left:
            raise InvalidInput(
                f"{item.sku}: {item.quantity} units to {what}, but only "
                f"{sum(line.quantity for line in candidates)} are left to send.",
                code="quantity_exceeds_line", sku=item.sku)
    return wanted


def settled(lines: Sequence[FulfillmentLine]) -> states.Status | None:
    """The final state once nothing is left to send; None while units remain."""
    if any(line.quantity for line in lines):
        return None
    if any(line.shipped_quantity for line in lines):
        return states.Status.SHIPPED
    return states.Status.REJECTED


async def _consume(session: AsyncSession, work: WorkUnderway, units: dict[uuid.UUID, int]) -> list[
    dict[str, Any]
]:
    """Units leave the location: allocations shrink and the reservations become sales."""
    sent = []
    for line in sorted(work.lines, key=lambda line: line.sku):
        quantity = units.get(line.id, 0)
        if not quantity:
            continue
        await order_verbs.take_from_allocation(session, work.order.id, line.line_id,
                                               work.fulfillment.location, quantity)
        line.quantity -= quantity
        line.shipped_quantity += quantity
        await inventory.consume_reservation(session, line.sku, work.fulfillment.location,
                                            quantity, work.principal.actor,
                                            reference=work.order.number)
        sent.append({"sku": line.sku, "quantity": quantity})
    return sent


async def carrier_for(code: str) -> CarrierOut:
    """An active carrier of the configuration; refused (422) with the known ones otherwise."""
    carrier = await config.get_carrier(code)
    if carrier is None or not carrier.active:
        known = [c.code for c in await config.list_carriers(active_only=True)]
        raise InvalidInput(f"Unknown carrier '{code.strip()}': add it in the configuration, or "
                           f"use one of {', '.join(known) or 'none yet'}.",
                           code="unknown_carrier", allowed=known)
    return carrier


async def ship(session: AsyncSession, fulfillment_id: uuid.UUID, data: ShipIn, *,
               principal: Principal) -> FulfillmentOut:
    """A parcel leaves: all units left, or the given ones (a partial shipment)."""
    known = await carrier_for(data.carrier)
    work = await begin_work(session, fulfillment_id, principal, states.Action.SHIP)
    units = (units_to(data.lines, work.lines, "ship") if data.lines
             else {line.id: line.quantity for line in work.lines if line.quantity})
    if not units:
        raise InvalidInput("Nothing left to ship.", code="nothing_to_ship")
    carrier = known.code.strip().lower()
    tracking_number = data.tracking_number.strip()
    sent = await _consume(session, work, units)
    url = states.tracking_url(known.tracking_url_template, tracking_number)
    shipment = Shipment(id=new_id(), fulfillment_id=work.fulfillment.id, carrier=carrier,
                        service=data.service, tracking_number=tracking_number,
                        tracking_url=url, lines=sent, shipped_by=principal.actor,
                        shipped_at=utcnow())
    session.add(shipment)
    work.fulfillment.status = (settled(work.lines) or states.Status.PARTIALLY_SHIPPED).value
    work.data = {"shipment_id": str(shipment.id), "carrier": carrier, "service": data.service,
                 "tracking_number": tracking_number, "tracking_url": url, "lines": sent}
    return await finish_work(session, work, EventType.FULFILLMENT_SHIPPED)


async def ready_for_pickup(session: AsyncSession, fulfillment_id: uuid.UUID, *,
                           principal: Principal) -> FulfillmentOut:
    """The parcel waits at the counter: the customer is told and the hold clock starts."""
    work = await begin_work(session, fulfillment_id, principal, states.Action.READY_FOR_PICKUP)
    location = await config.get_location(work.fulfillment.location)
    hold_days = location.pickup_hold_days if location is not None else 7
    if work.order.pickup_code:
        # Tens of ms of CPU, on purpose (counter.py): in a thread, not on the event loop.
        digest = await asyncio.to_thread(counter.PickupCodeDigest.of, work.order.pickup_code)
        work.fulfillment.pickup_code_digest = digest.stored()
    now = utcnow()
    work.fulfillment.status = states.Status.READY_FOR_PICKUP.value
    work.fulfillment.ready_at = now
    work.fulfillment.hold_until = now + dt.timedelta(days=hold_days)
    await notify(session, "email.ready_for_pickup", work.order, work.fulfillment,
                  pickup_code=work.order.pickup_code)
    work.data = {"hold_until": work.fulfillment.hold_until.isoformat()}
    return await finish_work(session, work, EventType.FULFILLMENT_READY_FOR_PICKUP)


async def notify(session: AsyncSession, kind: str, order: Order, fulfillment: Fulfillment,
                  **extra: Any) -> None:
    await enqueue(session, kind, {
        "order_number": order.number, "email": order.customer_email,
        "name": order.customer_name, "location": fulfillment.location,
        "hold_until": fulfillment.hold_until.isoformat() if fulfillment.hold_until else None,
        "tracking_token": order.tracking_token, **extra,
    })


async def handover(session: AsyncSession, fulfillment_id: uuid.UUID, data: HandoverIn, *,
                   principal: Principal) -> FulfillmentOut:
    """Handed over at the counter: with the customer's code, or a manager's override; above
    the channel's amount, once the associate has checked the customer's ID."""
    work = await begin_work(session, fulfillment_id, principal, states.Action.HANDOVER)
    if data.code is not None:
        given = counter.normalise(data.code)
        expected = work.order.pickup_code or ""
        if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
            raise Conflict("This pickup code does not match the order; check it with the "
                           "customer, or ask a manager to override.", code="wrong_pickup_code")
    elif data.override_reason is not None and data.override_reason.strip():
        if principal.role not in MANAGER_ROLES:
            raise Forbidden("Only a manager can hand over an order without its pickup code.",
                            code="override_not_allowed")
        work.fulfillment.override_reason = data.override_reason.strip()
    else:
        raise InvalidInput("Send the customer's pickup code, or a manager's override_reason.",
                           code="pickup_code_required")
    order = work.order
    if not data.id_checked and await needs_id_check(order.total, order.currency,
                                                        order.channel):
        raise InvalidInput("Check the customer's ID before handing over this order (its amount "
                           "asks for it), then confirm it with id_checked.",
                           code="id_check_required", total=order.total,
                           currency=order.currency)
    units = {line.id: line.quantity for line in work.lines if line.quantity}
    handed = await _consume(session, work, units)
    now = utcnow()
    work.fulfillment.status = states.Status.HANDED_OVER.value
    work.fulfillment.handed_over_at = now
    work.fulfillment.handed_over_by = principal.actor
    work.fulfillment.collected_by = (data.collected_by or "").strip() or None
    work.data = {"lines": handed, "collected_by": work.fulfillment.collected_by,
                 "with": "code" if data.code is not None else "override",
                 **({"id_checked": True} if data.id_checked else {}),
                 **({"override_reason": work.fulfillment.override_reason}
                    if data.code is None else {})}
    return await finish_work(session, work, EventType.FULFILLMENT_HANDED_OVER)


