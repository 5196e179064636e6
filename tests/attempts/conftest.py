"""The attempt counters to test: in memory on a clock the test moves, and in Redis on a
redis-server of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from comptoir.attempts import AttemptCounter, MemoryAttempts, RedisAttempts
from comptoir.errors import ServiceUnavailable
from tests.support import RedisServer

__all__ = ["Clock", "counters", "counters_away"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counters_away() -> ServiceUnavailable:
    return ServiceUnavailable("The counters do not answer.", code="counters_away")


@pytest.fixture(params=["memory", "redis"])
async def counters(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AttemptCounter]:
    if request.param == "memory":
        yield MemoryAttempts(Clock())
        return
    server = RedisServer(tmp_path)
    await server.start()
    redis = Redis.from_url(server.url, socket_connect_timeout=5, socket_timeout=5)
    try:
        yield RedisAttempts(redis, "test:attempts", counters_away)
    finally:
        await redis.aclose()
        await server.kill()
