"""A request's database session gives its connection back when the answer is sent, in every
app of a process (advanced-alchemy gives each app's config a scope key of its own)."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.support import api_client, running_app


async def test_a_second_app_in_the_process_returns_every_connection_after_each_request(
    settings: Any, world: World,
) -> None:
    # No housekeeping: its periodic jobs would hold a connection of their own now and then.
    async with running_app(settings, sweep_interval=0) as second, \
            api_client(second, world.keys["manager-key"]) as http:
        engine = second.state.engine
        for path in ("/api/orders", "/api/locations", "/api/orders?limit=5", "/api/orders"):
            assert (await http.get(path)).status_code == 200
            assert engine.pool.checkedout() == 0, path
