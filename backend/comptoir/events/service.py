"""Recording domain events and queueing side effects, in the caller's transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached

from comptoir.db.engine import on_commit
from comptoir.events.models import Event, OutboxMessage
from comptoir.events.types import check_event

__all__ = [
    "add_event_listener",
    "announce_committed",
    "enqueue",
    "events_after",
    "outbox_wakeup",
    "record_event",
    "recorded_by_sql",
]

log = logging.getLogger("comptoir.events")

# Told of committed events, and of the database they were committed to (its URL).
EventListener = Callable[[Sequence[Event], URL | None], None]
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
    """Be told of events once their transaction has committed; returns the way to stop.

    The listener runs synchronously right after the commit, with the committed events in
    ``seq`` order; it must be quick and must not use the database (hand work to a task).
    Their ``seq`` is None: the database numbered them, and a listener that needs the
    numbers reads the rows back (``events_after``).
    """
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _notify(events: Sequence[Event], database: URL | None) -> None:
    for listener in list(_listeners):
        try:
            listener(events, database)
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

    Its ``seq`` is given by the database (see ``_announce_events``): here it stays None.
    ``type`` must be registered (events/types.py) and ``data`` fit its payload.
    """
    check_event(type, topic, data)
    event = Event(topic=topic, type=type, subject=subject, data=data, actor=actor)
    session.add(event)
    session.sync_session.info.setdefault(_PENDING_KEY, []).append(event)
    return event


def recorded_by_sql(
    session: AsyncSession, *, id: uuid.UUID, topic: str, type: str, subject: str,
    data: dict[str, Any], actor: str, at: dt.datetime,
) -> Event:
    """An event the caller inserted with its own SQL (seq NULL), in this
    transaction: it is announced after the commit like ``record_event``'s.

    For hot paths that write several tables in one statement (order capture). The object
    joins the session as already stored, so no INSERT is flushed for it. Checked like
    ``record_event``'s: refused, the caller's transaction rolls back.
    """
    check_event(type, topic, data)
    event = Event(id=id, seq=None, topic=topic, type=type, subject=subject, data=data,
                  actor=actor, at=at)
    make_transient_to_detached(event)
    session.add(event)
    session.sync_session.info.setdefault(_PENDING_KEY, []).append(event)
    return event


def _announce_events(sync_session: Session) -> None:
    """Have the transaction's events announced once it commits.

    Their global sequence numbers are given by the database (events/models.py), in commit
    order, which is what makes ``seq`` safe to resume from: had each event taken a number
    from a counter when inserted, a transaction holding number 10 could commit after
    another one's 11 became visible, and a reader already past 11 would never see 10. So
    the numbers are not known here: listeners get the events with ``seq`` None and read
    them back when they need them.
    """
    if sync_session.in_nested_transaction():
        return  # a savepoint being released, not the commit
    pending: list[Event] = sync_session.info.pop(_PENDING_KEY, [])
    # Events added in a savepoint that rolled back have left the session.
    events = [e for e in pending if e in sync_session]
    if events:
        on_commit(sync_session, lambda: _committed_unnumbered(sync_session, events))


def announce_committed(events: Sequence[Event], *, database: URL) -> None:
    """Tell the listeners of events the caller wrote with its own SQL, outside any session,
    and has committed (order capture's shared statements).

    Not checked here: after the commit a refusal would come too late. The caller checks
    them before it writes (capture's ``rows.DraftEvent``).
    """
    if events:
        _notify(events, database)


def _committed_unnumbered(sync_session: Session, events: list[Event]) -> None:
    bind = sync_session.get_bind()
    _notify(events, getattr(bind, "url", None))
    # The rows now have numbers these objects do not: a later query in this session must
    # load them afresh rather than hand back the identity map's stale copies.
    for event in events:
        if event in sync_session:
            sync_session.expunge(event)


def _forget_events(sync_session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        sync_session.info.pop(_PENDING_KEY, None)


if not sa_event.contains(Session, "before_commit", _announce_events):
    sa_event.listen(Session, "before_commit", _announce_events)
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
