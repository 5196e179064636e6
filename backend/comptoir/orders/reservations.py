"""Reservations of an order's units: the refusals when stock is short, and the changes an
edit or a rejection makes (planned with ``sourcing``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.errors import Conflict
from comptoir.inventory import service as inventory
from comptoir.orders import sourcing
from comptoir.orders.checks import Delivery
from comptoir.routing import scoring
from comptoir.routing import service as routing

__all__ = [
    "OutOfStock",
    "change_reservations",
    "not_routed",
    "out_of_stock",
    "plan",
    "ship_sites",
    "short_after_all",
]


class OutOfStock(Conflict):
    code = "out_of_stock"
    title = "Out of stock"


def out_of_stock(shortages: Iterable[sourcing.Shortage | scoring.Shortage]) -> OutOfStock:
    short = list(shortages)
    names = ", ".join(f"{s.sku} ({s.requested} asked, {s.available} available)" for s in short)
    return OutOfStock(
        f"Not enough stock for {names}; nothing was reserved.",
        lines=[{"sku": s.sku, "requested": s.requested, "available": s.available}
               for s in short],
    )


def not_routed(decision: scoring.Decision) -> Conflict:
    """The refusal of an order routing could not place: what is short, else why not."""
    if decision.shortages:
        return out_of_stock(decision.shortages)
    return Conflict(f"This order cannot be served: {decision.reason}", code="not_routable",
                    deciding_factor=decision.deciding_factor)



async def short_after_all(
    session: AsyncSession, demand: Sequence[tuple[str, int]], delivery: Delivery,
    channel: str,
) -> Conflict:
    """The refusal when a reservation failed after routing (another order took the units
    meanwhile): what routing finds now, or, if it finds enough (units came back since),
    the lines as short of what they asked."""
    now = await inventory.availability(session, [sku for sku, _q in demand])
    again = await routing.route(session, demand, delivery.for_routing(), channel=channel,
                                stock=now, listed=0)
    if not again.accepted:
        return not_routed(again)
    return out_of_stock([sourcing.Shortage(sku, quantity, sum(now.get(sku, {}).values()))
                         for sku, quantity in demand])



async def ship_sites() -> list[sourcing.Site]:
    return [sourcing.Site(loc.code, loc.kind)
            for loc in await config.list_locations(active_only=True) if loc.ships]


async def plan(
    demand: Sequence[tuple[str, int]],
    method: str,
    store: str | None,
    stock: Mapping[str, Mapping[str, int]],
    preferred: Sequence[str] = (),
) -> sourcing.Plan:
    """Where to reserve ``demand``: at ``store`` for a pickup, else from the shipping sites."""
    if method == "pickup":
        assert store is not None
        return sourcing.plan_pickup(demand, store, stock)
    return sourcing.plan_shipment(demand, await ship_sites(), stock, preferred=preferred)



async def change_reservations(
    session: AsyncSession,
    deltas: Mapping[tuple[str, str], int],
    *,
    demand: Sequence[tuple[str, int]],
    method: str,
    store: str | None,
    preferred: Sequence[str] = (),
    held: Mapping[tuple[str, str], int] | None = None,
) -> None:
    """Reserve (positive) or release (negative) units per (sku, location), in a fixed order.

    Reservations are the conditional update: when one fails, raise ``out_of_stock`` with what
    is really available to ``demand`` (the caller's transaction must then be rolled back:
    that is what undoes the changes already made). ``held``: the units the order held at
    each level before this change, which count as available to it.
    """
    holding = dict(held or {})
    # One order for every transaction (sku, then location): two never wait for each other
    # in opposite orders, so they never deadlock.
    for (sku, location), delta in sorted(deltas.items()):
        if delta < 0:
            await inventory.release(session, sku=sku, location=location, quantity=-delta)
        elif delta > 0 and not await inventory.reserve(
            session, sku=sku, location=location, quantity=delta
        ):
            now = await inventory.availability(session, [s for s, _ in demand])
            stock = {s: {loc: n + holding.get((s, loc), 0) for loc, n in levels.items()}
                     for s, levels in now.items()}
            again = await plan(demand, method, store, stock, preferred)
            if again.ok:
                # Stock came back meanwhile (a release or a receipt): this attempt still failed.
                requested = sum(q for s, q in demand if s == sku)
                raise out_of_stock([sourcing.Shortage(sku, requested, sum(stock[sku].values()))])
            raise out_of_stock(again.shortages)
        holding[(sku, location)] = holding.get((sku, location), 0) + delta

