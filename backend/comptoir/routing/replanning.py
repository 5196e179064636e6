"""Routing an order that already holds units: an edit that needs more of them or another
delivery, units a store rejected. The same policy as capture decides (``service.route``).

The locations the order already uses come first (``only`` them: no new parcel, and they
count the order already); else the policy looks everywhere, ``excluded`` aside. A routed
decision counts one order at each location it adds (the count and the check in one
conditional write, as capture does; one that filled meanwhile: routed again on fresh
counts) and is stored with the order, where the order page shows it beside capture's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.errors import Conflict
from comptoir.routing import scoring
from comptoir.routing.capacity import claims_at, count_orders, full_today
from comptoir.routing.decisions import record_decision
from comptoir.routing.service import route

__all__ = ["NoCapacity", "Rerouting", "full_among", "route_again", "route_with_preference"]

# A location that fills while the order is routed to it: routed again this many times.
ATTEMPTS = 3


class NoCapacity(Conflict):
    code = "no_capacity"
    title = "No capacity left today"


@dataclass(frozen=True, slots=True)
class Rerouting:
    """The order as routing sees it: its number, channel, delivery, and the locations that
    serve it already (counted there today)."""

    order_number: str
    channel: str | None
    delivery: scoring.Delivery
    serving: frozenset[str]

    @property
    def pickup(self) -> bool:
        return self.delivery.method == "pickup"


async def route_again(
    session: AsyncSession, lines: Sequence[tuple[str, int]], order: Rerouting, *,
    stock: Mapping[str, Mapping[str, int]], only: Collection[str] | None = None,
    excluded: Collection[str] = (), capacity: bool = True, wait: bool = True,
    max_splits: int | None = None,
) -> scoring.Decision:
    """Route ``lines`` for ``order`` under the policy. A routed decision is counted at the
    locations it adds and stored; one waiting for capacity or refused is returned as it is
    (the caller stores it if it keeps it). ``capacity`` False: no daily limit binds and
    nothing is counted or stored (an order waiting for capacity only holds its units).
    ``NoCapacity`` when the locations kept filling under it."""
    tried: set[str] = set()
    for _attempt in range(ATTEMPTS):
        decision = await route(session, lines, order.delivery, channel=order.channel,
                               stock=stock, only=only, excluded=excluded,
                               counted=order.serving, capacity=capacity, wait=wait,
                               max_splits=max_splits)
        if not decision.routed or not capacity:
            return decision
        added = set(decision.locations) - order.serving
        full = await count_orders(session, await claims_at(added, pickup=order.pickup))
        if not full:
            await record_decision(session, order.order_number, decision, counted=True)
            return decision
        tried.update(full)
    raise NoCapacity("The locations that could take this change kept filling up; send it "
                     "again.", locations=sorted(tried))


async def route_with_preference(
    session: AsyncSession, order: Rerouting, *,
    near: tuple[Sequence[tuple[str, int]], Mapping[str, Mapping[str, int]]],
    anywhere: tuple[Sequence[tuple[str, int]], Mapping[str, Mapping[str, int]]],
    excluded: Collection[str] = (), capacity: bool = True, using: int = 0,
) -> tuple[scoring.Decision, bool]:
    """The lines of ``near`` at the locations serving the order when the policy lets them
    take all of it; otherwise those of ``anywhere`` (each with its availability snapshot),
    routed everywhere but ``excluded``. The decision, and whether it is ``near``'s.

    ``using``: the locations the order keeps using whatever this decides (``anywhere``'s
    lines are then only part of it): new locations are added only within the policy's
    maximum of locations.
    """
    serving = order.serving - set(excluded)
    splits_left = max(1, (await config.routing_policy()).max_splits) - using
    if serving or splits_left < 1:
        lines, stock = near
        decision = await route_again(session, lines, order, stock=stock, only=serving,
                                     capacity=capacity, wait=False)
        if decision.routed or splits_left < 1:
            return decision, True
    lines, stock = anywhere
    return await route_again(session, lines, order, stock=stock, excluded=excluded,
                             capacity=capacity, max_splits=splits_left if using else None), False


async def full_among(session: AsyncSession, decision: scoring.Decision,
                     order: Rerouting) -> list[str]:
    """The locations of a decision waiting for capacity that have none left today (the
    order's own aside)."""
    full = await full_today(session, pickup=order.pickup)
    return sorted(code for code in decision.locations
                  if code in full and code not in order.serving) or decision.locations
