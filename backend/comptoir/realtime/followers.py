"""Who follows what in this process: the connections, their topics, their staff sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator

from comptoir.realtime.schemas import LiveEvent
from comptoir.realtime.subscriber import (
    CLOSE_SIGNED_OUT,
    PING_TEXT,
    Route,
    Subscriber,
    render,
)
from comptoir.realtime.topics import event_topics

__all__ = ["Followers"]


class Followers:
    """The hub's subscribers, by topic and by staff session, and the fan-out of an event."""

    def __init__(self) -> None:
        self._by_topic: dict[str, set[Subscriber]] = {}
        self._all: set[Subscriber] = set()
        self._by_session: dict[str, set[Subscriber]] = {}  # session_key -> its connections

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[Subscriber]:
        return iter(list(self._all))

    def join(self, limit: int, session: str | None = None) -> Subscriber:
        """A new connection, closed when more than ``limit`` messages wait for it;
        ``session`` is the :func:`session_key` of the staff session it was opened with, so
        that signing out closes it."""
        subscriber = Subscriber(limit)
        subscriber.session = session
        self._all.add(subscriber)
        if session is not None:
            self._by_session.setdefault(session, set()).add(subscriber)
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        self._all.discard(subscriber)
        if subscriber.session is not None:
            connections = self._by_session.get(subscriber.session)
            if connections is not None:
                connections.discard(subscriber)
                if not connections:
                    del self._by_session[subscriber.session]
        for topic in subscriber.routes:
            self._drop(subscriber, topic)
        subscriber.routes.clear()

    def follow(self, subscriber: Subscriber, topic: str, route: Route) -> None:
        """From now on, events on ``topic`` go to ``subscriber``."""
        subscriber.routes[topic] = route
        self._by_topic.setdefault(topic, set()).add(subscriber)

    def unfollow(self, subscriber: Subscriber, topic: str) -> None:
        subscriber.routes.pop(topic, None)
        self._drop(subscriber, topic)

    def _drop(self, subscriber: Subscriber, topic: str) -> None:
        followers = self._by_topic.get(topic)
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self._by_topic[topic]

    def close_session(self, session: str) -> None:
        """The staff session ``session`` has ended: close the connections opened with it."""
        for subscriber in self._by_session.pop(session, set()):
            subscriber.close(CLOSE_SIGNED_OUT, "signed out: sign in again")

    def render_for(self, subscriber: Subscriber, event: LiveEvent) -> str | None:
        """The message ``subscriber`` gets for ``event``, or None if it follows none of its
        topics (the backlog is read whole and sorted out here)."""
        routes = subscriber.routes
        reached = tuple(routes[topic]
                        for topic in event_topics(event.topic, event.subject, event.data)
                        if topic in routes)
        return render(event, reached) if reached else None

    def fan_out(self, event: LiveEvent) -> None:
        """Offer ``event`` to every subscriber following one of its topics, once each."""
        topics = event_topics(event.topic, event.subject, event.data)
        reached: set[Subscriber] = set()
        texts: dict[tuple[Route, ...], str | None] = {}  # most subscribers share one text
        for topic in topics:
            followers = self._by_topic.get(topic)
            if not followers:
                continue
            for subscriber in followers:
                if subscriber in reached:
                    continue
                reached.add(subscriber)
                routes = subscriber.routes
                key = tuple(routes[t] for t in topics if t in routes)
                if key not in texts:
                    texts[key] = render(event, key)
                text = texts[key]
                if text is not None:
                    subscriber.offer(event.seq, text)

    def ping_quiet(self, ping_seconds: float) -> None:
        """Say something to every connection that has heard nothing for ``ping_seconds``:
        a browser cannot see protocol pings, and a silent feed looks like a dead one."""
        quiet_since = time.monotonic() - ping_seconds
        for subscriber in self._all:
            if subscriber.last_sent <= quiet_since and not subscriber.out:
                subscriber.last_sent = time.monotonic()
                subscriber.say(PING_TEXT)
