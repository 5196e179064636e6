"""Orders to track (shipped or picked up) and an anonymous customer on the live feed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from comptoir.tracking.api import register_live_tracking
from tests.auth.conftest import redis_server, served_on_own_redis
from tests.orders.conftest import order_body, pickup
from tests.realtime.conftest import FeedClient, live_url

# served_on_own_redis: the app on a Redis of its own, that a test stops.
__all__ = ["live_url", "redis_server", "served_on_own_redis"]


@pytest.fixture(autouse=True)
def _live_tracking() -> None:
    """Other tests swap the feed's tracking resolver for their own: ours is the real one."""
    register_live_tracking()


@pytest.fixture
def place(client_for: Any, catalog: Any) -> Callable[..., Any]:
    """``await place(pickup_at="ST-LYON-01")`` → a captured order (JSON) with two lines;
    other keywords replace parts of the body (``customer=None``, ``delivery={...}``)."""

    stocked: list[bool] = []

    async def capture(*, pickup_at: str | None = None, **overrides: Any) -> dict[str, Any]:
        web = await client_for(key="web")
        if not stocked:
            await catalog.add("TEE-BLK-M", price=1990, name="T-shirt noir M",
                              stock={"WH-PARIS": 9, "ST-LYON-01": 9})
            await catalog.add("MUG-01", price=1250, name="Mug « Comptoir »",
                              stock={"WH-PARIS": 9, "ST-LYON-01": 9})
            stocked.append(True)
        body = order_body(("TEE-BLK-M", 2), ("MUG-01", 1))
        if pickup_at is not None:
            body["delivery"] = pickup(pickup_at)
        body.update(overrides)
        if body.get("customer") is None:
            body.pop("customer", None)
        response = await web.post("/api/orders", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return capture


@pytest.fixture
def pickup_code(sessionmaker: Any) -> Callable[[str], Any]:
    """``await pickup_code("CMP-2026-000001")`` → the code stored on the order."""
    from sqlalchemy import select

    from comptoir.orders.models import Order

    async def read(number: str) -> str | None:
        async with sessionmaker() as session:
            return await session.scalar(select(Order.pickup_code).where(Order.number == number))

    return read


@pytest.fixture
async def customer_feed(live_url: str) -> AsyncIterator[Callable[[], Any]]:
    """``await customer_feed()`` → an anonymous websocket client of ``/ws`` (no cookie, no key)."""
    opened: list[FeedClient] = []

    async def open_feed() -> FeedClient:
        connection = await connect(live_url.replace("http", "ws", 1) + "/ws", open_timeout=5)
        client = FeedClient(connection)
        opened.append(client)
        return client

    yield open_feed
    for client in opened:
        await client.close()


async def get_page(anon: httpx.AsyncClient, token: str, language: str = "fr") -> httpx.Response:
    return await anon.get(f"/track/{token}", headers={"Accept-Language": language})


@pytest.fixture
async def lyon_store_details() -> AsyncIterator[dict[str, str]]:
    """ST-LYON-01 with a street address and opening hours for the test; put back after."""
    from comptoir.config import service as config
    from comptoir.config.models import Location

    details = {"address_line1": "12 rue de la République", "postal_code": "69002",
               "opening_hours": "Lun-Sam 10:00-19:00"}
    before = await Location.select(Location.address_line1, Location.postal_code,
                                   Location.opening_hours).where(
        Location.code == "ST-LYON-01").first()
    await Location.update({getattr(Location, k): v for k, v in details.items()}).where(
        Location.code == "ST-LYON-01")
    config.invalidate()
    yield details
    await Location.update({getattr(Location, k): v for k, v in before.items()}).where(
        Location.code == "ST-LYON-01")
    config.invalidate()
