"""A forwarded tracking link is not the key to the parcel: the address is masked, and the pickup
code shows only to whoever proves to be the customer (then on that device's next visits)."""

from __future__ import annotations

import asyncio
import html
import json
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.auth.conftest import Served
from tests.conftest import REDIS_URL, _client
from tests.tracking.conftest import get_page

# Phone "+33612345678" and e-mail "ada@example.fr" (tests/orders/conftest.py's customer).
RIGHT_DIGITS = "5678"
STREET = {"name": "Ada Lovelace-Byron", "line1": "17 rue des Capucins",
          "line2": "Bâtiment Horizon, 4e étage", "postal_code": "69001", "city": "Lyon",
          "country": "FR"}
# Nothing of the street, the building or the surname reaches the link's holder.
UNMASKED = ("Capucins", "Horizon", "étage", "17 rue", "Lovelace")


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def _prove(client: httpx.AsyncClient, token: str, answer: str,
                 language: str = "fr") -> httpx.Response:
    return await client.post(f"/api/track/{token}/proof", json={"answer": answer},
                             headers={"Accept-Language": language})


async def _ready_for_pickup(associate: httpx.AsyncClient, number: str) -> str:
    page = (await associate.get("/api/fulfillments", params={"location": "ST-LYON-01"})).json()
    [work] = [item for item in page["items"] if item["order_number"] == number]
    for action in ("pick", "ready-for-pickup"):
        response = await associate.post(f"/api/fulfillments/{work['id']}/{action}", json={})
        assert response.status_code == 200, response.text
    return str(work["id"])


async def test_the_delivery_address_is_masked_in_the_page_its_json_and_its_live_messages(
    anon: httpx.AsyncClient, place: Any, manager: httpx.AsyncClient, customer_feed: Any,
) -> None:
    order = await place(delivery={"method": "ship", "address": STREET})
    token = order["tracking_token"]
    live = await customer_feed()
    await live.subscribe([f"track:{token}"])

    for language in ("fr", "en"):
        page = html.unescape((await get_page(anon, token, language)).text)
        data = await anon.get(f"/api/track/{token}", headers={"Accept-Language": language})
        assert "1*** r*** d*** C***" in page and "B*** H***, 4*** é***" in page
        assert "69001 Lyon" in page and "Ada L." in page
        assert data.json()["address"] == {
            "name": "Ada L.", "line1": "1*** r*** d*** C***", "line2": "B*** H***, 4*** é***",
            "postal_code": "69001", "city": "Lyon", "country": "FR"}
        for shown in (page, data.text):
            assert not [word for word in UNMASKED if word in shown]

    response = await manager.post(f"/api/orders/{order['number']}/hold",
                                  json={"reason": "address_check", "note": STREET["line1"]})
    assert response.status_code == 200, response.text
    [message] = await live.events(1)
    assert message["type"] == "order.held"
    assert not [word for word in UNMASKED if word in json.dumps(message, ensure_ascii=False)]


async def test_the_pickup_code_is_absent_until_the_customer_proves_it_is_them(
    anon: httpx.AsyncClient, place: Any, pickup_code: Any, associate: httpx.AsyncClient,
    customer_feed: Any,
) -> None:
    order = await place(pickup_at="ST-LYON-01")
    token = order["tracking_token"]
    code = await pickup_code(order["number"])
    live = await customer_feed()
    await live.subscribe([f"track:{token}"])
    await _ready_for_pickup(associate, order["number"])  # the moment the code matters
    messages = await live.events(2)
    assert [m["type"] for m in messages] == ["fulfillment.picking",
                                             "fulfillment.ready_for_pickup"]

    for language in ("fr", "en"):
        page = await get_page(anon, token, language)
        data = await anon.get(f"/api/track/{token}", headers={"Accept-Language": language})
        for shown in (page.text, data.text, json.dumps(messages)):
            assert code not in shown
            assert "612345678" not in shown and "ada@example.fr" not in shown  # the answers
        assert "<svg" not in page.text and 'id="proof"' in page.text
        assert (data.json()["pickup_code"], data.json()["pickup_code_access"]) == (
            None, "proof_needed")
    assert "Confirm it is you" not in page.text and "confirm it is you" in page.text


async def test_the_last_four_phone_digits_show_the_code_and_this_device_remembers_it(
    app: Any, anon: httpx.AsyncClient, place: Any, pickup_code: Any,
) -> None:
    order = await place(pickup_at="ST-LYON-01")
    token = order["tracking_token"]
    code = await pickup_code(order["number"])

    shown = await _prove(anon, token, f" {RIGHT_DIGITS[:2]} {RIGHT_DIGITS[2:]} ", "en")
    assert shown.status_code == 200, shown.text
    assert shown.json()["pickup_code"] == code
    svg = shown.json()["qr_svg"]
    assert svg.startswith("<svg") and 'class="qr"' in svg and "<path" in svg
    assert "<title>Pickup code</title>" in svg
    cookies = shown.headers.get_list("set-cookie")
    paths = sorted(part.strip() for cookie in cookies for part in cookie.split(";")
                   if part.strip().startswith("Path="))
    assert paths == [f"Path=/api/track/{token}", f"Path=/track/{token}"]
    for cookie in cookies:
        assert cookie.startswith("comptoir_pickup_pass=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie

    # The next visit from this device shows the code and its QR code at once.
    page = html.unescape((await get_page(anon, token)).text)
    assert f'id="pickup-code">{code}<' in page and 'class="qr"' in page
    assert 'id="proof"' not in page
    data = (await anon.get(f"/api/track/{token}")).json()
    assert (data["pickup_code"], data["pickup_code_access"]) == (code, "shown")

    # Another device (no cookie) still has to prove it.
    async with _client(app) as other_device:
        assert code not in (await get_page(other_device, token)).text
        assert (await other_device.get(f"/api/track/{token}")).json()["pickup_code"] is None


async def test_the_e_mail_address_in_any_case_is_a_proof_too(
    anon: httpx.AsyncClient, place: Any, pickup_code: Any,
) -> None:
    order = await place(pickup_at="ST-LYON-01")
    shown = await _prove(anon, order["tracking_token"], "  Ada@EXAMPLE.fr ")
    assert shown.status_code == 200, shown.text
    assert shown.json()["pickup_code"] == await pickup_code(order["number"])


async def test_a_device_pass_opens_its_own_order_only(
    app: Any, anon: httpx.AsyncClient, place: Any, pickup_code: Any,
) -> None:
    mine, other = await place(pickup_at="ST-LYON-01"), await place(pickup_at="ST-LYON-01")
    assert (await _prove(anon, mine["tracking_token"], RIGHT_DIGITS)).status_code == 200
    [value] = {c.value for c in anon.cookies.jar if c.name == "comptoir_pickup_pass"}

    other_code = await pickup_code(other["number"])
    assert other_code not in (await get_page(anon, other["tracking_token"])).text
    # The same pass put on the other order's page, or a forged one: nothing opens.
    for forged in (value, "9999999999." + "0" * 64, "garbage", ""):
        async with _client(app) as device:
            device.cookies.set("comptoir_pickup_pass", forged)
            page = await get_page(device, other["tracking_token"])
            data = await device.get(f"/api/track/{other['tracking_token']}")
            assert page.status_code == data.status_code == 200
            assert other_code not in page.text and data.json()["pickup_code"] is None


async def test_a_wrong_answer_is_refused_and_says_how_many_tries_are_left(
    anon: httpx.AsyncClient, place: Any, pickup_code: Any,
) -> None:
    order = await place(pickup_at="ST-LYON-01")
    token = order["tracking_token"]
    code = await pickup_code(order["number"])

    wrong = await _prove(anon, token, "0000")
    body = _problem(wrong, 403, "wrong_proof")
    assert body["attempts_left"] == 4 and code not in wrong.text
    assert "set-cookie" not in wrong.headers
    body = _problem(await _prove(anon, token, "eve@example.fr"), 403, "wrong_proof")
    assert body["attempts_left"] == 3
    # What cannot be an answer is refused without using a try.
    for unreadable in ("12", "12345", "abcd", "", "٥٦٧٨"):
        _problem(await _prove(anon, token, unreadable), 422, "unreadable_proof")
    _problem(await _prove(anon, token, "1111"), 403, "wrong_proof")
    assert code not in (await get_page(anon, token)).text
    assert (await anon.get(f"/api/track/{token}")).json()["pickup_code"] is None
    # A right answer does not use a try either.
    assert (await _prove(anon, token, RIGHT_DIGITS)).status_code == 200
    assert _problem(await _prove(anon, token, "2222"), 403, "wrong_proof")["attempts_left"] == 1


async def test_wrong_answers_sent_all_at_once_are_limited_to_five_a_day_per_order(
    app: Any, anon: httpx.AsyncClient, place: Any,
) -> None:
    order, other = await place(pickup_at="ST-LYON-01"), await place(pickup_at="ST-LYON-01")
    token = order["tracking_token"]
    guesses = [f"{n:04d}" for n in range(30) if f"{n:04d}" != RIGHT_DIGITS]
    answers = await asyncio.gather(*(_prove(anon, token, guess) for guess in guesses))

    assert Counter(r.status_code for r in answers) == {403: 5, 429: len(guesses) - 5}
    assert sorted(r.json()["attempts_left"] for r in answers if r.status_code == 403) == [
        0, 1, 2, 3, 4]
    refused = next(r for r in answers if r.status_code == 429)
    _problem(refused, 429, "too_many_attempts")
    assert 0 < int(refused.headers["retry-after"]) <= 24 * 3600
    # The right answer is refused too now: the limit would mean nothing otherwise.
    _problem(await _prove(anon, token, RIGHT_DIGITS), 429, "too_many_attempts")
    async with _client(app) as device:
        assert (await get_page(device, token)).status_code == 200  # the page still answers
    # Another order's customer is not held back.
    assert (await _prove(anon, other["tracking_token"], RIGHT_DIGITS)).status_code == 200


async def test_an_order_without_phone_or_e_mail_says_to_come_with_an_id(
    anon: httpx.AsyncClient, place: Any, pickup_code: Any,
) -> None:
    order = await place(pickup_at="ST-LYON-01", customer=None)
    token = order["tracking_token"]
    code = await pickup_code(order["number"])
    assert code

    french = html.unescape((await get_page(anon, token, "fr")).text)
    assert "présentez une pièce d'identité" in french
    assert code not in french and 'id="proof"' not in french and "<svg" not in french
    english = html.unescape((await get_page(anon, token, "en")).text)
    assert "show an ID" in english
    data = (await anon.get(f"/api/track/{token}")).json()
    assert (data["pickup_code"], data["pickup_code_access"], data["proof_by"]) == (
        None, "at_counter", [])
    refused = _problem(await _prove(anon, token, RIGHT_DIGITS), 409, "pickup_code_at_counter")
    assert code not in json.dumps(refused)


async def test_the_page_asks_only_for_what_the_order_can_check(
    anon: httpx.AsyncClient, place: Any,
) -> None:
    order = await place(pickup_at="ST-LYON-01", customer={"email": "ada@example.fr"})
    token = order["tracking_token"]
    page = html.unescape((await get_page(anon, token, "en")).text)
    assert '<label for="proof-answer">Your e-mail address</label>' in page
    assert 'inputmode="email"' in page and 'autocomplete="email"' in page
    assert (await anon.get(f"/api/track/{token}")).json()["proof_by"] == ["email"]
    # Four digits cannot be this order's answer: a wrong one, counted as such.
    _problem(await _prove(anon, token, RIGHT_DIGITS), 403, "wrong_proof")
    assert (await _prove(anon, token, "ada@example.fr")).status_code == 200


async def test_a_shipped_order_has_no_code_to_prove_for(
    anon: httpx.AsyncClient, place: Any,
) -> None:
    order = await place()
    data = (await anon.get(f"/api/track/{order['tracking_token']}")).json()
    assert (data["pickup_code"], data["pickup_code_access"]) == (None, None)
    _problem(await _prove(anon, order["tracking_token"], RIGHT_DIGITS), 409, "not_a_pickup")
    _problem(await _prove(anon, "not-a-real-token-at-all", RIGHT_DIGITS), 404, "not_found")


async def test_the_ready_for_pickup_e_mail_still_carries_the_code(
    place: Any, pickup_code: Any, associate: httpx.AsyncClient, sessionmaker: Any,
) -> None:
    from comptoir.events.models import OutboxMessage

    order = await place(pickup_at="ST-LYON-01")
    await _ready_for_pickup(associate, order["number"])
    async with sessionmaker() as session:
        [message] = list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "email.ready_for_pickup")))
    # The code (what its QR code encodes), the address it goes to and the link to the page.
    assert message.payload["pickup_code"] == await pickup_code(order["number"])
    assert message.payload["email"] == "ada@example.fr"
    assert message.payload["tracking_token"] == order["tracking_token"]


async def test_without_its_redis_the_proof_is_a_clean_temporary_refusal_until_redis_is_back(
    served_on_own_redis: Served, place: Any, pickup_code: Any,
) -> None:
    served = served_on_own_redis  # the app on a Redis this test stops
    order = await place(pickup_at="ST-LYON-01")
    token, code = order["tracking_token"], await pickup_code(order["number"])
    async with httpx.AsyncClient(base_url=served.url, timeout=15) as customer:
        await served.redis.kill()
        for answer in ("0000", RIGHT_DIGITS):
            refused = await _prove(customer, token, answer)
            _problem(refused, 503, "attempt_counter_unavailable")
            assert int(refused.headers["retry-after"]) > 0
            assert code not in refused.text
        assert (await customer.get(f"/api/track/{token}")).status_code == 200  # the page is

        await served.redis.start()  # nothing to restart in the app
        async with asyncio.timeout(30):
            while (shown := await _prove(customer, token, RIGHT_DIGITS)).status_code == 503:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        assert shown.status_code == 200, shown.text
        assert shown.json()["pickup_code"] == code


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis: run with COMPTOIR_REDIS_URL=redis://…")
async def test_with_redis_every_process_counts_into_the_same_allowance(app: Any) -> None:
    from comptoir.attempts import RedisAttempts
    from comptoir.settings import Settings
    from comptoir.tracking.proof import WRONG_ANSWERS, proof_subject
    from comptoir.tracking.service import proof_counter_unavailable

    settings: Settings = app.state.settings
    # Two processes: two counters on the same Redis and prefix, as app.py makes them.
    first, second = (RedisAttempts(app.state.redis, f"{settings.redis_prefix}:tracking",
                                   proof_counter_unavailable) for _ in range(2))
    order = uuid.uuid4()
    subject = proof_subject(order)
    taken = [await (first if n % 2 else second).admit([subject])
             for n in range(WRONG_ANSWERS.free)]
    assert [attempt.left for attempt in taken] == list(range(WRONG_ANSWERS.free))[::-1]
    assert not (await first.admit([subject])).allowed
    assert not (await second.admit([subject])).allowed
    ttl = await app.state.redis.ttl(f"{settings.redis_prefix}:tracking:proof:{order}:n")
    assert 0 < ttl <= 24 * 3600  # the window ends by itself
