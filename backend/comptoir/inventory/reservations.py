"""Reservations: units set aside for orders, never more than are available.

A reservation is one conditional UPDATE (``available >= quantity``) checked by its row count:
two orders racing for the last unit cannot both win, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.base import DateTimeUTC, utcnow
from comptoir.db.dialect import dialect_of
from comptoir.errors import Conflict, InvalidInput
from comptoir.inventory.models import InventoryLevel, available_sql

__all__ = ["ReserveParams", "release", "reserve", "reserve_all", "reserve_all_params",
           "reserve_ctes"]

# The parameters of ``reserve_ctes``: parallel arrays, and the time of the change.
ReserveParams = dict[str, list[str] | list[int] | dt.datetime]


async def reserve(session: AsyncSession, *, sku: str, location: str, quantity: int) -> bool:
    """Reserve ``quantity`` units if that many are available; False (nothing changed) if not."""
    if quantity <= 0:
        raise InvalidInput("A reservation is for at least one unit.", code="invalid_quantity")
    result = await session.execute(
        update(InventoryLevel)
        .where(
            InventoryLevel.sku == sku,
            InventoryLevel.location == location,
            InventoryLevel.available >= quantity,
        )
        .values(reserved=InventoryLevel.reserved + quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release(session: AsyncSession, *, sku: str, location: str, quantity: int) -> None:
    """Give back ``quantity`` reserved units; refusing to release more than is reserved."""
    if quantity <= 0:
        raise InvalidInput("A release is for at least one unit.", code="invalid_quantity")
    result = await session.execute(
        update(InventoryLevel)
        .where(
            InventoryLevel.sku == sku,
            InventoryLevel.location == location,
            InventoryLevel.reserved >= quantity,
        )
        .values(reserved=InventoryLevel.reserved - quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            f"{sku} at {location}: fewer than {quantity} units are reserved.",
            code="reservation_mismatch",
        )


def reserve_ctes(only_if: str = "true") -> str:
    """The reservation of several levels, as common table expressions a statement can hold
    (order capture puts them in its own): they read :skus, :locations, :quantities and :now
    (``reserve_all_params``), lock and reserve nothing unless the SQL ``only_if`` holds, and
    ``reserved`` holds the levels that had the units."""
    return f"""
    wanted AS (
        SELECT * FROM unnest(CAST(:skus AS varchar[]), CAST(:locations AS varchar[]),
                             CAST(:quantities AS integer[])) AS w(sku, location, quantity)
    ), locked AS (
        SELECT l.id, w.quantity FROM inventory_levels l
        JOIN wanted w ON l.sku = w.sku AND l.location = w.location
        WHERE {only_if}
        ORDER BY l.sku, l.location
        FOR UPDATE OF l
    ), reserved AS (
        UPDATE inventory_levels l SET reserved = l.reserved + k.quantity, updated_at = :now
        FROM locked k
        WHERE l.id = k.id AND {available_sql("l")} >= k.quantity
        RETURNING l.sku, l.location
    )"""


_RESERVE_PG = text(f"WITH {reserve_ctes()} SELECT sku, location FROM reserved").bindparams(
    bindparam("now", type_=DateTimeUTC(timezone=True)))


def reserve_all_params(
    quantities: Mapping[tuple[str, str], int], now: dt.datetime
) -> ReserveParams:
    """The parameters of ``reserve_ctes`` for ``{(sku, location): quantity}``."""
    if any(quantity <= 0 for quantity in quantities.values()):
        raise InvalidInput("A reservation is for at least one unit.", code="invalid_quantity")
    wanted = sorted(quantities.items())
    return {"skus": [sku for (sku, _loc), _q in wanted],
            "locations": [loc for (_sku, loc), _q in wanted],
            "quantities": [q for _key, q in wanted], "now": now}


async def reserve_all(
    session: AsyncSession, quantities: Mapping[tuple[str, str], int]
) -> set[tuple[str, str]]:
    """Reserve each ``(sku, location): quantity`` that is available; the levels that were.

    All or nothing is the caller's: when fewer levels come back than were asked, it rolls
    its transaction back. On PostgreSQL one statement locks the levels in (sku, location)
    order, so two captures never wait for each other in opposite orders, then applies the
    conditional update to each; SQLite, one writer at a time, takes them one by one.
    """
    params = reserve_all_params(quantities, utcnow())
    if dialect_of(session).binds_arrays:
        rows = await session.execute(_RESERVE_PG, params)
        return {(sku, location) for sku, location in rows}
    wanted = sorted(quantities.items())
    done = set()
    for (sku, location), quantity in wanted:
        if await reserve(session, sku=sku, location=location, quantity=quantity):
            done.add((sku, location))
    return done
