"""A 3PL location: the signed hand-off out through the outbox, signed shipped events back in."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from tests.events.receiver import WebhookReceiver
from tests.fulfillment.conftest import order_body, order_status

THREE_PL = "3PL-RHONE"
SECRET = "s3cr3t-shared-with-the-3pl-0123456789"


def signed(body: dict[str, Any], secret: str = SECRET,
           at: int | None = None) -> tuple[bytes, dict[str, str]]:
    """A body and the headers a 3PL sends with it, computed here from the documented scheme."""
    raw = json.dumps(body).encode()
    timestamp = str(at if at is not None else int(time.time()))
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return raw, {"content-type": "application/json", "comptoir-timestamp": timestamp,
                 "comptoir-signature": f"v1={mac}"}


@pytest.fixture
async def three_pl(app: Any, sessionmaker: Any) -> AsyncIterator[dict[str, Any]]:
    """A 3PL near Lyon whose webhook is a local receiver, and its API key; removed after."""
    from comptoir.auth.models import ApiKey
    from comptoir.auth.service import create_api_key, forget_api_keys
    from comptoir.config import service as config
    from comptoir.config.models import Location

    async with WebhookReceiver() as receiver:
        await Location(code=THREE_PL, name="Logistique Rhône", kind="3pl", city="Lyon",
                       latitude=45.75, longitude=4.85, ships=True, serves_pickups=False,
                       webhook_url=receiver.url, webhook_secret=SECRET).save()
        config.invalidate()
        async with sessionmaker() as session, session.begin():
            row, key = await create_api_key(session, name="rhone-3pl", role="associate",
                                            location=THREE_PL)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://testserver",
                                   headers={"authorization": f"Bearer {key}"})
        try:
            yield {"receiver": receiver, "client": client}
        finally:
            await client.aclose()
            async with sessionmaker() as session, session.begin():
                await session.execute(update(ApiKey).where(ApiKey.id == row.id)
                                      .values(active=False))
            forget_api_keys()
            await Location.delete().where(Location.code == THREE_PL)
            config.invalidate()


async def _hand_offs(sessionmaker: Any) -> list[Any]:
    from comptoir.events.models import OutboxMessage
    from comptoir.fulfillment.service import HAND_OFF

    async with sessionmaker() as session:
        return list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == HAND_OFF)))


async def _capture_at_3pl(web: httpx.AsyncClient, sessionmaker: Any) -> str:
    """Capture an order that only the 3PL can serve: capture queues its hand-off."""
    response = await web.post("/api/orders", json=order_body(("BOX", 2)))
    assert response.status_code == 201, response.text
    number: str = response.json()["number"]
    return number


async def test_a_3pl_round_trip_is_signed_both_ways_and_ships_the_order_once(
    app: Any, web: Any, manager: httpx.AsyncClient, catalog: Any, level: Any,
    three_pl: dict[str, Any], sessionmaker: Any, books: Any, client_for: Any,
) -> None:
    receiver: WebhookReceiver = three_pl["receiver"]
    client: httpx.AsyncClient = three_pl["client"]
    await catalog.add("BOX", stock={THREE_PL: 5})
    number = await _capture_at_3pl(web, sessionmaker)
    assert len(await _hand_offs(sessionmaker)) == 1  # one message for the one 3PL
    described = (await manager.get(f"/api/locations/{THREE_PL}")).json()
    assert described["kind"] == "3pl" and SECRET not in json.dumps(described)

    # Out: the 3PL refuses the first delivery; the outbox keeps it and tries again.
    receiver.status = 503
    assert await app.state.dispatcher.run_once() == 1
    [message] = await _hand_offs(sessionmaker)
    assert message.status == "pending" and "503" in (message.last_error or "")
    from comptoir.events.models import OutboxMessage

    async with sessionmaker() as session, session.begin():  # the backoff, elapsed
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                              .values(available_at=message.created_at))
    receiver.status = 200
    assert await app.state.dispatcher.run_once() == 1
    [message] = await _hand_offs(sessionmaker)
    assert message.status == "delivered"

    first, second = receiver.received
    assert first.body == second.body  # the same fulfillment, with the same delivery id
    assert first.headers["comptoir-delivery"] == second.headers["comptoir-delivery"]
    # The receiver checks the signature with the shared secret, as a 3PL would.
    timestamp = second.headers["comptoir-timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + second.body,
                        hashlib.sha256).hexdigest()
    assert second.headers["comptoir-signature"] == f"v1={expected}"
    assert abs(int(timestamp) - time.time()) < 60
    assert SECRET not in second.body.decode()
    request = json.loads(second.body)
    assert request["order_number"] == number and request["location"] == THREE_PL
    assert [(line["sku"], line["quantity"]) for line in request["lines"]] == [("BOX", 2)]
    assert request["ship_to"]["city"] == "Lyon"
    fulfillment_id = request["fulfillment_id"]
    assert request["events_url"].endswith(f"/api/fulfillments/{fulfillment_id}/events")
    events = f"/api/fulfillments/{fulfillment_id}/events"

    shipped = {"type": "shipped", "carrier": "colissimo", "service": "domicile",
               "tracking_number": "6A777"}
    # In: a wrong secret, a tampered body, no signature, an old signature: refused, no change.
    raw, headers = signed(shipped, secret="not-the-secret")
    refused = await client.post(events, content=raw, headers=headers)
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "signature_mismatch"
    raw, headers = signed(shipped)
    tampered = raw.replace(b"6A777", b"6A778")
    assert (await client.post(events, content=tampered, headers=headers)).json()["code"] == (
        "signature_mismatch")
    unsigned = await client.post(events, content=raw, headers={"content-type": "application/json"})
    assert unsigned.json()["code"] == "signature_missing"
    raw, headers = signed(shipped, at=int(time.time()) - 3600)
    stale = await client.post(events, content=raw, headers=headers)
    assert (stale.status_code, stale.json()["code"]) == (401, "signature_expired")
    assert await order_status(manager, number) == "confirmed"
    assert await level("BOX", THREE_PL) == (5, 2, 3)

    # Another location's key may not report on the 3PL's work, even with a valid signature.
    store = await manager.get(f"/api/fulfillments/{fulfillment_id}")
    assert store.json()["status"] == "new"
    other = await client_for(key="store-lyon-key")
    raw, headers = signed(shipped)
    forbidden = await other.post(events, content=raw, headers=headers)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "not_a_3pl")

    raw, headers = signed(shipped)
    done = await client.post(events, content=raw, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "shipped"
    [parcel] = done.json()["shipments"]
    assert parcel["tracking_url"].endswith("code=6A777")
    assert await order_status(manager, number) == "shipped"
    assert await level("BOX", THREE_PL) == (3, 0, 3)

    # The same event delivered again ships nothing more.
    raw, headers = signed(shipped)
    again = await client.post(events, content=raw, headers=headers)
    assert again.status_code == 200, again.text
    assert len(again.json()["shipments"]) == 1
    assert await level("BOX", THREE_PL) == (3, 0, 3)

    # A tracking update corrects the parcel's number and link, once.
    raw, headers = signed({"type": "tracking", "carrier": "chronopost",
                           "tracking_number": "XY123FR"})
    corrected = await client.post(events, content=raw, headers=headers)
    assert corrected.status_code == 200, corrected.text
    [parcel] = corrected.json()["shipments"]
    assert (parcel["carrier"], parcel["tracking_number"]) == ("chronopost", "XY123FR")
    assert "listeNumerosLT=XY123FR" in parcel["tracking_url"]
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    types = [event["type"] for event in timeline]
    assert types.count("fulfillment.shipped") == 1
    assert types.count("fulfillment.tracking_updated") == 1
    assert "fulfillment.sent_to_3pl" in types
    await books()


async def test_an_order_with_no_3pl_queues_no_hand_off(
    web: Any, catalog: Any, three_pl: dict[str, Any], sessionmaker: Any,
) -> None:
    from comptoir.fulfillment.service import hand_off

    await catalog.add("BOX", stock={"WH-PARIS": 5})
    response = await web.post("/api/orders", json=order_body(("BOX", 1)))
    assert response.status_code == 201, response.text
    assert await _hand_offs(sessionmaker) == []
    async with sessionmaker() as session, session.begin():
        await hand_off(session, order_id=uuid.uuid4(), order_number=response.json()["number"],
                       locations=["WH-PARIS", "ST-LYON-01"], actor="test")
    assert await _hand_offs(sessionmaker) == []


async def test_a_3pl_key_moves_its_work_only_through_signed_events(
    web: Any, manager: httpx.AsyncClient, catalog: Any, three_pl: dict[str, Any],
    sessionmaker: Any, level: Any,
) -> None:
    client: httpx.AsyncClient = three_pl["client"]
    await catalog.add("BOX", stock={THREE_PL: 5})
    number = await _capture_at_3pl(web, sessionmaker)
    page = (await manager.get("/api/fulfillments", params={"location": THREE_PL})).json()
    [work] = [item for item in page["items"] if item["order_number"] == number]
    base = f"/api/fulfillments/{work['id']}"

    # The key alone (no shared secret) cannot pick, pack, ship or reject: nothing moves.
    for action, body in (("pick", {}), ("pack", {}),
                         ("ship", {"carrier": "colissimo", "tracking_number": "6A1"}),
                         ("reject", {"lines": [{"sku": "BOX", "quantity": 1}],
                                     "reason": "damaged"})):
        refused = await client.post(f"{base}/{action}", json=body)
        assert (refused.status_code, refused.json()["code"]) == (403, "signed_events_only"), (
            action, refused.text)
        assert "/events" in refused.json()["detail"]
    assert (await manager.get(base)).json()["status"] == "new"
    assert await level("BOX", THREE_PL) == (5, 2, 3)
    # Staff may still take the work over from the app.
    assert (await manager.post(f"{base}/pick", json={})).json()["status"] == "picking"
