"""The refusals of an order the stock or the routing policy cannot serve: what is short,
else why routing placed it nowhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.errors import Conflict
from comptoir.inventory import service as inventory
from comptoir.orders.checks import Delivery
from comptoir.routing import scoring
from comptoir.routing import service as routing

__all__ = [
    "OutOfStock",
    "not_routed",
    "out_of_stock",
    "short_after_all",
]


class OutOfStock(Conflict):
    code = "out_of_stock"
    title = "Out of stock"


def out_of_stock(shortages: Iterable[scoring.Shortage]) -> OutOfStock:
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
    return out_of_stock([scoring.Shortage(sku, quantity, sum(now.get(sku, {}).values()))
                         for sku, quantity in demand])
