"""A shutdown never hangs on a background task that swallows its cancellation (as the Redis
client did, cancelled mid-command: the live feed's publisher went back to waiting, and
the app's shutdown, which awaited it, never ended)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from comptoir.periodic import Periodic
from comptoir.tasks import stop_tasks


async def _ends_within(seconds: float, stopping: Awaitable[None]) -> bool:
    """Whether ``stopping`` ends within ``seconds`` (not through a timeout's cancellation,
    which a swallowing task would swallow too)."""
    stopper = asyncio.ensure_future(stopping)
    done, _pending = await asyncio.wait([stopper], timeout=seconds)
    return stopper in done


async def _swallows_one_cancellation(woken: asyncio.Event) -> None:
    try:
        await asyncio.Event().wait()  # a library call, cancelled midway...
    except asyncio.CancelledError:
        pass  # ...that returns as if nothing happened
    await woken.wait()  # back to waiting for work that never comes


async def test_a_task_that_swallows_its_cancellation_is_stopped_all_the_same() -> None:
    stubborn = asyncio.create_task(_swallows_one_cancellation(asyncio.Event()))
    polite = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)  # both are waiting

    assert await _ends_within(10, stop_tasks([stubborn, polite]))
    assert stubborn.cancelled() and polite.cancelled()


async def test_a_periodic_job_whose_turn_swallows_the_cancellation_stops() -> None:
    turns = 0

    async def turn() -> None:
        nonlocal turns
        turns += 1
        await _swallows_one_cancellation(asyncio.Event())

    job = Periodic("stubborn", turn, 60)
    job.start()
    while turns == 0:  # noqa: ASYNC110 (waits for the job's first turn)
        await asyncio.sleep(0.01)
    assert await _ends_within(10, job.stop())


async def test_a_task_that_failed_before_the_shutdown_does_not_stop_it() -> None:
    async def fails() -> None:
        raise RuntimeError("lost")

    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await stop_tasks([failed])
    assert isinstance(failed.exception(), RuntimeError)
