"""Recording domain events and queueing side effects, in the caller's transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.engine import on_commit
from comptoir.events.models import Event, OutboxMessage

__all__ = [
    "add_event_listener",
    "enqueue",
    "events_after",
    "outbox_wakeup",
    "record_event",
]

EventListener = Callable[[Sequence[Event]], None]
_listeners: list[EventListener] = []


class WakeUp:
    """A process-wide nudge for the outbox dispatcher, set after a commit that queued work."""

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def register(self, ev: asyncio.Event) -> None:
        self._events.add(ev)

    def unregister(self, ev: asyncio.Event) -> None:
        self._events.discard(ev)

    def set(self) -> None:
        for ev in list(self._events):
            ev.set()


outbox_wakeup = WakeUp()


def add_event_listener(listener: EventListener) -> Callable[[], None]:
    """Be told of events once their transaction has committed; returns the way to stop."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


_PENDING_KEY = "comptoir.events.pending"


def _flush_listeners(session: AsyncSession) -> Callable[[], None]:
    def run() -> None:
        events = session.sync_session.info.pop(_PENDING_KEY, [])
        for listener in list(_listeners):
            listener(events)

    return run


async def record_event(
    session: AsyncSession,
    *,
    topic: str,
    type: str,
    subject: str,
    data: dict[str, Any],
    actor: str,
) -> Event:
    """Append an event in the session's transaction; it exists only if the change commits."""
    event = Event(topic=topic, type=type, subject=subject, data=data, actor=actor)
    session.add(event)
    info = session.sync_session.info
    if _PENDING_KEY not in info:
        info[_PENDING_KEY] = []
        on_commit(session, _flush_listeners(session))
    info[_PENDING_KEY].append(event)
    return event


async def enqueue(
    session: AsyncSession, kind: str, payload: dict[str, Any], *, event_seq: int | None = None
) -> OutboxMessage:
    """Queue a side effect in the session's transaction; the dispatcher delivers it after commit."""
    message = OutboxMessage(kind=kind, payload=payload, event_seq=event_seq)
    session.add(message)
    on_commit(session, outbox_wakeup.set)
    return message


async def events_after(
    session: AsyncSession,
    since: int,
    *,
    topic: str | None = None,
    subject: str | None = None,
    limit: int = 500,
) -> list[Event]:
    """Events with a sequence above ``since``, oldest first."""
    query = select(Event).where(Event.seq > since)
    if topic is not None:
        query = query.where(Event.topic == topic)
    if subject is not None:
        query = query.where(Event.subject == subject)
    result = await session.scalars(query.order_by(Event.seq).limit(limit))
    return list(result)
