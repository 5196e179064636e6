"""piccolo-admin, built once and mounted at /admin (it keeps its own login and CSRF)."""

from __future__ import annotations

from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.crud.hooks import Hook, HookType
from piccolo_api.session_auth.tables import SessionsBase
from starlette.exceptions import HTTPException

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
from comptoir.countries import country_code
from comptoir.errors import InvalidInput

__all__ = ["build_admin"]


def _checked_country(raw: Any) -> str:
    try:
        return country_code(str(raw))
    except InvalidInput as exc:  # piccolo-admin shows a 400's detail next to the form
        raise HTTPException(status_code=400, detail=exc.detail) from None


def _country_hooks(table: type[Table]) -> list[Hook]:
    """A new or edited row names a country ISO 3166-1 lists (stored in capitals)."""
    column = table.country  # type: ignore[attr-defined]

    def on_save(row: Table) -> Table:
        row.country = _checked_country(row.country)  # type: ignore[attr-defined]
        return row

    def on_patch(row_id: Any, values: dict[Any, Any]) -> dict[Any, Any]:
        if column in values:
            values[column] = _checked_country(values[column])
        return values

    return [Hook(HookType.pre_save, on_save), Hook(HookType.pre_patch, on_patch)]


def build_admin(*, production: bool = False, allowed_hosts: list[str] | None = None) -> Any:
    return create_admin(
        tables=[
            TableConfig(Location, menu_group="Network", hooks=_country_hooks(Location),
                        visible_columns=[Location.code, Location.name, Location.kind,
                                         Location.city, Location.active]),
            TableConfig(Carrier, menu_group="Network",
                        visible_columns=[Carrier.code, Carrier.name, Carrier.active]),
            TableConfig(RoutingPolicy, menu_group="Routing"),
            TableConfig(ChannelSafetyStock, menu_group="Routing"),
            TableConfig(SalesChannel, menu_group="Sales"),
            TableConfig(ShippingRate, menu_group="Sales"),
            TableConfig(TaxRate, menu_group="Sales", hooks=_country_hooks(TaxRate)),
            TableConfig(Company, menu_group="Company", hooks=_country_hooks(Company)),
            TableConfig(StaffProfile, menu_group="Staff"),
            BaseUser,
        ],
        auth_table=BaseUser,
        session_table=SessionsBase,
        site_name="Comptoir — configuration",
        production=production,
        allowed_hosts=allowed_hosts or [],
    )
