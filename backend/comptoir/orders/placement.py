"""Where an edited order's units are held: the routing policy decides, as at capture.

More units, new lines or another delivery are routed by ``routing.replanning``: at the
locations the order already uses when the policy lets them take it all (what the order
holds stays where it is), else the whole order is routed again under the policy — stores
that may not ship, daily capacity, the channel's safety stock and the maximum of locations
included — its own units counting as available to it. A routed decision is counted and
stored with the order; an order waiting for capacity only holds its units (the
waiting-order job routes it). Fewer units give back from the last locations first.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.base import new_id
from comptoir.orders import service
from comptoir.orders.lifecycle import Status
from comptoir.orders.models import Order, OrderAllocation, OrderLine
from comptoir.routing import scoring
from comptoir.routing.replanning import NoCapacity, Rerouting, full_among, route_with_preference

__all__ = ["Placement", "Wanted", "per_level", "place", "write_allocations"]

Placement = dict[tuple[uuid.UUID, str], int]  # (line id, location) -> units held there
Stock = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class Wanted:
    """What an edit asks: each line's units (by id, with its SKU), and where it goes."""

    target: Mapping[uuid.UUID, int]
    sku_of: Mapping[uuid.UUID, str]
    delivery: scoring.Delivery
    moves_stock: bool  # another delivery: everything is placed again


def _keep(held: Placement, target: Mapping[uuid.UUID, int], sku_of: Mapping[uuid.UUID, str]
          ) -> tuple[Placement, list[tuple[str, int]]]:
    """What the order keeps where it is (fewer units given back from the last locations
    first), and the units still to place, per SKU."""
    planned = dict(held)
    extra: list[tuple[str, int]] = []
    for line_id, wanted in target.items():
        have = sum(q for (i, _location), q in planned.items() if i == line_id)
        if wanted < have:
            surplus = have - wanted
            for key in sorted((k for k in planned if k[0] == line_id), key=lambda k: k[1],
                              reverse=True):
                take = min(surplus, planned[key])
                planned[key] -= take
                surplus -= take
        elif wanted > have:
            extra.append((sku_of[line_id], wanted - have))
    return planned, extra


def _with_own(stock: Stock, held: Placement, sku_of: Mapping[uuid.UUID, str]) -> Stock:
    """Availability with the units the order holds counted as available to it."""
    own = {sku: dict(levels) for sku, levels in stock.items()}
    for (line_id, location), quantity in held.items():
        levels = own.setdefault(sku_of[line_id], {})
        levels[location] = levels.get(location, 0) + quantity
    return own


def _refusal(decision: scoring.Decision, held: Placement, sku_of: Mapping[uuid.UUID, str],
             *, moves_stock: bool) -> Exception:
    """Routing's refusal, said of what the change asks beyond what the order holds."""
    if moves_stock or not decision.shortages:
        return service.not_routed(decision)
    own: dict[str, int] = {}
    for (line_id, _location), quantity in held.items():
        own[sku_of[line_id]] = own.get(sku_of[line_id], 0) + quantity
    return service.out_of_stock(
        scoring.Shortage(s.sku, s.requested - own.get(s.sku, 0),
                         max(0, s.available - own.get(s.sku, 0)))
        for s in decision.shortages)


async def place(
    session: AsyncSession, order: Order, held: Placement, wanted: Wanted, stock: Stock,
) -> tuple[Placement, list[tuple[str, int]]]:
    """Where each line's units will be held after the edit, and the demand routing placed.

    Refuses with ``out_of_stock`` (or ``not_routable``) when the policy cannot serve the
    change, and with ``no_capacity`` when only locations with no capacity left today can.
    """
    target, sku_of = wanted.target, wanted.sku_of
    line_of = {sku: line_id for line_id, sku in sku_of.items()}
    whole = [(sku_of[line_id], q) for line_id, q in target.items() if q > 0]
    planned, extra = _keep(held, target, sku_of)
    if not wanted.moves_stock and not extra:
        return planned, []
    waiting = Status.AWAITING_CAPACITY in (order.status, order.held_from)
    rerouting = Rerouting(order.number, order.channel, wanted.delivery,
                          frozenset(location for _line, location in held))
    own = _with_own(stock, held, sku_of)
    near = (whole, own) if wanted.moves_stock else (extra, stock)
    decision, kept = await route_with_preference(session, rerouting, near=near,
                                                 anywhere=(whole, own), capacity=not waiting)
    if decision.awaiting_capacity:
        full = await full_among(session, decision, rerouting)
        raise NoCapacity(
            f"The units of this change are only at {', '.join(full)}, which "
            f"{'has' if len(full) == 1 else 'have'} no capacity left today: try again "
            "tomorrow, or raise the capacity.", locations=full)
    if not decision.accepted:
        raise _refusal(decision, held, sku_of, moves_stock=wanted.moves_stock)
    if wanted.moves_stock or not kept:  # everything was placed again
        planned, extra = {}, whole
    for a in decision.allocations:
        key = (line_of[a.sku], a.location)
        planned[key] = planned.get(key, 0) + a.quantity
    return planned, extra


def per_level(placement: Placement, sku_of: Mapping[uuid.UUID, str]) -> dict[
    tuple[str, str], int
]:
    levels: dict[tuple[str, str], int] = {}
    for (line_id, location), quantity in placement.items():
        level = (sku_of[line_id], location)
        levels[level] = levels.get(level, 0) + quantity
    return levels


async def write_allocations(
    session: AsyncSession, order: Order, allocations: Sequence[OrderAllocation],
    held: Placement, planned: Placement, sku_of: Mapping[uuid.UUID, str],
    removed: Sequence[OrderLine],
) -> list[OrderAllocation]:
    """Allocation rows follow the plan: rows the edit empties go, cancelled ones stay at 0."""
    removed_ids = {line.id for line in removed}
    by_key = {(a.line_id, a.location): a for a in allocations}
    kept: list[OrderAllocation] = []
    for key, allocation in by_key.items():
        if key in held or key in planned:
            allocation.quantity = planned.get(key, 0)
        if (allocation.quantity == 0 and key in held) or allocation.line_id in removed_ids:
            await session.delete(allocation)
        else:
            kept.append(allocation)
    added = [
        OrderAllocation(id=new_id(), order_id=order.id, line_id=line_id, sku=sku_of[line_id],
                        location=location, quantity=quantity, created_at=order.created_at)
        for (line_id, location), quantity in sorted(planned.items(), key=lambda kv: kv[0][1])
        if quantity > 0 and (line_id, location) not in by_key
    ]
    return [*kept, *added]
