"""A second Comptoir app on the test database but on a Redis of its own, served by uvicorn,
so a test can stop that Redis and see what browsers and systems get meanwhile."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
import uvicorn

from comptoir.settings import Settings
from tests.conftest import World
from tests.realtime.conftest import record
from tests.support import RedisServer, free_port

__all__ = ["Served", "record"]  # record: ``await record(stock(...))`` commits events


STOP_SECONDS = 60


def _task_stacks() -> str:
    """Where every task of the loop waits (what keeps a server from stopping)."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        task.print_stack(file=out)
    return out.getvalue()


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path)
    await server.start()
    yield server
    await server.kill()


@dataclass
class Served:
    url: str
    app: Any
    redis: RedisServer


@pytest.fixture
async def served_on_own_redis(
    settings: Settings, world: World, redis_server: RedisServer
) -> AsyncIterator[Served]:
    """The app (every staff member and key of ``world``) on ``redis_server``, over HTTP."""
    from comptoir.app import create_app
    from comptoir.db.migrate import piccolo_bound_to

    own = msgspec.structs.replace(settings, redis_url=redis_server.url,
                                  redis_prefix=f"{settings.redis_prefix}-own")
    with piccolo_bound_to(settings):
        app = create_app(own, run_dispatcher=False)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="on", ws="websockets-sansio",
            log_level="warning", access_log=False, timeout_graceful_shutdown=10,
        ))
        task = asyncio.create_task(server.serve())
        try:
            async with asyncio.timeout(30):
                while not server.started:
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.02)
            yield Served(url=f"http://127.0.0.1:{port}", app=app, redis=redis_server)
        finally:
            server.should_exit = True
            try:
                async with asyncio.timeout(STOP_SECONDS):
                    await task
            except TimeoutError:
                pytest.fail(f"the app did not stop within {STOP_SECONDS} s; its tasks:\n"
                            + _task_stacks())
