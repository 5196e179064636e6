"""Units a location rejected, routed again by the routing policy, as at capture.

The locations already serving the order come first, when the policy lets them take all
the units; otherwise the policy looks everywhere but the rejecting location: stores that
may not ship, daily capacity (one order counted at each location added, in one conditional
write), the channel's safety stock and the maximum of locations all apply, and the
decision is stored with the order. When only locations at capacity have the units, they
are held at those (the decision says it waits for capacity). What the policy cannot place
together is placed line by line; what it cannot place at all is for the caller to cancel.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.base import new_id
from comptoir.inventory import service as inventory
from comptoir.orders import service
from comptoir.orders.models import Order, OrderAllocation
from comptoir.orders.reservations import change_reservations
from comptoir.routing import scoring
from comptoir.routing.decisions import record_decision
from comptoir.routing.replanning import Rerouting, route_with_preference

__all__ = ["Moved", "Rerouted", "reroute_rejected"]


@dataclass(frozen=True, slots=True)
class Moved:
    """Units of an order line now reserved and allocated at ``location``."""

    line_id: uuid.UUID
    sku: str
    location: str
    quantity: int


@dataclass
class Rerouted:
    """Where rejected units went: routed elsewhere, held at locations with no capacity left
    today (the order waits for a decision), and what nowhere has, per line."""

    elsewhere: list[Moved] = field(default_factory=list)
    at_capacity: list[Moved] = field(default_factory=list)
    nowhere: dict[uuid.UUID, int] = field(default_factory=dict)


async def _decide(session: AsyncSession, order: Rerouting, demand: list[tuple[str, int]],
                  here: str, using: int) -> list[tuple[list[tuple[str, int]], scoring.Decision]]:
    """The decisions for ``demand``: one for all of it, else one per SKU."""
    stock = await inventory.availability(session, [sku for sku, _q in demand])
    parts = [demand]
    decisions = []
    while parts:
        part = parts.pop(0)
        decision, _near = await route_with_preference(
            session, order, near=(part, stock), anywhere=(part, stock), excluded={here},
            using=using)
        if not decision.accepted and len(part) > 1:
            parts = [[item] for item in part] + parts
            continue
        if not decision.routed:  # a routed one is stored already
            await record_decision(session, order.order_number, decision, counted=True)
        decisions.append((part, decision))
    return decisions


async def reroute_rejected(
    session: AsyncSession, order: Order, rejected: Mapping[uuid.UUID, int],
    sku_of: Mapping[uuid.UUID, str], *, here: str,
) -> Rerouted:
    """Route ``rejected`` units (per order line) anywhere but ``here``, reserve them and
    allocate them to the order; ``here``'s allocations were reduced by the caller."""
    using = frozenset(await session.scalars(select(OrderAllocation.location).where(
        OrderAllocation.order_id == order.id, OrderAllocation.quantity > 0)))
    serving = using - {here}
    rerouting = Rerouting(order.number, order.channel, service.routing_delivery(
        order.delivery_method, order.pickup_location, order.ship_to), serving)
    line_of = {sku_of[line_id]: line_id for line_id in rejected}
    demand = sorted((sku_of[line_id], q) for line_id, q in rejected.items() if q > 0)
    out = Rerouted()
    for part, decision in await _decide(session, rerouting, demand, here, len(using)):
        if not decision.accepted:
            for sku, quantity in part:
                out.nowhere[line_of[sku]] = out.nowhere.get(line_of[sku], 0) + quantity
            continue
        moved = [Moved(line_of[a.sku], a.sku, a.location, a.quantity)
                 for a in decision.allocations]
        (out.elsewhere if decision.routed else out.at_capacity).extend(moved)
    placed = [*out.elsewhere, *out.at_capacity]
    await change_reservations(session, {(m.sku, m.location): m.quantity for m in placed},
                              demand=demand)
    await _allocate(session, order, placed)
    return out


async def _allocate(session: AsyncSession, order: Order, placed: list[Moved]) -> None:
    for moved in placed:
        allocation = await session.scalar(select(OrderAllocation).where(
            OrderAllocation.order_id == order.id, OrderAllocation.line_id == moved.line_id,
            OrderAllocation.location == moved.location))
        if allocation is None:
            session.add(OrderAllocation(
                id=new_id(), order_id=order.id, line_id=moved.line_id, sku=moved.sku,
                location=moved.location, quantity=moved.quantity,
                created_at=order.created_at))
        else:
            allocation.quantity += moved.quantity
