"""The domain's one clock, ``utcnow``, can be set for a replay of the past (the demo's month)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from comptoir.db.base import clock_at, utcnow


async def test_what_runs_inside_clock_at_is_recorded_at_that_moment_and_nothing_else_is() -> None:
    moment = dt.datetime(2026, 11, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    seen_elsewhere: list[dt.datetime] = []

    async def another_request() -> None:
        seen_elsewhere.append(utcnow())

    other = asyncio.create_task(another_request())  # started outside: the real clock
    with clock_at(moment):
        assert utcnow() == moment and utcnow().tzinfo == dt.UTC
        assert await asyncio.to_thread(utcnow) == moment  # work it hands to a thread too
        await other
    assert abs(seen_elsewhere[0] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert abs(utcnow() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_clock_at_refuses_a_time_without_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone"), clock_at(dt.datetime(2026, 1, 1)):
        pass
