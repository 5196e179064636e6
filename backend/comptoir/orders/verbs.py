"""What other domains may do to an order's rows, and only this: the order owns its tables.

Fulfillment calls these verbs as units leave a location or are rejected there, and as its
work moves on; it never writes ``orders``, ``order_lines`` or ``order_allocations`` itself.
Each verb runs in the caller's transaction, on an order the caller has locked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.errors import Conflict
from comptoir.orders import lifecycle
from comptoir.orders.actions import cancel_unallocated, touch
from comptoir.orders.models import Order, OrderAllocation
from comptoir.orders.rerouting import Moved, Rerouted, reroute_rejected

__all__ = [
    "Moved",
    "Rerouted",
    "cancel_unallocated",
    "follow",
    "reroute_rejected",
    "take_from_allocation",
    "touch",
]


async def take_from_allocation(
    session: AsyncSession, order_id: uuid.UUID, line_id: uuid.UUID, location: str,
    quantity: int,
) -> None:
    """Units of a line leave ``location`` (shipped, handed over, rejected): the order holds
    that many fewer there. Refused when the order holds nothing there for the line."""
    allocation = await session.scalar(select(OrderAllocation).where(
        OrderAllocation.order_id == order_id, OrderAllocation.line_id == line_id,
        OrderAllocation.location == location))
    if allocation is None:
        raise Conflict("This fulfillment no longer matches the order's allocations.",
                       code="allocation_mismatch")
    allocation.quantity -= quantity


def follow(order: Order, moves: Iterable[lifecycle.Action]) -> None:
    """The order's status follows its fulfillments' progress, through the lifecycle's
    moves (each one checked)."""
    for action in moves:
        order.status = lifecycle.move(order.status, action).status.value
