"""Read-only configuration for API clients: locations and sales channels."""

from __future__ import annotations

from litestar import Controller, get

from comptoir.auth.guards import ALL, allow
from comptoir.config import service
from comptoir.config.schemas import ChannelOut, LocationOut
from comptoir.errors import NotFound

__all__ = ["ConfigController"]


class ConfigController(Controller):
    tags = ["configuration"]

    @get("/api/locations", opt=allow(ALL), summary="Stock locations: warehouses, stores, 3PLs")
    async def list_locations(self) -> list[LocationOut]:
        return await service.list_locations()

    @get("/api/locations/{code:str}", opt=allow(ALL), summary="One location")
    async def get_location(self, code: str) -> LocationOut:
        location = await service.get_location(code)
        if location is None:
            raise NotFound(f"No location '{code}'.", code="unknown_location")
        return location

    @get("/api/channels", opt=allow(ALL), summary="Sales channels")
    async def list_channels(self) -> list[ChannelOut]:
        return await service.list_channels()
