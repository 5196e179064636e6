"""The sign-in attempt counters: in Redis (shared by every process) or in this process's memory.

Both count an attempt and read its subject's wait in one atomic step, then let it through
only if no wait is open and, when the attempt must open one, it is the one attempt that
opens it (a conditional write). The rule they apply is :mod:`comptoir.auth.throttle`'s.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from comptoir.auth.sessions import session_store_refusals
from comptoir.auth.throttle import Subject, delay_after

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Admission", "AttemptCounters", "MemoryAttempts", "RedisAttempts"]


@dataclass(frozen=True, slots=True)
class Admission:
    """May the password be checked; if not, after how many seconds to come back."""

    allowed: bool
    retry_after: int = 0


def _refused(seconds_left: float) -> Admission:
    return Admission(False, max(1, math.ceil(seconds_left)))


class AttemptCounters(Protocol):
    async def admit(self, subjects: Sequence[Subject]) -> Admission:
        """Count an attempt against every subject; say whether its password may be checked."""
        ...

    async def succeeded(self, subjects: Sequence[Subject]) -> None:
        """The password was right: clear or refund each subject (its ``cleared_by_success``)."""
        ...

    async def clear(self) -> None:
        """Forget every attempt (an operator's reset; each test starts from nothing)."""
        ...


@dataclass(slots=True)
class _Count:
    attempts: int = 0
    forget_at: float = 0.0
    wait_until: float = 0.0


class MemoryAttempts:
    """For one process without Redis: the whole step runs under a lock, with no await."""

    PURGE_ABOVE = 10_000  # entries: then the forgotten ones are dropped

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def _count(self, key: str, now: float) -> _Count:
        count = self._counts.get(key)
        if count is None or count.forget_at <= now:
            count = self._counts[key] = _Count()
        return count

    async def admit(self, subjects: Sequence[Subject]) -> Admission:
        with self._lock:
            now = self.clock()
            if len(self._counts) > self.PURGE_ABOVE:
                self._counts = {k: c for k, c in self._counts.items() if c.forget_at > now}
            counts = [self._count(subject.key, now) for subject in subjects]
            waits = [count.wait_until - now for count in counts if count.wait_until > now]
            for subject, count in zip(subjects, counts, strict=True):
                count.attempts += 1
                count.forget_at = now + subject.policy.memory
            if waits:
                return _refused(max(waits))
            for subject, count in zip(subjects, counts, strict=True):
                delay = delay_after(count.attempts, subject.policy)
                if delay is not None:
                    count.wait_until = now + delay
            return Admission(True)

    async def succeeded(self, subjects: Sequence[Subject]) -> None:
        with self._lock:
            for subject in subjects:
                if subject.cleared_by_success:
                    self._counts.pop(subject.key, None)
                elif (count := self._counts.get(subject.key)) is not None:
                    count.attempts = max(0, count.attempts - 1)
                    if count.attempts < subject.policy.free:
                        count.wait_until = 0.0  # a wait this attempt opened is not owed

    async def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisAttempts:
    """Shared by every process: ``<namespace>:<subject>:n`` counts attempts (INCR, forgotten
    after the policy's memory), ``…:wait`` exists while the subject must wait (SET NX PX)."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace

    def _keys(self, subject: Subject) -> tuple[str, str]:
        base = f"{self.namespace}:{subject.key}"
        return f"{base}:n", f"{base}:wait"

    async def admit(self, subjects: Sequence[Subject]) -> Admission:
        with session_store_refusals():
            # One transaction: each attempt gets its own number and sees the waits as they
            # are at that number, so simultaneous attempts are told apart.
            pipe = self.redis.pipeline(transaction=True)
            for subject in subjects:
                attempts, wait = self._keys(subject)
                pipe.incr(attempts)
                pipe.pexpire(attempts, int(subject.policy.memory * 1000))
                pipe.pttl(wait)
            replies = await pipe.execute()
            numbers = [int(n) for n in replies[0::3]]
            waits_ms = [int(ms) for ms in replies[2::3] if int(ms) > 0]
            if waits_ms:
                return _refused(max(waits_ms) / 1000)
            for subject, number in zip(subjects, numbers, strict=True):
                delay = delay_after(number, subject.policy)
                if delay is None:
                    continue
                _attempts, wait = self._keys(subject)
                # Of the attempts that found no wait, only the one that opens it goes on. (One
                # that opens a subject's wait and loses another's is refused all the same: the
                # wait it opened stands, the safe side.)
                if not await self.redis.set(wait, b"1", px=int(delay * 1000), nx=True):
                    return _refused(max(await self.redis.pttl(wait), 1) / 1000)
            return Admission(True)

    async def succeeded(self, subjects: Sequence[Subject]) -> None:
        with session_store_refusals():
            pipe = self.redis.pipeline(transaction=True)
            refunded = [s for s in subjects if not s.cleared_by_success]
            for subject in refunded:
                attempts, _wait = self._keys(subject)
                pipe.decr(attempts)
                pipe.pexpire(attempts, int(subject.policy.memory * 1000))
            for subject in subjects:
                if subject.cleared_by_success:
                    pipe.delete(*self._keys(subject))
            replies = await pipe.execute()
            left_after_refund = replies[0:2 * len(refunded):2]  # the DECRs' replies
            for subject, left in zip(refunded, left_after_refund, strict=True):
                if int(left) < subject.policy.free:
                    await self.redis.delete(self._keys(subject)[1])  # not owed any more

    async def clear(self) -> None:
        with session_store_refusals():
            async for key in self.redis.scan_iter(match=f"{self.namespace}:*", count=500):
                await self.redis.delete(key)
