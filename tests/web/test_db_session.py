"""A request's database session gives its connection back when the answer is sent, in every
app of a process (advanced-alchemy gives each app's config a scope key of its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec

from tests.conftest import World


@asynccontextmanager
async def running(settings: Any, **changes: Any) -> AsyncIterator[Any]:
    """A second app on the same database, in this process, with other settings."""
    from comptoir.app import create_app
    from comptoir.db.migrate import piccolo_bound_to

    with piccolo_bound_to(settings):
        other = create_app(msgspec.structs.replace(settings, **changes), run_dispatcher=False)
        async with other.lifespan():
            yield other


def client(app: Any, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                             headers={"authorization": f"Bearer {key}"}, timeout=60)


async def test_a_second_app_in_the_process_returns_every_connection_after_each_request(
    settings: Any, world: World,
) -> None:
    # No housekeeping: its periodic jobs would hold a connection of their own now and then.
    async with running(settings, sweep_interval=0) as second, \
            client(second, world.keys["manager-key"]) as http:
        engine = second.state.engine
        for path in ("/api/orders", "/api/locations", "/api/orders?limit=5", "/api/orders"):
            assert (await http.get(path)).status_code == 200
            assert engine.pool.checkedout() == 0, path
