"""The sweep of uncollected pickups runs by itself in a running app, one process at a time."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import text, update

from tests.conftest import IS_POSTGRES
from tests.fulfillment.conftest import act, order_body, order_status, pickup


async def _expired_pickup(web: httpx.AsyncClient, associate: httpx.AsyncClient,
                          work_for: Any, sessionmaker: Any) -> str:
    from comptoir.db.base import utcnow
    from comptoir.fulfillment.models import Fulfillment

    response = await web.post("/api/orders", json=order_body(
        ("TEE", 2), delivery=pickup("ST-LYON-01")))
    assert response.status_code == 201, response.text
    number: str = response.json()["number"]
    store = (await work_for(number))["ST-LYON-01"]
    await act(associate, store, "pick")
    assert (await act(associate, store, "ready-for-pickup")).status_code == 200
    # Ready six days ago with a five-day hold: its hold is over.
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Fulfillment).where(Fulfillment.order_number == number)
                              .values(ready_at=utcnow() - dt.timedelta(days=6),
                                      hold_until=utcnow() - dt.timedelta(days=1)))
    return number


async def test_a_running_app_cancels_and_restocks_an_expired_pickup_by_itself(
    settings: Any, web: httpx.AsyncClient, associate: httpx.AsyncClient,
    manager: httpx.AsyncClient, catalog: Any, level: Any, work_for: Any, sessionmaker: Any,
    books: Any,
) -> None:
    from comptoir.app import create_app
    from comptoir.db.migrate import piccolo_bound_to

    await catalog.add("TEE", stock={"ST-LYON-01": 2})
    number = await _expired_pickup(web, associate, work_for, sessionmaker)
    assert await level("TEE", "ST-LYON-01") == (2, 2, 0)

    # A second process of the app, sweeping every 0.2 s; nobody calls the sweep.
    with piccolo_bound_to(settings):
        other = create_app(msgspec.structs.replace(settings, sweep_interval=0.2),
                           run_dispatcher=False)
        async with other.lifespan():
            async with asyncio.timeout(10):  # polls what a user sees: nothing to await
                while await order_status(manager, number) != "cancelled":  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
    assert await level("TEE", "ST-LYON-01") == (2, 0, 2)
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    cancelled = [e for e in timeline if e["type"] == "fulfillment.cancelled"]
    assert len(cancelled) == 1 and cancelled[0]["actor"] == "staff:comptoir"
    await books()


def test_the_sweep_interval_is_a_setting_and_zero_turns_it_off() -> None:
    from comptoir.settings import SettingsError, load_settings

    base = {"COMPTOIR_DATABASE_URL": "sqlite:///x.db", "COMPTOIR_SECRET_KEY": "k" * 32}
    assert load_settings(base).sweep_interval == 300
    assert load_settings({**base, "COMPTOIR_SWEEP_INTERVAL": "0"}).sweep_interval == 0
    with pytest.raises(SettingsError, match="COMPTOIR_SWEEP_INTERVAL"):
        load_settings({**base, "COMPTOIR_SWEEP_INTERVAL": "-5"})


@pytest.mark.postgres
async def test_a_process_skips_its_turn_while_another_one_sweeps(
    web: httpx.AsyncClient, associate: httpx.AsyncClient, manager: httpx.AsyncClient,
    catalog: Any, work_for: Any, sessionmaker: Any,
) -> None:
    from comptoir.fulfillment.service import SWEEP_LOCK_KEY, sweep_once

    assert IS_POSTGRES
    await catalog.add("TEE", stock={"ST-LYON-01": 2})
    number = await _expired_pickup(web, associate, work_for, sessionmaker)
    async with sessionmaker() as session, session.begin():  # another process, sweeping
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                              {"key": SWEEP_LOCK_KEY})
        assert await sweep_once(sessionmaker) is None
        assert await order_status(manager, number) == "ready_for_pickup"
    swept = await sweep_once(sessionmaker)
    assert swept is not None and swept.cancelled == [number]
    assert await order_status(manager, number) == "cancelled"
