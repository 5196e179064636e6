"""Every GET route answers HEAD with the same status and headers and no body."""

from __future__ import annotations

from typing import Any

import httpx

from tests.orders.conftest import order_body

SAME_HEADERS = ("content-type", "content-length", "cache-control", "content-security-policy")


async def _assert_head_mirrors_get(
    client: httpx.AsyncClient, path: str, same: tuple[str, ...] = SAME_HEADERS
) -> httpx.Response:
    got = await client.get(path)
    head = await client.head(path)
    assert head.status_code == got.status_code, (path, head.text)
    assert head.content == b"", path
    for name in same:
        assert head.headers.get(name) == got.headers.get(name), (path, name)
    return head


async def test_health_answers_head_for_monitors(anon: httpx.AsyncClient) -> None:
    head = await _assert_head_mirrors_get(anon, "/health")
    assert head.status_code == 200
    assert int(head.headers["content-length"]) > 0  # the size the GET body has


async def test_tracking_page_answers_head(
    anon: httpx.AsyncClient, client_for: Any, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    web = await client_for(key="web")
    order = (await web.post("/api/orders", json=order_body(("TEE", 1)))).json()
    # Each rendering has its own script nonce: its policy and length differ from one to the next.
    head = await _assert_head_mirrors_get(anon, f"/track/{order['tracking_token']}",
                                          same=("content-type", "cache-control"))
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/html")
    assert "nonce-" in head.headers["content-security-policy"]
    assert (await anon.head("/track/no-such-token")).status_code == 404


async def test_head_keeps_the_access_rules_of_get(
    anon: httpx.AsyncClient, manager: httpx.AsyncClient
) -> None:
    refused = await anon.head("/api/orders?limit=20")
    assert refused.status_code == 401
    assert refused.content == b""
    allowed = await _assert_head_mirrors_get(manager, "/api/orders?limit=20")
    assert allowed.status_code == 200


async def test_head_on_a_route_without_get_is_still_not_allowed(
    anon: httpx.AsyncClient,
) -> None:
    response = await anon.head("/api/auth/login")
    assert response.status_code == 405
    assert response.content == b""
