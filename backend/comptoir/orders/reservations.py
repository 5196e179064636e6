"""An order's stock moves: units reserved or released per (sku, location), in one fixed
order, each reservation the conditional update checked by its row count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.inventory import service as inventory
from comptoir.orders.refusals import out_of_stock
from comptoir.routing import scoring

__all__ = ["Levels", "change_reservations", "released", "reserved"]

Levels = Mapping[tuple[str, str], int]  # (sku, location) -> units


async def change_reservations(
    session: AsyncSession, deltas: Levels, *, demand: Sequence[tuple[str, int]] = (),
    held: Levels | None = None,
) -> None:
    """Reserve (positive) or release (negative) units per (sku, location).

    When a reservation fails (another order took the units since the snapshot routing
    used), refuse with ``out_of_stock``: the SKU, what ``demand`` asks of it, and what is
    there now for this order (``held``: the units it held before the change count as its
    own). The caller's transaction must then be rolled back: that undoes the changes
    already made.
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
            now = (await inventory.availability(session, [sku])).get(sku, {})
            there = sum(now.values()) + sum(n for (s, _loc), n in holding.items() if s == sku)
            requested = sum(q for s, q in demand if s == sku) or delta
            raise out_of_stock([scoring.Shortage(sku, requested, there)])
        holding[(sku, location)] = holding.get((sku, location), 0) + delta


def released(changes: Levels) -> list[dict[str, str | int]]:
    """The units a change gives back, as the order's timeline lists them."""
    return [{"sku": sku, "location": location, "quantity": -delta}
            for (sku, location), delta in sorted(changes.items()) if delta < 0]


def reserved(changes: Levels) -> list[dict[str, str | int]]:
    """The units a change reserves, as the order's timeline lists them."""
    return [{"sku": sku, "location": location, "quantity": delta}
            for (sku, location), delta in sorted(changes.items()) if delta > 0]
