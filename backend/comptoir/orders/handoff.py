"""Queueing the hand-off of an order to its 3PLs: the order announces where its work goes.

Only the cached configuration and the outbox, so capture pays nothing for it. Orders own
the announcement; fulfillment delivers it (``fulfillment.third_party.deliver_hand_off``
makes the fulfillment and POSTs it signed), so fulfillment depends on orders, never the
other way round.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.events.service import enqueue

__all__ = ["HAND_OFF", "hand_off", "hand_off_payloads"]

# The outbox kind of a hand-off.
HAND_OFF = "fulfillment.3pl_hand_off"


async def hand_off_payloads(*, order_id: uuid.UUID, order_number: str,
                            locations: Iterable[str], actor: str) -> list[dict[str, Any]]:
    """The payload of one hand-off message per 3PL among ``locations`` (none: no 3PL).

    Reads only the cached configuration.
    """
    return [{"order_id": str(order_id), "order_number": order_number, "location": location,
             "actor": actor}
            for location in sorted(set(locations))
            if await config.third_party(location) is not None]


async def hand_off(session: AsyncSession, *, order_id: uuid.UUID, order_number: str,
                   locations: Iterable[str], actor: str) -> None:
    """Queue the hand-off of an order's work to each 3PL among ``locations``: one outbox
    message per 3PL, delivered after commit as a signed webhook.

    Reads only the cached configuration: an order with no 3PL among its locations costs no
    statement at all. Call it in the transaction that allocates the order.
    """
    for payload in await hand_off_payloads(order_id=order_id, order_number=order_number,
                                           locations=locations, actor=actor):
        await enqueue(session, HAND_OFF, payload)
