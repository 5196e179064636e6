"""The sign-in throttling rule, and the in-memory counters, on a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from comptoir.auth.attempts import Admission, AttemptCounters, MemoryAttempts, RedisAttempts
from comptoir.auth.throttle import (
    ACCOUNT_FROM_ADDRESS,
    Policy,
    Subject,
    client_network,
    delay_after,
    subjects_for,
)
from tests.support import RedisServer

POLICY = Policy(free=3, base_delay=2.0, max_delay=60.0, memory=600.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_wait_before_the_free_attempts_are_used_then_waits_double_up_to_the_longest() -> None:
    assert [delay_after(n, POLICY) for n in range(1, 3)] == [None, None]
    assert [delay_after(n, POLICY) for n in range(3, 10)] == [2, 4, 8, 16, 32, 60, 60]
    assert delay_after(10_000, POLICY) == 60  # no overflow however long it goes on


def test_an_ipv6_client_is_counted_by_its_network_and_an_ipv4_one_by_its_address() -> None:
    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:2:ffff::9")
    assert client_network("2001:db8:1:2::1") != client_network("2001:db8:1:3::1")
    assert client_network("203.0.113.5") != client_network("203.0.113.6")
    assert client_network("::ffff:203.0.113.5") == "203.0.113.5"


def test_an_account_is_counted_apart_for_each_address_and_whatever_its_case() -> None:
    address_here, account_here = subjects_for("Manager1", "203.0.113.5")
    address_there, account_there = subjects_for("manager1", "198.51.100.7")
    assert account_here.key != account_there.key
    assert subjects_for("manager1 ", "203.0.113.5")[1] == account_here
    assert address_here.key != address_there.key
    assert account_here.policy == ACCOUNT_FROM_ADDRESS and account_here.cleared_by_success
    assert not address_here.cleared_by_success


async def _tries(attempts: AttemptCounters, subjects: list[Subject], count: int
                 ) -> list[Admission]:
    return [await attempts.admit(subjects) for _ in range(count)]


async def test_waits_open_after_the_free_attempts_and_grow_with_every_attempt() -> None:
    clock = Clock()
    attempts = MemoryAttempts(clock)
    subject = Subject("acct:x:203.0.113.5", POLICY, cleared_by_success=True)
    assert all(a.allowed for a in await _tries(attempts, [subject], 3))  # the 3rd opens 2 s
    refused = await attempts.admit([subject])
    assert refused == Admission(False, 2)
    clock.now += 1.5
    assert await attempts.admit([subject]) == Admission(False, 1)  # what is left, rounded up
    clock.now += 0.5
    assert (await attempts.admit([subject])).allowed  # the 6th attempt: opens 16 s
    clock.now += 15
    assert await attempts.admit([subject]) == Admission(False, 1)
    clock.now += 1
    assert (await attempts.admit([subject])).allowed  # the 8th: opens the longest, 60 s
    assert await attempts.admit([subject]) == Admission(False, 60)


async def test_attempts_are_forgotten_a_while_after_the_last_one() -> None:
    clock = Clock()
    attempts = MemoryAttempts(clock)
    subject = Subject("acct:y:203.0.113.5", POLICY, cleared_by_success=True)
    await _tries(attempts, [subject], 5)
    clock.now += POLICY.memory
    assert all(a.allowed for a in await _tries(attempts, [subject], 3))


@pytest.fixture(params=["memory", "redis"])
async def counters(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AttemptCounters]:
    """The in-memory counters, and the Redis ones on a redis-server of the test's own."""
    if request.param == "memory":
        yield MemoryAttempts(Clock())
        return
    server = RedisServer(tmp_path)
    await server.start()
    redis = Redis.from_url(server.url, socket_connect_timeout=1, socket_timeout=1)
    try:
        yield RedisAttempts(redis, namespace="test:signin")
    finally:
        await redis.aclose()
        await server.kill()


async def test_a_right_password_clears_its_account_and_gives_the_address_its_attempt_back(
    counters: AttemptCounters,
) -> None:
    address = Subject("addr:203.0.113.5", POLICY, cleared_by_success=False)
    account = Subject("acct:z:203.0.113.5", POLICY, cleared_by_success=True)
    both = [address, account]
    assert all(a.allowed for a in await _tries(counters, both, 3))  # 2 wrong, then the right one
    await counters.succeeded(both)
    # The account starts again from nothing: three more before any wait.
    assert all(a.allowed for a in await _tries(counters, [account], 3))
    # The address counts its two failures only: its next attempt opens its first wait.
    assert (await counters.admit([address])).allowed
    refused = await counters.admit([address])
    assert not refused.allowed and refused.retry_after in (1, 2)  # what is left of 2 s


async def test_of_simultaneous_attempts_only_the_free_ones_are_let_through(
    counters: AttemptCounters,
) -> None:
    subject = Subject("acct:w:203.0.113.5", POLICY, cleared_by_success=True)
    admissions = await asyncio.gather(*(counters.admit([subject]) for _ in range(20)))
    assert sum(a.allowed for a in admissions) == POLICY.free
    # The wait is the one opened by whichever attempt got through last: the more attempts
    # came at once, the longer it may be.
    assert all(1 <= a.retry_after <= POLICY.max_delay for a in admissions if not a.allowed)
