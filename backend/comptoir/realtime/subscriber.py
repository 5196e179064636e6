"""One connection's place in the live feed, and the message it gets for an event."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from comptoir.events.models import Event
from comptoir.realtime.schemas import EventMessage, LiveEvent, Ping

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_SIGNED_OUT",
    "CLOSE_TOO_SLOW",
    "PING_TEXT",
    "Presenter",
    "Route",
    "Subscriber",
    "encode",
    "live_event",
    "render",
    "session_key",
]

CLOSE_TOO_SLOW = 4008
CLOSE_SIGNED_OUT = 4401  # the staff session the connection was opened with has ended
CLOSE_GOING_AWAY = 1012  # the server restarts: reconnect and resume

# What a customer may see of an event (type, data): the data shown, or None: not shown. The
# data is the event's JSON as recorded (typed payloads: issue 11's event registry).
Presenter = Callable[[str, dict[str, Any]], dict[str, Any] | None]

encode = msgspec.json.Encoder().encode
PING_TEXT = encode(Ping()).decode()


def session_key(session_id: str) -> str:
    """What the hub (and Redis) know of a staff session: a digest, never the cookie itself."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


def live_event(row: Event) -> LiveEvent:
    """A committed row of the event log, as the hub and the other processes carry it."""
    assert row.seq is not None
    return LiveEvent(id=str(row.id), seq=row.seq, topic=row.topic, type=row.type,
                     subject=row.subject, data=row.data, at=row.at)


@dataclass(frozen=True, slots=True)
class Route:
    """How a subscriber receives one hub topic: under which name, and as whom.

    ``present`` is None for staff and systems (the event's data as recorded); a customer
    following an order by its tracking token gets what the tracking code lets them see.
    """

    topic: str
    present: Presenter | None = None


def render(event: LiveEvent, routes: tuple[Route, ...]) -> str | None:
    """The message for a subscriber reached by ``routes`` (the most specific first): one
    message, under the first topic, listing every topic of the client's it belongs to.
    The recorded data when any route is a staff one; else what a customer may see."""
    staff = any(route.present is None for route in routes)
    present = routes[0].present
    data = event.data if staff or present is None else present(event.type, event.data)
    if data is None:
        return None
    message = EventMessage(seq=event.seq, topic=routes[0].topic,
                           topics=[route.topic for route in routes], type=event.type,
                           data=data, at=event.at)
    return encode(message).decode()


class Subscriber:
    """One connection's place in the feed: what it follows, what it was sent, what waits.

    ``position`` is the last sequence number handed to the connection (or passed over):
    it only grows, which is what makes the stream free of duplicates and in order. While
    the connection's backlog is read from the table, live events wait in ``held``.
    """

    __slots__ = ("closing", "held", "last_sent", "limit", "out", "position", "replaying",
                 "room", "routes", "session", "wake")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.routes: dict[str, Route] = {}  # hub topic -> how this subscriber gets it
        self.position = 0
        self.replaying = True
        self.held: list[tuple[int, str]] = []
        self.out: deque[str] = deque()
        self.wake = asyncio.Event()  # something to send, or the connection must close
        self.room = asyncio.Event()  # the backlog reader may queue more
        self.room.set()
        self.closing: tuple[int, str] | None = None
        self.last_sent = time.monotonic()
        self.session: str | None = None  # the staff session it was opened with (a digest)

    @property
    def low_water(self) -> int:
        """The backlog reader queues more only below this many waiting messages."""
        return max(1, self.limit // 4)

    def offer(self, seq: int, text: str) -> None:
        """A live event for this subscriber, from the hub, in sequence order."""
        if self.closing is not None or seq <= self.position:
            return
        if self.replaying:
            self.held.append((seq, text))
            if len(self.held) > self.limit:
                self.too_slow()
            return
        self.position = seq
        self.out.append(text)
        self.wake.set()
        if len(self.out) > self.limit:
            self.too_slow()

    async def replayed(self, seq: int, text: str | None) -> None:
        """An event of the backlog, oldest first; waits while the connection drains."""
        while self.closing is None and len(self.out) >= self.low_water:
            self.room.clear()
            await self.room.wait()
        if self.closing is not None or seq <= self.position:
            return
        self.position = seq
        if text is not None:
            self.out.append(text)
            self.wake.set()

    def go_live(self, position: int | None = None) -> None:
        """The backlog is sent (up to ``position``): release the live events that waited."""
        if position is not None:
            self.position = max(self.position, position)
        self.replaying = False
        held, self.held = self.held, []
        for seq, text in held:
            if seq > self.position:
                self.position = seq
                self.out.append(text)
        self.wake.set()

    def say(self, text: str) -> None:
        """A message of the protocol (an answer, a ping), in line with the events."""
        if self.closing is None:
            self.out.append(text)
            self.wake.set()

    def too_slow(self) -> None:
        # What waits is dropped now (memory is given back); the client resumes with since.
        self.out.clear()
        self.held.clear()
        self.close(CLOSE_TOO_SLOW, "too slow: reconnect and resume with since")

    def close(self, code: int, reason: str) -> None:
        """Stop feeding this connection; its sender closes it once what waits is sent."""
        if self.closing is None:
            self.closing = (code, reason)
        self.wake.set()
        self.room.set()

    def next_message(self) -> str | None:
        if not self.out:
            return None
        self.last_sent = time.monotonic()
        text = self.out.popleft()
        if len(self.out) < self.low_water:
            self.room.set()
        return text
