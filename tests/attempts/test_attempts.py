"""Attempts counted against a limit: the policies (pure), and the memory and Redis counters,
which count an attempt and check it in one step however many arrive at once."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from redis.asyncio import Redis

from comptoir.attempts import (
    Admission,
    AttemptCounter,
    FixedWindow,
    GrowingWaits,
    MemoryAttempts,
    Policy,
    RedisAttempts,
    Subject,
)
from comptoir.errors import ServiceUnavailable
from tests.attempts.conftest import Clock, counters_away
from tests.support import RedisServer, free_port

FIXED = FixedWindow(free=5, memory=600.0)
GROWING = GrowingWaits(free=5, base_delay=60.0, max_delay=900.0, memory=600.0)
AT_ONCE = 30
ROUNDS = 200


def test_growing_waits_start_at_the_last_free_attempt_and_double_up_to_the_longest() -> None:
    policy = GrowingWaits(free=3, base_delay=2.0, max_delay=60.0, memory=600.0)
    assert [policy.wait_after(n, 600.0) for n in (1, 2)] == [None, None]
    assert [policy.wait_after(n, 600.0) for n in range(3, 10)] == [2, 4, 8, 16, 32, 60, 60]
    assert policy.wait_after(10_000, 600.0) == 60  # no overflow however long it goes on


def test_a_fixed_window_waits_from_its_last_free_attempt_until_it_ends() -> None:
    assert [FIXED.wait_after(n, 42.0) for n in (1, 4, 5, 9)] == [None, None, 42.0, 42.0]


async def _count_is_exactly(counters: AttemptCounter, subject: Subject, attempts: int) -> None:
    """Refund all but the free attempts less one: then the next attempt is the last free one
    only if ``attempts`` were counted (one more and it is refused, one fewer and it is not
    the last), and the one after is refused."""
    for _ in range(attempts - subject.policy.free + 1):
        await counters.succeeded([subject])
    assert await counters.admit([subject]) == Admission(True, left=0)
    assert not (await counters.admit([subject])).allowed


@pytest.mark.parametrize("policy", [FIXED, GROWING], ids=["fixed_window", "growing_waits"])
async def test_of_thirty_attempts_at_once_only_the_free_ones_go_through_and_all_are_counted(
    counters: AttemptCounter, policy: Policy,
) -> None:
    subject = Subject("thirty", policy)
    admissions = await asyncio.gather(*(counters.admit([subject]) for _ in range(AT_ONCE)))
    assert sorted(a.left for a in admissions if a.allowed) == [0, 1, 2, 3, 4]
    refused = [a for a in admissions if not a.allowed]
    assert len(refused) == AT_ONCE - policy.free
    assert all(1 <= a.retry_after <= 900 for a in refused)
    await _count_is_exactly(counters, subject, AT_ONCE)


@pytest.fixture
def switch_often() -> Iterator[None]:
    """Threads take turns after every few instructions, so unguarded steps would interleave."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_thirty_threads_counting_at_once_in_memory_are_counted_exactly(
    switch_often: None,
) -> None:
    counters = MemoryAttempts()
    start = threading.Barrier(AT_ONCE)

    def attempt(subject: Subject) -> Admission:
        loop = asyncio.new_event_loop()  # each thread its own, as a server's workers would
        try:
            start.wait()
            return loop.run_until_complete(counters.admit([subject]))
        finally:
            loop.close()

    with ThreadPoolExecutor(AT_ONCE) as pool:
        for round_ in range(ROUNDS):  # a race, if there were one, would show in some
            subject = Subject(f"threads-{round_}", FIXED)
            admissions = list(pool.map(attempt, [subject] * AT_ONCE))
            assert sorted(a.left for a in admissions if a.allowed) == [0, 1, 2, 3, 4]
            asyncio.run(_count_is_exactly(counters, subject, AT_ONCE))


async def test_a_right_answer_gives_its_attempt_back_and_the_wait_it_opened(
    counters: AttemptCounter,
) -> None:
    subject = Subject("refund", FixedWindow(free=2, memory=600.0))
    assert (await counters.admit([subject])).left == 1
    assert await counters.admit([subject]) == Admission(True, left=0)  # opens the wait...
    await counters.succeeded([subject])  # ...but it was right: it is not owed
    assert await counters.admit([subject]) == Admission(True, left=0)
    refused = await counters.admit([subject])
    assert not refused.allowed and 500 <= refused.retry_after <= 600  # the window's end


async def test_a_subject_cleared_by_success_starts_again_from_nothing(
    counters: AttemptCounter,
) -> None:
    subject = Subject("cleared", FixedWindow(free=2, memory=600.0), cleared_by_success=True)
    for _ in range(4):
        await counters.admit([subject])
    await counters.succeeded([subject])
    assert [await counters.admit([subject]) for _ in range(2)] == [
        Admission(True, left=1), Admission(True, left=0)]


async def test_an_attempt_is_refused_while_any_of_its_subjects_waits_and_counts_for_all(
    counters: AttemptCounter,
) -> None:
    address = Subject("address", FixedWindow(free=2, memory=600.0))
    account = Subject("account", FixedWindow(free=5, memory=600.0))
    assert (await counters.admit([address])).allowed
    assert (await counters.admit([address])).allowed  # the address now waits
    refused = await counters.admit([address, account])
    assert not refused.allowed and refused.retry_after >= 500
    assert (await counters.admit([account])).left == 3  # the refused attempt counted too


async def test_growing_waits_open_after_the_free_attempts_and_grow_with_every_attempt() -> None:
    clock = Clock()
    counters = MemoryAttempts(clock)
    subject = Subject("growing", GrowingWaits(free=3, base_delay=2.0, max_delay=60.0,
                                              memory=600.0))
    assert all([(await counters.admit([subject])).allowed for _ in range(3)])  # 3rd opens 2 s
    assert await counters.admit([subject]) == Admission(False, 2)
    clock.now += 1.5
    assert await counters.admit([subject]) == Admission(False, 1)  # what is left, rounded up
    clock.now += 0.5
    assert (await counters.admit([subject])).allowed  # the 6th attempt: opens 16 s
    clock.now += 15
    assert await counters.admit([subject]) == Admission(False, 1)
    clock.now += 1
    assert (await counters.admit([subject])).allowed  # the 8th: opens the longest, 60 s
    assert await counters.admit([subject]) == Admission(False, 60)


async def test_a_growing_count_is_forgotten_a_while_after_its_last_attempt() -> None:
    clock = Clock()
    counters = MemoryAttempts(clock)
    subject = Subject("forgotten", GrowingWaits(free=3, base_delay=2.0, max_delay=60.0,
                                                memory=600.0))
    for _ in range(5):
        assert (await counters.admit([subject])).allowed
        clock.now += 100  # past its wait; and the count is kept 600 s more
    assert (await counters.admit([subject])).allowed  # the 6th, 500 s after the first...
    assert await counters.admit([subject]) == Admission(False, 16)  # ...opened 16 s
    clock.now += 600
    assert all([(await counters.admit([subject])).allowed for _ in range(3)])
    assert await counters.admit([subject]) == Admission(False, 2)  # as at first


async def test_a_fixed_window_ends_where_its_first_attempt_put_it() -> None:
    clock = Clock()
    counters = MemoryAttempts(clock)
    subject = Subject("window", FixedWindow(free=2, memory=60.0))
    assert (await counters.admit([subject])).left == 1
    clock.now += 50
    assert (await counters.admit([subject])).left == 0  # waits for the window's end...
    assert await counters.admit([subject]) == Admission(False, 10)  # ...10 s away, not 60
    clock.now += 10
    assert (await counters.admit([subject])).left == 1  # a new window


@pytest.fixture
async def redis_and_counters(tmp_path: Path) -> AsyncIterator[tuple[Redis, RedisAttempts]]:
    server = RedisServer(tmp_path)
    await server.start()
    redis = Redis.from_url(server.url, socket_connect_timeout=5, socket_timeout=5)
    try:
        yield redis, RedisAttempts(redis, "ns", counters_away)
    finally:
        await redis.aclose()
        await server.kill()


async def test_in_redis_a_fixed_window_keeps_its_end_and_a_growing_count_moves_on(
    redis_and_counters: tuple[Redis, RedisAttempts],
) -> None:
    redis, counters = redis_and_counters
    fixed = Subject("fixed", FixedWindow(free=2, memory=600.0))
    growing = Subject("growing", GrowingWaits(free=5, base_delay=2.0, max_delay=60.0,
                                              memory=600.0))
    for subject in (fixed, growing):
        await counters.admit([subject])
        await redis.pexpire(f"ns:{subject.key}:n", 5000)  # as if 595 s had gone by
        await counters.admit([subject])
    assert 0 < await redis.pttl("ns:fixed:n") <= 5000
    assert await redis.pttl("ns:growing:n") > 5000
    refused = await counters.admit([fixed])  # the wait lasts until the window ends
    assert not refused.allowed and refused.retry_after <= 5
    await redis.persist("ns:fixed:n")  # a count that lost its end gets one again
    await counters.admit([fixed])
    assert await redis.pttl("ns:fixed:n") > 0


async def test_redis_away_refuses_attempts_the_callers_way_but_never_a_right_answer() -> None:
    gone = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    counters = RedisAttempts(gone, "gone", counters_away)
    subject = Subject("away", FIXED)
    try:
        with pytest.raises(ServiceUnavailable) as refused:
            await counters.admit([subject])
        assert refused.value.code == "counters_away"
        await counters.succeeded([subject])  # the attempt stays counted; nothing is refused
    finally:
        await gone.aclose()
