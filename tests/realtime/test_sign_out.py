"""Signing out ends the live feed opened with that session, and only that one."""

from __future__ import annotations

from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.realtime.conftest import FeedClient, stock


def _cookie(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def _open(live_url: str, cookie: str) -> FeedClient:
    connection = await connect(live_url.replace("http", "ws", 1) + "/ws",
                               additional_headers={"Cookie": cookie}, open_timeout=5)
    return FeedClient(connection)


async def test_signing_out_closes_the_feeds_of_that_session_and_no_other(
    live_url: str, client_for: Any, record: Any
) -> None:
    leaving = await client_for("manager")
    staying = await client_for("manager")  # the same person, signed in on another phone
    cookie = _cookie(leaving)
    first, second = await _open(live_url, cookie), await _open(live_url, cookie)
    other = await _open(live_url, _cookie(staying))
    try:
        for client in (first, second, other):
            await client.subscribe(["orders", "inventory:TEE"])

        response = await leaving.post("/api/auth/logout")
        assert response.status_code == 204, response.text

        for client in (first, second):
            code, reason = await client.closed_with()
            assert code == 4401 and "signed out" in reason
        # The other session still hears what happens.
        [seq] = await record(stock("TEE", "WH-PARIS", on_hand=3))
        [message] = await other.events(1)
        assert message["seq"] == seq

        # The old cookie opens nothing any more.
        again = await _open(live_url, cookie)
        await again.send({"subscribe": ["orders"], "since": None})
        refusal = await again.receive()
        assert refusal["type"] == "error" and refusal["code"] == "topic_forbidden"
        code, _reason = await again.closed_with()
        assert code == 4401
    finally:
        for client in (first, second, other):
            await client.close()


async def test_a_feed_opened_with_an_api_key_outlives_staff_sign_outs(
    live_url: str, client_for: Any, feed: Any, record: Any
) -> None:
    system = await feed(key="web")
    await system.subscribe([])
    signed_in = await client_for("manager")
    response = await signed_in.post("/api/auth/logout")
    assert response.status_code == 204
    assert await system.quiet(0.3) == []
    await system.send({"subscribe": ["orders"]})
    answer = await system.receive()
    assert answer["type"] == "error" and answer["code"] == "topic_forbidden"
