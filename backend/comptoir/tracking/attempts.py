"""Wrong answers to "prove it is you" on a tracking page, limited per order, so that the ten
thousand endings of a phone number cannot be tried one after the other.

Each answer takes an attempt first — counted and compared with the limit in one atomic step
(a Redis script: ``INCR`` and its expiry together; without Redis, a dictionary changed with no
``await`` in between, so one process's requests cannot interleave) — and only then is checked.
A right answer gives its attempt back, so only wrong ones use up the allowance. However many
answers arrive at once, at most ``limit`` of them are checked in a window.

Without Redis the count lives in the process: the embedded default (one process). Several
processes share Redis, and so share the count.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from redis.exceptions import RedisError

from comptoir.errors import DomainError, TooManyRequests

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "WINDOW_SECONDS",
    "WRONG_ANSWERS_ALLOWED",
    "Attempt",
    "AttemptCounterUnavailable",
    "MemoryAttempts",
    "ProofAttempts",
    "RedisAttempts",
    "proof_attempts",
]

log = logging.getLogger("comptoir.tracking")

# Five wrong answers a day: over a pickup's life (two weeks at most) a guesser tries 70 of the
# 10,000 phone endings (0.7 %), while a customer who mistypes still gets in.
WRONG_ANSWERS_ALLOWED = 5
WINDOW_SECONDS = 24 * 3600


class Attempt(NamedTuple):
    """An attempt taken: how many more wrong answers the order allows in this window."""

    left: int


class AttemptCounterUnavailable(DomainError):
    """Redis did not answer: no answer can be checked now."""

    status_code = 503
    code = "attempt_counter_unavailable"
    title = "Service unavailable"


class ProofAttempts(Protocol):
    async def take(self, key: str) -> Attempt:
        """Count one attempt for ``key``; refuse it (429 with Retry-After) past the limit."""

    async def give_back(self, key: str) -> None:
        """Un-count an attempt whose answer was right."""


def _too_many(retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        "Too many wrong answers for this order; try again later, use the code in the "
        "ready-for-pickup e-mail, or show an ID at the counter.",
        code="too_many_attempts", headers={"Retry-After": str(max(1, retry_after))})


@dataclass
class _Window:
    count: int
    ends: float  # time.monotonic()


class MemoryAttempts:
    """One process's count, per key, for the window its first attempt opened."""

    def __init__(self, limit: int = WRONG_ANSWERS_ALLOWED,
                 window: float = WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self._windows: dict[str, _Window] = {}

    def _open(self, key: str, now: float) -> _Window | None:
        found = self._windows.get(key)
        if found is not None and found.ends <= now:
            del self._windows[key]
            return None
        return found

    async def take(self, key: str) -> Attempt:
        # No await from here to the return: the check and the count are one step.
        now = time.monotonic()
        if len(self._windows) > 10_000:  # forget ended windows now and then
            for ended in [k for k, w in self._windows.items() if w.ends <= now]:
                del self._windows[ended]
        window = self._open(key, now)
        if window is None:
            window = self._windows[key] = _Window(count=0, ends=now + self.window)
        window.count += 1
        if window.count > self.limit:
            raise _too_many(math.ceil(window.ends - now))
        return Attempt(left=self.limit - window.count)

    async def give_back(self, key: str) -> None:
        window = self._open(key, time.monotonic())
        if window is not None and window.count > 0:
            window.count -= 1


# Count, and start the window on the first attempt (or mend a key that lost its expiry).
_TAKE = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""
# Only while the window lasts: a DECR after it ended would make a key that never expires.
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisAttempts:
    """The count shared by every process, in Redis under ``<prefix>:tracking:proof:<key>``."""

    def __init__(self, redis: Redis, prefix: str, limit: int = WRONG_ANSWERS_ALLOWED,
                 window: int = WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self._prefix = f"{prefix}:tracking:proof:"
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    async def take(self, key: str) -> Attempt:
        try:
            count, ttl = await self._take(keys=[self._prefix + key], args=[self.window])
        except RedisError as exc:
            raise AttemptCounterUnavailable(
                "Your answer cannot be checked right now; try again in a minute.",
                headers={"Retry-After": "30"}) from exc
        if int(count) > self.limit:
            raise _too_many(int(ttl))
        return Attempt(left=self.limit - int(count))

    async def give_back(self, key: str) -> None:
        try:
            await self._give_back(keys=[self._prefix + key])
        except RedisError as exc:  # the attempt stays counted: it ends with its window
            log.warning("a right answer's attempt was not given back: %s", exc)


def proof_attempts(redis: Redis | None, prefix: str) -> ProofAttempts:
    """The counter for this deployment: Redis when there is one, else this process's memory."""
    return RedisAttempts(redis, prefix) if redis is not None else MemoryAttempts()
