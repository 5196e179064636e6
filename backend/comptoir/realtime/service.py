"""A live-feed connection's conversation: who may follow what, replay from the log, then live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.errors import NotFound
from comptoir.events.service import events_after
from comptoir.orders import reading as orders
from comptoir.realtime.hub import PAGE, Hub, Presenter, Route, live_event
from comptoir.realtime.schemas import ClientMessage, ErrorMessage, Subscribed, Unsubscribed
from comptoir.realtime.topics import Access, access, parse_topic, presenter_for

__all__ = [
    "MAX_TOPICS",
    "Feed",
    "TrackingResolver",
    "origin_allowed",
    "set_tracking",
    "type_only",
]

MAX_TOPICS = 100

TrackingResolver = Callable[[AsyncSession, str], Awaitable[str | None]]

_encode = msgspec.json.Encoder().encode
_decode_client = msgspec.json.Decoder(ClientMessage).decode


def type_only(_type: str, _data: dict[str, Any]) -> dict[str, Any]:
    """What a customer sees of an event until the tracking code says more: that it happened
    (its type and time); the tracking page reads the order's new state from its own API."""
    return {}


@dataclass
class _Tracking:
    resolve: TrackingResolver | None = None
    present: Presenter = type_only


_tracking = _Tracking()


def set_tracking(resolve: TrackingResolver | None, present: Presenter | None = None) -> None:
    """For the tracking code: how a token names its order, and what its holder sees.

    ``resolve(session, token)`` returns the order number the token tracks, or None for an
    unknown token. A client subscribing to ``track:<token>`` then follows that order (as
    ``track:<token>``, never learning more than the token gives), with each event's data
    passed through ``present(type, data)``: a dict to send, or None to leave the event out.
    """
    _tracking.resolve = resolve
    _tracking.present = present or type_only


def origin_allowed(origin: str | None, host: str | None, public_url: str) -> bool:
    """Whether a browser page at ``origin`` may open the feed of this server.

    No ``Origin`` header: not a browser (a system with an API key), nothing to check. Else
    the page must come from this server: the origin of ``COMPTOIR_PUBLIC_URL`` when set, or
    the host the request was sent to. Without this, any web page a signed-in employee
    visits could open the feed with their cookie.
    """
    if origin is None:
        return True
    page = urlsplit(origin.strip().lower())
    if page.scheme not in ("http", "https") or not page.hostname:
        return False
    if public_url:
        ours = urlsplit(public_url.lower())
        if (page.scheme, _netloc(page.scheme, page.netloc)) == (
                ours.scheme, _netloc(ours.scheme, ours.netloc)):
            return True
    if host:
        # Behind a proxy that ends TLS the request may say ws:// for an https:// page: the
        # host is what tells one site from another.
        return _netloc(page.scheme, page.netloc) == _netloc(page.scheme, host.strip().lower())
    return False


def _netloc(scheme: str, netloc: str) -> str:
    default = ":443" if scheme == "https" else ":80"
    return netloc.removesuffix(default)


class Feed:
    """One connection: its caller, the topics it follows, and its place in the event log."""

    def __init__(self, hub: Hub, principal: Principal | None, session: str | None = None) -> None:
        """``session``: the staff session's :func:`~comptoir.realtime.hub.session_key`; the
        connection closes when that session signs out."""
        self.hub = hub
        self.principal = principal
        self.subscriber = hub.join(session)
        # topic as the client named it -> (hub topic, how it is delivered)
        self.following: dict[str, tuple[str, Route]] = {}
        self.started = False

    @property
    def follows_anything(self) -> bool:
        return bool(self.following)

    def leave(self) -> None:
        self.hub.leave(self.subscriber)

    def _say(self, message: msgspec.Struct) -> None:
        self.subscriber.say(_encode(message).decode())

    def _refuse(self, code: str, detail: str, topic: str | None = None) -> None:
        self._say(ErrorMessage(code=code, detail=detail, topic=topic))

    async def handle(self, raw: str | bytes) -> None:
        """Answer one message from the client."""
        try:
            message = _decode_client(raw)
        except msgspec.DecodeError as exc:
            self._refuse("bad_message", f"Expected {{\"subscribe\": [topics], \"since\": seq}}: "
                                        f"{exc}")
            return
        if message.subscribe is None and message.unsubscribe is None:
            self._refuse("bad_message", "Send 'subscribe' or 'unsubscribe' with a list of topics.")
            return
        if message.since is not None and message.since < 0:
            self._refuse("bad_message", "'since' is the last seq you saw: 0 or more, or null.")
            return
        if message.unsubscribe:
            self.unsubscribe(message.unsubscribe)
        if message.subscribe is not None:
            await self.subscribe(message.subscribe, message.since)

    async def subscribe(self, names: list[str], since: int | None) -> None:
        """Follow the topics the caller may see; refuse the others one by one.

        The first subscription starts the stream: everything after ``since`` on the
        topics, from the table, then live events. Later ones add topics from the point the
        stream has reached (the ``subscribed`` answer says which ``seq`` that is).
        """
        for name in dict.fromkeys(names):
            if name in self.following:
                continue
            if len(self.following) >= MAX_TOPICS:
                self._refuse("too_many_topics",
                             f"A connection follows at most {MAX_TOPICS} topics.", name)
                continue
            grant = await self._authorize(name)
            if grant is not None:
                self.following[name] = grant
                self._route(grant[0])
        subscriber = self.subscriber
        if not self.started:
            self.started = True
            await self._start(since)
        else:
            subscriber.go_live(self.hub.last_seq)
        self._say(Subscribed(topics=sorted(self.following), seq=subscriber.position))

    def unsubscribe(self, names: list[str]) -> None:
        dropped = []
        for name in dict.fromkeys(names):
            grant = self.following.pop(name, None)
            if grant is not None:
                dropped.append(name)
                self._route(grant[0])
        self._say(Unsubscribed(topics=dropped))

    def _route(self, topic: str) -> None:
        """Deliver ``topic`` by the best of the ways the client asked for it (or stop)."""
        routes = [route for hub_topic, route in self.following.values() if hub_topic == topic]
        if not routes:
            self.hub.unfollow(self.subscriber, topic)
            return
        # Asked for both as staff and by a tracking token: the staff view wins.
        routes.sort(key=lambda route: route.present is not None)
        self.hub.follow(self.subscriber, topic, routes[0])

    async def _authorize(self, name: str) -> tuple[str, Route] | None:
        topic = parse_topic(name)
        if topic is None:
            self._refuse("unknown_topic",
                         f"'{name[:80]}' is no topic: use orders, order:<number>, "
                         "location:<code>, inventory:<sku> or track:<token>.", name[:200])
            return None
        principal = self.principal
        role = principal.role if principal is not None else None
        location = principal.location if principal is not None else None
        decision = access(role, location, topic)
        if decision is Access.GRANTED:
            return topic.name, Route(topic.name, present=presenter_for(topic))
        if decision is Access.IF_ORDER_VISIBLE and principal is not None:
            if await self._may_read_order(principal, topic.key):
                return topic.name, Route(topic.name)
        elif decision is Access.BY_TRACKING_TOKEN:
            number = await self._tracked_order(topic.key)
            if number is not None:
                return f"order:{number}", Route(topic.name, present=_tracking.present)
        # The same answer for an order that does not exist: a refusal tells nothing.
        self._refuse("topic_forbidden", f"You may not follow '{name}'.", name)
        return None

    async def _may_read_order(self, principal: Principal, number: str) -> bool:
        async with self.hub.sessionmaker() as session:
            try:
                await orders.find_order(session, number, principal)
            except NotFound:
                return False
        return True

    async def _tracked_order(self, token: str) -> str | None:
        if _tracking.resolve is None:
            return None
        async with self.hub.sessionmaker() as session:
            return await _tracking.resolve(session, token)

    async def _start(self, since: int | None) -> None:
        """Send the backlog after ``since``, then go live, with nothing lost or doubled.

        The subscriber already receives live events (they wait in its ``held`` list) before
        the table is read: an event committed during the replay is either in a page read
        after its commit, or arrives live; ``position`` drops the copy of what was sent.
        """
        subscriber, hub = self.subscriber, self.hub
        head = hub.last_seq
        if since is None:
            subscriber.go_live(await hub.read_head(known=head))
            hub.replayed_to(subscriber.position)
            return
        if head is not None and since >= head:
            subscriber.go_live(since)  # nothing on the table is newer than what it has seen
            return
        subscriber.position = since
        position = since
        only_order = self._single_order()
        while True:
            async with hub.sessionmaker() as session:
                if only_order is not None:
                    rows = await events_after(session, position, topic="order",
                                              subject=only_order, limit=PAGE)
                else:
                    rows = await events_after(session, position, limit=PAGE)
            for row in rows:
                event = live_event(row)
                await subscriber.replayed(event.seq, hub.render_for(subscriber, event))
            if rows:
                position = rows[-1].seq or position
            if len(rows) < PAGE or subscriber.closing is not None:
                break
        subscriber.go_live(position)
        hub.replayed_to(subscriber.position)

    def _single_order(self) -> str | None:
        """The order number when the connection follows one order only (a tracking page, an
        order screen): its backlog is then read by the log's (topic, subject) index."""
        topics = {hub_topic for hub_topic, _route in self.following.values()}
        if len(topics) == 1:
            (topic,) = topics
            if topic.startswith("order:"):
                return topic.removeprefix("order:")
        return None
