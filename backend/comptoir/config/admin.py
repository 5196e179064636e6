"""piccolo-admin, built once and mounted at /admin (it keeps its own login and CSRF)."""

from __future__ import annotations

from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.session_auth.tables import SessionsBase

from comptoir.config.models import (
    Carrier,
    ChannelSafetyStock,
    Company,
    Location,
    RoutingPolicy,
    SalesChannel,
    ShippingRate,
    StaffProfile,
    TaxRate,
)

__all__ = ["build_admin"]


def build_admin(*, production: bool = False, allowed_hosts: list[str] | None = None) -> Any:
    return create_admin(
        tables=[
            TableConfig(Location, menu_group="Network",
                        visible_columns=[Location.code, Location.name, Location.kind,
                                         Location.city, Location.active]),
            TableConfig(Carrier, menu_group="Network",
                        visible_columns=[Carrier.code, Carrier.name, Carrier.active]),
            TableConfig(RoutingPolicy, menu_group="Routing"),
            TableConfig(ChannelSafetyStock, menu_group="Routing"),
            TableConfig(SalesChannel, menu_group="Sales"),
            TableConfig(ShippingRate, menu_group="Sales"),
            TableConfig(TaxRate, menu_group="Sales"),
            TableConfig(Company, menu_group="Company"),
            TableConfig(StaffProfile, menu_group="Staff"),
            BaseUser,
        ],
        auth_table=BaseUser,
        session_table=SessionsBase,
        site_name="Comptoir — configuration",
        production=production,
        allowed_hosts=allowed_hosts or [],
    )
