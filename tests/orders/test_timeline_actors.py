"""The timeline says who did what in words: a person's name and store, a system and its channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from piccolo.apps.user.tables import BaseUser

from comptoir.auth.schemas import SYSTEM
from comptoir.events.service import record_event
from tests.orders.conftest import order_body, pickup
from tests.orders.test_statement_budget import statements


@pytest.fixture
async def named_staff() -> AsyncIterator[None]:
    """associate1 is Yanis Morel (Lyon store); manager1 has no name on file."""
    await BaseUser.update({BaseUser.first_name: "Yanis", BaseUser.last_name: "Morel"}).where(
        BaseUser.username == "associate1")
    yield
    await BaseUser.update({BaseUser.first_name: "", BaseUser.last_name: ""}).where(
        BaseUser.username == "associate1")


async def test_the_order_timeline_names_people_with_their_store_and_systems_with_their_channel(
    web: httpx.AsyncClient, associate: httpx.AsyncClient, manager: httpx.AsyncClient,
    catalog: Any, named_staff: None,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5})
    number = (await web.post("/api/orders", json=order_body(
        ("TEE", 1), delivery=pickup("ST-LYON-01")))).json()["number"]
    assert (await associate.post(f"/api/orders/{number}/notes",
                                 json={"text": "Comes Saturday"})).status_code == 200
    assert (await manager.post(f"/api/orders/{number}/notes",
                               json={"text": "OK"})).status_code == 200

    timeline = (await manager.get(f"/api/orders/{number}")).json()["timeline"]

    by = [(e["actor"], e["by"]) for e in timeline]
    assert by[0] == ("key:web", {"kind": "system", "name": "web", "place": "Boutique en ligne"})
    assert by[-2] == ("staff:associate1", {"kind": "staff", "name": "Yanis Morel",
                                           "place": "Comptoir Lyon Presqu'île"})
    # No name on file: the username; no home store: no place.
    assert by[-1] == ("staff:manager1", {"kind": "staff", "name": "manager1", "place": None})
    events = (await manager.get(f"/api/orders/{number}/events")).json()
    assert [e["by"] for e in events] == [e["by"] for e in timeline]


async def test_every_kind_of_actor_is_shown_in_words(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, sessionmaker: Any, catalog: Any,
    named_staff: None,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    number = (await web.post("/api/orders", json=order_body(("TEE", 1)))).json()["number"]
    actors = ["staff:associate1", "staff:gone-since", "key:store-lyon-key", "key:b2b",
              "key:revoked-long-ago", SYSTEM.actor, "customer", "import:products.csv", "weird"]
    async with sessionmaker() as session, session.begin():
        for actor in actors:
            await record_event(session, topic="order", type="order.note_added", subject=number,
                               actor=actor, data={"version": 1, "text": actor})

    timeline = (await manager.get(f"/api/orders/{number}")).json()["timeline"]

    assert {e["actor"]: e["by"] for e in timeline[1:]} == {
        "staff:associate1": {"kind": "staff", "name": "Yanis Morel",
                             "place": "Comptoir Lyon Presqu'île"},
        "staff:gone-since": {"kind": "staff", "name": "gone-since", "place": None},
        "key:store-lyon-key": {"kind": "system", "name": "store-lyon-key",
                               "place": "Comptoir Lyon Presqu'île"},
        "key:b2b": {"kind": "system", "name": "b2b", "place": "Grossistes"},
        "key:revoked-long-ago": {"kind": "system", "name": "revoked-long-ago", "place": None},
        SYSTEM.actor: {"kind": "comptoir", "name": "Comptoir", "place": None},
        "customer": {"kind": "customer", "name": None, "place": None},
        "import:products.csv": {"kind": "import", "name": "products.csv", "place": None},
        "weird": {"kind": "unknown", "name": "weird", "place": None},
    }


async def test_a_longer_timeline_costs_no_more_statements(
    app: Any, web: httpx.AsyncClient, client_for: Any, manager: httpx.AsyncClient, catalog: Any,
) -> None:
    await catalog.add("TEE", stock={"ST-LYON-01": 5, "WH-PARIS": 5})
    short = (await web.post("/api/orders", json=order_body(("TEE", 1)))).json()["number"]
    long = (await web.post("/api/orders", json=order_body(
        ("TEE", 1), delivery=pickup("ST-LYON-01")))).json()["number"]
    for who in ("manager", "admin", "associate", "manager", "admin"):
        client = await client_for(who)
        assert (await client.post(f"/api/orders/{long}/notes",
                                  json={"text": who})).status_code == 200
    await manager.get(f"/api/orders/{short}")  # warm-up

    with statements(app) as one_actor:
        assert len((await manager.get(f"/api/orders/{short}")).json()["timeline"]) == 1
    with statements(app) as four_actors:
        assert len((await manager.get(f"/api/orders/{long}")).json()["timeline"]) == 6

    assert len(four_actors) == len(one_actor), "\n".join(four_actors)
    # The actors come with the events, in the same statement.
    assert sum("piccolo_user" in sql or "api_keys" in sql for sql in four_actors) == 1
    assert any(sql.startswith("SELECT events.seq") and "piccolo_user" in sql for sql in four_actors)
