"""A real uvicorn server on the test app, websocket clients for it, and events to send them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from comptoir.events.models import Event
from comptoir.events.service import record_event
from tests.conftest import PASSWORD, World
from tests.support import allow_test_event_types, free_port

RECEIVE_SECONDS = 5.0




@pytest.fixture(scope="session")
async def live_url(app: Any) -> AsyncIterator[str]:
    """``http://127.0.0.1:<port>``: the session's app served by uvicorn, as in production."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", ws="websockets-sansio",
        log_level="warning", access_log=False,
    ))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(autouse=True)
def _hub_settings(request: pytest.FixtureRequest) -> Any:
    """Tests may tune the hub (queue size, pings); every test starts from the defaults."""
    if "app" not in request.fixturenames:
        yield
        return
    hub = request.getfixturevalue("app").state.realtime
    saved = (hub.client_limit, hub.ping_seconds, hub.poll_seconds)
    yield
    hub.client_limit, hub.ping_seconds, hub.poll_seconds = saved


class FeedClient:
    """A websocket client of ``/ws`` that reads JSON messages, with timeouts."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def subscribe(self, topics: list[str], since: int | None = None) -> dict[str, Any]:
        """Subscribe; return the ``subscribed`` answer (after the backlog, kept in ``early``)."""
        await self.send({"subscribe": topics, "since": since})
        self.early: list[dict[str, Any]] = []
        while True:
            message = await self.receive()
            if message.get("type") == "subscribed":
                return message
            self.early.append(message)

    async def receive(self, within: float = RECEIVE_SECONDS) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), within)
        return json.loads(raw)  # type: ignore[no-any-return]

    async def events(self, count: int, within: float = RECEIVE_SECONDS) -> list[dict[str, Any]]:
        """The next ``count`` event messages (pings skipped)."""
        found: list[dict[str, Any]] = []
        while len(found) < count:
            message = await self.receive(within)
            if message.get("type") != "ping":
                found.append(message)
        return found

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Whatever arrives within ``seconds`` (pings skipped): [] when nothing should."""
        found: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    message = await self.receive(seconds)
                    if message.get("type") != "ping":
                        found.append(message)
        return found

    async def closed_with(self, within: float = RECEIVE_SECONDS) -> tuple[int | None, str]:
        """Read until the server closes; its close code and reason."""
        try:
            async with asyncio.timeout(within):
                while True:
                    await self.connection.recv()
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code, frame.reason) if frame is not None else (None, "")
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self.connection.close()


@pytest.fixture
async def staff_cookie(app: Any, world: World) -> Callable[[str], Any]:
    """``await staff_cookie("manager")`` → the Cookie header of a signed-in staff member."""

    async def sign_in(role: str) -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            response = await client.post("/api/auth/login", json={
                "username": world.users[role], "password": PASSWORD})
            assert response.status_code == 200, response.text
            return "; ".join(f"{name}={value}" for name, value in client.cookies.items())

    return sign_in


@pytest.fixture
async def feed(live_url: str, staff_cookie: Any, world: World) -> AsyncIterator[Any]:
    """``await feed("manager")``, ``feed(key="web")``, ``feed()`` (anonymous) → a FeedClient."""
    opened: list[FeedClient] = []

    async def open_feed(role: str | None = None, *, key: str | None = None,
                        origin: str | None = None, **options: Any) -> FeedClient:
        headers: dict[str, str] = {}
        if role is not None:
            headers["Cookie"] = await staff_cookie(role)
        if key is not None:
            headers["Authorization"] = f"Bearer {world.keys.get(key, key)}"
        connection = await connect(live_url.replace("http", "ws", 1) + "/ws",
                                   additional_headers=headers, origin=origin,  # type: ignore[arg-type]
                                   open_timeout=5, **options)
        client = FeedClient(connection)
        opened.append(client)
        return client

    yield open_feed
    for client in opened:
        await client.close()


@pytest.fixture
def record(sessionmaker: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``await record(("inventory", "TEE@WH-PARIS", {...}), …)`` commits events in one
    transaction; returns their sequence numbers. Their data are the test's, unchecked."""
    allow_test_event_types(monkeypatch, "inventory.changed", "order.changed")

    async def commit(*events: tuple[str, str, dict[str, Any]]) -> list[int]:
        async with sessionmaker() as session, session.begin():
            rows = [await record_event(session, topic=topic, type=f"{topic}.changed",
                                       subject=subject, data=data, actor="test")
                    for topic, subject, data in events]
        async with sessionmaker() as session:  # PostgreSQL numbers them inside COMMIT
            numbers = dict((await session.execute(
                select(Event.id, Event.seq).where(Event.id.in_([row.id for row in rows]))
            )).tuples().all())
        return [numbers[row.id] for row in rows]

    return commit


def stock(sku: str, location: str, **data: Any) -> tuple[str, str, dict[str, Any]]:
    return ("inventory", f"{sku}@{location}", {"sku": sku, "location": location, **data})


def order(number: str, *locations: str, **data: Any) -> tuple[str, str, dict[str, Any]]:
    return ("order", number, {"locations": list(locations), **data})
