"""Redis goes away: staff are told to wait (503, the feed's 1013), systems keep working, and
everything comes back by itself when Redis does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from litestar.stores.redis import RedisStore
from redis.exceptions import ConnectionError as RedisConnectionError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.auth.conftest import Served
from tests.conftest import PASSWORD, World
from tests.realtime.conftest import stock

# What a browser waits at most for an answer while Redis is away: the app's Redis timeouts
# are about a second, and "a clean refusal" must come long before a person gives up.
ANSWER_WITHIN_SECONDS = 15.0
RECOVERY_SECONDS = 30.0
TRY_AGAIN_LATER = 1013


async def _sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    response = await client.post("/api/auth/login",
                                 json={"username": username, "password": PASSWORD})
    if response.status_code == 200:
        client.headers["x-csrf-token"] = response.json()["csrf_token"]
    return response


def _cookie(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def _assert_session_store_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "session_store_unavailable"
    assert int(response.headers["retry-after"]) >= 1


async def _feed_closes_with(url: str, headers: dict[str, str]) -> int | None:
    """Open ``/ws`` and subscribe; the close code the server ends it with."""
    try:
        async with connect(url.replace("http", "ws", 1) + "/ws", additional_headers=headers,
                           open_timeout=ANSWER_WITHIN_SECONDS) as socket:
            await socket.send(json.dumps({"subscribe": ["orders"], "since": None}))
            async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
                while True:
                    await socket.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    except InvalidStatus as refused:  # an HTTP answer to the handshake, no websocket at all
        raise AssertionError(f"handshake refused with HTTP {refused.response.status_code}") \
            from None


async def _feed_subscribes(url: str, headers: dict[str, str], topics: list[str],
                           since: int | None = None) -> list[int]:
    """Open ``/ws`` and subscribe: the sequence numbers of the events it replays first."""
    replayed: list[int] = []
    async with connect(url.replace("http", "ws", 1) + "/ws", additional_headers=headers,
                       open_timeout=ANSWER_WITHIN_SECONDS) as socket:
        await socket.send(json.dumps({"subscribe": topics, "since": since}))
        async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
            while True:
                message = json.loads(await socket.recv())
                if message.get("type") == "subscribed":
                    return replayed
                if "seq" in message and "data" in message:
                    replayed.append(message["seq"])


async def _until(check: Any, deadline: float = RECOVERY_SECONDS) -> None:
    """Poll ``check()`` (an awaitable returning bool) until it is true, or fail the test."""
    async with asyncio.timeout(deadline):
        while not await check():  # noqa: ASYNC110  (polls what a user sees)
            await asyncio.sleep(0.1)


async def test_redis_down_refuses_staff_for_now_keeps_systems_working_and_recovers_alone(
    served_on_own_redis: Served, world: World, record: Any
) -> None:
    served = served_on_own_redis
    staff = httpx.AsyncClient(base_url=served.url, timeout=ANSWER_WITHIN_SECONDS)
    system = httpx.AsyncClient(base_url=served.url, timeout=ANSWER_WITHIN_SECONDS,
                               headers={"authorization": f"Bearer {world.keys['web']}"})
    newcomer = httpx.AsyncClient(base_url=served.url, timeout=ANSWER_WITHIN_SECONDS)
    try:
        assert (await _sign_in(staff, world.users["manager"])).status_code == 200
        assert (await staff.get("/api/auth/me")).status_code == 200
        [seen] = await record(stock("TEE", "WH-PARIS", on_hand=1))

        await served.redis.kill()
        [missed] = await record(stock("TEE", "WH-PARIS", on_hand=2))

        # Staff: a clear, temporary refusal (not a 500, not "signed out").
        _assert_session_store_unavailable(await staff.get("/api/auth/me"))
        _assert_session_store_unavailable(await staff.get("/api/orders"))
        _assert_session_store_unavailable(await staff.post("/api/auth/logout"))
        _assert_session_store_unavailable(await _sign_in(newcomer, world.users["associate"]))
        # The live feed says "try again later" after the handshake (not an HTTP 403, which a
        # browser cannot tell from a refused origin).
        assert await _feed_closes_with(served.url, {"Cookie": _cookie(staff)}) == TRY_AGAIN_LATER

        # Systems with an API key never needed Redis for who they are.
        me = await system.get("/api/auth/me")
        assert me.status_code == 200 and me.json()["kind"] == "api_key"
        assert (await system.get("/api/orders")).status_code == 200
        assert await _feed_subscribes(
            served.url, {"Authorization": f"Bearer {world.keys['manager-key']}"},
            ["inventory:TEE"], since=seen) == [missed]
        # Pages that need nobody's session are still served.
        assert (await staff.get("/health")).status_code == 200

        await served.redis.start()  # empty: the sessions it held are gone

        # The same app, not restarted: signing in works again, and so does the session.
        async def signs_in() -> bool:
            return (await _sign_in(newcomer, world.users["associate"])).status_code == 200

        await _until(signs_in)
        assert (await newcomer.get("/api/auth/me")).json()["name"] == world.users["associate"]
        # Resuming from the last event seen before the outage: nothing is missing.
        assert await _feed_subscribes(served.url, {"Cookie": _cookie(newcomer)},
                                      ["inventory:TEE"], since=seen) == [missed]
        # The session Redis lost is over: the person is asked to sign in, not told to wait.
        assert (await staff.get("/api/auth/me")).status_code == 401
        assert (await system.get("/api/auth/me")).status_code == 200
    finally:
        for client in (staff, system, newcomer):
            await client.aclose()


async def test_a_hung_redis_is_refused_within_the_timeout_and_the_session_outlives_it(
    served_on_own_redis: Served, world: World
) -> None:
    served = served_on_own_redis
    staff = httpx.AsyncClient(base_url=served.url, timeout=ANSWER_WITHIN_SECONDS)
    try:
        assert (await _sign_in(staff, world.users["manager"])).status_code == 200
        served.redis.pause()  # connections stay open; nothing answers
        try:
            async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
                refused = await staff.get("/api/auth/me")
            _assert_session_store_unavailable(refused)
            async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
                refused = await staff.post("/api/auth/login", json={
                    "username": world.users["manager"], "password": PASSWORD})
            _assert_session_store_unavailable(refused)
        finally:
            served.redis.resume()

        async def session_back() -> bool:
            return (await staff.get("/api/auth/me")).status_code == 200

        await _until(session_back)  # the same session: nothing was lost
        assert (await staff.get("/api/auth/me")).json()["name"] == world.users["manager"]
    finally:
        await staff.aclose()


async def test_a_session_that_cannot_be_saved_is_no_sign_in_and_a_lost_renewal_no_refusal(
    served_on_own_redis: Served, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = served_on_own_redis
    staff = httpx.AsyncClient(base_url=served.url, timeout=ANSWER_WITHIN_SECONDS)
    newcomer = httpx.AsyncClient(base_url=served.url, timeout=ANSWER_WITHIN_SECONDS)
    try:
        assert (await _sign_in(staff, world.users["manager"])).status_code == 200

        async def redis_gone_at_that_moment(*_args: Any, **_kwargs: Any) -> None:
            raise RedisConnectionError("Connection closed by server.")

        # Redis goes away after the sign-in was checked, as its session is being saved.
        monkeypatch.setattr(RedisStore, "set", redis_gone_at_that_moment)
        refused = await _sign_in(newcomer, world.users["associate"])
        _assert_session_store_unavailable(refused)
        assert "comptoir_session" not in refused.headers.get("set-cookie", "")
        # Someone already signed in only loses the renewal of what the store holds.
        assert (await staff.get("/api/auth/me")).status_code == 200

        monkeypatch.undo()
        assert (await _sign_in(newcomer, world.users["associate"])).status_code == 200
        assert (await newcomer.get("/api/auth/me")).status_code == 200
    finally:
        await staff.aclose()
        await newcomer.aclose()


def test_the_redis_timeout_is_a_setting_of_seconds_above_zero() -> None:
    from comptoir.settings import SettingsError, load_settings

    base = {"COMPTOIR_DATABASE_URL": "sqlite:///x.db", "COMPTOIR_SECRET_KEY": "k" * 32}
    assert load_settings(base).redis_timeout_seconds == 1.0
    assert load_settings({**base, "COMPTOIR_REDIS_TIMEOUT_SECONDS": "0.25"}
                         ).redis_timeout_seconds == 0.25
    for wrong in ("0", "-1", "nan", "soon"):
        with pytest.raises(SettingsError, match="COMPTOIR_REDIS_TIMEOUT_SECONDS"):
            load_settings({**base, "COMPTOIR_REDIS_TIMEOUT_SECONDS": wrong})
