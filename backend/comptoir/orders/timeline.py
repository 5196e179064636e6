"""The order's timeline as the API shows it: its events, each with who did it in words."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.events.actors import actor_out, with_actors
from comptoir.events.models import Event
from comptoir.orders.schemas import EventOut

__all__ = ["order_timeline"]

TIMELINE_LIMIT = 1000  # events shown for one order


async def order_timeline(session: AsyncSession, number: str) -> list[EventOut]:
    """The order's committed events, oldest first, and their actors: one statement."""
    events = Event.__table__
    source, actor_columns = with_actors(events, events.c.actor)
    query = (select(events.c.seq, events.c.type, events.c.at, events.c.actor, events.c.data,
                    *actor_columns)
             .select_from(source)
             .where(events.c.topic == "order", events.c.subject == number, events.c.seq > 0)
             .order_by(events.c.seq)
             .limit(TIMELINE_LIMIT))
    return [EventOut(seq=row.seq, type=row.type, at=row.at, actor=row.actor,
                     by=actor_out(row.actor, tuple(row[5:])), data=row.data)
            for row in (await session.execute(query)).all()]
