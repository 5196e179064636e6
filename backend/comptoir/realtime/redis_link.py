"""The live feed between processes: events on one Redis channel, sign-outs on another.

Redis only wakes the other processes' hubs; the event table stays the truth. A message
lost while Redis is away is found in the table by the hub's poll, or by the gap it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from comptoir.realtime.schemas import LiveEvent

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisLink", "SignedOut"]

log = logging.getLogger("comptoir.realtime")

LISTEN_SECONDS = 30.0  # the longest one wait for a message from Redis
PUBLISH_LIMIT = 10_000  # events waiting to be published; older ones are left to the table


class SignedOut(msgspec.Struct, kw_only=True):
    """On the control channel: the staff session ``signed_out`` (a :func:`session_key`) has
    ended, signed out through some process."""

    signed_out: str


class RedisLink:
    """This process's hub, heard by and hearing the others' through Redis."""

    def __init__(
        self,
        redis: Redis,
        channel: str,
        *,
        on_event: Callable[[LiveEvent], None],
        on_signed_out: Callable[[str], None],
        on_subscribed: Callable[[], None],
    ) -> None:
        self.redis = redis
        self.channel = channel
        self.control_channel = f"{channel}:control"
        self._on_event = on_event
        self._on_signed_out = on_signed_out
        self._on_subscribed = on_subscribed
        self._to_publish: deque[bytes] = deque(maxlen=PUBLISH_LIMIT)
        self._publish_wake = asyncio.Event()
        self.subscribed = asyncio.Event()

    def publish(self, event: LiveEvent) -> None:
        """Queue ``event`` for the other processes (sent in order by ``publishing``)."""
        self._to_publish.append(msgspec.json.encode(event))
        self._publish_wake.set()

    async def sign_out(self, session: str) -> None:
        """Tell the other processes that the staff session ``session`` has ended."""
        try:
            await self.redis.publish(self.control_channel,
                                     msgspec.json.encode(SignedOut(signed_out=session)))
        except Exception:  # Redis is down: the other processes' connections stay open for now
            log.warning("live feed: cannot tell the other processes of a sign-out",
                        exc_info=True)

    async def listening(self) -> None:
        """Hear the other processes, resubscribing after Redis comes back."""
        delay = 0.5
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel, self.control_channel)
                self.subscribed.set()
                delay = 0.5
                self._on_subscribed()  # catch up on what was missed while away
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
                    self._on_event(event)
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
        self._on_signed_out(signed_out.signed_out)

    async def publishing(self) -> None:
        """Tell the other processes, in commit order, what this one committed."""
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
