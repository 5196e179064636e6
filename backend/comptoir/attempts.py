"""Attempts counted against a limit (passwords tried at sign-in, answers to the tracking page's
"prove it is you"), in Redis (shared by every process) or in this process's memory.

What a subject may do is its *policy*, pure:

- :class:`GrowingWaits`: ``free`` attempts, then each attempt let through opens a wait before
  the next one: ``base_delay`` seconds, doubling with every attempt made since (refused ones
  too), up to ``max_delay``. The count is forgotten ``memory`` seconds after the last attempt.
  So the waits grow, and nobody is ever locked out for good.
- :class:`FixedWindow`: ``free`` attempts in a window of ``memory`` seconds that the first one
  opens; the attempt that uses the last of them opens a wait until the window ends.

An attempt is counted against one or more *subjects* (an account from an address, and that
address). A store counts it against all of them and reads their waits in one atomic step, then
lets it through only if no wait is open and, when it must open one, it is the one attempt that
opens it (a conditional write): however many attempts arrive at once, no more get through than
the policy allows. A right answer gives its attempt back, or forgets its subject altogether
(``cleared_by_success``); back under its free attempts, the wait that attempt opened is not owed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from redis.exceptions import RedisError

from comptoir.errors import DomainError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Admission", "AttemptCounter", "FixedWindow", "GrowingWaits", "MemoryAttempts",
           "Policy", "RedisAttempts", "Subject"]

log = logging.getLogger("comptoir.attempts")


@dataclass(frozen=True, slots=True)
class GrowingWaits:
    free: int  # attempts before any wait
    base_delay: float  # seconds of the first wait
    max_delay: float  # the longest wait
    memory: float  # seconds after the last attempt when the count is forgotten
    sliding: ClassVar[bool] = True  # each attempt keeps the count ``memory`` seconds more

    def wait_after(self, attempts: int, forgotten_in: float) -> float | None:
        """The wait to open once the ``attempts``-th attempt is let through; None: no wait.

        >>> policy = GrowingWaits(free=3, base_delay=1, max_delay=8, memory=60)
        >>> [policy.wait_after(n, 60) for n in (2, 3, 4, 6, 9)]
        [None, 1.0, 2.0, 8.0, 8.0]
        """
        if attempts < self.free:
            return None
        doublings = min(attempts - self.free, 64)
        return float(min(self.max_delay, self.base_delay * 2**doublings))


@dataclass(frozen=True, slots=True)
class FixedWindow:
    free: int  # attempts in a window
    memory: float  # seconds from a window's first attempt to its end
    sliding: ClassVar[bool] = False

    def wait_after(self, attempts: int, forgotten_in: float) -> float | None:
        """Past the last free attempt: wait for the window to end (in ``forgotten_in`` s)."""
        return None if attempts < self.free else forgotten_in


Policy = GrowingWaits | FixedWindow


@dataclass(frozen=True, slots=True)
class Subject:
    """What an attempt is counted against: ``key`` names it in the counters."""

    key: str
    policy: Policy
    # True: a right answer forgets the subject; False: it only takes its attempt back.
    cleared_by_success: bool = False


@dataclass(frozen=True, slots=True)
class Admission:
    """May the attempt be checked: if so, how many more are free (the fewest of its subjects');
    if not, after how many seconds to come back."""

    allowed: bool
    retry_after: int = 0
    left: int = 0


def _refused(seconds_left: float) -> Admission:
    return Admission(False, retry_after=max(1, math.ceil(seconds_left)))


def _let_through(subjects: Sequence[Subject], counts: Sequence[int]) -> Admission:
    return Admission(True, left=min(max(0, subject.policy.free - count)
                                    for subject, count in zip(subjects, counts, strict=True)))


class AttemptCounter(Protocol):
    async def admit(self, subjects: Sequence[Subject]) -> Admission:
        """Count an attempt against every subject; say whether it may be checked."""
        ...

    async def succeeded(self, subjects: Sequence[Subject]) -> None:
        """The answer was right: forget or refund each subject. Never refuses: an attempt
        that cannot be given back stays counted until its count is forgotten."""
        ...

    async def clear(self) -> None:
        """Forget every attempt (an operator's reset; each test starts from nothing)."""
        ...


@dataclass(slots=True)
class _Count:
    forget_at: float
    attempts: int = 0
    wait_until: float = 0.0


class MemoryAttempts:
    """For one process without Redis: each step runs under a lock, with no await."""

    PURGE_ABOVE = 10_000  # entries: then the forgotten ones are dropped

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def _count(self, subject: Subject, now: float) -> _Count:
        count = self._counts.get(subject.key)
        if count is None or count.forget_at <= now:
            count = self._counts[subject.key] = _Count(forget_at=now + subject.policy.memory)
        return count

    async def admit(self, subjects: Sequence[Subject]) -> Admission:
        with self._lock:
            now = self.clock()
            if len(self._counts) > self.PURGE_ABOVE:
                self._counts = {k: c for k, c in self._counts.items() if c.forget_at > now}
            counts = [self._count(subject, now) for subject in subjects]
            waits = [count.wait_until - now for count in counts if count.wait_until > now]
            for subject, count in zip(subjects, counts, strict=True):
                count.attempts += 1
                if subject.policy.sliding:
                    count.forget_at = now + subject.policy.memory
            if waits:
                return _refused(max(waits))
            for subject, count in zip(subjects, counts, strict=True):
                wait = subject.policy.wait_after(count.attempts, count.forget_at - now)
                if wait is not None:
                    count.wait_until = now + wait
            return _let_through(subjects, [count.attempts for count in counts])

    async def succeeded(self, subjects: Sequence[Subject]) -> None:
        with self._lock:
            now = self.clock()
            for subject in subjects:
                count = self._counts.get(subject.key)
                if count is None or count.forget_at <= now:
                    continue
                if subject.cleared_by_success:
                    del self._counts[subject.key]
                    continue
                count.attempts = max(0, count.attempts - 1)
                if count.attempts < subject.policy.free:
                    count.wait_until = 0.0

    async def clear(self) -> None:
        with self._lock:
            self._counts.clear()


# Per subject (KEYS: its count, its wait; ARGV: the count's lifetime in ms, 1 if every attempt
# renews it): count the attempt, then the count, the ms it has left, the ms its wait has left.
_COUNT = """
local replies = {}
for i = 1, #KEYS, 2 do
  local n = redis.call('INCR', KEYS[i])
  if ARGV[i + 1] == '1' or redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[i])
  end
  replies[#replies + 1] = n
  replies[#replies + 1] = redis.call('PTTL', KEYS[i])
  replies[#replies + 1] = redis.call('PTTL', KEYS[i + 1])
end
return replies
"""
# Per subject (KEYS as above; ARGV: its free attempts, or -1 to forget it): only while the
# count lasts, since a DECR after it ended would make a count that never expires.
_SUCCEEDED = """
for i = 1, #KEYS, 2 do
  local free = tonumber(ARGV[(i + 1) / 2])
  if free < 0 then
    redis.call('DEL', KEYS[i], KEYS[i + 1])
  elseif redis.call('EXISTS', KEYS[i]) == 1 and redis.call('DECR', KEYS[i]) < free then
    redis.call('DEL', KEYS[i + 1])
  end
end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisAttempts:
    """Shared by every process: ``<namespace>:<subject>:n`` counts attempts, ``…:wait`` exists
    while the subject must wait. Redis not answering is the ``unavailable()`` refusal."""

    def __init__(self, redis: Redis, namespace: str,
                 unavailable: Callable[[], DomainError]) -> None:
        self.redis, self.namespace, self.unavailable = redis, namespace, unavailable
        self._count = redis.register_script(_COUNT)
        self._succeeded = redis.register_script(_SUCCEEDED)

    def _keys(self, subjects: Sequence[Subject]) -> list[str]:
        return [f"{self.namespace}:{s.key}:{part}" for s in subjects for part in ("n", "wait")]

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        try:
            yield
        except RedisError as exc:
            log.warning("attempt counters %s unavailable: %s", self.namespace, exc)
            raise self.unavailable() from exc

    async def admit(self, subjects: Sequence[Subject]) -> Admission:
        keys = self._keys(subjects)
        lifetimes = [arg for s in subjects for arg in (_ms(s.policy.memory), int(s.policy.sliding))]
        with self._refusals():
            replies = [int(reply) for reply in await self._count(keys=keys, args=lifetimes)]
            counts, lifetimes_left, waits_left = replies[0::3], replies[1::3], replies[2::3]
            if max(waits_left) > 0:
                return _refused(max(waits_left) / 1000)
            for subject, count, left_ms, wait_key in zip(
                    subjects, counts, lifetimes_left, keys[1::2], strict=True):
                wait = subject.policy.wait_after(count, left_ms / 1000)
                # Of the attempts that found no wait, only the one that opens it goes on. (One
                # that opens a subject's wait and loses another's is refused all the same: the
                # wait it opened stands, the safe side.)
                if wait is not None and not await self.redis.set(wait_key, b"1", px=_ms(wait),
                                                                 nx=True):
                    return _refused(max(await self.redis.pttl(wait_key), 1) / 1000)
        return _let_through(subjects, counts)

    async def succeeded(self, subjects: Sequence[Subject]) -> None:
        refunds = [-1 if subject.cleared_by_success else subject.policy.free
                   for subject in subjects]
        try:
            await self._succeeded(keys=self._keys(subjects), args=refunds)
        except RedisError as exc:  # the attempts stay counted, until they are forgotten
            log.warning("a right answer's attempt was not given back (%s): %s",
                        self.namespace, exc)

    async def clear(self) -> None:
        with self._refusals():
            async for key in self.redis.scan_iter(match=f"{self.namespace}:*", count=500):
                await self.redis.delete(key)
