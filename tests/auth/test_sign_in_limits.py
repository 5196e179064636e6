"""Sign-in limits hold under simultaneous guesses, slow the guesser down more and more, and
never keep an account's owner out from where they are."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from comptoir.attempts import GrowingWaits
from comptoir.auth import service, throttle
from tests.conftest import PASSWORD, World

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.10"
SECOND_ATTACKER = "2001:db8:66::1"


@asynccontextmanager
async def _from(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from ``address`` (the ASGI scope's client)."""
    transport = httpx.ASGITransport(app=app, client=(address, 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], int]]:
    """``password_checks()``: how many times a password was compared with a stored one."""
    checked = 0
    verify = service._verify_password

    def counting(password: str, stored: str) -> bool:
        nonlocal checked
        checked += 1
        return verify(password, stored)

    monkeypatch.setattr(service, "_verify_password", counting)
    yield lambda: checked


@pytest.fixture
def long_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first wait of a minute: however slow the machine, the test's next attempt comes
    before that wait is over."""
    monkeypatch.setattr(throttle, "ACCOUNT_FROM_ADDRESS", GrowingWaits(
        free=10, base_delay=60.0, max_delay=900.0, memory=3600.0))


async def _attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login",
                             json={"username": username, "password": password})


async def test_thirty_simultaneous_wrong_passwords_get_at_most_ten_password_checks(
    app: Any, world: World, password_checks: Callable[[], int]
) -> None:
    target = world.users["manager"]
    async with _from(app, ATTACKER) as attacker:
        answers = await asyncio.gather(*(_attempt(attacker, target, f"guess-{n}")
                                         for n in range(30)))
    codes = sorted(answer.status_code for answer in answers)
    assert password_checks() <= 10
    assert codes.count(401) == password_checks()  # each check a refusal of a wrong password
    assert codes.count(429) == 30 - password_checks()
    for answer in answers:
        if answer.status_code == 429:
            assert answer.json()["code"] == "too_many_attempts"
            assert int(answer.headers["retry-after"]) >= 1


async def test_the_owner_signs_in_from_their_own_address_while_a_guesser_is_held_back(
    app: Any, world: World, password_checks: Callable[[], int], long_waits: None
) -> None:
    target = world.users["manager"]
    async with _from(app, ATTACKER) as attacker:
        codes = [(await _attempt(attacker, target, f"guess-{n}")).status_code
                 for n in range(12)]
        held_back = await _attempt(attacker, target, PASSWORD)
    assert codes == [401] * 10 + [429] * 2
    # Even the right password is not looked at from the guesser's address for now...
    assert held_back.status_code == 429
    assert password_checks() == 10
    # ...but the owner, elsewhere, is not kept out by someone else's guesses.
    async with _from(app, OWNER) as owner:
        signed_in = await _attempt(owner, target, PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        assert (await owner.get("/api/auth/me")).json()["name"] == target


async def test_each_attempt_past_the_limit_makes_the_next_wait_longer(
    app: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first wait of a second keeps the test short; the rule is the production one.
    monkeypatch.setattr(throttle, "ACCOUNT_FROM_ADDRESS", GrowingWaits(
        free=10, base_delay=1.0, max_delay=900.0, memory=3600.0))
    target = world.users["associate"]
    async with _from(app, ATTACKER) as attacker:
        codes = [(await _attempt(attacker, target, "wrong")).status_code for _ in range(10)]
        assert codes == [401] * 10
        first_wait = await _attempt(attacker, target, "wrong")
        assert first_wait.status_code == 429
        first = int(first_wait.headers["retry-after"])
        # Once the wait is over the next password is checked again: a delay, not a lock.
        async with asyncio.timeout(30):
            while (again := await _attempt(attacker, target, "wrong")).status_code == 429:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        assert again.status_code == 401
        second_wait = await _attempt(attacker, target, "wrong")
    assert second_wait.status_code == 429
    second = int(second_wait.headers["retry-after"])
    assert second > first
    assert second_wait.json()["retry_after"] == second


async def test_a_correct_password_clears_the_owners_own_mistakes(
    app: Any, world: World, password_checks: Callable[[], int]
) -> None:
    target = world.users["associate"]
    async with _from(app, OWNER) as owner:
        for _ in range(9):
            assert (await _attempt(owner, target, "mistyped")).status_code == 401
        assert (await _attempt(owner, target, PASSWORD)).status_code == 200
        codes = [(await _attempt(owner, target, "mistyped")).status_code for _ in range(9)]
    assert codes == [401] * 9
    assert password_checks() == 19


async def test_one_address_guessing_many_accounts_is_held_back_and_no_other_address(
    app: Any, world: World, password_checks: Callable[[], int]
) -> None:
    # 60 accounts at once from one network (an IPv6 /64, whatever the host part).
    async with _from(app, SECOND_ATTACKER) as attacker, \
            _from(app, "2001:db8:66::beef") as same_network:
        answers = await asyncio.gather(
            *(_attempt(attacker if n % 2 else same_network, f"someone-{n}", "123456")
              for n in range(60)))
        assert password_checks() <= throttle.ADDRESS.free
        assert sorted({a.status_code for a in answers}) == [401, 429]
        assert (await _attempt(attacker, world.users["admin"], PASSWORD)).status_code == 429
    async with _from(app, OWNER) as elsewhere:
        assert (await _attempt(elsewhere, world.users["admin"], PASSWORD)).status_code == 200
