"""The hub delivers in sequence order, once, whatever order events reach it in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from comptoir.auth.schemas import Principal
from comptoir.events.models import Event
from comptoir.realtime.hub import CLOSE_TOO_SLOW, Hub, Subscriber, live_event
from comptoir.realtime.schemas import LiveEvent
from comptoir.realtime.service import Feed
from tests.realtime.conftest import stock

MANAGER = Principal(kind="staff", id="1", name="manager1", role="manager")


@pytest.fixture
async def lone_hub(sessionmaker: Any) -> AsyncIterator[Hub]:
    """A hub that hears nothing by itself: events reach it only through ``accept``, in the
    order a test chooses (as from several processes through Redis)."""
    hub = Hub(sessionmaker, hear_commits=False, poll_seconds=3600)
    await hub.start()
    yield hub
    await hub.stop()


async def _live(sessionmaker: Any, seqs: list[int]) -> dict[int, LiveEvent]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(Event).where(Event.seq.in_(seqs)))
        return {row.seq: live_event(row) for row in rows}


async def _delivered(subscriber: Subscriber, count: int) -> list[int]:
    seqs: list[int] = []
    async with asyncio.timeout(5):
        while len(seqs) < count:
            text = subscriber.next_message()
            if text is None:
                subscriber.wake.clear()
                await subscriber.wake.wait()
                continue
            message = json.loads(text)
            if "seq" in message and "data" in message:
                seqs.append(message["seq"])
    return seqs


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for ``condition`` with a deadline generous enough for a busy machine."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "still waiting"
        await asyncio.sleep(0.01)


async def test_events_arriving_out_of_order_and_twice_are_delivered_once_in_order(
    lone_hub: Hub, record: Any, sessionmaker: Any
) -> None:
    feed = Feed(lone_hub, MANAGER)
    await feed.subscribe(["inventory:TEE"], since=None)
    seqs = [(await record(stock("TEE", "WH-PARIS", n=n)))[0] for n in range(5)]
    events = await _live(sessionmaker, seqs)
    # Two publishers interleave, Redis delivers one of them late and another twice.
    for seq in (seqs[2], seqs[0], seqs[1], seqs[4], seqs[3], seqs[2]):
        lone_hub.accept(events[seq])

    assert await _delivered(feed.subscriber, 5) == seqs
    await asyncio.sleep(0.1)
    assert feed.subscriber.next_message() is None  # nothing twice
    feed.leave()


async def test_lost_message_is_read_from_the_log_when_the_next_one_comes(
    lone_hub: Hub, record: Any, sessionmaker: Any
) -> None:
    feed = Feed(lone_hub, MANAGER)
    await feed.subscribe(["inventory:TEE"], since=None)
    seqs = [(await record(stock("TEE", "WH-PARIS", n=n)))[0] for n in range(3)]
    events = await _live(sessionmaker, seqs)
    lone_hub.accept(events[seqs[0]])
    lone_hub.accept(events[seqs[2]])  # the second never arrives

    assert await _delivered(feed.subscriber, 3) == seqs
    feed.leave()


async def test_lost_last_message_is_found_by_the_poll(
    sessionmaker: Any, record: Any
) -> None:
    hub = Hub(sessionmaker, hear_commits=False, poll_seconds=0.1)
    await hub.start()
    try:
        feed = Feed(hub, MANAGER)
        await feed.subscribe(["inventory:TEE"], since=None)
        [seq] = await record(stock("TEE", "WH-PARIS"))  # nobody tells this hub
        assert await _delivered(feed.subscriber, 1) == [seq]
        feed.leave()
    finally:
        await hub.stop()


def test_subscriber_that_falls_too_far_behind_is_dropped_and_its_queue_freed() -> None:
    subscriber = Subscriber(limit=3)
    subscriber.go_live(0)
    for seq in range(1, 5):
        subscriber.offer(seq, f"event {seq}")
    assert subscriber.closing is not None and subscriber.closing[0] == CLOSE_TOO_SLOW
    assert subscriber.next_message() is None
    subscriber.offer(5, "event 5")
    assert subscriber.next_message() is None


def test_live_events_wait_for_the_backlog_and_only_newer_ones_follow_it() -> None:
    subscriber = Subscriber(limit=100)
    subscriber.position = 10
    subscriber.offer(12, "live 12")  # committed while the backlog is read
    subscriber.offer(13, "live 13")
    assert subscriber.next_message() is None
    subscriber.go_live(12)  # the backlog read reached 12: its live copy is dropped
    assert [subscriber.next_message(), subscriber.next_message()] == ["live 13", None]
    subscriber.offer(13, "live 13 again")
    assert subscriber.next_message() is None


async def test_client_resuming_after_a_quiet_spell_is_not_closed_when_the_poll_runs_during_its_backlog(  # noqa: E501
    sessionmaker: Any, record: Any
) -> None:
    """Nobody followed the feed while events were committed (the hub fell behind); a phone
    then resumes from far back with a small queue. The poll's look at the table, taken while
    that backlog is on its way, must not pile the same events up again as live ones and
    close the phone as too slow (it did on a busy machine, where backlogs take longer)."""
    hub = Hub(sessionmaker, poll_seconds=3600)  # the test takes the poll's turn itself
    hub.client_limit = 3
    await hub.start()
    try:
        seqs = await record(*[stock("TEE", "WH-PARIS", n=n) for n in range(10)])
        await _until(lambda: hub.last_seq is None)  # heard the commit, found nobody to feed

        phone = Feed(hub, MANAGER)
        subscribing = asyncio.create_task(phone.subscribe(["inventory:TEE"], since=0))
        await _until(lambda: bool(phone.subscriber.out))  # its backlog started: the rest waits
        await hub._catch_up()  # what the poll does every poll_seconds

        assert phone.subscriber.closing is None
        assert await _delivered(phone.subscriber, 10) == seqs
        await subscribing
        phone.leave()
    finally:
        await hub.stop()
