"""Signing in and out, CSRF, API keys, and who may call what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, World, sign_in


async def test_staff_signs_in_and_sees_who_they_are(anon: httpx.AsyncClient, world: World) -> None:
    csrf = await sign_in(anon, world.users["manager"])
    me = (await anon.get("/api/auth/me")).json()
    assert me["name"] == world.users["manager"]
    assert me["role"] == "manager"
    assert me["csrf_token"] == csrf


async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    anon: httpx.AsyncClient, world: World
) -> None:
    for username in (world.users["manager"], "nobody-at-all"):
        response = await anon.post("/api/auth/login",
                                   json={"username": username, "password": "nope-nope"})
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "bad_credentials"
    assert (await anon.get("/api/auth/me")).status_code == 401


async def test_sign_out_ends_the_session(anon: httpx.AsyncClient, world: World) -> None:
    await sign_in(anon, world.users["associate"])
    assert (await anon.post("/api/auth/logout")).status_code == 204
    assert (await anon.get("/api/auth/me")).status_code == 401


async def test_cookie_session_write_without_csrf_token_is_refused(
    anon: httpx.AsyncClient, world: World
) -> None:
    await sign_in(anon, world.users["manager"])
    del anon.headers["x-csrf-token"]
    response = await anon.post("/api/auth/logout")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    anon.headers["x-csrf-token"] = "forged"
    assert (await anon.post("/api/auth/logout")).json()["code"] == "csrf_failed"
    # The session survived both attempts.
    assert (await anon.get("/api/auth/me")).status_code == 200


async def test_api_key_authenticates_without_csrf(client_for: Any) -> None:
    web = await client_for(key="web")
    me = (await web.get("/api/auth/me")).json()
    assert me["kind"] == "api_key"
    assert me["role"] == "channel"
    assert me["channel"] == "web"


async def test_unknown_or_malformed_api_key_is_refused(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/auth/me", headers={"authorization": "Bearer cmp_nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "bad_api_key"
    response = await anon.get("/api/auth/me", headers={"authorization": "Basic abc"})
    assert response.json()["code"] == "bad_authorization"


async def test_repeated_failed_sign_ins_are_slowed_down(
    anon: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from comptoir.attempts import GrowingWaits
    from comptoir.auth import throttle

    # A first wait of a minute, so the attempts below come before it is over.
    monkeypatch.setattr(throttle, "ACCOUNT_FROM_ADDRESS", GrowingWaits(
        free=10, base_delay=60.0, max_delay=900.0, memory=3600.0))
    body = {"username": "brute-force-target", "password": "guess"}  # a username of its own
    codes = [(await anon.post("/api/auth/login", json=body)).status_code for _ in range(12)]
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429, 429]
    refused = await anon.post("/api/auth/login", json={**body, "password": PASSWORD})
    assert refused.json()["code"] == "too_many_attempts"
    assert 0 < int(refused.headers["retry-after"]) <= 60


async def test_health_is_public_and_ready_checks_the_database(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/health")).json()["status"] == "ok"
    ready = await anon.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_anonymous_traffic_gets_no_session_cookie(anon: httpx.AsyncClient) -> None:
    for path in ("/health", "/ready", "/api/auth/me"):
        response = await anon.get(path)
        assert "comptoir_session" not in response.headers.get("set-cookie", ""), path


async def test_sign_in_gives_a_new_session_id(
    anon: httpx.AsyncClient, app: Any, world: World
) -> None:
    await sign_in(anon, world.users["manager"])
    first = anon.cookies["comptoir_session"]
    await sign_in(anon, world.users["associate"])
    second = anon.cookies["comptoir_session"]
    assert second != first
    assert (await anon.get("/api/auth/me")).json()["name"] == world.users["associate"]
    # The session id from before the second sign-in no longer signs anyone in.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver",
        cookies={"comptoir_session": first},
    ) as stale:
        assert (await stale.get("/api/auth/me")).status_code == 401


async def test_malformed_json_is_a_problem_with_its_own_code(anon: httpx.AsyncClient) -> None:
    response = await anon.post(
        "/api/auth/login", content=b'{"username": "x", ',
        headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "malformed_json"
