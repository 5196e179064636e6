"""Redis restarts under the live feed: the processes hear each other again by themselves,
and a client loses no event (what could not travel through Redis is read from the log)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from comptoir.realtime.hub import Hub
from comptoir.realtime.service import Feed
from tests.conftest import REDIS_PREFIX
from tests.realtime.conftest import stock
from tests.realtime.test_hub import MANAGER, _delivered
from tests.support import RedisServer

READ_TIMEOUT = 0.2  # the app's Redis read timeout, made shorter still


async def _subscribers(server: RedisServer, channel: str) -> int:
    client = Redis.from_url(server.url, socket_connect_timeout=1, socket_timeout=1)
    try:
        [(_name, count)] = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


async def test_processes_hear_each_other_again_after_a_redis_restart_and_lose_nothing(
    sessionmaker: Any, record: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(tmp_path)
    await server.start()
    channel = f"{REDIS_PREFIX}-restart:events"
    clients = [Redis.from_url(server.url, socket_connect_timeout=1, socket_timeout=READ_TIMEOUT)
               for _ in range(2)]
    # This process's commits go out through one hub; the other stands for another process:
    # only Redis wakes it (its poll of the log is off).
    publisher = Hub(sessionmaker, redis=clients[0], channel=channel, poll_seconds=3600)
    listener = Hub(sessionmaker, redis=clients[1], channel=channel, poll_seconds=3600,
                   hear_commits=False)
    await publisher.start()
    await listener.start()
    try:
        feed = Feed(listener, MANAGER)
        await feed.subscribe(["inventory:TEE"], since=None)
        # A quiet channel is no lost subscription, however short the read timeout.
        with caplog.at_level(logging.WARNING, logger="comptoir.realtime"):
            await asyncio.sleep(READ_TIMEOUT * 5)
        assert "subscription lost" not in caplog.text
        [before] = await record(stock("TEE", "WH-PARIS", n=0))
        assert await _delivered(feed.subscriber, 1) == [before]

        await server.kill()
        [during] = await record(stock("TEE", "WH-PARIS", n=1))  # nobody can tell the listener
        await server.start()  # empty, on the same port

        async with asyncio.timeout(30):  # both hubs subscribe again by themselves
            while await _subscribers(server, channel) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        [after] = await record(stock("TEE", "WH-PARIS", n=2))
        assert await _delivered(feed.subscriber, 2) == [during, after]
        feed.leave()
    finally:
        await listener.stop()
        await publisher.stop()
        for client in clients:
            await client.aclose()
        await server.kill()
