"""``WS /ws`` as clients live it: who may connect, who sees what, resuming without loss."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from comptoir.events.models import Event
from comptoir.realtime import service as realtime
from comptoir.realtime.hub import Subscriber
from comptoir.realtime.topics import event_topics
from tests.orders.conftest import order_body, pickup
from tests.realtime.conftest import FeedClient, order, stock


async def _logged(sessionmaker: Any) -> list[Event]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Event).order_by(Event.seq)))


def _on(events: list[Event], topics: set[str]) -> list[int]:
    """The sequence numbers a client following ``topics`` must receive, in order."""
    return [e.seq for e in events  # type: ignore[misc]
            if topics & set(event_topics(e.topic, e.subject, e.data))]


# --- who may connect -----------------------------------------------------------------------


async def test_stock_adjusted_through_the_api_reaches_a_manager_live_in_the_envelope(
    feed: Any, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE-BLK-M", stock={"WH-PARIS": 5})
    client = await feed("manager")
    ack = await client.subscribe(["inventory:TEE-BLK-M"])
    assert ack["topics"] == ["inventory:TEE-BLK-M"]

    response = await manager.post("/api/inventory/adjustments", json={
        "location": "WH-PARIS", "sku": "TEE-BLK-M", "delta": -2, "reason": "damaged"})
    assert response.status_code in (200, 201), response.text

    [message] = await client.events(1)
    assert set(message) == {"seq", "topic", "topics", "type", "data", "at"}
    assert message["seq"] > ack["seq"]
    assert message["topic"] == "inventory:TEE-BLK-M"
    assert message["topics"] == ["inventory:TEE-BLK-M"]
    assert message["type"] == "inventory.changed"
    assert message["data"]["on_hand"] == 3 and message["data"]["location"] == "WH-PARIS"
    assert message["at"].endswith("Z")


async def test_anonymous_visitor_is_closed_as_not_signed_in(feed: Any, record: Any) -> None:
    client = await feed()
    await client.send({"subscribe": ["orders", "inventory:TEE"], "since": 0})
    first = await client.receive()
    assert first == {"type": "error", "code": "topic_forbidden", "topic": "orders",
                     "detail": "You may not follow 'orders'."}
    code, reason = await client.closed_with()
    assert code == 4401 and "Sign in" in reason


async def test_anonymous_visitor_who_says_nothing_is_closed(feed: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("comptoir.realtime.api.SIGN_IN_SECONDS", 0.2)
    client = await feed()
    code, _reason = await client.closed_with()
    assert code == 4401


async def test_unknown_api_key_is_refused_and_a_key_in_the_url_is_ignored(
    feed: Any, live_url: str, world: Any
) -> None:
    client = await feed(key="cmp_0000_not-a-key")
    code, reason = await client.closed_with()
    assert code == 4401 and "unknown or revoked" in reason

    # API keys travel in the Authorization header only: in the query string they are ignored.
    url = live_url.replace("http", "ws", 1) + "/ws?token=" + world.keys["manager-key"]
    async with connect(url) as connection:
        visitor = FeedClient(connection)
        await visitor.send({"subscribe": ["orders"]})
        assert (await visitor.receive())["code"] == "topic_forbidden"
        assert (await visitor.closed_with())[0] == 4401


async def test_api_key_in_the_authorization_header_opens_the_feed(feed: Any) -> None:
    client = await feed(key="manager-key")
    ack = await client.subscribe(["orders"])
    assert ack["topics"] == ["orders"]


async def test_page_from_another_origin_is_refused_at_the_handshake(
    feed: Any, live_url: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await feed("manager", origin="https://evil.example")
    assert refused.value.response.status_code == 403

    # The PWA, served by this server, connects.
    own = f"http://{urlsplit(live_url).netloc}"
    client = await feed("manager", origin=own)
    assert (await client.subscribe(["orders"]))["topics"] == ["orders"]


# --- who sees what -------------------------------------------------------------------------


async def test_order_captured_through_the_api_reaches_followers_of_its_skus_stock(
    feed: Any, catalog: Any, client_for: Any
) -> None:
    await catalog.add("MUG", stock={"ST-PARIS-01": 3})
    await catalog.add("CAP", stock={"ST-PARIS-01": 3})
    associate = await feed("associate")  # works at ST-LYON-01: may not read this order
    await associate.subscribe(["inventory:MUG", "inventory:TEE"])
    manager = await feed("manager")
    await manager.subscribe(["inventory"])
    web = await client_for(key="web")
    response = await web.post("/api/orders", json=order_body(
        ("MUG", 2), ("CAP", 1), delivery=pickup("ST-PARIS-01")))
    assert response.status_code == 201, response.text
    number = response.json()["number"]

    [seen] = await associate.events(1)
    assert seen["type"] == "order.captured"
    assert seen["topics"] == ["inventory:MUG"]
    # What changed in stock, and nothing of the order: no customer, prices or channel.
    assert list(seen["data"]) == ["allocations"]
    assert sorted(seen["data"]["allocations"], key=lambda row: row["sku"]) == [
        {"sku": "CAP", "location": "ST-PARIS-01", "quantity": 1},
        {"sku": "MUG", "location": "ST-PARIS-01", "quantity": 2}]
    assert number not in str(seen) and "Ada" not in str(seen)
    [all_stock] = await manager.events(1)
    assert all_stock["seq"] == seen["seq"] and all_stock["topics"] == ["inventory"]
    assert await associate.quiet() == []


async def test_associate_follows_only_their_own_location(feed: Any, record: Any) -> None:
    client = await feed("associate")  # associate1 works at ST-LYON-01
    ack = await client.subscribe(["location:ST-LYON-01", "location:ST-PARIS-01", "orders",
                                  "inventory:TEE"])
    refused = {m["topic"] for m in client.early}
    assert refused == {"location:ST-PARIS-01", "orders"}
    assert {m["code"] for m in client.early} == {"topic_forbidden"}
    assert ack["topics"] == ["inventory:TEE", "location:ST-LYON-01"]

    paris = await record(stock("CAP", "ST-PARIS-01", on_hand=1))
    lyon = await record(stock("CAP", "ST-LYON-01", on_hand=2))
    other_order = await record(order("CMP-2026-000900", "ST-PARIS-01"))
    lyon_order = await record(order("CMP-2026-000901", "WH-LYON", "ST-LYON-01"))
    got = await client.events(2)
    assert [(m["seq"], m["topic"]) for m in got] == [
        (lyon[0], "location:ST-LYON-01"), (lyon_order[0], "location:ST-LYON-01")]
    assert await client.quiet() == []
    assert paris[0] < lyon[0] < other_order[0] < lyon_order[0]


async def test_associate_and_channel_follow_only_orders_they_may_read(
    feed: Any, catalog: Any, client_for: Any
) -> None:
    await catalog.add("MUG", stock={"ST-LYON-01": 3, "ST-PARIS-01": 3})
    web = await client_for(key="web")
    b2b = await client_for(key="b2b")
    lyon = (await web.post("/api/orders", json=order_body(
        ("MUG", 1), delivery=pickup("ST-LYON-01")))).json()["number"]
    paris = (await b2b.post("/api/orders", json=order_body(
        ("MUG", 1), delivery=pickup("ST-PARIS-01")))).json()["number"]

    associate = await feed("associate")
    await associate.subscribe([f"order:{lyon}", f"order:{paris}", "order:CMP-1999-000001"])
    assert {m["topic"] for m in associate.early} == {f"order:{paris}", "order:CMP-1999-000001"}

    channel = await feed(key="web")
    ack = await channel.subscribe([f"order:{lyon}", f"order:{paris}", "inventory:MUG"])
    assert ack["topics"] == [f"order:{lyon}"]
    assert {m["topic"] for m in channel.early} == {f"order:{paris}", "inventory:MUG"}


async def test_event_on_several_followed_topics_comes_once_listing_them_all(
    feed: Any, record: Any
) -> None:
    client = await feed("manager")
    await client.subscribe(["orders", "location:ST-LYON-01", "order:CMP-2026-000077"])
    [seq] = await record(order("CMP-2026-000077", "ST-LYON-01", "WH-LYON"))
    [message] = await client.events(1)
    assert message["seq"] == seq
    assert message["topic"] == "order:CMP-2026-000077"  # the most specific
    assert message["topics"] == ["order:CMP-2026-000077", "location:ST-LYON-01", "orders"]
    assert await client.quiet() == []


async def test_message_that_is_not_a_subscription_gets_an_error_and_the_feed_stays_open(
    feed: Any, record: Any
) -> None:
    client = await feed("manager")
    await client.connection.send("not json")
    assert (await client.receive())["code"] == "bad_message"
    await client.send({"subscribe": "orders"})
    assert (await client.receive())["code"] == "bad_message"
    await client.send({"subscribe": ["no such:topic"]})
    assert (await client.receive())["code"] == "unknown_topic"
    assert await client.receive() == {"type": "subscribed", "topics": [], "seq": 0}
    await client.send({"subscribe": ["orders"], "since": -1})
    assert (await client.receive())["code"] == "bad_message"
    await client.subscribe(["orders"])
    [seq] = await record(order("CMP-2026-000010"))
    assert (await client.events(1))[0]["seq"] == seq


async def test_unsubscribed_topic_stops_and_a_later_subscription_adds_from_now(
    feed: Any, record: Any
) -> None:
    client = await feed("manager")
    await client.subscribe(["inventory:A", "inventory:B"])
    await record(stock("A", "WH-PARIS"))
    await client.events(1)
    await client.send({"unsubscribe": ["inventory:A"]})
    assert await client.receive() == {"type": "unsubscribed", "topics": ["inventory:A"]}
    early_c = await record(stock("C", "WH-PARIS"))
    await record(stock("A", "WH-PARIS"))
    [b] = await record(stock("B", "WH-PARIS"))
    assert [m["seq"] for m in await client.events(1)] == [b]

    ack = await client.subscribe(["inventory:C"], since=0)  # later subscriptions: from now
    assert ack["topics"] == ["inventory:B", "inventory:C"] and ack["seq"] >= b
    assert client.early == []
    [c] = await record(stock("C", "WH-PARIS"))
    assert [m["seq"] for m in await client.events(1)] == [c]
    assert c > early_c[0]


@pytest.fixture
def tracking() -> Iterator[dict[str, str]]:
    """Tracking tokens as the tracking code will resolve them: token → order number."""
    tokens: dict[str, str] = {}

    async def resolve(_session: Any, token: str) -> str | None:
        return tokens.get(token)

    realtime.set_tracking(resolve)
    yield tokens
    realtime.set_tracking(None)


async def test_tracking_token_lets_an_anonymous_customer_follow_that_one_order(
    feed: Any, record: Any, tracking: dict[str, str]
) -> None:
    tracking["tok-7f3a"] = "CMP-2026-000042"
    [placed] = await record(order("CMP-2026-000042", "WH-PARIS", reason="fraud score 80"))
    await record(order("CMP-2026-000043", "WH-PARIS"))

    customer = await feed()
    ack = await customer.subscribe(["track:tok-7f3a", "orders"], since=0)
    assert ack["topics"] == ["track:tok-7f3a"]
    [refused, replayed] = customer.early
    assert refused["topic"] == "orders" and refused["code"] == "topic_forbidden"
    # The customer sees that something happened to their order, not its internal details.
    assert replayed["seq"] == placed and replayed["topic"] == "track:tok-7f3a"
    assert replayed["data"] == {}

    await record(order("CMP-2026-000043", "WH-PARIS"))
    [shipped] = await record(order("CMP-2026-000042", "WH-PARIS", status="shipped"))
    assert [(m["seq"], m["type"]) for m in await customer.events(1)] == [
        (shipped, "order.changed")]

    stranger = await feed()
    await stranger.send({"subscribe": ["track:guessed-token"]})
    assert (await stranger.receive())["code"] == "topic_forbidden"
    assert (await stranger.closed_with())[0] == 4401


async def test_quiet_feed_sends_pings(feed: Any, app: Any) -> None:
    app.state.realtime.ping_seconds = 0.2
    client = await feed("manager")
    await client.subscribe(["orders"])
    assert await client.receive(2) == {"type": "ping"}


# --- resuming --------------------------------------------------------------------------------


async def test_reconnecting_client_gets_what_it_missed_then_live_events(
    feed: Any, record: Any
) -> None:
    client = await feed("manager")
    ack = await client.subscribe(["location:WH-PARIS"], since=None)
    [first] = await record(stock("A", "WH-PARIS"))
    assert [m["seq"] for m in await client.events(1)] == [first]
    await client.close()

    missed = await record(stock("A", "WH-PARIS"), stock("B", "WH-LYON"),
                          order("CMP-2026-000001", "WH-PARIS"))
    back = await feed("manager")
    ack = await back.subscribe(["location:WH-PARIS"], since=first)
    assert [(m["seq"], m["topic"]) for m in back.early] == [
        (missed[0], "location:WH-PARIS"), (missed[2], "location:WH-PARIS")]
    assert ack["seq"] >= missed[2]
    [live] = await record(stock("C", "WH-PARIS"))
    assert [m["seq"] for m in await back.events(1)] == [live]


async def _follow_with_drops(
    feed: Any, role: str, topics: list[str], last: dict[str, int], rng: random.Random,
) -> list[int]:
    """Follow ``topics``, dropping the connection at random moments and resuming each time
    with the last seq received, until the last event (``last[role]``, once known) came."""
    received: list[int] = []
    position = 0

    def finished() -> bool:
        return role in last and position >= last[role]

    while not finished():
        # Like a browser, the client takes every message the server sends (no flow control).
        client = await feed(role, max_queue=None)
        await client.send({"subscribe": topics, "since": position})
        drop_after = rng.randint(0, 40)  # 0: gone while its backlog is being sent
        try:
            while drop_after > 0 and not finished():
                try:
                    message = await client.receive(0.5)
                except TimeoutError:
                    continue  # the writers may be done: look again
                if message.get("type") in ("subscribed", "ping"):
                    continue
                received.append(message["seq"])
                position = message["seq"]
                drop_after -= 1
        finally:
            if rng.random() < 0.5:
                client.connection.transport.abort()  # the network drops, no goodbye
            else:
                await client.close()
    return received


async def test_hundreds_of_events_with_random_disconnects_arrive_exactly_once_in_order(
    feed: Any, record: Any, sessionmaker: Any, app: Any
) -> None:
    rng = random.Random(20260527)
    skus, places = ["TEE", "CAP", "MUG"], ["WH-PARIS", "WH-LYON", "ST-LYON-01"]
    last: dict[str, int] = {}

    async def write(writer: int) -> None:
        rng = random.Random(writer)
        for n in range(50):
            batch = []
            for _ in range(rng.randint(1, 3)):
                if rng.random() < 0.6:
                    batch.append(stock(rng.choice(skus), rng.choice(places), n=n, w=writer))
                else:
                    batch.append(order(f"CMP-2026-{rng.randint(1, 5):06d}",
                                       *rng.sample(places, rng.randint(0, 2)), n=n))
            await record(*batch)
            await asyncio.sleep(rng.random() * 0.004)

    followers = {
        "manager": ["orders", "inventory:TEE"],
        "associate": ["location:ST-LYON-01", "inventory:MUG"],
    }
    readers = [asyncio.create_task(_follow_with_drops(feed, role, topics, last,
                                                      random.Random(rng.random())))
               for role, topics in followers.items()]
    await asyncio.gather(write(1), write(2), write(3))
    events = await _logged(sessionmaker)
    expected = {role: _on(events, set(topics)) for role, topics in followers.items()}
    last.update({role: seqs[-1] for role, seqs in expected.items()})
    async with asyncio.timeout(20):
        received = dict(zip(followers, await asyncio.gather(*readers), strict=True))

    assert len(events) == 291  # each writer's own random choices: the same every run
    for role in followers:
        assert received[role] == expected[role], f"{role}: missing or doubled events"
    # Every connection dropped or closed along the way has been let go by the server.
    for _ in range(100):
        if not app.state.realtime.connections:
            break
        await asyncio.sleep(0.05)
    assert app.state.realtime.connections == 0


async def test_client_too_slow_to_keep_up_is_closed_and_resumes_without_loss(
    feed: Any, record: Any, app: Any, sessionmaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.state.realtime.client_limit = 5
    # The phone stops taking messages when the test says so, not when the kernel's buffers
    # happen to fill: while stalled, the server finds nothing it may send on that connection
    # and its messages wait in its queue, as behind a network that no longer drains.
    stalled = asyncio.Event()
    take = Subscriber.next_message

    def next_message(subscriber: Subscriber) -> str | None:
        if stalled.is_set() and "inventory:BIG" in subscriber.routes:
            return None
        return take(subscriber)

    monkeypatch.setattr(Subscriber, "next_message", next_message)
    slow = await feed("manager")
    await slow.subscribe(["inventory:BIG"], since=None)
    got = await record(*[stock("BIG", "WH-PARIS", n=n) for n in range(3)])
    assert [m["seq"] for m in await slow.events(3)] == got

    stalled.set()
    await record(*[stock("BIG", "WH-PARIS", n=n) for n in range(3, 6)])
    # Three more: the sixth message waiting is one more than the connection may hold.
    await record(*[stock("BIG", "WH-PARIS", n=n) for n in range(6, 9)])
    assert await slow.closed_with() == (4008, "too slow: reconnect and resume with since")
    stalled.clear()

    expected = _on(await _logged(sessionmaker), {"inventory:BIG"})
    assert len(expected) == 9
    back = await feed("manager")
    await back.subscribe(["inventory:BIG"], since=got[-1])
    assert got + [m["seq"] for m in back.early] == expected
