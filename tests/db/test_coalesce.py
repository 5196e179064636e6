"""Calls that arrive together share one batch; nothing is lost, mixed up or held back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from comptoir.db.coalesce import Coalescer


class Recorder:
    """A batch function that remembers its batches and can be held at the "database"."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_on: str | None = None

    async def run(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        await self.gate.wait()
        if self.fail_on is not None and self.fail_on in items:
            raise RuntimeError(f"refused: {self.fail_on}")
        return [item.upper() for item in items]


async def test_a_lone_call_runs_at_once_and_gets_its_own_result() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.run)
    assert await coalescer.submit("a") == "A"
    assert recorder.batches == [["a"]]


async def test_calls_arriving_while_a_batch_runs_share_the_next_one() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    coalescer = Coalescer(recorder.run)
    first = asyncio.create_task(coalescer.submit("first"))
    await asyncio.sleep(0)  # the first batch starts and waits at the "database"
    others = [asyncio.create_task(coalescer.submit(f"o{i}")) for i in range(5)]
    await asyncio.sleep(0)
    assert recorder.batches == [["first"]]
    recorder.gate.set()
    assert await first == "FIRST"
    assert [await task for task in others] == ["O0", "O1", "O2", "O3", "O4"]
    assert recorder.batches == [["first"], ["o0", "o1", "o2", "o3", "o4"]]
    assert (coalescer.batches, coalescer.items) == (2, 6)


async def test_a_batch_never_holds_more_than_its_limit() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.run, limit=3)
    results = await asyncio.gather(*(coalescer.submit(f"i{i}") for i in range(8)))
    assert results == [f"I{i}" for i in range(8)]
    assert max(len(batch) for batch in recorder.batches) == 3
    assert sorted(item for batch in recorder.batches for item in batch) == sorted(
        f"i{i}" for i in range(8))


async def test_calls_whose_keys_meet_go_in_different_batches() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.run, keys=lambda item: [item.split("-")[0]])
    results = await asyncio.gather(*(coalescer.submit(item) for item in
                                     ["ada-1", "bob-1", "ada-2", "cid-1", "ada-3"]))
    assert results == ["ADA-1", "BOB-1", "ADA-2", "CID-1", "ADA-3"]
    for batch in recorder.batches:
        owners = [item.split("-")[0] for item in batch]
        assert len(owners) == len(set(owners)), batch
    assert len(recorder.batches) == 3  # ada's three calls need three batches


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    recorder.fail_on = "bad"
    coalescer = Coalescer(recorder.run)
    first = asyncio.create_task(coalescer.submit("first"))
    await asyncio.sleep(0)
    together = [asyncio.create_task(coalescer.submit(item)) for item in ("good", "bad")]
    await asyncio.sleep(0)
    recorder.gate.set()
    assert await first == "FIRST"
    for task in together:
        with pytest.raises(RuntimeError, match="refused: bad"):
            await task
    recorder.fail_on = None
    assert await coalescer.submit("after") == "AFTER"


async def test_a_caller_cancelled_while_waiting_is_left_out() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    coalescer = Coalescer(recorder.run)
    first = asyncio.create_task(coalescer.submit("first"))
    await asyncio.sleep(0)
    gone = asyncio.create_task(coalescer.submit("gone"))
    kept = asyncio.create_task(coalescer.submit("kept"))
    await asyncio.sleep(0)
    gone.cancel()
    recorder.gate.set()
    assert (await first, await kept) == ("FIRST", "KEPT")
    assert gone.cancelled()
    assert recorder.batches == [["first"], ["kept"]]


async def test_a_batch_function_giving_the_wrong_number_of_results_fails_its_callers() -> None:
    async def short(items: Sequence[str]) -> list[str]:
        return list(items)[:-1]

    coalescer: Coalescer[str, str] = Coalescer(short)
    with pytest.raises(RuntimeError, match="gave 0 results"):
        await coalescer.submit("x")


def test_a_batch_holds_at_least_one_item() -> None:
    with pytest.raises(ValueError):
        Coalescer(Recorder().run, limit=0)


async def test_a_call_beyond_the_waiting_limit_is_refused_at_once_and_never_runs() -> None:
    from comptoir.db.coalesce import Saturated

    recorder = Recorder()
    recorder.gate.clear()
    coalescer = Coalescer(recorder.run, max_waiting=2)
    first = asyncio.create_task(coalescer.submit("first"))
    while not recorder.batches:  # noqa: ASYNC110 (its batch starts, held at the "database")
        await asyncio.sleep(0)
    waiting = [asyncio.create_task(coalescer.submit(f"w{i}")) for i in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(Saturated):
        await coalescer.submit("one too many")
    recorder.gate.set()
    assert [await first, *[await task for task in waiting]] == ["FIRST", "W0", "W1"]
    assert "one too many" not in [item for batch in recorder.batches for item in batch]


async def test_a_call_that_waits_too_long_is_withdrawn_but_a_started_one_gets_its_result() -> None:
    from comptoir.db.coalesce import Saturated

    recorder = Recorder()
    recorder.gate.clear()
    coalescer = Coalescer(recorder.run, max_wait=0.05)
    first = asyncio.create_task(coalescer.submit("first"))
    while not recorder.batches:  # noqa: ASYNC110 (its batch starts, held at the "database")
        await asyncio.sleep(0)
    with pytest.raises(Saturated):
        await coalescer.submit("late")  # its batch never started within 0.05 s
    assert coalescer.waiting == 0
    await asyncio.sleep(0.1)  # "first" has waited longer than max_wait too, but it started
    recorder.gate.set()
    assert await first == "FIRST"
    assert recorder.batches == [["first"]]
