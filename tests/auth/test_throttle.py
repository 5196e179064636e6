"""The sign-in throttling rule: what an attempt is counted against, and what a right password
does to those counts (in memory and in Redis). The counting itself: tests/attempts."""

from __future__ import annotations

from comptoir.attempts import AttemptCounter, GrowingWaits, Subject
from comptoir.auth.throttle import ACCOUNT_FROM_ADDRESS, ADDRESS, client_network, subjects_for
from tests.attempts.conftest import counters  # noqa: F401  (the memory and Redis counters)

POLICY = GrowingWaits(free=3, base_delay=2.0, max_delay=60.0, memory=600.0)


def test_sign_in_waits_start_after_ten_attempts_and_double_from_two_seconds() -> None:
    assert [ACCOUNT_FROM_ADDRESS.wait_after(n, 3600.0) for n in (9, 10, 11, 12)] == [
        None, 2, 4, 8]
    assert ACCOUNT_FROM_ADDRESS.wait_after(40, 3600.0) == 900  # a quarter of an hour at most
    assert ADDRESS.wait_after(49, 3600.0) is None and ADDRESS.wait_after(50, 3600.0) == 2


def test_an_ipv6_client_is_counted_by_its_network_and_an_ipv4_one_by_its_address() -> None:
    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:2:ffff::9")
    assert client_network("2001:db8:1:2::1") != client_network("2001:db8:1:3::1")
    assert client_network("203.0.113.5") != client_network("203.0.113.6")
    assert client_network("::ffff:203.0.113.5") == "203.0.113.5"


def test_an_account_is_counted_apart_for_each_address_and_whatever_its_case() -> None:
    address_here, account_here = subjects_for("Manager1", "203.0.113.5")
    address_there, account_there = subjects_for("manager1", "198.51.100.7")
    assert account_here.key != account_there.key
    assert subjects_for("manager1 ", "203.0.113.5")[1] == account_here
    assert address_here.key != address_there.key
    assert account_here.policy == ACCOUNT_FROM_ADDRESS and account_here.cleared_by_success
    assert address_here.policy == ADDRESS and not address_here.cleared_by_success


async def test_a_right_password_clears_its_account_and_gives_the_address_its_attempt_back(
    counters: AttemptCounter,  # noqa: F811
) -> None:
    address = Subject("addr:203.0.113.5", POLICY, cleared_by_success=False)
    account = Subject("acct:z:203.0.113.5", POLICY, cleared_by_success=True)
    both = [address, account]
    for _ in range(3):  # 2 wrong, then the right one
        assert (await counters.admit(both)).allowed
    await counters.succeeded(both)
    # The account starts again from nothing: three more before any wait.
    for _ in range(3):
        assert (await counters.admit([account])).allowed
    # The address counts its two failures only: its next attempt opens its first wait.
    assert (await counters.admit([address])).allowed
    refused = await counters.admit([address])
    assert not refused.allowed and refused.retry_after in (1, 2)  # what is left of 2 s
