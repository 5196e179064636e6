"""Orders waiting for capacity: routed, oldest first, once a location can take them.

An order captured when every location that could serve it had reached its daily capacity is
accepted as ``awaiting_capacity``, its units held where routing would send it without the
limits (``routing.scoring.route_or_wait``), and it is in no location's queue. ``route_order``
tries one such order again: routed under the policy, its own held units counting as
available to it; its share of capacity counted with the conditional write (a location that
filled meanwhile: routed again on fresh counts); its reservations moved when it goes
elsewhere; then confirmed, with an ``order.routed`` event, and handed to its 3PLs.

``CapacityWatch.turn`` is the periodic job (app.py): it walks the waiting orders, oldest
first, each in its own transaction, when something that frees capacity changed since its
last walk (a location's next local day, the routing policy or a location's configuration),
and otherwise only the orders that began waiting since then.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.auth.schemas import SYSTEM
from comptoir.config import service as config
from comptoir.config.schemas import LocationOut, RoutingPolicyOut
from comptoir.db.base import new_id, utcnow
from comptoir.errors import DomainError
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.inventory import service as inventory
from comptoir.orders import lifecycle, service
from comptoir.orders.handoff import hand_off
from comptoir.orders.lifecycle import Action, Status
from comptoir.orders.models import Order, OrderAllocation, OrderLine
from comptoir.orders.reservations import change_reservations
from comptoir.routing import scoring
from comptoir.routing import service as routing

__all__ = ["CapacityWatch", "Walk", "route_order", "route_waiting"]

log = logging.getLogger("comptoir.orders.waiting")

# A location that fills while an order is routed to it: routed again this many times.
ATTEMPTS = 3
PAGE = 100
# Orders tried in one turn at most; the next turn goes on from there.
MAX_PER_TURN = 1_000
# Orders captured this long before a walk started may still have been committing then.
SETTLE = dt.timedelta(minutes=1)


def _levels(allocations: Sequence[OrderAllocation]) -> dict[tuple[str, str], int]:
    held: dict[tuple[str, str], int] = {}
    for a in allocations:
        if a.quantity > 0:
            held[(a.sku, a.location)] = held.get((a.sku, a.location), 0) + a.quantity
    return held


async def _decide(
    session: AsyncSession, order: Order, demand: list[tuple[str, int]],
    held: dict[tuple[str, str], int], now: dt.datetime,
) -> scoring.Decision | None:
    """Route the order and take its share of capacity; None while nothing can take it."""
    delivery = service.routing_delivery(order.delivery_method, order.pickup_location,
                                        order.ship_to)
    for _attempt in range(ATTEMPTS):
        stock = await inventory.availability(session, [sku for sku, _q in demand])
        for (sku, location), quantity in held.items():  # its own units are there for it
            levels = stock.setdefault(sku, {})
            levels[location] = levels.get(location, 0) + quantity
        decision = await routing.route(session, demand, delivery, channel=order.channel,
                                       stock=stock, now=now, wait=False)
        if not decision.routed:
            return None
        if not await routing.record_decision(session, order.number, decision, now=now):
            return decision
    return None  # filled under it every time: the next turn tries again


async def _follow(
    session: AsyncSession, order: Order, lines: Sequence[OrderLine],
    allocations: Sequence[OrderAllocation], decision: scoring.Decision,
) -> None:
    """The allocation rows follow the decision (one per line and location)."""
    line_of = {line.sku: line.id for line in lines}
    sku_of = {line.id: line.sku for line in lines}
    planned = {(line_of[a.sku], a.location): a.quantity for a in decision.allocations}
    for allocation in allocations:
        key = (allocation.line_id, allocation.location)
        if key in planned:
            allocation.quantity = planned.pop(key)
        elif allocation.quantity > 0:
            await session.delete(allocation)
    session.add_all(
        OrderAllocation(id=new_id(), order_id=order.id, line_id=line_id, sku=sku_of[line_id],
                        location=location, quantity=quantity, created_at=order.created_at)
        for (line_id, location), quantity in sorted(planned.items(), key=lambda kv: kv[0][1]))


async def route_order(
    session: AsyncSession, order_id: uuid.UUID, *, now: dt.datetime | None = None
) -> str | None:
    """Route one order waiting for capacity if a location can take it now (in the caller's
    transaction); its number when it was routed, None when it still waits (or another
    process holds it, or it no longer waits)."""
    now = now or utcnow()
    order = await session.scalar(
        select(Order).where(Order.id == order_id).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True))
    if order is None or order.status != Status.AWAITING_CAPACITY:
        return None
    lines, allocations = await service.lines_and_allocations(session, order.id)
    demand = [(line.sku, line.quantity) for line in lines if line.quantity > 0]
    held = _levels(allocations)
    decision = await _decide(session, order, demand, held, now)
    if decision is None:
        return None
    wanted: dict[tuple[str, str], int] = {}
    for a in decision.allocations:
        wanted[(a.sku, a.location)] = wanted.get((a.sku, a.location), 0) + a.quantity
    changes = {level: wanted.get(level, 0) - held.get(level, 0)
               for level in set(held) | set(wanted) if wanted.get(level, 0) != held.get(level, 0)}
    await change_reservations(session, changes, demand=demand, held=held)
    await _follow(session, order, lines, allocations, decision)
    previous = order.status
    order.status = lifecycle.move(order.status, Action.ROUTE).status.value
    order.version += 1
    order.updated_at = now
    await record_event(session, topic="order", type=EventType.ORDER_ROUTED, subject=order.number,
                       actor=SYSTEM.actor, data={
                           "version": order.version, "from": previous,
                           "locations": decision.locations, "reason": decision.reason,
                           "allocations": [{"sku": a.sku, "location": a.location,
                                            "quantity": a.quantity}
                                           for a in decision.allocations],
                           "reserved": [{"sku": sku, "location": location, "quantity": delta}
                                        for (sku, location), delta in sorted(changes.items())
                                        if delta > 0],
                           "released": [{"sku": sku, "location": location,
                                         "quantity": -delta}
                                        for (sku, location), delta in sorted(changes.items())
                                        if delta < 0],
                       })
    await hand_off(session, order_id=order.id, order_number=order.number,
                   locations=decision.locations, actor=SYSTEM.actor)
    await session.flush()
    return order.number


@dataclass
class Walk:
    """What one walk over the waiting orders did (order numbers routed, orders tried)."""

    routed: list[str] = field(default_factory=list)
    tried: int = 0


Mark = tuple[dt.datetime, uuid.UUID]


async def _waiting_after(session: AsyncSession, after: Mark | None) -> list[Mark]:
    query = (select(Order.created_at, Order.id)
             .where(Order.status == Status.AWAITING_CAPACITY.value)
             .order_by(Order.created_at, Order.id).limit(PAGE))
    if after is not None:
        query = query.where(tuple_(Order.created_at, Order.id) > after)
    return [(created_at, order_id) for created_at, order_id in await session.execute(query)]


async def route_waiting(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: dt.datetime | None = None,
    after: Mark | None = None, limit: int = MAX_PER_TURN,
) -> tuple[Walk, Mark | None]:
    """Try the orders waiting for capacity, oldest first (those after ``after``), each in its
    own transaction (a location's count is held for one order at a time, never for the
    walk); what it did, and the last order it tried."""
    now = now or utcnow()
    walk = Walk()
    while walk.tried < limit:
        async with sessionmaker() as session:
            page = await _waiting_after(session, after)
        for mark in page[:limit - walk.tried]:
            after = mark
            walk.tried += 1
            try:
                async with sessionmaker() as session, session.begin():
                    number = await route_order(session, mark[1], now=now)
            except DomainError as refused:  # e.g. its new location's units went meanwhile
                log.warning("order %s still waits for capacity: %s", mark[1], refused)
                continue
            if number is not None:
                walk.routed.append(number)
        if len(page) < PAGE:
            break
    return walk, after


# What frees capacity: the policy, the locations' configuration, and each one's local day.
Picture = tuple[RoutingPolicyOut, tuple[LocationOut, ...], tuple[dt.date, ...]]


async def _picture(now: dt.datetime) -> Picture:
    locations = tuple(await config.list_locations())
    return (await config.routing_policy(), locations,
            tuple(routing.local_day(loc.timezone, now) for loc in locations))


@dataclass
class CapacityWatch:
    """The periodic job that routes waiting orders when capacity may have freed (app.py)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    seen: Picture | None = None
    resume: Mark | None = None  # where the next walk starts while the picture is the same

    async def turn(self) -> None:
        await self.walk()

    async def walk(self, now: dt.datetime | None = None) -> Walk:
        """One walk (``now``: the clock routing goes by; the real one by default)."""
        started = utcnow()
        now = now or started
        picture = await _picture(now)
        # Nothing that frees capacity changed since the last walk: only the orders that
        # began waiting since (a location cannot take the others any more than then).
        start = self.resume if picture == self.seen else None
        walk, last = await route_waiting(self.sessionmaker, now=now, after=start)
        self.seen = picture
        # Cut short, the next walk goes on from there; otherwise it starts from the
        # orders that may have been committing while this one walked.
        self.resume = last if walk.tried >= MAX_PER_TURN else (started - SETTLE,
                                                               uuid.UUID(int=0))
        if walk.routed:
            log.info("orders waiting for capacity: %d routed", len(walk.routed))
        return walk
