"""The event log: written with the change, numbered in commit order, announced after commit."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from comptoir.events.models import Event
from comptoir.events.service import add_event_listener, events_after, record_event
from comptoir.inventory import service as inventory
from tests.support import allow_test_event_types


@pytest.fixture(autouse=True)
def _made_up_types(monkeypatch: pytest.MonkeyPatch) -> None:
    allow_test_event_types(monkeypatch, "test.happened", "inventory.happened")


async def _record(session: Any, subject: str, topic: str = "test") -> Event:
    return await record_event(session, topic=topic, type=f"{topic}.happened", subject=subject,
                              data={"subject": subject}, actor="tester")


async def _all_events(sessionmaker: Any) -> list[Event]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Event).order_by(Event.seq)))


@pytest.fixture
def heard() -> Iterator[list[list[Event]]]:
    """What an event listener is told, one list per announcement."""
    batches: list[list[Event]] = []
    stop = add_event_listener(lambda events, _database: batches.append(list(events)))
    yield batches
    stop()


async def test_rolled_back_change_leaves_no_event_and_announces_nothing(
    sessionmaker: Any, heard: list[list[Event]]
) -> None:
    async with sessionmaker() as session:
        await _record(session, "order-1")
        await session.flush()
        await session.rollback()

    assert await _all_events(sessionmaker) == []
    assert heard == []


async def test_committed_events_are_numbered_in_commit_order_and_read_back_from_any_point(
    sessionmaker: Any,
) -> None:
    for batch in (["a1", "a2"], ["b1"], ["c1", "c2", "c3"]):
        async with sessionmaker() as session, session.begin():
            for subject in batch:
                await _record(session, subject)

    events = await _all_events(sessionmaker)
    assert [e.subject for e in events] == ["a1", "a2", "b1", "c1", "c2", "c3"]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 6 and None not in seqs

    async with sessionmaker() as session:
        after_b1 = await events_after(session, events[2].seq)
        assert [e.subject for e in after_b1] == ["c1", "c2", "c3"]
        assert [e.subject for e in await events_after(session, 0, limit=2)] == ["a1", "a2"]
        only_c2 = await events_after(session, 0, topic="test", subject="c2")
        assert [e.seq for e in only_c2] == [events[4].seq]


async def test_listener_is_told_after_commit_never_before_of_events_numbered_in_order(
    sessionmaker: Any, heard: list[list[Event]]
) -> None:
    async with sessionmaker() as session:
        await _record(session, "order-1")
        await _record(session, "order-2")
        await session.flush()
        assert heard == [], "a listener heard of events before their transaction committed"
        await session.commit()

    assert len(heard) == 1
    assert [e.subject for e in heard[0]] == ["order-1", "order-2"]
    stored = await _all_events(sessionmaker)
    assert [e.id for e in heard[0]] == [e.id for e in stored]
    assert all(e.seq is not None for e in stored)
    # The database numbers them (PostgreSQL inside COMMIT): the listener gets them
    # unnumbered and reads the numbers back when it needs them (see realtime/hub.py).
    assert [e.seq for e in heard[0]] == [None, None]


async def test_events_of_a_rolled_back_savepoint_are_neither_kept_nor_announced(
    sessionmaker: Any, heard: list[list[Event]]
) -> None:
    async with sessionmaker() as session, session.begin():
        await _record(session, "kept-before")
        savepoint = await session.begin_nested()
        await _record(session, "abandoned")
        await session.flush()
        await savepoint.rollback()
        await _record(session, "kept-after")

    assert [e.subject for e in await _all_events(sessionmaker)] == ["kept-before", "kept-after"]
    assert [[e.subject for e in batch] for batch in heard] == [["kept-before", "kept-after"]]


async def test_releasing_a_savepoint_announces_nothing_until_the_outer_transaction_commits(
    sessionmaker: Any, heard: list[list[Event]]
) -> None:
    async with sessionmaker() as session:
        async with session.begin_nested():
            await _record(session, "inside-savepoint")
        assert heard == [], "announced when a savepoint was released, before the real commit"
        await session.rollback()

    assert heard == []
    assert await _all_events(sessionmaker) == []


async def test_a_failing_listener_neither_fails_the_commit_nor_silences_other_listeners(
    sessionmaker: Any, heard: list[list[Event]]
) -> None:
    def broken(_events: Sequence[Event], _database: object) -> None:
        raise RuntimeError("listener bug")

    stop = add_event_listener(broken)
    try:
        async with sessionmaker() as session, session.begin():
            await _record(session, "order-1")
    finally:
        stop()

    assert [e.subject for e in await _all_events(sessionmaker)] == ["order-1"]
    assert [[e.subject for e in batch] for batch in heard] == [["order-1"]]


async def test_stock_adjustment_writes_inventory_changed_with_the_new_level(
    sessionmaker: Any, catalog: Any, heard: list[list[Event]], world: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 5})
    async with sessionmaker() as session, session.begin():
        await inventory.adjust(session, sku="TEE-BLK-M", location="WH-PARIS", delta=-2,
                               reason="damaged in store", actor="staff:manager1")

    events = [e for e in await _all_events(sessionmaker) if e.type == "inventory.changed"]
    assert [(e.topic, e.subject) for e in events] == [("inventory", "TEE-BLK-M@WH-PARIS")] * 2
    last = events[-1]
    assert last.actor == "staff:manager1"
    assert last.data["on_hand"] == 3 and last.data["available"] == 3
    assert last.data["quantity"] == -2 and last.data["reason"] == "damaged in store"
    assert heard[-1][-1].id == last.id


async def test_refused_stock_adjustment_writes_no_event(
    sessionmaker: Any, catalog: Any, world: Any
) -> None:
    from comptoir.errors import Conflict

    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 1})
    before = await _all_events(sessionmaker)
    with pytest.raises(Conflict):
        async with sessionmaker() as session, session.begin():
            await inventory.adjust(session, sku="TEE-BLK-M", location="WH-PARIS", delta=-2,
                                   reason="too many", actor="staff:manager1")
    assert len(await _all_events(sessionmaker)) == len(before)


@pytest.mark.postgres
async def test_an_event_committed_late_is_not_skipped_by_a_reader_resuming_from_a_sequence(
    sessionmaker: Any,
) -> None:
    # The first writer records its event first but commits last.
    async with sessionmaker() as slow, sessionmaker() as fast:
        await _record(slow, "recorded-first")
        await slow.flush()
        await _record(fast, "recorded-second")
        await fast.commit()

        async with sessionmaker() as reader:
            seen = await events_after(reader, 0)
        assert [e.subject for e in seen] == ["recorded-second"]

        await slow.commit()

    async with sessionmaker() as reader:
        resumed = await events_after(reader, seen[-1].seq)
    assert [e.subject for e in resumed] == ["recorded-first"]


@pytest.mark.postgres
async def test_a_reader_following_concurrent_writers_sees_every_event_once(
    sessionmaker: Any,
) -> None:
    writers = 40
    done = asyncio.Event()

    async def write(n: int) -> None:
        async with sessionmaker() as session:
            await _record(session, f"w{n}")
            await session.flush()
            await asyncio.sleep(random.uniform(0, 0.05))  # commit in a different order
            await session.commit()

    async def follow() -> list[str]:
        seen: list[str] = []
        last = 0
        while True:
            finished = done.is_set()
            async with sessionmaker() as session:
                for event in await events_after(session, last):
                    seen.append(event.subject)
                    last = event.seq
            if finished:
                return seen
            await asyncio.sleep(0.005)

    reader = asyncio.create_task(follow())
    await asyncio.gather(*(write(n) for n in range(writers)))
    done.set()
    seen = await reader

    assert sorted(seen) == sorted(f"w{n}" for n in range(writers))
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == writers


@pytest.mark.postgres
async def test_two_changes_to_the_same_stock_both_commit_their_events_without_deadlock(
    sessionmaker: Any, catalog: Any, world: Any
) -> None:
    from comptoir.inventory.models import InventoryLevel

    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 5})
    async with sessionmaker() as first, sessionmaker() as second:
        # The first holds the level's row lock (adjusted, not yet committed).
        await inventory.adjust(first, sku="TEE-BLK-M", location="WH-PARIS", delta=-1,
                               reason="sold at the counter", actor="staff:associate1")
        # The second changed the same level in memory only: its commit must write it, and
        # wait for the first, before it takes its turn to number its events.
        level = await second.scalar(select(InventoryLevel).where(InventoryLevel.sku == "TEE-BLK-M"))
        assert level is not None
        level.safety_stock = 1
        await _record(second, "safety-stock", topic="inventory")
        second_commit = asyncio.create_task(second.commit())
        await asyncio.sleep(0.3)
        await asyncio.wait_for(first.commit(), timeout=10)
        await asyncio.wait_for(second_commit, timeout=10)

    events = await _all_events(sessionmaker)
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert events[-1].subject == "safety-stock"
