"""What several test packages need to run real servers: own databases, readiness, cleanup."""

from __future__ import annotations

import asyncio
import secrets
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from comptoir.events import types as event_types
from comptoir.events.payloads import Payload

__all__ = [
    "RedisServer",
    "allow_test_event_types",
    "api_client",
    "drop_redis_keys",
    "free_port",
    "own_database",
    "running_app",
    "stop_process",
    "wait_ready",
]

READY_SECONDS = 30


class AnyData(Payload, kw_only=True, forbid_unknown_fields=False):
    """A test event's data: anything goes."""


def allow_test_event_types(monkeypatch: pytest.MonkeyPatch, *types: str) -> None:
    """Let a test record made-up event types (or a real type with made-up data): the
    registry's check (events/types.py) accepts any data for them, for this test only."""
    for type in types:
        monkeypatch.setitem(event_types.PAYLOADS, type, AnyData)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def own_database(tmp: Path, prefix: str, admin_url: str | None) -> AsyncIterator[str]:
    """The URL of an empty database nobody else uses: a SQLite file in ``tmp`` when
    ``admin_url`` is None, else a new PostgreSQL database on that server, dropped after."""
    if admin_url is None:
        yield f"sqlite:///{tmp / f'{prefix}.db'}"
        return
    import asyncpg

    name = f"comptoir_{prefix}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
        finally:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await admin.close()


async def drop_redis_keys(redis_url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        async for key in redis.scan_iter(match=f"{prefix}*", count=500):
            await redis.delete(key)
    finally:
        await redis.aclose()


async def wait_ready(url: str, process: asyncio.subprocess.Process,
                     log_tail: Callable[[], str]) -> None:
    """Until ``url``/ready answers 200; the test fails with the server's log if it exits or
    is not ready in time."""
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        try:
            async with asyncio.timeout(READY_SECONDS):
                while True:
                    if process.returncode is not None:
                        pytest.fail(f"{url} exited with {process.returncode}:\n{log_tail()}")
                    try:
                        if (await client.get("/ready")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
        except TimeoutError:
            pytest.fail(f"{url} not ready after {READY_SECONDS} s:\n{log_tail()}")


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def running_app(settings: Any, **changes: Any) -> AsyncIterator[Any]:
    """A second app in this process, on the same database, with other settings
    (``running_app(settings, queue_timeout=0.5)``), its lifespan running."""
    import msgspec

    from comptoir.app import create_app
    from comptoir.db.migrate import piccolo_bound_to

    with piccolo_bound_to(settings):
        other = create_app(msgspec.structs.replace(settings, **changes), run_dispatcher=False)
        async with other.lifespan():
            yield other


def api_client(app: Any, key: str) -> httpx.AsyncClient:
    """A client of ``app`` (in process) with an API key."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                             headers={"authorization": f"Bearer {key}"}, timeout=60)


class RedisServer:
    """A ``redis-server`` of a test's own, on a free port, that the test stops, pauses and
    starts again (on the same port) to see what Comptoir does while Redis is away."""

    BINARY = "/usr/bin/redis-server"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start it (empty: nothing is saved) and return once it answers PING."""
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        self.process = await asyncio.create_subprocess_exec(
            self.BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.directory),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            async with asyncio.timeout(READY_SECONDS):
                while True:
                    if self.process.returncode is not None:
                        pytest.fail(f"redis-server on port {self.port} exited "
                                    f"with {self.process.returncode}")
                    try:
                        if await client.ping():
                            return
                    except (RedisError, OSError):
                        pass  # not listening yet
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pytest.fail(f"redis-server on port {self.port} not ready after {READY_SECONDS} s")
        finally:
            await client.aclose()

    async def kill(self) -> None:
        """Kill it at once (SIGKILL): what it held is gone, as after a crash."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections open, nothing answers, as a hung server."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)
