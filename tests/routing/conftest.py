"""Routing test helpers: change routing configuration for one test and put it back after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

ROUTING_LOCATION_FIELDS = ("daily_order_capacity", "routing_priority", "shipping_cost", "ships",
                           "active", "timezone")


class RoutingConfig:
    """``await routing_config.location("ST-LYON-01", daily_order_capacity=1)``, ``.policy(...)``,
    ``.keep_back("b2b", 2)``: configuration rows as an admin would set them in /admin."""

    def __init__(self) -> None:
        self.saved: dict[str, dict[str, Any]] = {}

    async def location(self, code: str, **fields: Any) -> None:
        from comptoir.config import service
        from comptoir.config.models import Location

        if code not in self.saved:
            row = await Location.select(
                *[getattr(Location, name) for name in ROUTING_LOCATION_FIELDS]
            ).where(Location.code == code).first()
            assert row is not None, code
            self.saved[code] = row
        await Location.update({getattr(Location, k): v for k, v in fields.items()}).where(
            Location.code == code)
        service.invalidate()

    async def policy(self, **fields: Any) -> None:
        from comptoir.config import service
        from comptoir.config.models import RoutingPolicy

        await RoutingPolicy.delete(force=True)
        await RoutingPolicy(**fields).save()
        service.invalidate()

    async def keep_back(self, channel: str, units: int, location: str | None = None) -> None:
        from comptoir.config import service
        from comptoir.config.models import ChannelSafetyStock, Location, SalesChannel

        channel_id = (await SalesChannel.select(SalesChannel.id)
                      .where(SalesChannel.code == channel).first())["id"]
        location_id = None
        if location is not None:
            location_id = (await Location.select(Location.id)
                           .where(Location.code == location).first())["id"]
        await ChannelSafetyStock(channel=channel_id, location=location_id, units=units).save()
        service.invalidate()

    async def restore(self) -> None:
        from comptoir.config import service
        from comptoir.config.models import ChannelSafetyStock, Location, RoutingPolicy

        for code, row in self.saved.items():
            await Location.update({getattr(Location, k): v for k, v in row.items()}).where(
                Location.code == code)
        await RoutingPolicy.delete(force=True)
        await ChannelSafetyStock.delete(force=True)
        service.invalidate()


@pytest.fixture
async def routing_config(app: Any) -> AsyncIterator[RoutingConfig]:
    config = RoutingConfig()
    try:
        yield config
    finally:
        await config.restore()
