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
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.events.models import Event
from comptoir.events.service import add_event_listener, events_after
from comptoir.realtime.followers import Followers
from comptoir.realtime.redis_link import RedisLink
from comptoir.realtime.schemas import LiveEvent
from comptoir.realtime.subscriber import (
    CLOSE_GOING_AWAY,
    CLOSE_SIGNED_OUT,
    CLOSE_TOO_SLOW,
    Presenter,
    Route,
    Subscriber,
    live_event,
    session_key,
)
from comptoir.tasks import stop_tasks

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_SIGNED_OUT",
    "CLOSE_TOO_SLOW",
    "PAGE",
    "Hub",
    "Presenter",
    "Route",
    "Subscriber",
    "live_event",
    "session_key",
]

log = logging.getLogger("comptoir.realtime")

PAGE = 500  # events read from the table per query
READ_BACK = "read back"  # inbox marker: this process committed events the table numbered
RECENT = 8192  # sequence numbers remembered to tell a duplicate from a restarted log
RECENT_EVENTS = 512  # events kept to publish one a read found before its commit was heard
INBOX_LIMIT = 10_000
BURST = 50  # events handed out before the connections get a turn to send


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
        self._link = None if redis is None else RedisLink(
            redis, channel, on_event=self.accept, on_signed_out=self._close_session,
            on_subscribed=self._poll_now)
        self.ping_seconds = ping_seconds
        self.poll_seconds = poll_seconds
        bind = sessionmaker.kw.get("bind")
        self._database_url: URL | None = getattr(bind, "url", None)
        self._subscribers = Followers()
        self._last_seq: int | None = None
        self._recent: OrderedDict[int, str] = OrderedDict()
        self._inbox: asyncio.Queue[LiveEvent | str | None] = asyncio.Queue(INBOX_LIMIT)
        self._read_back_queued = False
        self._behind = False  # events were committed that the hub did not read
        self._catching_up_from: int | None = None
        self._unpublished: set[str] = set()  # ids committed here, to read back and publish
        self._recent_events: OrderedDict[str, LiveEvent] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stop_listening: Callable[[], None] | None = None

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
        if self._link is not None:
            self._tasks.append(asyncio.create_task(self._link.listening(), name="ws-redis-in"))
            self._tasks.append(asyncio.create_task(self._link.publishing(), name="ws-redis-out"))
            # Listening before reading the table's head: nothing committed in between is lost.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._link.subscribed.wait(), 5)
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
        for subscriber in self._subscribers:
            subscriber.close(CLOSE_GOING_AWAY, "server restarting: reconnect with since")
        await stop_tasks(self._tasks)
        self._tasks.clear()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[None]:
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
        return self._subscribers.join(self.client_limit, session)

    def leave(self, subscriber: Subscriber) -> None:
        self._subscribers.leave(subscriber)

    def follow(self, subscriber: Subscriber, topic: str, route: Route) -> None:
        """From now on, events on ``topic`` go to ``subscriber``."""
        self._subscribers.follow(subscriber, topic, route)

    def unfollow(self, subscriber: Subscriber, topic: str) -> None:
        self._subscribers.unfollow(subscriber, topic)

    def render_for(self, subscriber: Subscriber, event: LiveEvent) -> str | None:
        """The message ``subscriber`` gets for ``event``, or None if it follows none of its
        topics (the backlog is read whole and sorted out here)."""
        return self._subscribers.render_for(subscriber, event)

    async def sign_out(self, session: str) -> None:
        """The staff session ``session`` (a :func:`session_key`) has ended: close its
        connections here and, through Redis, in every other process. A connection keeps the
        identity it was opened with, so without this it would outlive the sign-out."""
        self._close_session(session)
        if self._link is not None:
            await self._link.sign_out(session)

    def _close_session(self, session: str) -> None:
        self._subscribers.close_session(session)

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
        if self._link is not None:
            self._link.publish(event)

    def _read_back(self, ids: Iterable[str]) -> None:
        """This process committed the events ``ids``, numbered by the database: have them
        read from the table (one read for every commit until it runs) and published."""
        if self._link is not None:
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
        if self._link is not None:
            if event.id in self._unpublished:
                self._unpublished.discard(event.id)
                self._to_redis(event)
            self._recent_events[event.id] = event
            if len(self._recent_events) > RECENT_EVENTS:
                self._recent_events.popitem(last=False)
        self._subscribers.fan_out(event)

    async def _poll(self) -> None:
        """Now and then, look at the table: events committed by a process that could not
        tell us (no Redis, a lost message, a command-line tool) still reach subscribers."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            if self._subscribers:
                with contextlib.suppress(asyncio.QueueFull):
                    self._inbox.put_nowait(None)

    def _poll_now(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._inbox.put_nowait(None)

    async def _ping(self) -> None:
        """Now and then, a word to each connection that has heard nothing for a while."""
        while True:
            await asyncio.sleep(min(self.ping_seconds / 2, 1.0))
            self._subscribers.ping_quiet(self.ping_seconds)
