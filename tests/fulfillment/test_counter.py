"""The counter's checks: a pickup code the store's phones can verify offline (a salted, slow
hash, never the code), and an ID check above an amount set per sales channel."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from comptoir.fulfillment.counter import ITERATIONS, PickupCodeDigest, id_check_required
from tests.fulfillment.conftest import act, order_body, order_status, pickup

STORE = "ST-LYON-01"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _opens(check: dict[str, Any], code: str) -> bool:
    """What a phone does with the check (PBKDF2-SHA256), written here without our module."""
    assert check["algorithm"] == "PBKDF2-SHA256"
    derived = hashlib.pbkdf2_hmac("sha256", code.encode(), _unb64(check["salt"]),
                                  check["iterations"])
    return derived == _unb64(check["hash"])


async def _ready_pickup(web: httpx.AsyncClient, associate: httpx.AsyncClient, work_for: Any,
                        quantity: int = 1) -> tuple[str, dict[str, Any]]:
    response = await web.post("/api/orders", json=order_body(("TEE", quantity),
                                                             delivery=pickup(STORE)))
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    store = (await work_for(number))[STORE]
    assert (await act(associate, store, "pick")).status_code == 200
    ready = await act(associate, store, "ready-for-pickup")
    assert ready.status_code == 200, ready.text
    return number, ready.json()


# --- the pickup code, checked offline --------------------------------------------------------


def test_a_digest_opens_for_its_code_as_the_counter_reads_it_and_for_no_other() -> None:
    digest = PickupCodeDigest.of("K7M2-PQ9X", iterations=1000)
    assert digest.matches("k7m2 pq9x") and digest.matches("K7M2PQ9X")
    assert not digest.matches("K7M2PQ9Y") and not digest.matches("")
    again = PickupCodeDigest.parse(digest.stored())
    assert again == digest and again.matches("K7M2PQ9X")
    assert "K7M2" not in digest.stored()
    # A fresh salt every time: two parcels with the same code do not share a hash.
    assert PickupCodeDigest.of("K7M2PQ9X", iterations=1000).hash != digest.hash
    with pytest.raises(ValueError):
        PickupCodeDigest.parse("sha1$1$AA$AA")


def test_checking_one_code_is_slow_on_purpose() -> None:
    assert ITERATIONS >= 100_000
    assert PickupCodeDigest.of("K7M2PQ9X").iterations == ITERATIONS


async def test_a_parcel_waiting_at_the_counter_carries_a_check_of_its_code_not_the_code(
    web: httpx.AsyncClient, associate: httpx.AsyncClient, catalog: Any, work_for: Any,
    pickup_code: Any,
) -> None:
    await catalog.add("TEE", stock={STORE: 5})
    number, ready = await _ready_pickup(web, associate, work_for)
    code = await pickup_code(number)
    check = ready["pickup_code_check"]
    assert check["iterations"] >= 100_000
    assert _opens(check, code)
    assert not _opens(check, code[:-1] + ("A" if code[-1] != "A" else "B"))

    # The store's queue, which its phones keep for offline use, carries the same check.
    queue = (await associate.get("/api/fulfillments",
                                 params={"status": "ready_for_pickup", "limit": 100})).json()
    [listed] = [f for f in queue["items"] if f["order_number"] == number]
    assert listed["pickup_code_check"] == check
    assert code not in json.dumps(queue)

    # Another parcel, another salt.
    _other, second = await _ready_pickup(web, associate, work_for)
    assert second["pickup_code_check"]["salt"] != check["salt"]


async def test_work_not_yet_at_the_counter_or_collected_carries_no_check(
    web: httpx.AsyncClient, associate: httpx.AsyncClient, catalog: Any, work_for: Any,
    pickup_code: Any,
) -> None:
    await catalog.add("TEE", stock={STORE: 5})
    response = await web.post("/api/orders", json=order_body(("TEE", 1), delivery=pickup(STORE)))
    number = response.json()["number"]
    store = (await work_for(number))[STORE]
    assert store["pickup_code_check"] is None
    assert (await act(associate, store, "pick")).json()["pickup_code_check"] is None
    assert (await act(associate, store, "ready-for-pickup")).json()["pickup_code_check"]
    done = await act(associate, store, "handover", {"code": await pickup_code(number)})
    assert done.status_code == 200, done.text
    assert done.json()["pickup_code_check"] is None


# --- the ID check above an amount ---------------------------------------------------------------


def test_an_id_is_checked_above_the_channels_amount_and_whenever_the_currencies_differ() -> None:
    def needed(total: int, currency: str = "EUR", threshold: int | None = 50_000) -> bool:
        return id_check_required(total=total, currency=currency, threshold=threshold,
                                 threshold_currency="EUR")

    assert not needed(50_000) and needed(50_001)
    assert not needed(10**9, threshold=None)
    assert needed(100, currency="CHF")  # the channel's currency changed since the order


@pytest.fixture
async def id_check_above() -> AsyncIterator[Any]:
    """``await id_check_above(amount)`` sets the web channel's ID-check amount for a test."""
    from comptoir.config import service as config
    from comptoir.config.models import SalesChannel

    async def set_amount(amount: int | None) -> None:
        await SalesChannel.update({SalesChannel.id_check_above: amount}).where(
            SalesChannel.code == "web")
        config.invalidate()

    yield set_amount
    await set_amount(None)


async def test_above_the_channels_amount_a_pickup_is_handed_over_only_once_an_id_was_checked(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, work_for: Any, pickup_code: Any, stored: Any, id_check_above: Any,
) -> None:
    await catalog.add("TEE", price=30_000, stock={STORE: 5})
    await id_check_above(50_000)  # 500.00 EUR
    small, small_work = await _ready_pickup(web, associate, work_for, quantity=1)
    big, big_work = await _ready_pickup(web, associate, work_for, quantity=2)
    assert small_work["id_check_required"] is False
    assert big_work["id_check_required"] is True
    page = (await associate.get("/api/fulfillments", params={"limit": 100})).json()
    assert {f["order_number"]: f["id_check_required"] for f in page["items"]
            if f["order_number"] in (small, big)} == {small: False, big: True}

    before = await stored()
    refused = await act(associate, big_work, "handover", {"code": await pickup_code(big)})
    assert refused.status_code == 422
    assert refused.json()["code"] == "id_check_required"
    assert await stored() == before
    # A manager's override does not skip it either.
    overridden = await act(manager, big_work, "handover", {"override_reason": "code lost"})
    assert overridden.json()["code"] == "id_check_required"
    assert await order_status(manager, big) == "ready_for_pickup"

    done = await act(associate, big_work, "handover",
                     {"code": await pickup_code(big), "id_checked": True})
    assert done.status_code == 200, done.text
    timeline = (await manager.get(f"/api/orders/{big}/events")).json()
    [handed] = [e for e in timeline if e["type"] == "fulfillment.handed_over"]
    assert handed["data"]["id_checked"] is True

    # Below the amount, nothing more is asked.
    assert (await act(associate, small_work, "handover",
                      {"code": await pickup_code(small)})).status_code == 200
