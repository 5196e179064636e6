"""Recording domain events and queueing side effects, in the caller's transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from comptoir.db.engine import on_commit
from comptoir.events.models import Event, OutboxMessage

__all__ = [
    "add_event_listener",
    "enqueue",
    "events_after",
    "outbox_wakeup",
    "record_event",
]

log = logging.getLogger("comptoir.events")

EventListener = Callable[[Sequence[Event]], None]
_listeners: list[EventListener] = []

# Key of the PostgreSQL advisory lock that serialises the numbering of events at commit.
SEQ_LOCK_KEY = 0x636F6D7074_01  # "compt", 1


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
    """Be told of events once their transaction has committed; returns the way to stop.

    The listener runs synchronously right after the commit, with the committed events in
    ``seq`` order; it must be quick and must not use the database (hand work to a task).
    """
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _notify(events: Sequence[Event]) -> None:
    for listener in list(_listeners):
        try:
            listener(events)
        except Exception:  # one broken listener must not deprive the others
            log.exception("event listener %r failed", listener)


_PENDING_KEY = "comptoir.events.pending"


async def record_event(
    session: AsyncSession,
    *,
    topic: str,
    type: str,
    subject: str,
    data: dict[str, Any],
    actor: str,
) -> Event:
    """Append an event in the session's transaction; it exists only if the change commits.

    Its ``seq`` is given at commit (see ``_number_events``): until then it is None.
    """
    event = Event(topic=topic, type=type, subject=subject, data=data, actor=actor)
    session.add(event)
    session.sync_session.info.setdefault(_PENDING_KEY, []).append(event)
    return event


def _number_events(sync_session: Session) -> None:
    """Give the transaction's events their global sequence numbers, in commit order.

    Numbering at commit, one committer at a time, is what makes ``seq`` safe to resume from:
    had each event taken a number when inserted, a transaction holding number 10 could
    commit after another one's 11 became visible, and a reader already past 11 would never
    see 10. On SQLite every transaction already holds the write lock (BEGIN IMMEDIATE); on
    PostgreSQL a transaction-scoped advisory lock, held from here to the end of the commit,
    does the same for the few milliseconds it takes.
    """
    if sync_session.in_nested_transaction():
        return  # a savepoint being released, not the commit
    pending: list[Event] = sync_session.info.pop(_PENDING_KEY, [])
    # Events added in a savepoint that rolled back have left the session.
    events = [e for e in pending if e in sync_session]
    if not events:
        return
    # Write everything else first: holding the lock below, the transaction must never wait
    # for a row another transaction holds (that one may be waiting for this lock).
    sync_session.flush()
    with sync_session.no_autoflush:
        if sync_session.get_bind().dialect.name == "postgresql":
            sync_session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQ_LOCK_KEY})
        # A separate statement after the lock: under READ COMMITTED its snapshot includes
        # the events of whoever held the lock before us.
        last = sync_session.scalar(select(func.max(Event.seq))) or 0
    for offset, event in enumerate(events, start=1):
        event.seq = last + offset
    on_commit(sync_session, lambda: _notify(events))


def _forget_events(sync_session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        sync_session.info.pop(_PENDING_KEY, None)


if not sa_event.contains(Session, "before_commit", _number_events):
    sa_event.listen(Session, "before_commit", _number_events)
    sa_event.listen(Session, "after_transaction_end", _forget_events)


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
    """Committed events with a sequence above ``since``, oldest first."""
    query = select(Event).where(Event.seq > since)
    if topic is not None:
        query = query.where(Event.topic == topic)
    if subject is not None:
        query = query.where(Event.subject == subject)
    result = await session.scalars(query.order_by(Event.seq).limit(limit))
    return list(result)
