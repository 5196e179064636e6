"""The process's live feed: committed events, in sequence order, fanned out to its connections.

Events reach the hub from this process's commits (an event listener) and, when Redis is
configured, from every process's commits (one pub/sub channel). Whatever the route, the
hub hands events to its subscribers strictly in ``seq`` order: sequence numbers are given
at commit, one committer at a time, so an event that arrives with a number beyond the next
expected one means the ones between went another way (another publisher, a lost message)
or were never committed (a hole, rare); the table is read before going on. The database
numbers events (PostgreSQL inside COMMIT), so this process's own commits announce events
without their numbers: the hub reads them back from the table, one read for however many
commits came meanwhile, and publishes them to Redis from there. Redis only wakes the hub;
the table is the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.events.models import Event
from comptoir.events.service import add_event_listener, events_after
from comptoir.realtime.schemas import EventMessage, LiveEvent, Ping
from comptoir.realtime.topics import event_topics

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_SIGNED_OUT",
    "CLOSE_TOO_SLOW",
    "Hub",
    "Route",
    "Subscriber",
    "live_event",
    "session_key",
]

log = logging.getLogger("comptoir.realtime")

CLOSE_TOO_SLOW = 4008
CLOSE_SIGNED_OUT = 4401  # the staff session the connection was opened with has ended
CLOSE_GOING_AWAY = 1012  # the server restarts: reconnect and resume

PAGE = 500  # events read from the table per query
READ_BACK = "read back"  # inbox marker: this process committed events the table numbered
RECENT = 8192  # sequence numbers remembered to tell a duplicate from a restarted log
RECENT_EVENTS = 512  # events kept to publish one a read found before its commit was heard
INBOX_LIMIT = 10_000
BURST = 50  # events handed out before the connections get a turn to send
LISTEN_SECONDS = 30.0  # the longest one wait for a message from Redis

Presenter = Callable[[str, dict[str, Any]], dict[str, Any] | None]

_encode = msgspec.json.Encoder().encode
PING_TEXT = _encode(Ping()).decode()


def session_key(session_id: str) -> str:
    """What the hub (and Redis) know of a staff session: a digest, never the cookie itself."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


class SignedOut(msgspec.Struct, kw_only=True):
    """On the control channel: the staff session ``signed_out`` (a :func:`session_key`) has
    ended, signed out through some process."""

    signed_out: str


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
    return _encode(message).decode()


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


class Hub:
    """Fans committed events out to this process's subscribers, in sequence order."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        redis: Redis | None = None,
        channel: str = "comptoir:events",
        client_limit: int = 1000,
        ping_seconds: float = 20.0,
        poll_seconds: float = 2.0,
        hear_commits: bool = True,
    ) -> None:
        """``hear_commits=False``: a hub fed only through ``accept`` (and Redis)."""
        self.hear_commits = hear_commits
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.channel = channel
        self.client_limit = client_limit
        self.ping_seconds = ping_seconds
        self.poll_seconds = poll_seconds
        bind = sessionmaker.kw.get("bind")
        self._database_url = getattr(bind, "url", None)
        self._followers: dict[str, set[Subscriber]] = {}
        self._subscribers: set[Subscriber] = set()
        self._by_session: dict[str, set[Subscriber]] = {}  # session_key -> its connections
        self.control_channel = f"{channel}:control"
        self._last_seq: int | None = None
        self._recent: OrderedDict[int, str] = OrderedDict()
        self._inbox: asyncio.Queue[LiveEvent | str | None] = asyncio.Queue(INBOX_LIMIT)
        self._read_back_queued = False
        self._behind = False  # events were committed that the hub did not read
        self._catching_up_from: int | None = None
        self._unpublished: set[str] = set()  # ids committed here, to read back and publish
        self._recent_events: OrderedDict[str, LiveEvent] = OrderedDict()
        self._to_publish: deque[bytes] = deque(maxlen=INBOX_LIMIT)
        self._publish_wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stop_listening: Callable[[], None] | None = None
        self._subscribed = asyncio.Event()

    # --- running ---------------------------------------------------------------------------

    @property
    def last_seq(self) -> int | None:
        """The last sequence number handed out (None until the table or an event says, or
        when the hub fell behind: then only the table knows)."""
        return None if self._behind else self._last_seq

    @property
    def connections(self) -> int:
        """How many connections this process feeds."""
        return len(self._subscribers)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.hear_commits:
            self._stop_listening = add_event_listener(self._heard)
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._listen_redis(), name="ws-redis-in"))
            self._tasks.append(asyncio.create_task(self._publish(), name="ws-redis-out"))
            # Listening before reading the table's head: nothing committed in between is lost.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), 5)
        try:
            self._last_seq = await self.read_head()
        except Exception:  # the database may come up later; the first event will tell
            log.warning("live feed: could not read the event log's head", exc_info=True)
        self._tasks.append(asyncio.create_task(self._sequence(), name="ws-sequence"))
        self._tasks.append(asyncio.create_task(self._poll(), name="ws-poll"))
        self._tasks.append(asyncio.create_task(self._ping(), name="ws-ping"))

    async def stop(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        for subscriber in list(self._subscribers):
            subscriber.close(CLOSE_GOING_AWAY, "server restarting: reconnect with since")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any = None) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def read_head(self, *, known: int | None = None) -> int:
        """The highest sequence number committed so far.

        ``known``: a number the hub had handed out before this read; a head below it means
        the log was emptied and restarted (a restored or test database).
        """
        async with self.sessionmaker() as session:
            head = int(await session.scalar(select(func.max(Event.seq))) or 0)
        if known is not None and head < known and self._last_seq is not None:
            self._restarted(head)
        return head

    # --- subscribers -----------------------------------------------------------------------

    def join(self, session: str | None = None) -> Subscriber:
        """A new connection; ``session`` is the :func:`session_key` of the staff session it
        was opened with, so that signing out closes it."""
        subscriber = Subscriber(self.client_limit)
        subscriber.session = session
        self._subscribers.add(subscriber)
        if session is not None:
            self._by_session.setdefault(session, set()).add(subscriber)
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if subscriber.session is not None:
            connections = self._by_session.get(subscriber.session)
            if connections is not None:
                connections.discard(subscriber)
                if not connections:
                    del self._by_session[subscriber.session]
        for topic in subscriber.routes:
            followers = self._followers.get(topic)
            if followers is not None:
                followers.discard(subscriber)
                if not followers:
                    del self._followers[topic]
        subscriber.routes.clear()

    def follow(self, subscriber: Subscriber, topic: str, route: Route) -> None:
        """From now on, events on ``topic`` go to ``subscriber``."""
        subscriber.routes[topic] = route
        self._followers.setdefault(topic, set()).add(subscriber)

    def unfollow(self, subscriber: Subscriber, topic: str) -> None:
        subscriber.routes.pop(topic, None)
        followers = self._followers.get(topic)
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self._followers[topic]

    def render_for(self, subscriber: Subscriber, event: LiveEvent) -> str | None:
        """The message ``subscriber`` gets for ``event``, or None if it follows none of its
        topics (the backlog is read whole and sorted out here)."""
        routes = subscriber.routes
        reached = tuple(routes[topic]
                        for topic in event_topics(event.topic, event.subject, event.data)
                        if topic in routes)
        return render(event, reached) if reached else None

    async def sign_out(self, session: str) -> None:
        """The staff session ``session`` (a :func:`session_key`) has ended: close its
        connections here and, through Redis, in every other process. A connection keeps the
        identity it was opened with, so without this it would outlive the sign-out."""
        self._close_session(session)
        if self.redis is None:
            return
        try:
            await self.redis.publish(self.control_channel,
                                     msgspec.json.encode(SignedOut(signed_out=session)))
        except Exception:  # Redis is down: the other processes' connections stay open for now
            log.warning("live feed: cannot tell the other processes of a sign-out",
                        exc_info=True)

    def _close_session(self, session: str) -> None:
        for subscriber in self._by_session.pop(session, set()):
            subscriber.close(CLOSE_SIGNED_OUT, "signed out: sign in again")

    # --- events in -------------------------------------------------------------------------

    def _heard(self, events: Sequence[Event], database: URL | None) -> None:
        """Event listener: this process committed ``events`` (runs inside the commit)."""
        if not events or self._loop is None:
            return
        if self._database_url is not None and database != self._database_url:
            return  # another database's log (a tool or a test working beside the app)
        ids = [str(e.id) for e in events]  # numbered by the database: read them back
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._read_back(ids)
        else:
            self._loop.call_soon_threadsafe(self._read_back, ids)

    def _to_redis(self, event: LiveEvent) -> None:
        if self.redis is not None:
            self._to_publish.append(msgspec.json.encode(event))
            self._publish_wake.set()

    def _read_back(self, ids: Iterable[str]) -> None:
        """This process committed the events ``ids``, numbered by the database: have them
        read from the table (one read for every commit until it runs) and published."""
        if self.redis is not None:
            for event_id in ids:
                known = self._recent_events.get(event_id)
                if known is not None:  # a read that was under way already found it
                    self._to_redis(known)
                else:
                    self._unpublished.add(event_id)
        if not self._read_back_queued:
            self._read_back_queued = True
            try:
                self._inbox.put_nowait(READ_BACK)
            except asyncio.QueueFull:  # the poll reads them instead
                self._read_back_queued = False

    def accept(self, event: LiveEvent) -> None:
        """Queue a committed event for delivery (from any source, in any order, even twice)."""
        try:
            self._inbox.put_nowait(event)
        except asyncio.QueueFull:
            # Dropped here, read from the table later: the next event finds the gap.
            log.warning("live feed inbox full: event %s will be read from the log", event.seq)

    async def _sequence(self) -> None:
        handled = 0
        while True:
            handled += 1
            if handled % BURST == 0:
                # A big transaction (an import) is many events at once: let the connections
                # send what they were given before their queues count as too long.
                await asyncio.sleep(0)
            event = await self._inbox.get()
            try:
                if event is None:
                    await self._catch_up()
                elif isinstance(event, str):
                    await self._read_committed()
                else:
                    await self._arrived(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: the next event or poll retries the gap
                log.exception("live feed: could not deliver event %s",
                              event.seq if isinstance(event, LiveEvent) else "(read)")
                await asyncio.sleep(0.5)

    async def _arrived(self, event: LiveEvent) -> None:
        last = self._last_seq
        if last is not None and event.seq <= last:
            if self._recent.get(event.seq, event.id) == event.id:
                return  # delivered already (the same event by another route)
            # Another event under a number already given: the log was emptied and restarted
            # (a restored or test database). Continue from here.
            last = self._restarted(event.seq - 1)
        if last is None or event.seq == last + 1 or not self._subscribers or self._behind:
            self._dispatch(event)  # behind: the backlogs being read fill any gap (see _catch_up)
            return
        await self._fill()
        if self._last_seq is None or event.seq > self._last_seq:
            self._dispatch(event)

    async def _read_committed(self) -> None:
        self._read_back_queued = False
        if self._last_seq is None:
            await self._catch_up()
        elif self._unpublished or (self._subscribers and not self._behind):
            await self._fill()
        else:
            # Nobody to hand them to (or only connections still replaying the table): no
            # read. The head is behind from now on; a connection that has replayed the
            # table tells the hub how far it read (``replayed_to``).
            self._behind = True
        self._unpublished.clear()  # what the read did not find, the others' poll will

    def replayed_to(self, position: int) -> None:
        """A connection read the table up to ``position`` and goes live from there.

        A hub that fell behind (nobody listened) continues from the lowest such position:
        what lies above it reaches every connection (each drops what it already has), and
        nothing below it is owed to anyone.
        """
        if self._behind:
            self._behind = False
            self._last_seq = position
            self._catching_up_from = position
            self._read_back(())  # what was committed since that connection's last read
        elif self._catching_up_from is not None and self._last_seq is not None:
            self._last_seq = min(self._last_seq, position)

    async def _catch_up(self) -> None:
        if not self._subscribers or self._behind:
            # Behind, every connection is still reading its backlog from the table and says
            # how far it read (``replayed_to``); read from the hub's old position now, the
            # same events would pile up again as live ones and close them as too slow.
            return
        head = await self.read_head(known=self._last_seq)
        if self._last_seq is None:
            self._last_seq = head
        elif head > self._last_seq:
            await self._fill()

    def _restarted(self, head: int) -> int:
        """The log now ends at ``head``, below numbers already handed out: start over there
        (every subscriber too, or the new events under old numbers would never reach it)."""
        log.warning("live feed: the event log restarted at %s (was at %s)", head, self._last_seq)
        self._last_seq = head
        for subscriber in self._subscribers:
            subscriber.position = min(subscriber.position, head)
        return head

    async def _fill(self) -> None:
        """Deliver, from the table, every event after the last one delivered."""
        self._catching_up_from = None
        while True:
            after = self._last_seq or 0
            async with self.sessionmaker() as session:
                rows = await events_after(session, after, limit=PAGE)
            for row in rows:
                self._dispatch(live_event(row))
            if len(rows) < PAGE:
                return

    def _dispatch(self, event: LiveEvent) -> None:
        self._last_seq = event.seq
        self._recent[event.seq] = event.id
        self._recent.move_to_end(event.seq)
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        if self.redis is not None:
            if event.id in self._unpublished:
                self._unpublished.discard(event.id)
                self._to_redis(event)
            self._recent_events[event.id] = event
            if len(self._recent_events) > RECENT_EVENTS:
                self._recent_events.popitem(last=False)
        topics = event_topics(event.topic, event.subject, event.data)
        reached: set[Subscriber] = set()
        texts: dict[tuple[Route, ...], str | None] = {}  # most subscribers share one text
        for topic in topics:
            followers = self._followers.get(topic)
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

    async def _poll(self) -> None:
        """Now and then, look at the table: events committed by a process that could not
        tell us (no Redis, a lost message, a command-line tool) still reach subscribers."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            if self._subscribers:
                with contextlib.suppress(asyncio.QueueFull):
                    self._inbox.put_nowait(None)

    async def _ping(self) -> None:
        """Say something to every connection that has heard nothing for ``ping_seconds``:
        a browser cannot see protocol pings, and a silent feed looks like a dead one."""
        while True:
            await asyncio.sleep(min(self.ping_seconds / 2, 1.0))
            quiet_since = time.monotonic() - self.ping_seconds
            for subscriber in self._subscribers:
                if subscriber.last_sent <= quiet_since and not subscriber.out:
                    subscriber.last_sent = time.monotonic()
                    subscriber.say(PING_TEXT)

    # --- between processes -----------------------------------------------------------------

    async def _listen_redis(self) -> None:
        assert self.redis is not None
        delay = 0.5
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel, self.control_channel)
                self._subscribed.set()
                delay = 0.5
                with contextlib.suppress(asyncio.QueueFull):
                    self._inbox.put_nowait(None)  # catch up on what was missed while away
                while True:
                    # A wait of our own, not the client's read timeout (made short so that
                    # requests fail fast while Redis is away): a quiet channel is no error.
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=LISTEN_SECONDS)
                    if message is None or message.get("type") != "message":
                        continue
                    if _channel_name(message.get("channel")) == self.control_channel:
                        self._control(message["data"])
                        continue
                    try:
                        event = msgspec.json.decode(message["data"], type=LiveEvent)
                    except msgspec.DecodeError:
                        log.warning("live feed: unreadable message on %s", self.channel)
                        continue
                    self.accept(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live feed: Redis subscription lost; retrying in %.1f s", delay,
                            exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _control(self, raw: bytes) -> None:
        try:
            signed_out = msgspec.json.decode(raw, type=SignedOut)
        except msgspec.DecodeError:
            log.warning("live feed: unreadable message on %s", self.control_channel)
            return
        self._close_session(signed_out.signed_out)

    async def _publish(self) -> None:
        """Tell the other processes, in commit order, what this one committed."""
        assert self.redis is not None
        failing = False
        while True:
            await self._publish_wake.wait()
            self._publish_wake.clear()
            while self._to_publish:
                try:
                    await self.redis.publish(self.channel, self._to_publish[0])
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # Meanwhile the other processes find these events in the table (a gap
                    # or the poll); what does not fit in the queue is left to them.
                    if not failing:
                        log.warning("live feed: cannot publish to Redis", exc_info=True)
                    failing = True
                    await asyncio.sleep(0.5)
                    continue
                if failing:
                    log.warning("live feed: publishing to Redis again")
                    failing = False
                self._to_publish.popleft()


def _channel_name(channel: object) -> str:
    return channel.decode() if isinstance(channel, bytes) else str(channel)
